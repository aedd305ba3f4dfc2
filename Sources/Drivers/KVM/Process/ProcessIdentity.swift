import VirtBase

/// A process named so that a recycled pid cannot be mistaken for it: the pid and its start time in clock
/// ticks since boot (`/proc/PID/stat` field 22, `starttime`).
public struct ProcessIdentity: Codable, Sendable, Equatable, Hashable {
    /// The process id.
    public var pid: Int32
    /// `starttime` from `/proc/PID/stat`.
    public var startTime: UInt64

    /// An identity from known values (read back from the store).
    public init(pid: Int32, startTime: UInt64) {
        self.pid = pid
        self.startTime = startTime
    }

    /// The identity of the running process `pid`; nil when there is none (or only its zombie).
    /// `procRoot` is `/proc` on the host and a fixture tree in tests.
    public static func of(_ pid: Int32, procRoot: String = "/proc") -> ProcessIdentity? {
        of(pid, procRoot: procRoot, acceptingZombie: false)
    }

    /// The identity of our own child `pid`, even when it already exited but is not reaped yet (a zombie
    /// keeps its start time): a guest that ends at once still gets named.
    public static func ofChild(_ pid: Int32, procRoot: String = "/proc") -> ProcessIdentity? {
        of(pid, procRoot: procRoot, acceptingZombie: true)
    }

    private static func of(_ pid: Int32, procRoot: String, acceptingZombie: Bool) -> ProcessIdentity? {
        guard pid > 0, let stat = StatLine(pid, procRoot: procRoot) else { return nil }
        // Field 3 is the state; starttime is field 22.
        guard let state = stat.field(3)?.first, let startTime = stat.number(22) else { return nil }
        if !acceptingZombie && (state == UInt8(ascii: "Z") || state == UInt8(ascii: "X")) { return nil }
        return ProcessIdentity(pid: pid, startTime: startTime)
    }

    /// The parent's pid of this process, while it runs.
    public func parentPID(procRoot: String = "/proc") -> Int32? {
        guard isAlive(procRoot: procRoot), let ppid = StatLine(pid, procRoot: procRoot)?.number(4) else { return nil }
        return Int32(exactly: ppid)
    }

    /// The process's arguments (`/proc/PID/cmdline`), while it runs.
    public func arguments(procRoot: String = "/proc") -> [String]? {
        guard isAlive(procRoot: procRoot),
            let bytes = try? SmallFile.read("\(procRoot)/\(pid)/cmdline", limit: 64 * 1024)
        else { return nil }
        return bytes.split(separator: 0, omittingEmptySubsequences: false).dropLast().map {
            String(decoding: $0, as: UTF8.self)
        }
    }

    /// Whether this very process (same pid, same start time) is still running.
    public func isAlive(procRoot: String = "/proc") -> Bool {
        ProcessIdentity.of(pid, procRoot: procRoot) == self
    }

}

/// `/proc/PID/stat`, read as bytes: it is read several times on every start, and String's splitting costs more on
/// its first use in a process than the read itself.
private struct StatLine {
    /// The bytes after the command name (which may hold spaces and parentheses: it ends at the last `)`).
    let rest: ArraySlice<UInt8>

    init?(_ pid: Int32, procRoot: String) {
        guard let bytes = try? SmallFile.read("\(procRoot)/\(pid)/stat", limit: 4096),
            let close = bytes.lastIndex(of: UInt8(ascii: ")"))
        else { return nil }
        rest = bytes[(close + 1)...]
    }

    /// Field `number` as proc(5) counts them (1 is the pid, 2 the command name); nil when there is none.
    func field(_ number: Int) -> ArraySlice<UInt8>? {
        guard number >= 3 else { return nil }
        var remaining = number - 3
        var start: Int?
        for index in rest.indices {
            if rest[index] == UInt8(ascii: " ") || rest[index] == UInt8(ascii: "\n") {
                if let begin = start {
                    if remaining == 0 { return rest[begin..<index] }
                    remaining -= 1
                    start = nil
                }
            } else if start == nil {
                start = index
            }
        }
        if let begin = start, remaining == 0 { return rest[begin...] }
        return nil
    }

    /// Field `number` as an unsigned decimal number.
    func number(_ number: Int) -> UInt64? {
        guard let digits = field(number), !digits.isEmpty else { return nil }
        var value: UInt64 = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            if overflow1 || overflow2 { return nil }
            value = sum
        }
        return value
    }
}
