/// The methods the hypervisor's monitor socket answers (wire protocol of VirtBase's `FrameCodec`).
/// `docs/processes.md` shows each with example frames.
public enum MonitorMethod: String, Codable, Sendable, CaseIterable {
    /// The guest's run state and the hypervisor's facts → `MonitorStatus`.
    case status
    /// Stops every vCPU (all out of KVM_RUN before the reply) → `MonitorStatus`.
    case pause
    /// Lets the vCPUs run again → `MonitorStatus`.
    case resume
    /// Presses the power button (Ctrl+Alt+Del through the i8042 until ACPI lands) → `{}`.
    case powerButton = "power-button"
    /// Records a shutdown request, then presses the power button: the guest's next reset or power-off
    /// ends the domain `shut off (shutdown)` whatever on_reboot says → `{}`.
    case shutdown
    /// Resets the guest at once (as the i8042 reset line would) → `{}`.
    case reset
    /// Stops the guest and ends the hypervisor (the domain ends `shut off (destroyed)`) → `{}`.
    case quit
    /// The OS thread ids of the vCPUs, in vCPU order → `MonitorVCPUThreads`.
    case vcpuThreads = "vcpu-threads"
    /// Exit counts by reason and CPU time per vCPU → the hypervisor's statistics object.
    case statistics
}

/// Whether the guest's vCPUs run.
public enum GuestRunState: String, Codable, Sendable {
    /// vCPUs run.
    case running
    /// vCPUs are stopped (`--paused` start, `suspend`).
    case paused
}

/// The `status` reply.
public struct MonitorStatus: Codable, Sendable, Equatable {
    /// running or paused.
    public var state: GuestRunState
    /// Whether a `shutdown` request is pending.
    public var shutdownRequested: Bool
    /// The hypervisor's pid.
    public var hypervisorPID: Int32
    /// The serial console's pty, when the serial port is a pty.
    public var serialPTYPath: String?
    /// How many vCPUs run.
    public var vcpus: Int

    /// A status.
    public init(state: GuestRunState, shutdownRequested: Bool, hypervisorPID: Int32, serialPTYPath: String?, vcpus: Int)
    {
        self.state = state
        self.shutdownRequested = shutdownRequested
        self.hypervisorPID = hypervisorPID
        self.serialPTYPath = serialPTYPath
        self.vcpus = vcpus
    }
}

/// The `vcpu-threads` reply.
public struct MonitorVCPUThreads: Codable, Sendable, Equatable {
    /// Thread ids (`gettid`), index = vCPU number.
    public var threadIDs: [Int32]
    /// A reply.
    public init(threadIDs: [Int32]) { self.threadIDs = threadIDs }
}

/// What `virt-kvm supervise` prints on stdout (one JSON line) once the domain is ready or failed.
public struct LaunchReport: Codable, Sendable, Equatable {
    /// The detached supervisor, when it started.
    public var supervisor: ProcessIdentity?
    /// The hypervisor, when the guest is ready.
    public var hypervisor: ProcessIdentity?
    /// The error text when the start failed (the hypervisor's own message where it had one).
    public var error: String?
    /// The error's code (`VirtError.Code`) when it is not a plain start failure, e.g. `resourceBusy` for a
    /// refused lease, so the caller prints libvirt's prefix for it.
    public var errorCode: String?

    /// A report.
    public init(supervisor: ProcessIdentity?, hypervisor: ProcessIdentity?, error: String?, errorCode: String? = nil) {
        self.supervisor = supervisor
        self.hypervisor = hypervisor
        self.error = error
        self.errorCode = errorCode
    }
}
