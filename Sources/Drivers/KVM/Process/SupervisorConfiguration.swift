import Security

/// What the `virt-kvm` supervisor needs to run one domain: where its run files go, what to do when the
/// guest powers off, resets or crashes, and the hypervisor configuration it hands to each hypervisor it
/// starts. The kvm:// driver writes it as JSON on the supervisor's stdin (`virt-kvm supervise --config -`).
public struct SupervisorConfiguration: Codable, Sendable, Equatable {
    /// The domain's run files (pid files, status file, monitor socket, log).
    public var runFiles: RunFiles
    /// `<on_poweroff>`: the guest powered itself off.
    public var onPoweroff: GuestExitAction
    /// `<on_reboot>`: the guest reset itself.
    public var onReboot: GuestExitAction
    /// `<on_crash>`: the guest crashed (triple fault, KVM crash event).
    public var onCrash: GuestExitAction
    /// Start the first run with vCPUs paused (`virtsh start --paused`); restarts always run.
    public var startPaused: Bool
    /// Which machine the hypervisor builds.
    public var machine: MachineKind
    /// Uids allowed on the monitor socket besides root and the hypervisor's own uid.
    public var monitorClientUIDs: [UInt32]
    /// The guest itself.
    public var hypervisor: HypervisorConfiguration
    /// The disk leases to take before anything else (nil: `lock_manager = "nop"`, or nothing to lease).
    public var leases: SupervisorLeases?
    /// cgroups and vCPU scheduling the supervisor applies (`Supervisor+Tuning`); nil applies none.
    public var tuning: TuningConfiguration? = nil
    /// sVirt: the files to relabel before the first hypervisor starts (restored after the last one), and the
    /// credentials the hypervisor runs with. Nil: no relabelling and no identity change (the hypervisor still
    /// runs without capabilities, with `no_new_privs` and the seccomp filter).
    public var security: HypervisorSecurityPlan?

    /// A configuration; actions default to libvirt's (`destroy`, `restart`, `destroy`).
    public init(
        runFiles: RunFiles, onPoweroff: GuestExitAction = .destroy, onReboot: GuestExitAction = .restart,
        onCrash: GuestExitAction = .destroy, startPaused: Bool = false, machine: MachineKind = .kvm,
        monitorClientUIDs: [UInt32] = [], hypervisor: HypervisorConfiguration, leases: SupervisorLeases? = nil,
        security: HypervisorSecurityPlan? = nil
    ) {
        self.runFiles = runFiles
        self.onPoweroff = onPoweroff
        self.onReboot = onReboot
        self.onCrash = onCrash
        self.startPaused = startPaused
        self.machine = machine
        self.monitorClientUIDs = monitorClientUIDs
        self.hypervisor = hypervisor
        self.leases = leases
        self.security = security
    }
}

/// What the supervisor does when a guest run ends. libvirt's `preserve` and `rename-restart` have no
/// meaning for a process that holds nothing after its guest ends; the driver maps them before it starts.
public enum GuestExitAction: String, Codable, Sendable, CaseIterable {
    /// End the domain: the supervisor writes the status file and exits.
    case destroy
    /// Start a fresh hypervisor with the same configuration.
    case restart
}

/// The machine a hypervisor process builds.
public enum MachineKind: String, Codable, Sendable {
    /// The embedded KVM hypervisor (`VirtualMachine`).
    case kvm
    /// A simulated guest without KVM for testing the process layer: it boots nothing, keeps real idle
    /// "vCPU" threads, answers every monitor call, resets when the power button is pressed (as Linux does
    /// on Ctrl+Alt+Del), and fails to start when its kernel file cannot be opened.
    case simulated
}
