import KVM
import VirtBase
import VirtCore

/// Guest RAM: `<memoryBacking>` per cell (huge page size by `<page nodeset>`, shared access by `memAccess`),
/// guest NUMA cells from `<cpu><numa>` with their own RAM ranges, and each cell's policy from its
/// `<numatune><memnode>` or else `<numatune><memory>`.
extension HypervisorConfigurationResolver {
    /// The `<page>` that applies to guest cell `index` (cell 0 for a guest without NUMA cells): the one whose
    /// nodeset names the cell, else the one without a nodeset; an empty `<hugepages/>` means the host's default
    /// size. Nil: the cell is not backed by huge pages.
    func hugePage(forCell index: Int) -> MemoryBacking.HugePage? {
        guard let pages = definition.memoryBacking?.hugepages else { return nil }
        if pages.isEmpty {
            return MemoryBacking.HugePage(sizeKiB: GuestMemory.defaultHugePageBytes >> 10, nodeset: nil)
        }
        return pages.first { $0.nodeset?.contains(index) == true } ?? pages.first { $0.nodeset == nil }
    }

    /// How guest cell `index` is backed; `memAccess` is the cell's own `memAccess`, which overrides
    /// `<memoryBacking><access>`.
    func memoryBacking(forCell index: Int, memAccess: MemoryBacking.Access? = nil) -> MemoryBackingConfiguration {
        let backing = definition.memoryBacking
        var result = MemoryBackingConfiguration(
            shared: (memAccess ?? backing?.access) == .shared, locked: backing?.locked ?? false,
            mergeable: !(backing?.nosharepages ?? false),
            preallocate: backing?.allocation?.mode == .immediate, allocationThreads: backing?.allocation?.threads)
        // A <page> of the system page size (4 KiB) asks for ordinary memory, as libvirt reads it.
        if let page = hugePage(forCell: index), page.sizeKiB != GuestMemory.systemPageBytes >> 10 {
            result.source = .hugetlb
            result.hugePageBytes = page.sizeKiB * 1024
        } else if backing?.source == .memfd {
            result.source = .memfd
        }
        return result
    }

    /// The backing of a guest without NUMA cells (its one implicit cell 0); with cells, each cell has its own
    /// (`memoryCells`) and this is only cell 0's.
    func memoryBacking() throws -> MemoryBackingConfiguration {
        let backing = memoryBacking(forCell: 0)
        if definition.cpu?.numaCells.isEmpty ?? true {
            try requireWholePages(
                definition.memoryKiB * 1024, backing, what: "<memory> of \(definition.memoryKiB) KiB")
        }
        return backing
    }

    /// One `MemoryCellConfiguration` per `<cpu><numa><cell>` (none without cells), each with its size, vCPUs,
    /// backing and policy. The validator has already checked that the cells cover every vCPU once and add up to
    /// `<memory>`.
    func memoryCells() throws -> [MemoryCellConfiguration] {
        let cells = definition.cpu?.numaCells ?? []
        return try cells.enumerated().map { index, cell in
            let backing = memoryBacking(forCell: index, memAccess: cell.memAccess)
            let size = cell.memoryKiB * 1024
            try requireWholePages(size, backing, what: "guest NUMA cell \(cell.id) of \(cell.memoryKiB) KiB")
            return MemoryCellConfiguration(
                id: cell.id, sizeBytes: size, vcpus: cell.cpus, backing: backing, policy: try policy(forCell: index))
        }
    }

    /// The policy of guest cell `index`: its `<memnode>`, else `<numatune><memory>`. Nil for the default policy
    /// (restrictive, nothing asked) and for `placement='auto'`, which the host step fills in.
    func policy(forCell index: Int) throws -> GuestMemoryPolicy? {
        if let node = definition.numatune?.memnodes.first(where: { $0.cellID == index }) {
            return try guestPolicy(
                node.mode, nodes: node.nodeset,
                element:
                    "<numatune><memnode cellid='\(node.cellID)' mode='\(node.mode.rawValue)' nodeset='\(node.nodeset)'>"
            )
        }
        return try wholeMemoryPolicy()
    }

    /// `<numatune><memory>` as a policy (libvirt's default mode is strict); nil for restrictive, for nothing
    /// asked, and for `placement='auto'` (chosen at start from the host).
    func wholeMemoryPolicy() throws -> GuestMemoryPolicy? {
        guard let memory = definition.numatune?.memory, memory.placement != .auto else { return nil }
        let mode = memory.mode ?? .strict
        if mode == .restrictive { return nil }
        guard let nodes = memory.nodeset, !nodes.isEmpty else {
            throw unsupported("<numatune><memory mode='\(mode.rawValue)'> needs nodeset='…' (host NUMA nodes)")
        }
        return try guestPolicy(
            mode, nodes: nodes, element: "<numatune><memory mode='\(mode.rawValue)' nodeset='\(nodes)'>")
    }

    /// The `mbind(2)` policy for a numatune mode over `nodes`: strict → bind, preferred (one node), interleave;
    /// restrictive is the default policy, confined only by the cgroup's `cpuset.mems` (written by the cgroup
    /// code, not here).
    func guestPolicy(_ mode: NUMATune.Mode, nodes: CPUSet, element: String) throws -> GuestMemoryPolicy? {
        switch mode {
        case .strict: return .init(mode: .bind, nodes: nodes)
        case .interleave: return .init(mode: .interleave, nodes: nodes)
        case .restrictive: return nil
        case .preferred:
            guard nodes.count == 1 else {
                throw unsupported("\(element) names \(nodes.count) nodes; preferred takes exactly one host node")
            }
            return .init(mode: .preferred, nodes: nodes)
        }
    }

    /// Huge-page RAM must be a whole number of pages; the error says which element to change.
    private func requireWholePages(_ bytes: UInt64, _ backing: MemoryBackingConfiguration, what: String) throws {
        guard backing.source == .hugetlb, let page = backing.hugePageBytes else { return }
        guard bytes % page != 0 else { return }
        throw unsupported(
            "\(what) is not a whole number of its \(page >> 10) KiB huge pages; make it a multiple of "
                + "\(page >> 10) KiB or give it another page size in <memoryBacking><hugepages>")
    }
}
