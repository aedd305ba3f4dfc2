import Testing
import VirtBase
@testable import Host

/// `placement='auto'`'s node choice (`HostTopology.automaticPlacement`) on the fixture trees: huge pages, nodes
/// without memory or without CPUs, offline CPUs, growth towards the nearest nodes.
@Suite("Automatic placement: the numad-like node choice on fixture trees")
struct AutomaticPlacementTests {
    @Test("two nodes: huge pages decide the rank; a size no set of nodes has fails with the numbers")
    func twoNodeHugePages() throws {
        let host = try Fixture.twoNode.topology()
        // Node 1 has 4 free 1 GiB pages, node 0 one: three pages fit on node 1 alone.
        let gig = try host.automaticPlacement(for: PlacementDemand(memoryKiB: 0, hugePages: [1_048_576: 3], vcpus: 4))
        #expect(gig == AutomaticPlacement(nodes: CPUSet([1]), primary: 1))
        // 2 MiB pages exist on node 0 only (500 free).
        let small = try host.automaticPlacement(for: PlacementDemand(memoryKiB: 65536, hugePages: [2048: 100], vcpus: 2))
        #expect(small == AutomaticPlacement(nodes: CPUSet([0]), primary: 0))
        // Five 1 GiB pages: node 1's four and node 0's one.
        let five = try host.automaticPlacement(for: PlacementDemand(memoryKiB: 0, hugePages: [1_048_576: 5], vcpus: 1))
        #expect(five == AutomaticPlacement(nodes: CPUSet([0, 1]), primary: 1))
        #expect(throws: VirtError(.operationFailed, .host,
                                  "no set of host NUMA nodes holds 0 KiB of memory, 600 huge pages of 2048 KiB, "
                                    + "2 CPUs: the host has 20971520 KiB free, 500 free pages of 2048 KiB, "
                                    + "16 online CPUs")) {
            try host.automaticPlacement(for: PlacementDemand(memoryKiB: 0, hugePages: [2048: 600], vcpus: 2))
        }
    }

    @Test("four nodes, CPU 5 offline: growth goes to the nearest node; more pages than the host has fail")
    func fourNodeOfflineCPU() throws {
        let host = try Fixture.fourNode.topology()
        // 129 free 2 MiB pages: node 0 has 128, so placement starts there and adds its nearest node, node 1
        // (distance 12, 32 pages), not node 2 (distance 20).
        let demand = PlacementDemand(memoryKiB: 0, hugePages: [2048: 129], vcpus: 4)
        #expect(try host.automaticPlacement(for: demand) == AutomaticPlacement(nodes: CPUSet([0, 1]), primary: 0))
        // 2 MiB pages: node 0 (128 free) ranks first and holds 100 alone.
        #expect(try host.suggestedNodeset(memoryKiB: 0, vcpus: 4) == CPUSet([2]))
        #expect(try host.automaticPlacement(for: PlacementDemand(memoryKiB: 0, hugePages: [2048: 100], vcpus: 4))
            .nodes == CPUSet([0]))
        // Four vCPUs and 2 GiB: node 2 has the most free memory and 4 online CPUs.
        #expect(try host.suggestedNodeset(memoryKiB: 2_097_152, vcpus: 4) == CPUSet([2]))
        // 16 vCPUs on 15 online CPUs (CPU 5 is offline): every online CPU, so every node.
        #expect(try host.suggestedNodeset(memoryKiB: 0, vcpus: 16) == CPUSet(0...3))
        // The host has 160 free 2 MiB pages in all.
        #expect(throws: VirtError.self) {
            try host.automaticPlacement(for: PlacementDemand(memoryKiB: 0, hugePages: [2048: 161], vcpus: 1))
        }
    }

    @Test("eight nodes: a node without CPUs is never chosen alone; a node without memory only for CPUs")
    func eightNodeSparse() throws {
        let host = try Fixture.eightNode.topology()
        // Node 7 has the most free memory but no CPUs: the best node with CPUs (node 5) wins.
        #expect(try host.suggestedNodeset(memoryKiB: 524_288, vcpus: 2) == AutomaticPlacement(
            nodes: CPUSet([5]), primary: 5).nodes)
        // 5 GiB fits no node with CPUs: node 7 (4 GiB free) plus the next best node at equal distance.
        #expect(try host.automaticPlacement(for: PlacementDemand(memoryKiB: 5_242_880, vcpus: 3))
            == AutomaticPlacement(nodes: CPUSet([5, 7]), primary: 7))
        // Two 1 GiB pages exist only on node 7; the CPUs come from node 5.
        #expect(try host.automaticPlacement(for: PlacementDemand(memoryKiB: 0, hugePages: [1_048_576: 2], vcpus: 2))
            == AutomaticPlacement(nodes: CPUSet([5, 7]), primary: 7))
        // Every online CPU (27: CPU 27 is offline) needs node 6, which has CPUs but no memory.
        let all = try host.automaticPlacement(for: PlacementDemand(memoryKiB: 1024, vcpus: 64))
        #expect(all.nodes == CPUSet(0...7))
        #expect(throws: VirtError.self) {
            try host.automaticPlacement(for: PlacementDemand(memoryKiB: 0, hugePages: [1_048_576: 3], vcpus: 1))
        }
    }

    @Test("no NUMA in sysfs: the one synthesized node with the host-wide pools")
    func noNUMA() throws {
        let host = try Fixture.noNUMA.topology()
        #expect(try host.automaticPlacement(for: PlacementDemand(memoryKiB: 1024, hugePages: [2048: 6], vcpus: 4))
            == AutomaticPlacement(nodes: CPUSet([0]), primary: 0))
        #expect(throws: VirtError.self) {
            try host.automaticPlacement(for: PlacementDemand(memoryKiB: 1024, hugePages: [2048: 7], vcpus: 1))
        }
    }
}
