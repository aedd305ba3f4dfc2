import VirtBase

/// What the host is made of: NUMA nodes with their CPUs, memory, distances and huge page pools; every CPU with its
/// socket, die, core and thread siblings; the host-wide pools; page size, CPU model and speed, and memory.
///
/// A snapshot: `read(root:)` reads sysfs and procfs once (all under `root`, so tests use fixture trees); read it
/// again for fresh free counts. Where the host has no `/sys/devices/system/node` it is one node 0 holding every
/// online CPU and all memory, as libvirt treats it; `hasNUMA` tells the two apart.
public struct HostTopology: Sendable, Equatable, Codable {
    /// The directory that stood for `/` when this was read.
    public var root: String
    /// Whether the kernel exposes NUMA nodes (`/sys/devices/system/node/nodeN` exists).
    public var hasNUMA: Bool
    /// The NUMA nodes by ascending id (one synthesized node 0 where `hasNUMA` is false).
    public var nodes: [NUMANode]
    /// Every present CPU by ascending id.
    public var cpus: [HostCPU]
    /// `/sys/devices/system/cpu/present`.
    public var present: CPUSet
    /// `/sys/devices/system/cpu/online`.
    public var online: CPUSet
    /// `/sys/devices/system/cpu/possible` (the present CPUs where the file is absent).
    public var possible: CPUSet
    /// The host-wide huge page pools (`/sys/kernel/mm/hugepages`), by ascending size.
    public var hostHugePages: [HugePagePool]
    /// The base page size in KiB (4 on x86-64).
    public var systemPageSizeKiB: UInt64
    /// The machine architecture (`/proc/sys/kernel/arch`, else `uname -m`): `x86_64`, `aarch64`.
    public var arch: String
    /// The CPU's marketing name (`model name` in `/proc/cpuinfo`), nil where the kernel gives none.
    public var cpuModelName: String?
    /// The CPU clock in MHz (`cpu MHz` in `/proc/cpuinfo`, integer part), 0 where unknown.
    public var cpuMHz: Int
    /// `/proc/meminfo`.
    public var hostMemory: MemInfo

    /// A topology from its parts (tests and callers that build one by hand; `read(root:)` is the usual way).
    public init(root: String, hasNUMA: Bool, nodes: [NUMANode], cpus: [HostCPU], present: CPUSet, online: CPUSet,
                possible: CPUSet, hostHugePages: [HugePagePool], systemPageSizeKiB: UInt64, arch: String,
                cpuModelName: String?, cpuMHz: Int, hostMemory: MemInfo) {
        self.root = root
        self.hasNUMA = hasNUMA
        self.nodes = nodes
        self.cpus = cpus
        self.present = present
        self.online = online
        self.possible = possible
        self.hostHugePages = hostHugePages
        self.systemPageSizeKiB = systemPageSizeKiB
        self.arch = arch
        self.cpuModelName = cpuModelName
        self.cpuMHz = cpuMHz
        self.hostMemory = hostMemory
    }

    /// The node numbered `id`, nil when there is none.
    public func node(_ id: Int) -> NUMANode? {
        nodes.first { $0.id == id }
    }

    /// The CPU numbered `id`, nil when it is not present.
    public func cpu(_ id: Int) -> HostCPU? {
        cpus.first { $0.id == id }
    }

    /// The node ids.
    public var nodeIDs: CPUSet { CPUSet(nodes.map(\.id)) }

    /// Every page size the host offers, in KiB, ascending: the system page and each host-wide huge page pool
    /// (capabilities' `<host><cpu><pages>` list).
    public var pageSizesKiB: [UInt64] {
        ([systemPageSizeKiB] + hostHugePages.map(\.sizeKiB)).sorted()
    }

    /// Total memory in KiB as libvirt's nodeinfo counts it: the sum of the nodes' `MemTotal` where the host has
    /// NUMA, else `/proc/meminfo` `MemTotal`.
    public var memoryKiB: UInt64 {
        nodes.reduce(0) { $0 + $1.memoryKiB }
    }

    /// Free memory in KiB: the sum of the nodes' `MemFree` (or `/proc/meminfo` `MemFree` without NUMA).
    public var freeMemoryKiB: UInt64 {
        nodes.reduce(0) { $0 + $1.freeKiB }
    }

    /// The CPUs of the nodes in `nodeset` (unknown node ids contribute nothing).
    public func cpus(ofNodes nodeset: CPUSet) -> CPUSet {
        nodes.filter { nodeset.contains($0.id) }.reduce(CPUSet()) { $0.union($1.cpus) }
    }

    /// The nodes holding any CPU of `cpuset`.
    public func nodes(ofCPUs cpuset: CPUSet) -> CPUSet {
        CPUSet(nodes.filter { !$0.cpus.intersection(cpuset).isEmpty }.map(\.id))
    }
}
