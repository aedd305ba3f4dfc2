import KVM

/// The hypervisor process's view of one guest: exactly the API of KVM's `VirtualMachine`, so the process
/// layer (monitor, reports, supervisor) runs the real machine and the simulated one alike.
/// Implementations must be safe to call from the monitor's threads while `waitForExit()` blocks.
protocol GuestMachine: AnyObject {
    /// The statistics object the monitor returns as JSON.
    associatedtype Statistics: Encodable

    /// Builds and starts the guest; with `paused`, vCPUs wait for `resume()`.
    func start(paused: Bool) throws
    /// Stops every vCPU; returns when all are out of KVM_RUN.
    func pause() throws
    /// Lets the vCPUs run again.
    func resume() throws
    /// Presses the power button (Ctrl+Alt+Del through the i8042 until ACPI lands).
    func powerButton()
    /// Resets the guest as its reset line would.
    func reset()
    /// Stops the guest: `waitForExit()` returns `.stopped`.
    func stop()
    /// Blocks until the guest run ends, and says how.
    func waitForExit() -> GuestExit
    /// The vCPU threads' OS thread ids, in vCPU order.
    var vcpuThreadIDs: [Int32] { get }
    /// Exit counts and CPU time.
    func statistics() -> Statistics
    /// The serial port's pty, when it has one.
    var serialPTYPath: String? { get }
}

/// Carries a machine to the monitor's threads; `GuestMachine` implementations are thread-safe by contract.
struct SharedMachine: @unchecked Sendable {
    let machine: any GuestMachine
}
