import VirtBase

/// One guest NUMA cell's RAM (`<cpu><numa><cell>`): its own host mapping, with its own backing, page size and
/// NUMA policy (`<numatune><memnode>`, `<memoryBacking><hugepages><page nodeset>`, the cell's `memAccess`).
///
/// Cells follow each other in guest-physical memory in this order; the 32-bit hole splits the cell that
/// crosses it (see `GuestMemory.layout`).
public struct MemoryCellConfiguration: Codable, Sendable, Equatable {
    /// The guest cell id (`<cell id>`); nil for the one cell of a guest without NUMA cells (all of its RAM).
    public var id: Int?
    /// The cell's RAM in bytes: a whole number of its pages.
    public var sizeBytes: UInt64
    /// The vCPUs of the cell (`<cell cpus>`), kept for the guest's ACPI tables; nil for a CPU-less cell.
    public var vcpus: CPUSet?
    /// How the cell's RAM is backed: source, page size, shared, locked, mergeable, allocated up front.
    public var backing: MemoryBackingConfiguration
    /// The cell's `mbind(2)` policy; nil is the default policy (`restrictive`, or nothing asked).
    public var policy: GuestMemoryPolicy?

    /// Builds the value.
    public init(
        id: Int?, sizeBytes: UInt64, vcpus: CPUSet? = nil, backing: MemoryBackingConfiguration = .init(),
        policy: GuestMemoryPolicy? = nil
    ) {
        self.id = id
        self.sizeBytes = sizeBytes
        self.vcpus = vcpus
        self.backing = backing
        self.policy = policy
    }

    /// The page size the cell's mapping uses: its huge page size, else the system's 4 KiB.
    public var pageBytes: UInt64 {
        backing.source == .hugetlb
            ? backing.hugePageBytes ?? GuestMemory.defaultHugePageBytes : GuestMemory.systemPageBytes
    }

    /// How messages name the cell: "guest NUMA cell 1 of 'web'" or "guest RAM of 'web'".
    func object(domain: String) -> String {
        let what = id.map { "guest NUMA cell \($0) of '\(domain)'" } ?? "guest RAM of '\(domain)'"
        return "\(what) (\(sizeBytes >> 20) MiB)"
    }
}

extension HypervisorConfiguration {
    /// The cells guest RAM is built from: `memoryCells` when the resolver gave them, else one cell of
    /// `memoryBytes` with `memoryBacking` and `placement.memoryPolicy`.
    public var resolvedMemoryCells: [MemoryCellConfiguration] {
        if !memoryCells.isEmpty { return memoryCells }
        return [
            MemoryCellConfiguration(
                id: nil, sizeBytes: memoryBytes, backing: memoryBacking, policy: placement.memoryPolicy)
        ]
    }
}
