import Foundation
import Glibc

/// The `ticks` test guest of KVMTests (prints "tick N", powers off on Ctrl+Alt+Del), built once per test run
/// with the system gcc, so the driver tests start real guests through `virt-kvm`.
enum TickGuest {
    static let sourceDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("KVMTests/Guests")

    /// The built image, or the reason it cannot be had here (printed once; the tests then skip).
    static let image: (path: String?, reason: String?) = build("ticks")

    /// The `disk` guest of KVMTests (drives every virtio-blk device it finds: reads, writes, a flush, and
    /// reports each status on COM1), built into the same directory.
    static let diskImage: (path: String?, reason: String?) = build("disk")

    /// Builds `Guests/<name>.c` into this test process's guest directory.
    private static func build(_ name: String) -> (path: String?, reason: String?) {
        guard access("/dev/kvm", R_OK | W_OK) == 0 else { return (nil, "/dev/kvm cannot be opened") }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/gcc") else { return (nil, "gcc is missing") }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swift-virt-tick-\(getpid())")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // The images' directory goes when the test process exits.
        atexit {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("swift-virt-tick-\(getpid())")
            try? FileManager.default.removeItem(at: path)
        }
        let output = directory.appendingPathComponent("\(name).elf").path
        let gcc = Process()
        gcc.executableURL = URL(fileURLWithPath: "/usr/bin/gcc")
        gcc.arguments = [
            "-m32", "-ffreestanding", "-fno-pic", "-fno-stack-protector", "-nostdlib", "-static", "-O1",
            "-Wl,-T," + sourceDirectory.appendingPathComponent("guest.ld").path, "-Wl,--build-id=none",
            "-Wl,--no-warn-rwx-segments", "-o", output,
            sourceDirectory.appendingPathComponent("start.S").path,
            sourceDirectory.appendingPathComponent("\(name).c").path,
        ]
        gcc.standardError = FileHandle.nullDevice
        do { try gcc.run() } catch { return (nil, "gcc did not run: \(error)") }
        gcc.waitUntilExit()
        guard gcc.terminationStatus == 0 else { return (nil, "gcc -m32 failed (install gcc-multilib)") }
        return (output, nil)
    }

    /// Whether guests can run here; prints why not once.
    static let available: Bool = {
        if let reason = image.reason { print("KVMDriverTests: real-guest tests are skipped: \(reason)") }
        return image.path != nil
    }()
}
