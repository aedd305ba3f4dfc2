import KVM
import VirtBase

/// What the hypervisor tells its supervisor, one JSON object per line on the report pipe: `ready` once the
/// guest runs and the monitor answers, then `exit` when the guest run ends, or `error` when the start failed.
/// A pipe that closes without `exit` or `error` means the hypervisor died.
struct HypervisorReport: Codable, Sendable {
    enum Event: String, Codable, Sendable { case ready, exit, error }

    var event: Event
    /// `ready`: the serial pty, if any.
    var serialPTYPath: String?
    /// `ready`: the kernel thread id of each vCPU, by index (the supervisor places them in their cgroups).
    var vcpuThreadIDs: [Int32]?
    /// `exit`: how the guest run ended.
    var guestExit: GuestExit?
    /// `exit`: a `shutdown` request was pending.
    var shutdownRequested: Bool?
    /// `error`: the message for people.
    var message: String?

    /// The report as one line (JSON without newlines, then `\n`).
    func line() -> [UInt8] {
        (try? FrameCodec.jsonLine(self)) ?? []
    }

    /// Parses one line; nil when it is not a report.
    static func parse(_ line: String) -> HypervisorReport? {
        try? FrameCodec.decode(HypervisorReport.self, from: Array(line.utf8))
    }
}
