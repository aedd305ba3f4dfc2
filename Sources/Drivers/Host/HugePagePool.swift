/// One huge page pool: a page size and its counters, for one NUMA node or for the whole host.
///
/// Read from `hugepages/hugepages-<size>kB/{nr_hugepages,free_hugepages,surplus_hugepages}` under
/// `/sys/devices/system/node/nodeN/` or `/sys/kernel/mm/`.
public struct HugePagePool: Sendable, Equatable, Codable {
    /// The page size in KiB (2048, 1048576).
    public var sizeKiB: UInt64
    /// Pages in the pool (`nr_hugepages`), used and free.
    public var total: UInt64
    /// Pages not handed out (`free_hugepages`).
    public var free: UInt64
    /// Pages above `nr_hugepages` allocated through overcommit (`surplus_hugepages`; 0 where the file is absent).
    public var surplus: UInt64

    /// A pool with the given counters.
    public init(sizeKiB: UInt64, total: UInt64, free: UInt64, surplus: UInt64 = 0) {
        self.sizeKiB = sizeKiB
        self.total = total
        self.free = free
        self.surplus = surplus
    }

    /// The memory the pool holds, in KiB.
    public var totalKiB: UInt64 { sizeKiB * total }
}
