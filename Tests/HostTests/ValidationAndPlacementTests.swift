import Testing
import VirtBase
@testable import Host

@Suite("Start-time checks and automatic placement on fixture trees")
struct ValidationAndPlacementTests {
    @Test func cpusMustBePresentAndOnline() throws {
        let host = try Fixture.fourNode.topology()
        try host.validateCPUs(try CPUSet(parsing: "0-4,6-15"), for: "vcpupin of vCPU 0")
        #expect(throws: VirtError(.configUnsupported, .host,
                                  "vcpupin of vCPU 1 names CPU(s) '16-17' that this host does not have "
                                    + "(present: 0-15)")) {
            try host.validateCPUs(try CPUSet(parsing: "2,16-17"), for: "vcpupin of vCPU 1")
        }
        #expect(throws: VirtError(.configUnsupported, .host,
                                  "emulatorpin names CPU(s) '5' that are offline (online: 0-4,6-15)")) {
            try host.validateCPUs(try CPUSet(parsing: "4-6"), for: "emulatorpin")
        }
    }

    @Test func nodesetsMustExist() throws {
        let host = try Fixture.twoNode.topology()
        try host.validateNodeset(CPUSet([0, 1]), for: "numatune")
        #expect(throws: VirtError(.configUnsupported, .host,
                                  "numatune names NUMA node(s) '2-3' that this host does not have (nodes: 0-1)")) {
            try host.validateNodeset(CPUSet([1, 2, 3]), for: "numatune")
        }
    }

    @Test func hugePageSizes() throws {
        let host = try Fixture.eightNode.topology()
        try host.validateHugePageSize(2048, nodeset: CPUSet([0, 7]), for: "memoryBacking")
        #expect(throws: VirtError(.configUnsupported, .host,
                                  "memoryBacking asks for 16384 KiB pages, which this host does not offer "
                                    + "(huge page sizes: 2048, 1048576 KiB)")) {
            try host.validateHugePageSize(16384, for: "memoryBacking")
        }
        #expect(throws: VirtError(.configUnsupported, .host,
                                  "memoryBacking asks for 2048 KiB pages on NUMA node 6, which has no such pool "
                                    + "(a node without memory)")) {
            try host.validateHugePageSize(2048, nodeset: CPUSet([5, 6]), for: "memoryBacking")
        }
    }

    @Test func freeHugePages() throws {
        let host = try Fixture.twoNode.topology()
        try host.requireFreeHugePages(500, sizeKiB: 2048, node: 0, for: "domain 'web'")
        #expect(throws: VirtError(.operationFailed, .host,
                                  "domain 'web' needs 2 free 1048576 KiB huge pages on NUMA node 0, but only 1 are "
                                    + "free; add pages with 'virtsh allocpages 1048576 1 --cellno 0 --add'")) {
            try host.requireFreeHugePages(2, sizeKiB: 1_048_576, node: 0, for: "domain 'web'")
        }
        #expect(throws: VirtError.self) {
            try host.requireFreeHugePages(501, sizeKiB: 2048, node: nil, for: "domain 'web'")
        }
    }

    @Test func autoPlacementPicksOneNodeWhenItFits() throws {
        let host = try Fixture.twoNode.topology()
        // Node 0 has the most free memory (12 GiB).
        #expect(try host.suggestedNodeset(memoryKiB: 4_194_304, vcpus: 4) == CPUSet([0]))
        // 14 GiB fits no single node: node 0 and its neighbour.
        #expect(try host.suggestedNodeset(memoryKiB: 14_680_064, vcpus: 4) == CPUSet([0, 1]))
        #expect(throws: VirtError.self) { try host.suggestedNodeset(memoryKiB: 40_000_000, vcpus: 1) }
        // 17 vCPUs on 16 online CPUs: CPUs may be overcommitted, so it takes every online CPU (both nodes).
        #expect(try host.suggestedNodeset(memoryKiB: 1, vcpus: 17) == CPUSet([0, 1]))
    }

    @Test func autoPlacementGrowsTowardsTheNearestNodes() throws {
        let host = try Fixture.fourNode.topology()
        // Node 2 has the most free memory (4000000 KiB); its nearest neighbour is node 3 (distance 12).
        #expect(try host.suggestedNodeset(memoryKiB: 3_900_000, vcpus: 2) == CPUSet([2]))
        #expect(try host.suggestedNodeset(memoryKiB: 4_500_000, vcpus: 2) == CPUSet([2, 3]))
        #expect(try host.suggestedNodeset(memoryKiB: 1_000_000, vcpus: 6) == CPUSet([2, 3]))
    }
}
