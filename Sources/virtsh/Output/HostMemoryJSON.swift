import VirtCore

// Documents of the host memory commands, with the conventions of JSONDocuments.swift: absent values are `null`,
// never a missing key, hence the explicit `encode(to:)` wherever a value may be absent.

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

    enum CodingKeys: String, CodingKey { case cell, totalKiB, freeKiB, buffersKiB, cachedKiB }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(cell, forKey: .cell)
        try c.encode(totalKiB, forKey: .totalKiB)
        try c.encode(freeKiB, forKey: .freeKiB)
        try c.encode(buffersKiB, forKey: .buffersKiB)
        try c.encode(cachedKiB, forKey: .cachedKiB)
    }
}

/// `freecell --json`: the cells asked for and the total the text shows (null for one cell).
struct FreeCellJSON: Encodable {
    struct Cell: Encodable {
        var cell: Int
        var freeKiB: UInt64
    }
    var cells: [Cell]
    /// `freecell`: the host's free memory; `freecell --all`: the sum of the cells; null for one cell.
    var totalKiB: UInt64?

    init(_ cells: [NodeFreeMemory.Cell], totalKiB: UInt64?) {
        self.cells = cells.map { Cell(cell: $0.id, freeKiB: $0.freeKiB) }
        self.totalKiB = totalKiB
    }

    enum CodingKeys: String, CodingKey { case cells, totalKiB }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(cells, forKey: .cells)
        try c.encode(totalKiB, forKey: .totalKiB)
    }
}

/// `freepages --json`: per cell (`cell` null for the whole host), the free pages of each size.
struct FreePagesJSON: Encodable {
    struct Pages: Encodable {
        var pageSizeKiB: UInt64
        var freePages: UInt64
    }
    struct Cell: Encodable {
        var cell: Int?
        var pages: [Pages]

        enum CodingKeys: String, CodingKey { case cell, pages }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(cell, forKey: .cell)
            try c.encode(pages, forKey: .pages)
        }
    }
    var cells: [Cell]

    init(_ reports: [NodePageCounts]) {
        cells = reports.map { report in
            Cell(cell: report.cell, pages: report.counts.map { Pages(pageSizeKiB: $0.sizeKiB, freePages: $0.free) })
        }
    }
}

/// `allocpages --json`: each pool changed, before and after (`cell` null for the host-wide pool).
struct AllocPagesJSON: Encodable {
    struct Pool: Encodable {
        var cell: Int?
        var pageSizeKiB: UInt64
        var previousPages: UInt64
        var pages: UInt64

        enum CodingKeys: String, CodingKey { case cell, pageSizeKiB, previousPages, pages }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(cell, forKey: .cell)
            try c.encode(pageSizeKiB, forKey: .pageSizeKiB)
            try c.encode(previousPages, forKey: .previousPages)
            try c.encode(pages, forKey: .pages)
        }
    }
    var pools: [Pool]

    init(_ changes: [NodePagePoolChange]) {
        pools = changes.map {
            Pool(cell: $0.cell, pageSizeKiB: $0.sizeKiB, previousPages: $0.previousPages, pages: $0.pages)
        }
    }
}
