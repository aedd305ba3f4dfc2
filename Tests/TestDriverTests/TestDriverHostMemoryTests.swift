import Foundation
import TestDriver
import Testing
import VirtBase
import VirtCore

/// The host memory calls of test:///default through `Connection`, with libvirt 9.0's test driver values.
@Suite("test:///default host memory")
struct TestDriverHostMemoryTests {
    func open(readOnly: Bool = false) throws -> Connection {
        try Connection.open("test:///default", factories: [TestDriverFactory()], readOnly: readOnly)
    }

    @Test("free memory: 2048 and 4096 KiB in the cells, 3072 KiB for the host")
    func freeMemory() throws {
        let connection = try open()
        let all = try connection.freeMemory(cells: .all)
        #expect(all.cells == [.init(id: 0, freeKiB: 2048), .init(id: 1, freeKiB: 4096)])
        #expect(all.hostFreeKiB == 3072)
        #expect(try connection.freeMemory(cells: .cell(1)).cells == [.init(id: 1, freeKiB: 4096)])
        #expect(throws: VirtError(.invalidArgument, .test, "Range exceeds available cells")) {
            try connection.freeMemory(cells: .cell(2))
        }
        #expect(
            throws: VirtError(.usage, .connection, "startCell in virNodeGetCellsFreeMemory must be zero or greater")
        ) {
            try connection.freeMemory(cells: .cell(-1))
        }
    }

    @Test("free pages: the series 19, 45, 97, 201 over the sizes asked, restarting for each cell")
    func freePages() throws {
        let connection = try open()
        let all = try connection.freePages(sizesKiB: nil, cells: .all)
        #expect(all.map(\.cell) == [0, 1])
        for cell in all {
            #expect(cell.counts.map(\.sizeKiB) == [4, 8, 2048, 1_048_576])
            #expect(cell.counts.map(\.free) == [19, 45, 97, 201])
        }
        #expect(
            try connection.freePages(sizesKiB: [3072], cells: .host)
                == [NodePageCounts(cell: nil, counts: [.init(sizeKiB: 3072, free: 19)])])
    }

    @Test("CPU map, and the calls libvirt's test driver lacks")
    func cpuMapAndUnsupported() throws {
        let connection = try open()
        #expect(try connection.cpuMap() == NodeCPUMapInfo(present: 8, online: 3, map: CPUSet([0, 2, 4])))
        #expect(throws: VirtError(.noSupport, .test, "virNodeGetMemoryStats")) { try connection.memoryStats(cell: nil) }
        #expect(throws: VirtError(.noSupport, .test, "virNodeAllocPages")) {
            try connection.allocPages(sizeKiB: 2048, count: 1, cells: .all)
        }
        #expect(throws: VirtError(.operationDenied, .connection, "read only access prevents virNodeAllocPages")) {
            try open(readOnly: true).allocPages(sizeKiB: 2048, count: 1, cells: .host)
        }
    }
}
