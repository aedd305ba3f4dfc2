import Foundation
import Glibc

/// The `ticks` and `echo` test guests of KVMTests (Tests/KVMTests/Guests), built once per test run with the
/// system gcc, so virtsh's console tests run real guests through `virt-kvm`.
enum ConsoleGuests {
    static let sourceDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("KVMTests/Guests")

    /// The directory of the built images, or why guests cannot run here.
    static let built: (directory: String?, reason: String?) = {
        guard access("/dev/kvm", R_OK | W_OK) == 0 else { return (nil, "/dev/kvm cannot be opened") }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/gcc") else { return (nil, "gcc is missing") }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("virtsh-guests-\(getpid())")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: ConsoleGuests.built.directory ?? "") }
        for guest in ["ticks", "echo"] {
            let arguments = [
                "-m32", "-ffreestanding", "-fno-pic", "-fno-stack-protector", "-nostdlib", "-static", "-O1",
                "-Wl,-T," + sourceDirectory.appendingPathComponent("guest.ld").path, "-Wl,--build-id=none",
                "-Wl,--no-warn-rwx-segments", "-o", directory.appendingPathComponent("\(guest).elf").path,
                sourceDirectory.appendingPathComponent("start.S").path,
                sourceDirectory.appendingPathComponent("\(guest).c").path,
            ]
            guard let gcc = try? SpawnedProcess("/usr/bin/gcc", arguments), gcc.wait() == 0 else {
                return (nil, "gcc -m32 failed to build the \(guest) guest (install gcc-multilib)")
            }
        }
        return (directory.path, nil)
    }()

    /// Whether guests can run here; prints why not once.
    static let available: Bool = {
        if let reason = built.reason { print("virtshTests: console tests with real guests are skipped: \(reason)") }
        return built.directory != nil
    }()

    /// A domain running `guest` (`ticks` or `echo`) with its serial port on a pty, or in `file` when given.
    static func document(_ name: String, guest: String, file: String? = nil, cmdline: String = "") -> String {
        let serial =
            file.map { "<serial type='file'><source path='\($0)'/><target port='0'/></serial>" }
            ?? "<serial type='pty'><target port='0'/></serial>"
        return """
            <domain type='kvm'>
              <name>\(name)</name>
              <memory unit='MiB'>16</memory>
              <vcpu>1</vcpu>
              <os><type>hvm</type><kernel>\(built.directory ?? "")/\(guest).elf</kernel><cmdline>\(cmdline)</cmdline></os>
              <devices>\(serial)</devices>
            </domain>
            """
    }
}
