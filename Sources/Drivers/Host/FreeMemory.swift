import VirtBase

/// What `virsh freecell` shows: free memory per NUMA node (`MemFree` of each node's meminfo) and in total.
public struct FreeMemory: Sendable, Equatable, Codable {
    /// One node's free memory.
    public struct Cell: Sendable, Equatable, Codable {
        /// The node id.
        public var node: Int
        /// Free KiB.
        public var freeKiB: UInt64
    }

    /// Every node, by ascending id.
    public var cells: [Cell]
    /// The sum over the nodes (`/proc/meminfo` `MemFree` on a host without NUMA).
    public var totalKiB: UInt64

    /// The free memory of `topology`'s nodes.
    public init(_ topology: HostTopology) {
        cells = topology.nodes.map { Cell(node: $0.id, freeKiB: $0.freeKiB) }
        totalKiB = topology.freeMemoryKiB
    }

    /// `freecell --all`: `%5d: %10llu KiB` per node, 20 dashes, `Total: ...`.
    public var virshAllText: String {
        cells.map { VirshText.rightJustified("\($0.node)", 5) + ": " + VirshText.rightJustified("\($0.freeKiB)", 10)
            + " KiB\n" }.joined()
            + String(repeating: "-", count: 20) + "\n"
            + "Total: " + VirshText.rightJustified("\(totalKiB)", 10) + " KiB\n"
    }

    /// `freecell` without arguments: `Total: N KiB`.
    public var virshTotalText: String { "Total: \(totalKiB) KiB\n" }

    /// `freecell N` (`freecell --cellno N`): `N: free KiB`, or libvirt's error for a node the host lacks.
    public func virshCellText(_ cell: Int, in topology: HostTopology) throws(VirtError) -> String {
        "\(cell): \(try freeKiB(cell: cell, in: topology)) KiB\n"
    }

    /// The free KiB of node `cell`.
    public func freeKiB(cell: Int, in topology: HostTopology) throws(VirtError) -> UInt64 {
        try topology.checkCell(cell)
        return cells.first { $0.node == cell }?.freeKiB ?? 0
    }
}
