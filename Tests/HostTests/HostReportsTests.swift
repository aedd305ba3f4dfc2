import Testing
import VirtBase
@testable import Host

@Suite("freecell, freepages, nodecpumap, nodememstats")
struct HostReportsTests {
    @Test func freecellAll() throws {
        let free = FreeMemory(try Fixture.twoNode.topology())
        #expect(free.virshAllText == """
                0:   12582912 KiB
                1:    8388608 KiB
            --------------------
            Total:   20971520 KiB

            """)
        #expect(free.virshTotalText == "Total: 20971520 KiB\n")
    }

    @Test func freecellFormatMatchesVirshCapture() {
        // virsh -c test:///default freecell --all (virsh-captures/test-outputs2.txt)
        var free = FreeMemory(try! Fixture.twoNode.topology())
        free.cells = [FreeMemory.Cell(node: 0, freeKiB: 2048), FreeMemory.Cell(node: 1, freeKiB: 4096)]
        free.totalKiB = 6144
        #expect(free.virshAllText == "    0:       2048 KiB\n    1:       4096 KiB\n--------------------\n"
            + "Total:       6144 KiB\n")
    }

    @Test func freecellOfOneCell() throws {
        let host = try Fixture.eightNode.topology()
        let free = FreeMemory(host)
        #expect(try free.virshCellText(7, in: host) == "7: 4194304 KiB\n")
        #expect(try free.virshCellText(6, in: host) == "6: 0 KiB\n")
        #expect(throws: VirtError(.internalError, .host, "start cell 8 out of range (0-7)")) {
            try free.virshCellText(8, in: host)
        }
        #expect(throws: VirtError.self) { try free.freeKiB(cell: -1, in: host) }
    }

    @Test func freecellWithoutNUMAIsTheHostsFreeMemory() throws {
        let host = try Fixture.noNUMA.topology()
        let free = FreeMemory(host)
        #expect(free.virshTotalText == "Total: 3145728 KiB\n")
        #expect(try free.virshCellText(0, in: host) == "0: 3145728 KiB\n")
        #expect(throws: VirtError(.internalError, .host, "start cell 1 out of range (0-0)")) {
            try free.virshCellText(1, in: host)
        }
    }

    @Test func freepagesAll() throws {
        let report = try Fixture.twoNode.topology().freePagesReport()
        #expect(report.map(\.virshNodeText).joined() == """
            Node 0:
            4KiB: 3145728
            2048KiB: 500
            1048576KiB: 1

            Node 1:
            4KiB: 2097152
            2048KiB: 0
            1048576KiB: 4


            """)
    }

    @Test func freepagesOfOneSizeAndOneCell() throws {
        let host = try Fixture.fourNode.topology()
        #expect(try host.freePages(cell: 1, sizeKiB: 2048) == 32)
        #expect(try host.freePages(cell: 3, sizeKiB: 4) == 1_048_576 / 4)
        #expect(try host.freePages(cell: nil, sizeKiB: 2048) == 160)
        #expect(try host.freePages(cell: 1, sizesKiB: [2048]).virshCountsText == "2048KiB: 32\n")
        #expect(host.freePagesReport(sizeKiB: 2048).map { $0.counts[0].free } == [128, 32, 0, 0])
    }

    @Test func freepagesOfAMissingSizeNamesTheSupportedOnes() throws {
        let host = try Fixture.eightNode.topology()
        #expect(throws: VirtError(.operationFailed, .host,
                                  "page size 2048 is not available on node 6; supported page sizes: 4 KiB")) {
            try host.freePages(cell: 6, sizeKiB: 2048)
        }
        #expect(throws: VirtError(.operationFailed, .host,
                                  "page size 16 is not available on node 0; supported page sizes: 4, 2048, "
                                    + "1048576 KiB")) {
            try host.freePages(cell: 0, sizeKiB: 16)
        }
        // --all shows a memoryless node's missing pools as 0 rather than failing.
        #expect(host.freePagesReport()[6].counts.map(\.free) == [0, 0, 0])
    }

    @Test func nodecpumap() throws {
        #expect(NodeCPUMap(try Fixture.fourNode.topology()).virshText() == """
            CPUs present:   16
            CPUs online:    15
            CPU map:        yyyyy-yyyyyyyyyy

            """)
        #expect(NodeCPUMap(try Fixture.eightNode.topology()).virshText(pretty: true).hasSuffix(
            "CPU map:        0-26\n"))
        let map = NodeCPUMap(try Fixture.eightNode.topology())
        #expect((map.present, map.online) == (28, 27))
    }

    @Test func nodememstatsOfTheHostAndOfANode() throws {
        let host = try Fixture.twoNode.topology()
        #expect(try host.memoryStats().virshText == """
            total  :             33558528 KiB
            free   :             20972544 KiB
            buffers:                65544 KiB
            cached :              1048704 KiB

            """)
        #expect(try host.memoryStats(cell: 1).virshText == """
            total  :             16777216 KiB
            free   :              8388608 KiB

            """)
        #expect(throws: VirtError(.internalError, .host, "start cell 2 out of range (0-1)")) {
            try host.memoryStats(cell: 2)
        }
        #expect(try Fixture.noNUMA.topology().memoryStats(cell: 0).fields.count == 4)
    }
}
