import VirtBase

/// Which NUMA cells a host query or change is about (libvirt's `startCell`/`cellCount` pairs).
public enum NodeCellSelection: Sendable, Equatable {
    /// The host as a whole (libvirt's cell `-1`): the host-wide pools and `/proc/meminfo`.
    case host
    /// One cell by id.
    case cell(Int)
    /// Every cell the host has, each on its own.
    case all
}

/// Free memory per NUMA cell and for the host (`freecell`).
public struct NodeFreeMemory: Sendable, Equatable {
    /// One cell's free memory.
    public struct Cell: Sendable, Equatable {
        /// The cell id.
        public var id: Int
        /// Free KiB.
        public var freeKiB: UInt64
        /// A cell's free memory.
        public init(id: Int, freeKiB: UInt64) {
            self.id = id
            self.freeKiB = freeKiB
        }
    }

    /// The cells asked for, by ascending id.
    public var cells: [Cell]
    /// The free memory of the whole host as the driver reports it (libvirt's `virNodeGetFreeMemory`), which
    /// need not be the sum of the cells (libvirt's test driver reports its total memory here).
    public var hostFreeKiB: UInt64

    /// Free memory of `cells` and the host.
    public init(cells: [Cell], hostFreeKiB: UInt64) {
        self.cells = cells
        self.hostFreeKiB = hostFreeKiB
    }
}

/// Free pages of each asked-for size on one cell or the whole host (`freepages`).
public struct NodePageCounts: Sendable, Equatable {
    /// Free pages of one size.
    public struct Count: Sendable, Equatable {
        /// Page size in KiB.
        public var sizeKiB: UInt64
        /// Free pages of that size.
        public var free: UInt64
        /// A count of free pages.
        public init(sizeKiB: UInt64, free: UInt64) {
            self.sizeKiB = sizeKiB
            self.free = free
        }
    }

    /// The cell, nil for the whole host.
    public var cell: Int?
    /// The counts, in the order the sizes were asked for (ascending when every size was asked for).
    public var counts: [Count]

    /// Counts of one cell (nil: the host).
    public init(cell: Int?, counts: [Count]) {
        self.cell = cell
        self.counts = counts
    }
}

/// One huge page pool after `allocpages`.
public struct NodePagePoolChange: Sendable, Equatable {
    /// The cell, nil for the host-wide pool.
    public var cell: Int?
    /// Page size in KiB.
    public var sizeKiB: UInt64
    /// Pages in the pool before.
    public var previousPages: UInt64
    /// Pages in the pool now.
    public var pages: UInt64

    /// A resized pool.
    public init(cell: Int?, sizeKiB: UInt64, previousPages: UInt64, pages: UInt64) {
        self.cell = cell
        self.sizeKiB = sizeKiB
        self.previousPages = previousPages
        self.pages = pages
    }
}

/// The host's CPU map (`nodecpumap`).
public struct NodeCPUMapInfo: Sendable, Equatable {
    /// CPUs the map spans: the highest present CPU number plus one.
    public var present: Int
    /// How many CPUs are online.
    public var online: Int
    /// The online CPUs.
    public var map: CPUSet

    /// A CPU map.
    public init(present: Int, online: Int, map: CPUSet) {
        self.present = present
        self.online = online
        self.map = map
    }
}

/// Memory statistics of the host or one cell (`nodememstats`), in the order the kernel lists them.
public struct NodeMemoryStatistics: Sendable, Equatable {
    /// One statistic.
    public struct Field: Sendable, Equatable {
        /// libvirt's name: `total`, `free`, `buffers` or `cached`.
        public var name: String
        /// KiB.
        public var valueKiB: UInt64
        /// A named value.
        public init(name: String, valueKiB: UInt64) {
            self.name = name
            self.valueKiB = valueKiB
        }
    }

    /// The fields present (a cell has no `buffers` or `cached`).
    public var fields: [Field]

    /// Statistics made of `fields`.
    public init(fields: [Field]) { self.fields = fields }
}
