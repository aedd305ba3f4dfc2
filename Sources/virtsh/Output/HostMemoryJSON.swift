import VirtCore

/// `nodecpumap --json`.
struct NodeCPUMapJSON: Encodable {
    /// CPUs the map spans.
    var cpusPresent: Int
    /// How many are online.
    var cpusOnline: Int
    /// The online CPUs as a list (`0,2,4`).
    var onlineCPUs: String
    /// virsh's `y`/`-` map.
    var map: String
}

/// `nodememstats --json`: only the fields the host or cell has.
struct NodeMemoryStatsJSON: Encodable {
    /// The cell; absent for the host.
    var cell: Int?
    var totalKiB: UInt64?
    var freeKiB: UInt64?
    var buffersKiB: UInt64?
    var cachedKiB: UInt64?

    init(cell: Int?, _ stats: NodeMemoryStatistics) {
        self.cell = cell
        func value(_ name: String) -> UInt64? { stats.fields.first { $0.name == name }?.valueKiB }
        totalKiB = value("total")
        freeKiB = value("free")
        buffersKiB = value("buffers")
        cachedKiB = value("cached")
    }
}

/// `freecell --json`: the cells asked for and, without a cell, the total the text shows.
struct FreeCellJSON: Encodable {
    struct Cell: Encodable {
        var cell: Int
        var freeKiB: UInt64
    }
    var cells: [Cell]
    /// `freecell`: the host's free memory; `freecell --all`: the sum of the cells; absent for one cell.
    var totalKiB: UInt64?

    init(_ cells: [NodeFreeMemory.Cell], totalKiB: UInt64?) {
        self.cells = cells.map { Cell(cell: $0.id, freeKiB: $0.freeKiB) }
        self.totalKiB = totalKiB
    }
}

/// `freepages --json`: per cell (no `cell` key for the whole host), the free pages of each size.
struct FreePagesJSON: Encodable {
    struct Pages: Encodable {
        var pageSizeKiB: UInt64
        var freePages: UInt64
    }
    struct Cell: Encodable {
        var cell: Int?
        var pages: [Pages]
    }
    var cells: [Cell]

    init(_ reports: [NodePageCounts]) {
        cells = reports.map { report in
            Cell(cell: report.cell, pages: report.counts.map { Pages(pageSizeKiB: $0.sizeKiB, freePages: $0.free) })
        }
    }
}

/// `allocpages --json`: each pool changed, before and after (no `cell` key for the host-wide pool).
struct AllocPagesJSON: Encodable {
    struct Pool: Encodable {
        var cell: Int?
        var pageSizeKiB: UInt64
        var previousPages: UInt64
        var pages: UInt64
    }
    var pools: [Pool]

    init(_ changes: [NodePagePoolChange]) {
        pools = changes.map {
            Pool(cell: $0.cell, pageSizeKiB: $0.sizeKiB, previousPages: $0.previousPages, pages: $0.pages)
        }
    }
}
