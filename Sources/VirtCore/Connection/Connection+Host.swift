import VirtBase

/// Host memory and CPU queries, and huge page pool changes (`freecell`, `freepages`, `allocpages`,
/// `nodecpumap`, `nodememstats`).
extension Connection {
    /// `freecell`: free memory of `cells` and of the host. A negative cell is refused as libvirt's API does.
    public func freeMemory(cells: NodeCellSelection) throws -> NodeFreeMemory {
        if case .cell(let cell) = cells, cell < 0 {
            throw VirtError(.usage, .connection, "startCell in virNodeGetCellsFreeMemory must be zero or greater")
        }
        return try driver.nodeFreeMemory(cells: cells)
    }

    /// `freepages`: free pages of `sizesKiB` (nil: every size the host offers) on `cells`.
    public func freePages(sizesKiB: [UInt64]?, cells: NodeCellSelection) throws -> [NodePageCounts] {
        try driver.nodeFreePages(sizesKiB: sizesKiB, cells: cells)
    }

    /// `allocpages`: sets (or with `add` grows) the pool of `sizeKiB` pages on `cells` to `count` pages.
    /// A change: refused on a read-only connection.
    @discardableResult
    public func allocPages(sizeKiB: UInt64, count: UInt64, cells: NodeCellSelection, add: Bool = false) throws
        -> [NodePagePoolChange]
    {
        try requireWritable("virNodeAllocPages")
        return try driver.allocPages(sizeKiB: sizeKiB, count: count, cells: cells, add: add)
    }

    /// `nodecpumap`.
    public func cpuMap() throws -> NodeCPUMapInfo { try driver.nodeCPUMap() }

    /// `nodememstats`: the statistics of cell `cell`, or of the host when nil.
    public func memoryStats(cell: Int?) throws -> NodeMemoryStatistics { try driver.nodeMemoryStats(cell: cell) }
}
