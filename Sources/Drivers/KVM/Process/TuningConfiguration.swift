import Host
import VirtBase

/// What the supervisor applies to the hypervisor's threads from outside: its cgroups (`<cputune>` shares, period
/// and quota; cpusets; `<numatune mode='restrictive'>` memory nodes) and the scheduling policy of the vCPU threads
/// (`<vcpusched>`). The driver resolves it from the definition; the supervisor (root) applies it, because the
/// hypervisor runs unprivileged and confined.
public struct TuningConfiguration: Codable, Sendable, Equatable {
    /// Where the cgroup hierarchies are searched (`/sys/fs/cgroup`).
    public var cgroupRoot: String
    /// The partition every domain's group sits in (`machine`).
    public var partition: String
    /// The domain's group (`swift-virt-web1`).
    public var groupName: String
    /// Whether the definition asks for values only cgroups give (shares, period, quota, restrictive memory
    /// nodes): then a host without usable cgroups fails the start. Otherwise the domain runs without its groups
    /// when they cannot be made, and the log says why.
    public var required: Bool
    /// `<shares>`: the domain group's CPU weight.
    public var shares: UInt64?
    /// `<period>`/`<quota>` of every vCPU group.
    public var vcpuPeriod: UInt64?
    public var vcpuQuota: Int64?
    /// `<emulator_period>`/`<emulator_quota>` of the emulator group.
    public var emulatorPeriod: UInt64?
    public var emulatorQuota: Int64?
    /// Host CPUs of each vCPU group (`cpuset.cpus`), by vCPU index; a nil entry gives the domain group's CPUs.
    /// These match the threads' own pinning (cgroup v1 resets a thread's affinity to its cpuset when it moves in).
    public var vcpuCPUs: [CPUSet?]
    /// Host CPUs of the emulator group; nil gives the domain group's CPUs.
    public var emulatorCPUs: CPUSet?
    /// Host memory nodes of the domain (`cpuset.mems`): `<numatune>` strict or restrictive nodesets.
    public var mems: CPUSet?
    /// `<vcpusched>` per vCPU index; a nil entry keeps the default policy.
    public var vcpuSchedules: [ThreadSchedule?]

    /// A configuration with nothing to write but the groups themselves.
    public init(
        cgroupRoot: String = "/sys/fs/cgroup", partition: String = "machine", groupName: String,
        required: Bool = false, shares: UInt64? = nil, vcpuPeriod: UInt64? = nil, vcpuQuota: Int64? = nil,
        emulatorPeriod: UInt64? = nil, emulatorQuota: Int64? = nil, vcpuCPUs: [CPUSet?] = [],
        emulatorCPUs: CPUSet? = nil, mems: CPUSet? = nil, vcpuSchedules: [ThreadSchedule?] = []
    ) {
        self.cgroupRoot = cgroupRoot
        self.partition = partition
        self.groupName = groupName
        self.required = required
        self.shares = shares
        self.vcpuPeriod = vcpuPeriod
        self.vcpuQuota = vcpuQuota
        self.emulatorPeriod = emulatorPeriod
        self.emulatorQuota = emulatorQuota
        self.vcpuCPUs = vcpuCPUs
        self.emulatorCPUs = emulatorCPUs
        self.mems = mems
        self.vcpuSchedules = vcpuSchedules
    }

    /// The CPUs of vCPU group `index`, if it has its own.
    public func cpus(forVCPU index: Int) -> CPUSet? { index < vcpuCPUs.count ? vcpuCPUs[index] : nil }

    /// The schedule of vCPU `index`, if it has one.
    public func schedule(forVCPU index: Int) -> ThreadSchedule? {
        index < vcpuSchedules.count ? vcpuSchedules[index] : nil
    }

    /// Whether vCPUs must be placed before they run a guest instruction: their groups carry limits or their
    /// threads a policy. Then the supervisor starts the hypervisor paused and resumes it after placing them.
    public var placesBeforeRunning: Bool {
        required || vcpuSchedules.contains { $0 != nil }
    }

    /// The domain's cgroup tree for `vcpus` vCPUs on `host`.
    public func cgroup(host: CGroupHost, vcpus: Int, files: any CGroupFiles = SystemCGroupFiles()) -> DomainCGroup {
        DomainCGroup(host: host, partition: partition, name: groupName, vcpus: vcpus, files: files)
    }
}
