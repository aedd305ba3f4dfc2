import VirtBase

/// What `virsh freepages` shows: free pages of each size, per node or host-wide.
///
/// Huge pages are `free_hugepages` of the node's (or the host's) pool; system pages are the free memory
/// (`MemFree`) divided by the page size, as libvirt counts them.
public struct FreePages: Sendable, Equatable, Codable {
    /// Free pages of one size.
    public struct Count: Sendable, Equatable, Codable {
        /// Page size in KiB.
        public var sizeKiB: UInt64
        /// Free pages of that size.
        public var free: UInt64
    }

    /// The node, nil for the whole host (`--cellno -1`).
    public var node: Int?
    /// Counts by the requested sizes' order.
    public var counts: [Count]

    /// `freepages --all` for one node: a `Node N:` header, `<size>KiB: <count>` lines, and an empty line.
    public var virshNodeText: String {
        "Node \(node ?? -1):\n" + virshCountsText + "\n"
    }

    /// The `<size>KiB: <count>` lines alone (`freepages --cellno N [--pagesize S]`).
    public var virshCountsText: String {
        counts.map { "\($0.sizeKiB)KiB: \($0.free)\n" }.joined()
    }
}

extension HostTopology {
    /// Free pages of `sizeKiB` on node `cell` (nil: the whole host). Errors name the node and list the sizes it
    /// offers when it has no pool of that size.
    public func freePages(cell: Int?, sizeKiB: UInt64) throws(VirtError) -> UInt64 {
        if let cell { try checkCell(cell) }
        let node = cell.flatMap { hasNUMA ? self.node($0) : nil }
        if sizeKiB == systemPageSizeKiB {
            return (node?.freeKiB ?? freeMemoryKiB) / systemPageSizeKiB
        }
        let pools = node?.hugePages ?? hostHugePages
        guard let pool = pools.first(where: { $0.sizeKiB == sizeKiB }) else {
            let offered = ([systemPageSizeKiB] + pools.map(\.sizeKiB)).sorted().map(String.init).joined(separator: ", ")
            let place = node.map { "available on node \($0.id)" } ?? "available"
            throw VirtError(.operationFailed, .host,
                            "page size \(sizeKiB) is not \(place); supported page sizes: \(offered) KiB")
        }
        return pool.free
    }

    /// `freepages --all`: every node with every host page size (or only `sizeKiB`). A node without a pool of a
    /// listed size (a node without memory) shows 0 for it, where libvirt would fail the whole command.
    public func freePagesReport(sizeKiB: UInt64? = nil) -> [FreePages] {
        let sizes = sizeKiB.map { [$0] } ?? pageSizesKiB
        return nodes.map { node in
            FreePages(node: node.id, counts: sizes.map { size in
                let free = size == systemPageSizeKiB ? node.freeKiB / systemPageSizeKiB : node.pool(sizeKiB: size)?.free
                return FreePages.Count(sizeKiB: size, free: free ?? 0)
            })
        }
    }

    /// `freepages --cellno N [--pagesize S]`: the counts of one node (nil: the host) for `sizeKiB` or every size.
    public func freePages(cell: Int?, sizesKiB: [UInt64]? = nil) throws(VirtError) -> FreePages {
        var counts: [FreePages.Count] = []
        for size in sizesKiB ?? pageSizesKiB {
            counts.append(FreePages.Count(sizeKiB: size, free: try freePages(cell: cell, sizeKiB: size)))
        }
        return FreePages(node: cell, counts: counts)
    }
}
