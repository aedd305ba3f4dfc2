import Host
import KVM
import VirtBase
import VirtCore

/// The start-time steps that need the host's topology: checking memnode nodesets and page sizes, choosing nodes
/// for `placement='auto'`, and the free huge page check, all before anything is launched.
extension HypervisorConfigurationResolver {
    /// True when `<vcpu>` or `<numatune><memory>` asks for `placement='auto'`.
    var asksForAutomaticPlacement: Bool {
        definition.vcpu.placement == .auto || definition.numatune?.memory?.placement == .auto
    }

    /// True when starting needs the host's topology: pinning or nodesets to check, automatic placement, memnodes
    /// or huge pages.
    var needsHostTopology: Bool {
        asksForPlacement || asksForAutomaticPlacement || definition.numatune?.memnodes.isEmpty == false
            || definition.memoryBacking?.hugepages != nil
    }

    /// Checks the definition against `host` and completes `configuration` from it, in order: CPU lists and
    /// nodesets, memnode nodesets and huge page sizes, then the nodes for `placement='auto'`, then the free huge
    /// pages every cell needs where its policy lets it take them. Returns the automatically chosen nodes.
    func applyHost(_ host: HostTopology, to configuration: inout HypervisorConfiguration) throws -> CPUSet? {
        try validatePlacement(against: host)
        try validateNUMA(configuration, against: host)
        let chosen = try placeAutomatically(&configuration, host: host)
        try checkFreeHugePages(configuration, host: host)
        return chosen
    }

    /// memnode nodesets must name host nodes; every huge page size must be one the host offers.
    func validateNUMA(_ configuration: HypervisorConfiguration, against host: HostTopology) throws {
        try onStart {
            for node in definition.numatune?.memnodes ?? [] {
                try host.validateNodeset(
                    node.nodeset, for: "<numatune><memnode cellid='\(node.cellID)' nodeset='\(node.nodeset)'>")
            }
            for cell in configuration.resolvedMemoryCells where cell.backing.source == .hugetlb {
                try host.validateHugePageSize(
                    cell.pageBytes >> 10,
                    for: "\(cellName(cell)) (<hugepages><page size='\(cell.pageBytes >> 10)' unit='KiB'>)")
            }
        }
    }

    /// `placement='auto'`: asks the host for nodes that hold the guest's memory, huge pages and vCPUs
    /// (`HostTopology.automaticPlacement`), then pins the vCPUs without a `<vcpupin>` and the emulator without an
    /// `<emulatorpin>` to those nodes' online CPUs (`<vcpu placement='auto'>`), and binds guest RAM to the nodes
    /// in the `<numatune><memory>` mode (`placement='auto'` there; preferred takes the first-ranked node).
    /// Returns the chosen nodes, nil when nothing is automatic.
    func placeAutomatically(_ configuration: inout HypervisorConfiguration, host: HostTopology) throws -> CPUSet? {
        guard asksForAutomaticPlacement else { return nil }
        var demand = PlacementDemand(memoryKiB: 0, vcpus: configuration.vcpus)
        for cell in configuration.resolvedMemoryCells {
            if cell.backing.source == .hugetlb {
                demand.hugePages[cell.pageBytes >> 10, default: 0] += cell.sizeBytes / cell.pageBytes
            } else {
                demand.memoryKiB += cell.sizeBytes >> 10
            }
        }
        let choice = try onStart { try host.automaticPlacement(for: demand) }
        if definition.vcpu.placement == .auto {
            let cpus = host.cpus(ofNodes: choice.nodes).intersection(host.online)
            let pins = definition.cputune?.vcpupins ?? []
            configuration.placement.vcpuCPUs = (0..<configuration.vcpus).map { index in
                pins.last { $0.vcpu == index }?.cpuset ?? cpus
            }
            configuration.placement.emulatorCPUs = definition.cputune?.emulatorpin ?? cpus
        }
        if let memory = definition.numatune?.memory, memory.placement == .auto {
            let mode = memory.mode ?? .strict
            let nodes = mode == .preferred ? CPUSet([choice.primary]) : choice.nodes
            let policy = try guestPolicy(
                mode, nodes: nodes, element: "<numatune><memory mode='\(mode.rawValue)' placement='auto'>")
            configuration.placement.memoryPolicy = policy
            // memnode and placement='auto' exclude each other (the validator says so), so every cell follows.
            for index in configuration.memoryCells.indices { configuration.memoryCells[index].policy = policy }
        }
        return choice.nodes
    }

    /// Every cell backed by huge pages needs its pages free before anything runs, on the nodes its policy binds
    /// it to (bind, interleave) or anywhere on the host (preferred, default). Cells that share nodes add up: a
    /// nodeset must hold what every cell bound inside it needs. The error names the cells, the node(s), the page
    /// size, and how many pages are needed and free.
    func checkFreeHugePages(_ configuration: HypervisorConfiguration, host: HostTopology) throws {
        var demands: [HugePageDemand] = []
        for cell in configuration.resolvedMemoryCells where cell.backing.source == .hugetlb {
            let nodes: CPUSet? =
                switch cell.policy?.mode {
                case .bind?, .interleave?: cell.policy?.nodes
                case .preferred?, nil: nil
                }
            let pages = cell.sizeBytes / cell.pageBytes
            if let index = demands.firstIndex(where: { $0.sizeKiB == cell.pageBytes >> 10 && $0.nodes == nodes }) {
                demands[index].pages += pages
                demands[index].cells.append(cell)
            } else {
                demands.append(HugePageDemand(sizeKiB: cell.pageBytes >> 10, nodes: nodes, pages: pages, cells: [cell]))
            }
        }
        for demand in demands {
            // What must fit inside this demand's nodes: it and every demand bound to a subset of them.
            let inside = demands.filter { other in
                other.sizeKiB == demand.sizeKiB
                    && (demand.nodes.map { nodes in other.nodes.map { $0.isSubset(of: nodes) } ?? false } ?? true)
            }
            let needed = inside.reduce(UInt64(0)) { $0 + $1.pages }
            let free = try onStart { try freePages(demand.sizeKiB, on: demand.nodes, host: host) }
            guard free.total < needed else { continue }
            throw VirtError(
                .operationFailed, .kvm,
                "cannot start domain '\(definition.name)': "
                    + hugePageShortage(inside.flatMap(\.cells), demand, needed: needed, free: free))
        }
    }

    /// Free pages of `sizeKiB` on `nodes` (nil: the whole host), in total and per node.
    private func freePages(_ sizeKiB: UInt64, on nodes: CPUSet?, host: HostTopology) throws
        -> (total: UInt64, perNode: [(Int, UInt64)])
    {
        guard host.hasNUMA else { return (try host.freePages(cell: nil, sizeKiB: sizeKiB), []) }
        let ids = (nodes ?? host.nodeIDs).members
        let perNode = ids.map { ($0, host.node($0)?.pool(sizeKiB: sizeKiB)?.free ?? 0) }
        return (perNode.reduce(0) { $0 + $1.1 }, perNode)
    }

    private func hugePageShortage(
        _ cells: [MemoryCellConfiguration], _ demand: HugePageDemand, needed: UInt64,
        free: (total: UInt64, perNode: [(Int, UInt64)])
    ) -> String {
        let ids = cells.compactMap(\.id).map(String.init)
        let who =
            switch ids.count {
            case 0: "guest RAM needs"
            case 1: "guest NUMA cell \(ids[0]) needs"
            default: "guest NUMA cells \(ids.dropLast().joined(separator: ", ")) and \(ids.last ?? "") need"
            }
        let size = demand.sizeKiB
        let missing = needed - free.total
        let place: String
        let remedy: String
        if let nodes = demand.nodes, nodes.count == 1, let node = nodes.members.first {
            place = "host NUMA node \(node)"
            remedy = "'virtsh allocpages \(size) \(missing) --cellno \(node) --add'"
        } else if let nodes = demand.nodes {
            let each = free.perNode.map { "node \($0.0): \($0.1)" }.joined(separator: ", ")
            place = "host NUMA nodes \(nodes) (free: \(each))"
            remedy = "'virtsh allocpages \(size) \(missing) --cellno N --add' for one of them"
        } else {
            place = "this host"
            remedy = "'virtsh allocpages \(size) \(missing) --add'"
        }
        return "\(who) \(needed) free \(size) KiB huge pages on \(place), but only \(free.total) are free; "
            + "add pages with \(remedy)"
    }

    /// "guest NUMA cell 1" or "guest RAM" (a guest without cells).
    private func cellName(_ cell: MemoryCellConfiguration) -> String {
        cell.id.map { "guest NUMA cell \($0)" } ?? "guest RAM"
    }

    /// Runs a host check, putting "cannot start domain 'x':" before the host's message.
    private func onStart<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as VirtError {
            throw VirtError(error.code, .kvm, "cannot start domain '\(definition.name)': \(error.message)")
        }
    }
}

/// Huge pages of one size that cells bound to the same nodes (nil: anywhere) need.
private struct HugePageDemand {
    var sizeKiB: UInt64
    var nodes: CPUSet?
    var pages: UInt64
    var cells: [MemoryCellConfiguration]
}
