import Foundation

/// What the store records about a domain's processes: the row of `domain_status`.
///
/// Written by the management process that starts or reconciles a domain; the pid start times let a
/// later call tell a live hypervisor from a recycled pid.
public struct RuntimeStatus: Sendable, Equatable {
    /// The domain.
    public var uuid: UUID
    /// State and reason.
    public var state: DomainStateReason
    /// The running id; nil while inactive.
    public var id: Int?
    /// The hypervisor process (the one that holds guest RAM).
    public var pid: Int32?
    /// The hypervisor's start time in clock ticks since boot (`/proc/PID/stat` field 22).
    public var pidStartTime: UInt64?
    /// The supervisor process.
    public var supervisorPID: Int32?
    /// The supervisor's start time in clock ticks since boot.
    public var supervisorStartTime: UInt64?
    /// The monitor socket's path (may be in the short socket directory).
    public var monitorPath: String?
    /// The live definition as XML (pty paths, labels); nil while inactive.
    public var liveXML: String?
    /// When the domain was started, seconds since the epoch.
    public var startedAt: Int64?

    /// A status with only the state set.
    public init(
        uuid: UUID, state: DomainStateReason, id: Int? = nil, pid: Int32? = nil, pidStartTime: UInt64? = nil,
        supervisorPID: Int32? = nil, supervisorStartTime: UInt64? = nil, monitorPath: String? = nil,
        liveXML: String? = nil, startedAt: Int64? = nil
    ) {
        self.uuid = uuid
        self.state = state
        self.id = id
        self.pid = pid
        self.pidStartTime = pidStartTime
        self.supervisorPID = supervisorPID
        self.supervisorStartTime = supervisorStartTime
        self.monitorPath = monitorPath
        self.liveXML = liveXML
        self.startedAt = startedAt
    }
}
