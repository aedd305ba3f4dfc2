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
        guard pid > 0, let stat = ProcStat(path: "\(procRoot)/\(pid)/stat"), stat.state != nil,
            let startTime = stat.startTime
        else { return nil }
        if !acceptingZombie && stat.isEnded { return nil }
        return ProcessIdentity(pid: pid, startTime: startTime)
    }

    /// The parent's pid of this process, while it runs.
    public func parentPID(procRoot: String = "/proc") -> Int32? {
        guard isAlive(procRoot: procRoot), let ppid = ProcStat(path: "\(procRoot)/\(pid)/stat")?.number(4) else {
            return nil
        }
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
