import KVM
import VirtBase

#if canImport(Glibc)
    import Glibc
#endif

/// A running domain's process pair (supervisor + hypervisor) as the kvm:// driver sees it: how to start
/// it, talk to its monitor, stop it, and tell whether it still runs. The value is Codable so the driver
/// can keep it in its store and rebuild it in a later `virtsh` process.
///
/// Every call has a deadline: a dead monitor socket fails at once (connection refused), a stuck one after
/// `monitorTimeoutMilliseconds`.
public struct DomainProcess: Codable, Sendable, Equatable {
    /// The domain's run files (monitor socket path included).
    public var runFiles: RunFiles
    /// The supervisor: the domain runs exactly as long as it does.
    public var supervisor: ProcessIdentity
    /// The hypervisor as last seen (a restart replaces it; `liveness()` returns the current one).
    public var hypervisor: ProcessIdentity
    /// How long a monitor call may wait for its answer.
    public var monitorTimeoutMilliseconds: Int

    /// The default per-call monitor deadline.
    public static let defaultMonitorTimeoutMilliseconds = 5_000

    /// A handle on processes recorded earlier (read back from the store).
    public init(
        runFiles: RunFiles, supervisor: ProcessIdentity, hypervisor: ProcessIdentity,
        monitorTimeoutMilliseconds: Int = DomainProcess.defaultMonitorTimeoutMilliseconds
    ) {
        self.runFiles = runFiles
        self.supervisor = supervisor
        self.hypervisor = hypervisor
        self.monitorTimeoutMilliseconds = monitorTimeoutMilliseconds
    }

    // MARK: Monitor calls

    /// The guest's run state (`running` / `paused`), pending shutdown request, serial pty.
    public func status() throws(VirtError) -> MonitorStatus {
        try call(.status, returning: MonitorStatus.self)
    }

    /// Pauses every vCPU; returns the new status.
    @discardableResult
    public func pause() throws(VirtError) -> MonitorStatus {
        try call(.pause, returning: MonitorStatus.self)
    }

    /// Resumes the vCPUs; returns the new status.
    @discardableResult
    public func resume() throws(VirtError) -> MonitorStatus {
        try call(.resume, returning: MonitorStatus.self)
    }

    /// Presses the power button (Ctrl+Alt+Del through the i8042 until ACPI lands).
    public func powerButton() throws(VirtError) {
        _ = try call(.powerButton, returning: WireEmpty.self)
    }

    /// `virtsh shutdown`: records the shutdown request, then presses the power button; the guest's next
    /// reset or power-off ends the domain `shut off (shutdown)` whatever on_reboot says.
    public func shutdown() throws(VirtError) {
        _ = try call(.shutdown, returning: WireEmpty.self)
    }

    /// Resets the guest (on_reboot applies).
    public func reset() throws(VirtError) {
        _ = try call(.reset, returning: WireEmpty.self)
    }

    /// Asks the hypervisor to stop the guest and exit; the domain ends `shut off (destroyed)`.
    public func quit() throws(VirtError) {
        _ = try call(.quit, returning: WireEmpty.self)
    }

    /// The vCPU threads' OS thread ids, in vCPU order (for pinning and `vcpuinfo`).
    public func vcpuThreadIDs() throws(VirtError) -> [Int32] {
        try call(.vcpuThreads, returning: MonitorVCPUThreads.self).threadIDs
    }

    /// The hypervisor's statistics, decoded as the hypervisor library's statistics type.
    public func statistics<S: Decodable>(as type: S.Type) throws(VirtError) -> S {
        try call(.statistics, returning: type)
    }

    /// One monitor call on a fresh connection.
    func call<R: Decodable>(_ method: MonitorMethod, returning: R.Type) throws(VirtError) -> R {
        let client = FrameClient(
            path: runFiles.monitorSocket, what: "the monitor of domain '\(runFiles.name)'", domain: .kvm,
            timeoutMilliseconds: monitorTimeoutMilliseconds)
        defer { client.close() }
        do {
            return try client.call(method.rawValue, WireEmpty(), returning: returning)
        } catch {
            if error.domain == .kvm && (error.code == .operationFailed || error.code == .operationTimeout),
                !supervisor.isAlive()
            {
                throw VirtError(
                    .operationInvalid, .kvm, "domain '\(runFiles.name)' is not running: its processes are gone")
            }
            throw error
        }
    }
}
