import VirtBase

/// One host CPU (a logical processor) as sysfs describes it.
public struct HostCPU: Sendable, Equatable, Codable {
    /// Where the CPU sits, from `/sys/devices/system/cpu/cpuN/topology/`.
    public struct Topology: Sendable, Equatable, Codable {
        /// `physical_package_id` (0 where absent or `-1`, as libvirt reads it).
        public var socket: Int
        /// `die_id` (0 where absent: kernels before 5.2 and most non-x86 hosts).
        public var die: Int
        /// `core_id` (0 where absent).
        public var core: Int
        /// `thread_siblings_list`: the CPUs sharing this core, the CPU itself included.
        public var siblings: CPUSet

        /// A topology with the given ids.
        public init(socket: Int, die: Int, core: Int, siblings: CPUSet) {
            self.socket = socket
            self.die = die
            self.core = core
            self.siblings = siblings
        }
    }

    /// The CPU number.
    public var id: Int
    /// Whether the CPU is in `/sys/devices/system/cpu/online`.
    public var online: Bool
    /// The NUMA node whose `cpulist` names the CPU, nil when none does (offline CPUs on x86).
    public var node: Int?
    /// The topology; nil when the CPU has no `topology` directory (offline CPUs).
    public var topology: Topology?

    /// A CPU with the given facts.
    public init(id: Int, online: Bool, node: Int?, topology: Topology?) {
        self.id = id
        self.online = online
        self.node = node
        self.topology = topology
    }
}
