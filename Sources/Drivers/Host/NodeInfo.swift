import VirtBase

/// What `virsh nodeinfo` shows, computed by libvirt's rules (`virHostCPUGetInfoPopulateLinux`).
///
/// Sockets are per NUMA node, cores per socket and threads per core, each the largest any node has; offline CPUs
/// count towards the topology check but not towards `cpus`. When nodes × sockets × cores × threads does not equal
/// the online plus offline CPUs (CPU-less nodes, uneven nodes, odd firmware), libvirt gives up on describing the
/// topology and reports 1 node, 1 socket, every CPU as a core and 1 thread; so does this. `capabilities` keeps the
/// real topology.
public struct NodeInfo: Sendable, Equatable, Codable {
    /// The CPU model field: the architecture name, as libvirt fills it (`x86_64`).
    public var model: String
    /// Online CPUs.
    public var cpus: Int
    /// CPU clock in MHz; 0 when unknown (virsh then leaves the line out).
    public var mhz: Int
    /// NUMA nodes (1 when the topology fell back).
    public var nodes: Int
    /// Sockets per node.
    public var sockets: Int
    /// Cores per socket.
    public var cores: Int
    /// Threads per core.
    public var threads: Int
    /// Memory in KiB.
    public var memoryKiB: UInt64

    /// A value with the given fields.
    public init(model: String, cpus: Int, mhz: Int, nodes: Int, sockets: Int, cores: Int, threads: Int,
                memoryKiB: UInt64) {
        self.model = model
        self.cpus = cpus
        self.mhz = mhz
        self.nodes = nodes
        self.sockets = sockets
        self.cores = cores
        self.threads = threads
        self.memoryKiB = memoryKiB
    }

    /// Computes nodeinfo from `topology`.
    public init(_ topology: HostTopology) throws(VirtError) {
        let offline = topology.present.subtracting(topology.online).count
        var counts = (cpus: 0, nodes: 0, sockets: 0, cores: 0, threads: 0)
        if topology.hasNUMA {
            for node in topology.nodes {
                let part = Self.count(topology, cpus: node.cpus)
                counts.nodes += 1
                counts.cpus += part.cpus
                counts.sockets = Swift.max(counts.sockets, part.sockets)
                counts.cores = Swift.max(counts.cores, part.cores)
                counts.threads = Swift.max(counts.threads, part.threads)
            }
        }
        if counts.cpus == 0 || counts.nodes == 0 {
            let part = Self.count(topology, cpus: topology.present)
            counts = (part.cpus, 1, part.sockets, part.cores, part.threads)
        }
        guard counts.cpus > 0 else { throw VirtError(.internalError, .host, "no CPUs found") }
        guard counts.sockets > 0 else { throw VirtError(.internalError, .host, "no sockets found") }
        guard counts.threads > 0 else { throw VirtError(.internalError, .host, "no threads found") }
        if counts.nodes * counts.sockets * counts.cores * counts.threads != counts.cpus + offline {
            counts = (counts.cpus, 1, 1, counts.cpus + offline, 1)
        }
        self.init(model: topology.arch, cpus: counts.cpus, mhz: topology.cpuMHz, nodes: counts.nodes,
                  sockets: counts.sockets, cores: counts.cores, threads: counts.threads,
                  memoryKiB: topology.memoryKiB)
    }

    /// Online CPUs among `cpus`, their distinct sockets, the most distinct cores in one socket, the most siblings.
    private static func count(_ topology: HostTopology, cpus: CPUSet)
        -> (cpus: Int, sockets: Int, cores: Int, threads: Int)
    {
        var coresBySocket: [Int: Set<Int>] = [:]
        var threads = 0
        var online = 0
        for id in cpus.members where topology.online.contains(id) {
            online += 1
            let place = topology.cpu(id)?.topology
            coresBySocket[place?.socket ?? 0, default: []].insert(place?.core ?? 0)
            threads = Swift.max(threads, place?.siblings.count ?? 1)
        }
        return (online, coresBySocket.count, coresBySocket.values.map(\.count).max() ?? 0, threads)
    }

    /// The text `virsh nodeinfo` prints (`%-20s %s` lines), ending in a newline.
    public var virshText: String {
        var lines = [VirshText.field("CPU model:", model, width: 20), VirshText.field("CPU(s):", "\(cpus)", width: 20)]
        if mhz != 0 { lines.append(VirshText.field("CPU frequency:", "\(mhz) MHz", width: 20)) }
        lines += [
            VirshText.field("CPU socket(s):", "\(sockets)", width: 20),
            VirshText.field("Core(s) per socket:", "\(cores)", width: 20),
            VirshText.field("Thread(s) per core:", "\(threads)", width: 20),
            VirshText.field("NUMA cell(s):", "\(nodes)", width: 20),
            VirshText.field("Memory size:", "\(memoryKiB) KiB", width: 20),
        ]
        return lines.map { $0 + "\n" }.joined()
    }
}
