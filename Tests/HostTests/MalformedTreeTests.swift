import Testing
import VirtBase
@testable import Host

@Suite("Malformed and missing host files give errors that name the file")
struct MalformedTreeTests {
    private func failure(_ tree: ScratchTree) -> VirtError? {
        do {
            _ = try HostTopology.read(root: tree.root, systemPageSizeKiB: 4)
            return nil
        } catch {
            return error
        }
    }

    @Test func badMeminfoLine() throws {
        let tree = try ScratchTree(copying: .twoNode)
        try tree.write("/sys/devices/system/node/node1/meminfo", "Node 1 MemTotal:  lots kB\n")
        let error = try #require(failure(tree))
        #expect(error.code == .internalError)
        #expect(error.message.contains(tree.root + "/sys/devices/system/node/node1/meminfo"))
        #expect(error.message.contains("line 1 'Node 1 MemTotal:  lots kB'"))
    }

    @Test func meminfoWithoutMemFree() throws {
        let tree = try ScratchTree(copying: .oneNode)
        try tree.write("/sys/devices/system/node/node0/meminfo", "Node 0 MemTotal: 1024 kB\n")
        #expect(failure(tree)?.message == "'\(tree.root)/sys/devices/system/node/node0/meminfo' has no 'MemFree:' line")
    }

    @Test func distancesThatDoNotMatchTheNodes() throws {
        let tree = try ScratchTree(copying: .twoNode)
        try tree.write("/sys/devices/system/node/node0/distance", "10 21 31\n")
        #expect(failure(tree)?.message
            == "cannot parse '\(tree.root)/sys/devices/system/node/node0/distance': 3 distances for 2 nodes")
        try tree.write("/sys/devices/system/node/node0/distance", "10 far\n")
        #expect(failure(tree)?.message
            == "cannot parse '\(tree.root)/sys/devices/system/node/node0/distance': 'far' is not a distance")
    }

    @Test func badCPUList() throws {
        let tree = try ScratchTree(copying: .twoNode)
        try tree.write("/sys/devices/system/node/node1/cpulist", "4-x\n")
        let message = try #require(failure(tree)?.message)
        #expect(message.hasPrefix("cannot parse '\(tree.root)/sys/devices/system/node/node1/cpulist': "))
    }

    @Test func badHugePageCounter() throws {
        let tree = try ScratchTree(copying: .oneNode)
        try tree.write("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "-3\n")
        let path = "\(tree.root)/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"
        #expect(failure(tree)?.message == "cannot parse '\(path)': '-3' is not a number")
    }

    @Test func badHugePageDirectoryName() throws {
        let tree = try ScratchTree(copying: .oneNode)
        try tree.write("/sys/devices/system/node/node0/hugepages/hugepages-2M/nr_hugepages", "0\n")
        #expect(failure(tree)?.message == "cannot parse huge page pool '\(tree.root)/sys/devices/system/node/node0/"
            + "hugepages/hugepages-2M': expected 'hugepages-<size>kB'")
    }

    @Test func badCoreID() throws {
        let tree = try ScratchTree(copying: .oneNode)
        try tree.write("/sys/devices/system/cpu/cpu1/topology/core_id", "one\n")
        #expect(failure(tree)?.message
            == "cannot parse '\(tree.root)/sys/devices/system/cpu/cpu1/topology/core_id': 'one' is not a number")
    }

    @Test func missingNodeMeminfo() throws {
        let tree = try ScratchTree(copying: .twoNode)
        try tree.remove("/sys/devices/system/node/node1/meminfo")
        let error = try #require(failure(tree))
        #expect(error.code == .systemError)
        #expect(error.message == "cannot read '\(tree.root)/sys/devices/system/node/node1/meminfo': "
            + "No such file or directory")
    }

    @Test func noCPUsAtAll() throws {
        let tree = try ScratchTree()
        try tree.write("/proc/meminfo", "MemTotal: 1 kB\nMemFree: 1 kB\n")
        #expect(failure(tree)?.message == "no CPUs found in '\(tree.root)/sys/devices/system/cpu'")
    }

    @Test func missingTopologyFilesReadAsLibvirtDoes() throws {
        let tree = try ScratchTree(copying: .oneNode)
        try tree.remove("/sys/devices/system/cpu/cpu1/topology/die_id")
        try tree.remove("/sys/devices/system/cpu/cpu1/topology/thread_siblings_list")
        try tree.write("/sys/devices/system/cpu/cpu1/topology/physical_package_id", "-1\n")
        let host = try HostTopology.read(root: tree.root, systemPageSizeKiB: 4)
        #expect(host.cpu(1)?.topology == HostCPU.Topology(socket: 0, die: 0, core: 1, siblings: CPUSet([1])))
    }

    @Test func meminfoParser() throws {
        let info = try MemInfo(parsing: "Node 3 MemTotal:  100 kB\nNode 3 HugePages_Total:   7\n", path: "x")
        #expect(info["MemTotal"] == 100)
        #expect(info["HugePages_Total"] == 7)
        #expect(info.fields.map(\.key) == ["MemTotal", "HugePages_Total"])
        #expect(throws: VirtError.self) { try MemInfo(parsing: "MemTotal 100 kB\n", path: "x") }
        #expect(throws: VirtError.self) { try MemInfo(parsing: "Node x MemTotal: 100 kB\n", path: "x") }
        #expect(throws: VirtError.self) { try MemInfo(parsing: "MemTotal: 100 MB\n", path: "x") }
    }
}
