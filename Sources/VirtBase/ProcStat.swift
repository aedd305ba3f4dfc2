#if canImport(Glibc)
    import Glibc
#endif

/// One `/proc/PID/stat` (or `/proc/PID/task/TID/stat`) line, read as bytes: the start path reads it several times,
/// and String's splitting costs more on its first use in a process than the read itself. The one parser for the
/// file: process identities (pid + start time), the lock daemon's peers, vCPU times.
public struct ProcStat: Sendable {
    /// The bytes after the command name (which may hold spaces and parentheses: it ends at the last `)`).
    private let rest: ArraySlice<UInt8>

    /// The line at `path`; nil when it cannot be read or has no command name.
    public init?(path: String) {
        guard let bytes = try? SmallFile.read(path, limit: 4096) else { return nil }
        self.init(bytes: bytes)
    }

    /// The line in `bytes`; nil when it has no command name.
    public init?(bytes: [UInt8]) {
        guard let close = bytes.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        rest = bytes[(close + 1)...]
    }

    /// Field `number` as proc(5) counts them (1 is the pid, 2 the command name, 3 the state); nil when absent.
    public func field(_ number: Int) -> ArraySlice<UInt8>? {
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

    /// Field `number` as an unsigned decimal number; nil when absent, not a number or too large.
    public func number(_ number: Int) -> UInt64? {
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

    /// The state letter (field 3).
    public var state: UInt8? { field(3)?.first }

    /// A zombie or a dead process: no longer running, even if its entry remains.
    public var isEnded: Bool { state == UInt8(ascii: "Z") || state == UInt8(ascii: "X") }

    /// `starttime` (field 22), clock ticks since boot.
    public var startTime: UInt64? { number(22) }

    /// User plus system CPU time (fields 14 and 15), in nanoseconds.
    public var cpuTimeNanoseconds: UInt64? {
        guard let user = number(14), let system = number(15) else { return nil }
        let ticks = UInt64(max(sysconf(Int32(_SC_CLK_TCK)), 1))
        return (user + system) * 1_000_000_000 / ticks
    }
}
