import Glibc
import VirtBase

/// A process as the daemon knows a client: its pid and its start time (`/proc/PID/stat` field 22), so a
/// recycled pid is never taken for the process that registered.
public struct PeerProcess: Codable, Hashable, Sendable {
    /// The pid, as the daemon's PID namespace sees it (SO_PEERCRED).
    public var pid: Int32
    /// `starttime` in clock ticks since boot.
    public var startTime: UInt64

    /// A process from known values.
    public init(pid: Int32, startTime: UInt64) {
        self.pid = pid
        self.startTime = startTime
    }

    /// The running process `pid`; nil when there is none (or only its zombie).
    public static func of(_ pid: Int32) -> PeerProcess? {
        guard pid > 0, let stat = ProcStat(path: "/proc/\(pid)/stat"), !stat.isEnded, let start = stat.startTime
        else { return nil }
        return PeerProcess(pid: pid, startTime: start)
    }

    /// Whether this very process still runs.
    public var isAlive: Bool { PeerProcess.of(pid) == self }
}

/// An owner that held leases through an earlier daemon (the owner journal says so) and whose process
/// still runs: it may come back with `reclaim` after the daemon went away.
public struct PendingOwner: Codable, Equatable, Sendable {
    /// The process that held the connection.
    public var peer: PeerProcess
    /// The owner it registered.
    public var owner: LeaseOwner

    /// A pending owner.
    public init(peer: PeerProcess, owner: LeaseOwner) {
        self.peer = peer
        self.owner = owner
    }
}

/// The grace period of a freshly started daemon: until every pending owner has reclaimed its leases
/// (or is gone), or the deadline passes, plain acquires are refused with `lease-recovery`, so no new
/// domain can take a disk whose lease an earlier daemon held and whose holder has not come back yet.
public struct LeaseRecovery: Codable, Sendable, Equatable {
    /// The owners still expected.
    public var pending: [PendingOwner]
    /// When the grace period ends whatever happens (CLOCK_MONOTONIC, nanoseconds).
    public var deadlineNanoseconds: UInt64

    /// A grace period.
    public init(pending: [PendingOwner], deadlineNanoseconds: UInt64) {
        self.pending = pending
        self.deadlineNanoseconds = deadlineNanoseconds
    }
}

/// Something the lock table did that the daemon records in its owner journal and its log.
public enum LockTableEvent: Sendable, Equatable {
    /// A connection registered its first owner.
    case registered(PeerProcess, LeaseOwner)
    /// A registered connection closed.
    case unregistered(PeerProcess, LeaseOwner)
    /// A pending owner took its leases back.
    case settled(PendingOwner)
    /// A pending owner's process ended before it came back.
    case gone(PendingOwner)
    /// The grace period ended with these owners still missing.
    case expired([PendingOwner])
    /// An indirect lease file still named this exclusive holder on another host past the grace period:
    /// its lease was taken over (the label says which).
    case tookOver(LeaseOwner, String)
}
