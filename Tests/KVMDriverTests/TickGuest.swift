import Foundation
import Glibc
import VirtTestSupport

/// The `ticks` test guest of KVMTests (prints "tick N", powers off on Ctrl+Alt+Del), built once per test run
/// with the system gcc, so the driver tests start real guests through `virt-kvm`.
enum TickGuest {
    /// The built image, or the reason it cannot be had here (printed once; the tests then skip).
    static let image: (path: String?, reason: String?) = build("ticks")

    /// The `disk` guest of KVMTests (drives every virtio-blk device it finds: reads, writes, a flush, and
    /// reports each status on COM1), built into the same directory.
    static let diskImage: (path: String?, reason: String?) = build("disk")

    private static let directory = FreestandingGuests.scratchDirectory("swift-virt-tick")

    /// Builds `Guests/<name>.c` into this test process's guest directory.
    private static func build(_ name: String) -> (path: String?, reason: String?) {
        if let problem = FreestandingGuests.hostProblem { return (nil, problem) }
        if let failure = FreestandingGuests.build([name], into: directory) { return (nil, failure) }
        return (directory.appendingPathComponent("\(name).elf").path, nil)
    }

    /// Whether guests can run here; prints why not once.
    static let available: Bool = {
        if let reason = image.reason { print("KVMDriverTests: real-guest tests are skipped: \(reason)") }
        return image.path != nil
    }()
}
