import Foundation
import Testing
import VirtBase
@testable import Host

@Suite("Sparse NUMA node numbering")
struct SparseNodeTests {
    /// two-node with node1 renamed node2, as on hosts whose firmware numbers nodes with gaps.
    private func sparseTree() throws -> ScratchTree {
        let tree = try ScratchTree(copying: .twoNode)
        try FileManager.default.moveItem(atPath: tree.root + "/sys/devices/system/node/node1",
                                         toPath: tree.root + "/sys/devices/system/node/node2")
        return tree
    }

    @Test func readsGapsAndMapsDistancesInIdOrder() throws {
        let tree = try sparseTree()
        let host = try HostTopology.read(root: tree.root, systemPageSizeKiB: 4)
        #expect(host.nodes.map(\.id) == [0, 2])
        #expect(host.node(0)?.distance(to: 2) == 21)
        #expect(host.cpu(4)?.node == 2)
        #expect(try NodeInfo(host).nodes == 2)
        #expect(host.capabilitiesTopologyXML().contains("<sibling id='2' value='21'/>"))
    }

    @Test func aGapIsNotAvailableAndBeyondTheLastIsOutOfRange() throws {
        let tree = try sparseTree()
        let host = try HostTopology.read(root: tree.root, systemPageSizeKiB: 4)
        let free = FreeMemory(host)
        #expect(try free.virshCellText(2, in: host) == "2: 8388608 KiB\n")
        #expect(throws: VirtError(.operationFailed, .host, "NUMA node 1 is not available")) {
            try free.virshCellText(1, in: host)
        }
        #expect(throws: VirtError(.internalError, .host, "start cell 3 out of range (0-2)")) {
            try host.freePages(cell: 3, sizeKiB: 2048)
        }
        let resizer = HugePagePoolResizer(root: tree.root, systemPageSizeKiB: 4)
        #expect(throws: VirtError(.operationFailed, .host, "NUMA node 1 is not available")) {
            try resizer.resize(sizeKiB: 2048, count: 1, node: 1)
        }
        #expect(try resizer.resize(sizeKiB: 2048, count: 3, node: 2).current == 3)
    }
}
