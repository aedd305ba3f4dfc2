import VirtBase

/// What a guest asks of the host nodes `placement='auto'` picks for it.
public struct PlacementDemand: Sendable, Equatable {
    /// Ordinary (system page) memory, KiB.
    public var memoryKiB: UInt64
    /// Huge pages by page size in KiB: how many pages of each size.
    public var hugePages: [UInt64: UInt64]
    /// vCPUs started at boot.
    public var vcpus: Int

    /// A demand of `memoryKiB` ordinary memory, `hugePages` and `vcpus`.
    public init(memoryKiB: UInt64, hugePages: [UInt64: UInt64] = [:], vcpus: Int) {
        self.memoryKiB = memoryKiB
        self.hugePages = hugePages
        self.vcpus = vcpus
    }
}

/// The nodes `placement='auto'` chose, and the best of them (where `preferred` memory goes).
public struct AutomaticPlacement: Sendable, Equatable {
    /// Every chosen node.
    public var nodes: CPUSet
    /// The node ranked first (the one placement started from).
    public var primary: Int
}

/// `placement='auto'`: choosing host nodes for a guest, as numad would advise.
extension HostTopology {
    /// The nodes to place a guest on. The rule, deterministic for a given snapshot of the host:
    ///
    /// 1. Nodes are ranked by free huge pages of the sizes the guest needs (KiB), then free memory, then online
    ///    CPUs, all descending, then by lower id.
    /// 2. The first node in that order that holds the whole demand alone wins: ordinary memory within its
    ///    `MemFree`, every huge page size within its free pages, and as many online CPUs as the guest has vCPUs
    ///    (or as the host has online CPUs, when the guest has more vCPUs than that: CPUs may be overcommitted,
    ///    memory not).
    /// 3. Otherwise placement starts from the first-ranked node and adds the others nearest first (by its
    ///    distance to them, then rank), skipping a node that adds nothing the demand still lacks, until the demand
    ///    fits.
    ///
    /// Throws, naming what is lacking, when the whole host cannot hold the guest.
    public func automaticPlacement(for demand: PlacementDemand) throws(VirtError) -> AutomaticPlacement {
        let cpuNeed = min(demand.vcpus, online.count)
        func cpus(_ node: NUMANode) -> Int { node.cpus.intersection(online).count }
        func hugeFree(_ node: NUMANode, _ size: UInt64) -> UInt64 { node.pool(sizeKiB: size)?.free ?? 0 }
        func hugeFreeKiB(_ node: NUMANode) -> UInt64 {
            demand.hugePages.keys.reduce(0) { $0 + hugeFree(node, $1) * $1 }
        }
        func lacks(_ chosen: [NUMANode]) -> (memory: Bool, sizes: Set<UInt64>, cpus: Bool) {
            let memory = chosen.reduce(UInt64(0)) { $0 + $1.freeKiB } < demand.memoryKiB
            let sizes = Set(demand.hugePages.filter { size, count in
                chosen.reduce(UInt64(0)) { $0 + hugeFree($1, size) } < count
            }.keys)
            return (memory, sizes, chosen.reduce(0) { $0 + cpus($1) } < cpuNeed)
        }
        func fits(_ chosen: [NUMANode]) -> Bool {
            let lacking = lacks(chosen)
            return !lacking.memory && lacking.sizes.isEmpty && !lacking.cpus
        }
        func key(_ node: NUMANode) -> (UInt64, UInt64, Int, Int) { (hugeFreeKiB(node), node.freeKiB, cpus(node), -node.id) }
        let ranked = nodes.sorted { key($0) > key($1) }
        if let single = ranked.first(where: { fits([$0]) }) {
            return AutomaticPlacement(nodes: CPUSet([single.id]), primary: single.id)
        }
        guard let first = ranked.first, fits(nodes) else { throw shortfall(demand, cpuNeed: cpuNeed) }
        let rank = Dictionary(uniqueKeysWithValues: ranked.enumerated().map { ($1.id, $0) })
        let rest = ranked.dropFirst().sorted {
            let left = first.distance(to: $0.id) ?? Int.max
            let right = first.distance(to: $1.id) ?? Int.max
            return left != right ? left < right : rank[$0.id, default: 0] < rank[$1.id, default: 0]
        }
        var chosen = [first]
        for node in rest where !fits(chosen) {
            let lacking = lacks(chosen)
            let helps = (lacking.memory && node.freeKiB > 0) || (lacking.cpus && cpus(node) > 0)
                || lacking.sizes.contains { hugeFree(node, $0) > 0 }
            if helps { chosen.append(node) }
        }
        return AutomaticPlacement(nodes: CPUSet(chosen.map(\.id)), primary: first.id)
    }

    /// The nodes for a guest of `memoryKiB` ordinary memory and `vcpus` (see `automaticPlacement(for:)`).
    public func suggestedNodeset(memoryKiB: UInt64, vcpus: Int) throws(VirtError) -> CPUSet {
        try automaticPlacement(for: PlacementDemand(memoryKiB: memoryKiB, vcpus: vcpus)).nodes
    }

    private func shortfall(_ demand: PlacementDemand, cpuNeed: Int) -> VirtError {
        var asked = ["\(demand.memoryKiB) KiB of memory"]
        var has = ["\(freeMemoryKiB) KiB free"]
        for (size, count) in demand.hugePages.sorted(by: { $0.key < $1.key }) {
            asked.append("\(count) huge pages of \(size) KiB")
            has.append("\(nodes.reduce(UInt64(0)) { $0 + ($1.pool(sizeKiB: size)?.free ?? 0) }) free pages of \(size) KiB")
        }
        asked.append("\(cpuNeed) CPUs")
        has.append("\(online.count) online CPUs")
        return VirtError(
            .operationFailed, .host,
            "no set of host NUMA nodes holds \(asked.joined(separator: ", ")): the host has "
                + has.joined(separator: ", "))
    }
}
