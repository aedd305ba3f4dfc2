import VirtBase

/// Where the hypervisor's threads run and where guest RAM is allocated on the host (`<cputune>` pinning and
/// `<numatune>`), as plain values. Every field nil means the kernel's defaults: no pinning, default policy.
public struct PlacementConfiguration: Codable, Sendable, Equatable {
    /// Host CPUs each vCPU thread may run on, by vCPU index (`<vcpupin>`, else `<vcpu cpuset>`); a nil entry
    /// (or a missing one) leaves that vCPU on the CPUs the hypervisor process was started with.
    public var vcpuCPUs: [CPUSet?]
    /// Host CPUs for every other thread of the hypervisor: main, monitor, serial input (`<emulatorpin>`, else
    /// `<vcpu cpuset>`); nil leaves them unpinned.
    public var emulatorCPUs: CPUSet?
    /// The NUMA policy of the guest RAM mapping (`<numatune><memory>`); nil is the default policy.
    public var memoryPolicy: GuestMemoryPolicy?

    /// Builds the value.
    public init(vcpuCPUs: [CPUSet?] = [], emulatorCPUs: CPUSet? = nil, memoryPolicy: GuestMemoryPolicy? = nil) {
        self.vcpuCPUs = vcpuCPUs
        self.emulatorCPUs = emulatorCPUs
        self.memoryPolicy = memoryPolicy
    }

    /// The CPUs vCPU `index` is pinned to, if any.
    public func cpus(forVCPU index: Int) -> CPUSet? {
        index < vcpuCPUs.count ? vcpuCPUs[index] : nil
    }

    /// True when nothing is pinned or bound.
    public var isDefault: Bool {
        vcpuCPUs.allSatisfy { $0 == nil } && emulatorCPUs == nil && memoryPolicy == nil
    }
}

/// The `mbind(2)` policy of guest RAM: `<numatune><memory mode nodeset>` with strict as `bind`.
public struct GuestMemoryPolicy: Codable, Sendable, Equatable {
    /// The kernel policy mode.
    public var mode: Mode
    /// Host NUMA nodes (`nodeset`).
    public var nodes: CPUSet
    /// Builds the value.
    public init(mode: Mode, nodes: CPUSet) {
        self.mode = mode
        self.nodes = nodes
    }
    /// The modes `<numatune>` maps to (`restrictive` is no policy at all).
    public enum Mode: String, Codable, Sendable {
        /// `strict`: `MPOL_BIND`, only these nodes.
        case bind
        /// `preferred`: `MPOL_PREFERRED`, this node first, then others.
        case preferred
        /// `interleave`: `MPOL_INTERLEAVE`, round-robin over the nodes.
        case interleave
    }
}
