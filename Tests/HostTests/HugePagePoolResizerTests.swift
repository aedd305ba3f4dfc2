import Foundation
import Glibc
import Testing
import VirtBase
@testable import Host

@Suite("allocpages on fixture trees")
struct HugePagePoolResizerTests {
    @Test func setOnOneNodeWritesThatNodesPool() throws {
        let tree = try ScratchTree(copying: .twoNode)
        let resizer = HugePagePoolResizer(root: tree.root, systemPageSizeKiB: 4)
        let result = try resizer.resize(sizeKiB: 2048, count: 40, node: 1)
        #expect(result == HugePagePoolResizer.Result(node: 1, sizeKiB: 2048, previous: 0, current: 40))
        #expect(try tree.read("/sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages") == "40")
        #expect(try tree.read("/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages") == "512\n")
        #expect(try resizer.poolSize(sizeKiB: 2048, node: 1) == 40)
    }

    @Test func addGrowsThePool() throws {
        let tree = try ScratchTree(copying: .twoNode)
        let resizer = HugePagePoolResizer(root: tree.root, systemPageSizeKiB: 4)
        let result = try resizer.resize(sizeKiB: 1_048_576, count: 3, node: 0, add: true)
        #expect((result.previous, result.current) == (2, 5))
        #expect(try HugePagePoolResizer.target(current: 7, count: 0, add: true) == 7)
        #expect(try HugePagePoolResizer.target(current: 7, count: 2, add: false) == 2)
        #expect(throws: VirtError.self) { try HugePagePoolResizer.target(current: .max, count: 1, add: true) }
    }

    @Test func noNodeMeansTheHostWidePool() throws {
        let tree = try ScratchTree(copying: .twoNode)
        let resizer = HugePagePoolResizer(root: tree.root, systemPageSizeKiB: 4)
        _ = try resizer.resize(sizeKiB: 2048, count: 600, node: nil)
        #expect(try tree.read("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages") == "600")
    }

    @Test func allSetsEveryNode() throws {
        let tree = try ScratchTree(copying: .fourNode)
        let resizer = HugePagePoolResizer(root: tree.root, systemPageSizeKiB: 4)
        let results = try resizer.resizeAll(sizeKiB: 2048, count: 10, add: true,
                                            in: try Fixture.fourNode.topology())
        #expect(results.map(\.current) == [138, 74, 10, 26])
        let reread = try HostTopology.read(root: tree.root, systemPageSizeKiB: 4)
        #expect(reread.nodes.map { $0.pool(sizeKiB: 2048)?.total } == [138, 74, 10, 26])
    }

    @Test func allSkipsNodesWithoutMemory() throws {
        let tree = try ScratchTree(copying: .eightNode)
        let resizer = HugePagePoolResizer(root: tree.root, systemPageSizeKiB: 4)
        let results = try resizer.resizeAll(sizeKiB: 2048, count: 8, in: try Fixture.eightNode.topology())
        #expect(results.map(\.node) == [0, 1, 2, 3, 4, 5, 7])
        #expect(results.allSatisfy { $0.current == 8 })
    }

    @Test func withoutNUMACellZeroIsTheHostWidePool() throws {
        let tree = try ScratchTree(copying: .noNUMA)
        let resizer = HugePagePoolResizer(root: tree.root, systemPageSizeKiB: 4)
        #expect(try resizer.resize(sizeKiB: 2048, count: 9, node: 0).current == 9)
        #expect(try tree.read("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages") == "9")
        #expect(throws: VirtError(.internalError, .host, "start cell 1 out of range (0-0)")) {
            try resizer.resize(sizeKiB: 2048, count: 9, node: 1)
        }
        let all = try resizer.resizeAll(sizeKiB: 2048, count: 1, add: true, in: try Fixture.noNUMA.topology())
        #expect(all.map(\.current) == [10])
    }

    @Test func unchangedSizeWritesNothing() throws {
        let tree = try ScratchTree(copying: .oneNode)
        let path = "/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages"
        try tree.write(path, "64\n")
        let resizer = HugePagePoolResizer(root: tree.root, systemPageSizeKiB: 4)
        #expect(try resizer.resize(sizeKiB: 2048, count: 64, node: 0).current == 64)
        #expect(try resizer.resize(sizeKiB: 2048, count: 0, node: 0, add: true).current == 64)
        #expect(try tree.read(path) == "64\n", "the file kept its newline: it was not rewritten")
    }

    @Test func errors() throws {
        let tree = try ScratchTree(copying: .eightNode)
        let resizer = HugePagePoolResizer(root: tree.root, systemPageSizeKiB: 4)
        #expect(throws: VirtError(.operationUnsupported, .host, "system pages pool can't be modified")) {
            try resizer.resize(sizeKiB: 4, count: 1, node: 0)
        }
        #expect(throws: VirtError(.operationFailed, .host,
                                  "page size 16384 is not available on node 0; supported huge page sizes: 2048, "
                                    + "1048576 KiB")) {
            try resizer.resize(sizeKiB: 16384, count: 1, node: 0)
        }
        #expect(throws: VirtError(.operationFailed, .host,
                                  "page size 2048 is not available on node 6; there are no huge page pools there")) {
            try resizer.resize(sizeKiB: 2048, count: 1, node: 6)
        }
        #expect(throws: VirtError(.operationFailed, .host, "NUMA node 9 is not available")) {
            try resizer.resize(sizeKiB: 2048, count: 1, node: 9)
        }
        #expect(throws: VirtError.self) { try resizer.resize(sizeKiB: 2048, count: 1, node: -1) }
    }

    @Test func kernelRefusalsGetARemedy() throws {
        let tree = try ScratchTree(copying: .oneNode)
        let resizer = HugePagePoolResizer(root: tree.root, systemPageSizeKiB: 4)
        let denied = VirtError(.systemError, .host, "Unable to write to 'x': Permission denied", errno: EACCES)
        let node0 = HostPaths.nodeHugePages(0)
        #expect(resizer.explain(denied, directory: node0, sizeKiB: 2048, node: 0).message
            .hasSuffix("; resizing huge page pools needs root"))
        let invalid = VirtError(.systemError, .host, "Unable to write to 'x': Invalid argument", errno: EINVAL)
        #expect(resizer.explain(invalid, directory: node0, sizeKiB: 2048, node: 0).message.hasSuffix(
            "; the kernel refused 2048 KiB pages on node 0; supported huge page sizes: 2048, 1048576 KiB"))
    }

    @Test func aFailedReadNamesThePoolFile() throws {
        // The pool file replaced by a directory: read(2) fails with EISDIR before anything is written.
        let tree = try ScratchTree(copying: .oneNode)
        let pool = "/sys/devices/system/node/node0/hugepages/hugepages-2048kB"
        try tree.remove(pool + "/nr_hugepages")
        try tree.write(pool + "/nr_hugepages/x", "")
        let resizer = HugePagePoolResizer(root: tree.root, systemPageSizeKiB: 4)
        #expect { try resizer.resize(sizeKiB: 2048, count: 1, node: 0) } throws: { error in
            guard let error = error as? VirtError else { return false }
            return error.code == .systemError && error.errno == EISDIR
                && error.message.hasPrefix("cannot read '\(tree.root)\(pool)/nr_hugepages'")
        }
    }

    /// A read-only sysctl (mode 0444) refuses writes with EACCES even to root, so it stands in for a pool file the
    /// caller may not write.
    static let readOnlySysctl = "/proc/sys/kernel/ngroups_max"

    @Test(.enabled(if: FileManager.default.fileExists(atPath: readOnlySysctl), "needs /proc/sys/kernel/ngroups_max"))
    func aRefusedWriteIsEACCESWithTheRemedy() throws {
        let tree = try ScratchTree(copying: .oneNode)
        let pool = "/sys/devices/system/node/node0/hugepages/hugepages-2048kB"
        try tree.remove(pool + "/nr_hugepages")
        try FileManager.default.createSymbolicLink(atPath: tree.root + pool + "/nr_hugepages",
                                                   withDestinationPath: Self.readOnlySysctl)
        let resizer = HugePagePoolResizer(root: tree.root, systemPageSizeKiB: 4)
        #expect { try resizer.resize(sizeKiB: 2048, count: 1, node: 0) } throws: { error in
            guard let error = error as? VirtError else { return false }
            return error.errno == EACCES
                && error.description == "Unable to write to '\(tree.root)\(pool)/nr_hugepages': Permission denied; "
                    + "resizing huge page pools needs root"
        }
    }
}
