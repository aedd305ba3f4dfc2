import Foundation
import Glibc
import VirtTestSupport

/// The `ticks` and `echo` test guests of KVMTests (Tests/KVMTests/Guests), built once per test run with the
/// system gcc, so virtsh's console tests run real guests through `virt-kvm`.
enum ConsoleGuests {
    /// The directory of the built images, or why guests cannot run here.
    static let built: (directory: String?, reason: String?) = {
        if let problem = FreestandingGuests.hostProblem { return (nil, problem) }
        let directory = FreestandingGuests.scratchDirectory("virtsh-guests")
        if let failure = FreestandingGuests.build(["ticks", "echo"], into: directory) { return (nil, failure) }
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
