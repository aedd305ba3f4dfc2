import Foundation
import KVMDriver
import Testing
import VirtBase
import VirtCore

/// freecell, freepages, allocpages, nodecpumap and nodememstats of kvm:// on a copy of the two-node fixture tree
/// (a copy, because allocpages writes `nr_hugepages`).
@Suite("kvm:// driver: host memory")
struct KVMDriverHostMemoryTests {
    /// A writable copy of the two-node fixture, and a driver reading it; both removed by `remove()`.
    struct Host {
        let copy: URL
        let root: EmbedRoot
        let driver: KVMDriver

        init() throws {
            copy = FileManager.default.temporaryDirectory.appendingPathComponent("swift-virt-host-\(UUID().uuidString)")
            try FileManager.default.copyItem(atPath: KVMDriverHostTests.twoNodeRoot, toPath: copy.path)
            root = try EmbedRoot()
            driver = try KVMDriver(paths: try URIPaths.resolve(ConnectionURI(parsing: root.uri)), hostRoot: copy.path)
        }

        func remove() {
            try? FileManager.default.removeItem(at: copy)
            root.remove()
        }

        func pool(node: Int?) throws -> String {
            let directory = node.map { "sys/devices/system/node/node\($0)/hugepages" } ?? "sys/kernel/mm/hugepages"
            return try String(
                contentsOf: copy.appendingPathComponent("\(directory)/hugepages-2048kB/nr_hugepages"), encoding: .utf8
            ).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    @Test func freeMemoryPerCellAndHost() throws {
        let host = try Host()
        defer { host.remove() }
        let all = try host.driver.nodeFreeMemory(cells: .all)
        #expect(all.cells == [.init(id: 0, freeKiB: 12_582_912), .init(id: 1, freeKiB: 8_388_608)])
        #expect(all.hostFreeKiB == 20_971_520)
        #expect(try host.driver.nodeFreeMemory(cells: .cell(1)).cells == [.init(id: 1, freeKiB: 8_388_608)])
        #expect(try host.driver.nodeFreeMemory(cells: .host).cells.isEmpty)
        #expect(throws: VirtError(.internalError, .host, "start cell 2 out of range (0-1)")) {
            try host.driver.nodeFreeMemory(cells: .cell(2))
        }
    }

    @Test func freePagesPerCellSizeAndHost() throws {
        let host = try Host()
        defer { host.remove() }
        let all = try host.driver.nodeFreePages(sizesKiB: nil, cells: .all)
        #expect(all.map(\.cell) == [0, 1])
        #expect(
            all[1].counts == [
                .init(sizeKiB: 4, free: 2_097_152), .init(sizeKiB: 2048, free: 0),
                .init(sizeKiB: 1_048_576, free: 4),
            ])
        let two = try host.driver.nodeFreePages(sizesKiB: [1_048_576, 2048], cells: .all)
        #expect(two.map { $0.counts.map(\.free) } == [[1, 500], [4, 0]])
        #expect(
            try host.driver.nodeFreePages(sizesKiB: [2048], cells: .host)
                == [NodePageCounts(cell: nil, counts: [.init(sizeKiB: 2048, free: 500)])])
        #expect(throws: VirtError.self) { try host.driver.nodeFreePages(sizesKiB: [3072], cells: .cell(0)) }
    }

    @Test func allocPagesSetsAddsAndCoversEveryCell() throws {
        let host = try Host()
        defer { host.remove() }
        let before = try #require(UInt64(try host.pool(node: 1)))
        let set = try host.driver.allocPages(sizeKiB: 2048, count: 3, cells: .cell(1), add: false)
        #expect(set == [NodePagePoolChange(cell: 1, sizeKiB: 2048, previousPages: before, pages: 3)])
        #expect(try host.pool(node: 1) == "3")
        let added = try host.driver.allocPages(sizeKiB: 2048, count: 2, cells: .cell(1), add: true)
        #expect(added.first?.pages == 5)
        #expect(try host.pool(node: 1) == "5")
        let every = try host.driver.allocPages(sizeKiB: 2048, count: 7, cells: .all, add: false)
        #expect(every.map(\.cell) == [0, 1])
        #expect(try host.pool(node: 0) == "7")
        #expect(try host.pool(node: 1) == "7")
        let wide = try host.driver.allocPages(sizeKiB: 2048, count: 9, cells: .host, add: false)
        #expect(wide.first?.cell == nil)
        #expect(try host.pool(node: nil) == "9")
        #expect(throws: VirtError(.operationUnsupported, .host, "system pages pool can't be modified")) {
            try host.driver.allocPages(sizeKiB: 4, count: 1, cells: .cell(0), add: false)
        }
    }

    @Test func cpuMapAndMemoryStats() throws {
        let host = try Host()
        defer { host.remove() }
        #expect(try host.driver.nodeCPUMap() == NodeCPUMapInfo(present: 16, online: 16, map: CPUSet(0..<16)))
        #expect(
            try host.driver.nodeMemoryStats(cell: nil).fields.map(\.name) == ["total", "free", "buffers", "cached"])
        #expect(
            try host.driver.nodeMemoryStats(cell: 1).fields
                == [.init(name: "total", valueKiB: 16_777_216), .init(name: "free", valueKiB: 8_388_608)])
    }
}
