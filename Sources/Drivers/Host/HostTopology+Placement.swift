import VirtBase

/// `placement='auto'`: choosing host nodes for a guest, as numad would advise.
extension HostTopology {
    /// The nodes to place a guest of `memoryKiB` and `vcpus` on: the single node with the most free memory that
    /// fits both, else that node plus its nearest neighbours (by distance, then free memory) until the free memory
    /// and online CPUs suffice. Throws when the whole host cannot hold the guest.
    public func suggestedNodeset(memoryKiB: UInt64, vcpus: Int) throws(VirtError) -> CPUSet {
        let candidates = nodes.filter { $0.freeKiB > 0 || !$0.cpus.intersection(online).isEmpty }
        func cpus(_ node: NUMANode) -> Int { node.cpus.intersection(online).count }
        func fits(_ chosen: [NUMANode]) -> Bool {
            chosen.reduce(UInt64(0)) { $0 + $1.freeKiB } >= memoryKiB && chosen.reduce(0) { $0 + cpus($1) } >= vcpus
        }
        let byFree = candidates.sorted { ($0.freeKiB, -$0.id) > ($1.freeKiB, -$1.id) }
        if let single = byFree.first(where: { fits([$0]) }) { return CPUSet([single.id]) }
        guard let first = byFree.first, fits(candidates) else {
            throw VirtError(.operationFailed, .host,
                            "no NUMA placement holds \(memoryKiB) KiB and \(vcpus) vCPUs: the host has "
                                + "\(freeMemoryKiB) KiB free and \(online.count) online CPUs")
        }
        var chosen = [first]
        let rest = candidates.filter { $0.id != first.id }.sorted {
            let left = first.distance(to: $0.id) ?? Int.max
            let right = first.distance(to: $1.id) ?? Int.max
            return left != right ? left < right : ($0.freeKiB, -$0.id) > ($1.freeKiB, -$1.id)
        }
        for node in rest where !fits(chosen) { chosen.append(node) }
        return CPUSet(chosen.map(\.id))
    }
}
