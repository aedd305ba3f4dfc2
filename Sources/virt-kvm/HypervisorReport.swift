import KVM
import VirtBase

/// What the hypervisor tells its supervisor, one JSON object per line on the report pipe: `ready` once the
/// guest runs and the monitor answers, then `exit` when the guest run ends, or `error` when the start failed.
/// A pipe that closes without `exit` or `error` means the hypervisor died.
struct HypervisorReport: Sendable {
    enum Event: String, Sendable, JSONCodable { case ready, exit, error }

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
    func line() -> [UInt8] { jsonLine() }

    /// Parses one line; nil when it is not a report.
    static func parse(_ line: String) -> HypervisorReport? {
        try? decodeJSON(Array(line.utf8))
    }
}

/// Written by hand, as the configuration is (`JSONCodable`): the `ready` report goes out as the guest starts.
extension HypervisorReport: JSONCodable {
    init(json: JSONField) throws(JSONShapeError) {
        event = try json.required("event")
        serialPTYPath = try json.optional("serialPTYPath")
        vcpuThreadIDs = try json.optional("vcpuThreadIDs")
        guestExit = try json.optional("guestExit")
        shutdownRequested = try json.optional("shutdownRequested")
        message = try json.optional("message")
    }

    func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("event", event)
        writer.member("serialPTYPath", ifPresent: serialPTYPath)
        writer.member("vcpuThreadIDs", ifPresent: vcpuThreadIDs)
        writer.member("guestExit", ifPresent: guestExit)
        writer.member("shutdownRequested", ifPresent: shutdownRequested)
        writer.member("message", ifPresent: message)
        writer.endObject()
    }
}
