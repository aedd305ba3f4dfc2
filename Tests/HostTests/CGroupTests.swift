import Foundation
import Glibc
import Testing
import VirtBase

@testable import Host

/// Finding the cgroup hierarchies on trees of plain directories, and the domain tree's life cycle on the strict
/// in-memory model of cgroup v1 and v2.
@Suite("cgroup layout and domain groups")
struct CGroupTests {
    /// A temporary directory, removed when the test ends.
    final class TemporaryTree {
        let root: String
        init() throws {
            var template = Array((NSTemporaryDirectory() + "/cgroup-tree-XXXXXX").utf8CString)
            guard let made = mkdtemp(&template) else { throw POSIXError(.EIO) }
            root = String(cString: made)
        }
        func file(_ path: String, _ text: String = "") throws {
            let full = root + "/" + path
            try FileManager.default.createDirectory(
                atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: full, atomically: false, encoding: .utf8)
        }
        deinit { try? FileManager.default.removeItem(atPath: root) }
    }

    // MARK: Detection

    @Test func unifiedHierarchyWithControllers() throws {
        let tree = try TemporaryTree()
        try tree.file("cgroup.controllers", "cpuset cpu io memory\n")
        let host = try #require(CGroupHost.detect(root: tree.root))
        #expect(host.version == .v2)
        #expect(host.mounts == [.cpu: tree.root, .cpuset: tree.root])
    }

    @Test func v1HierarchiesPreferTheExactNameOverCoMounts() throws {
        let tree = try TemporaryTree()
        try tree.file("cpu,cpuacct/tasks")
        try tree.file("cpuset/tasks")
        var host = try #require(CGroupHost.detect(root: tree.root))
        #expect(host.version == .v1)
        #expect(host.mounts == [.cpu: tree.root + "/cpu,cpuacct", .cpuset: tree.root + "/cpuset"])
        try tree.file("cpu/tasks")
        host = try #require(CGroupHost.detect(root: tree.root))
        #expect(host.mounts[.cpu] == tree.root + "/cpu")
    }

    @Test func hybridHostsUseTheHierarchyThatHoldsTheControllers() throws {
        // As on this project's hosts: v1 controllers, and a unified hierarchy without cpu or cpuset.
        let tree = try TemporaryTree()
        try tree.file("cpu/tasks")
        try tree.file("unified/cgroup.controllers", "hugetlb\n")
        #expect(CGroupHost.detect(root: tree.root)?.version == .v1)
        // The other way round: nothing in v1, the controllers in the unified hierarchy.
        let other = try TemporaryTree()
        try other.file("unified/cgroup.controllers", "cpu cpuset\n")
        let host = try #require(CGroupHost.detect(root: other.root))
        #expect(host.version == .v2)
        #expect(host.mounts[.cpu] == other.root + "/unified")
    }

    @Test func noUsableHierarchyIsNil() throws {
        let tree = try TemporaryTree()
        #expect(CGroupHost.detect(root: tree.root) == nil)
        try tree.file("cgroup.controllers", "io memory\n")
        #expect(CGroupHost.detect(root: tree.root) == nil)
        #expect(CGroupHost.detect(root: tree.root + "/missing") == nil)
    }

    @Test(
        .enabled(if: FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cpu/tasks"), "no cgroup v1 cpu hierarchy"))
    func thisHostHasV1Controllers() throws {
        let host = try #require(CGroupHost.detect())
        #expect(host.version == .v1)
        #expect(host.mounts[.cpu] == "/sys/fs/cgroup/cpu")
        #expect(host.summary.hasPrefix("cgroup v1 (cpu at /sys/fs/cgroup/cpu"))
    }

    // MARK: Names

    @Test func groupNames() {
        #expect(DomainCGroup.groupName(domain: "web1") == "swift-virt-web1")
        #expect(DomainCGroup.groupName(domain: "web1", qualifier: "1a2b") == "swift-virt-web1-1a2b")
        let long = String(repeating: "é", count: 300)
        let name = DomainCGroup.groupName(domain: long)
        #expect(name.utf8.count <= DomainCGroup.longestName)
        #expect(name == DomainCGroup.groupName(domain: long))
        #expect(name != DomainCGroup.groupName(domain: long + "x"))
    }

    // MARK: cgroup v1 model

    private func v1Group(_ model: CGroupFilesModel, vcpus: Int = 2, name: String = "swift-virt-web1") -> DomainCGroup {
        DomainCGroup(
            host: CGroupHost(root: "/cg", version: .v1, mounts: [.cpu: "/cg/cpu", .cpuset: "/cg/cpuset"]),
            name: name, vcpus: vcpus, files: model)
    }

    @Test func v1TreeIsMadeFilledAndRemoved() throws {
        let model = CGroupFilesModel(.v1)
        let group = v1Group(model)
        try group.create()
        for top in ["/cg/cpu", "/cg/cpuset"] {
            #expect(
                model.groups(under: top) == [
                    "\(top)/machine", "\(top)/machine/swift-virt-web1", "\(top)/machine/swift-virt-web1/emulator",
                    "\(top)/machine/swift-virt-web1/vcpu0", "\(top)/machine/swift-virt-web1/vcpu1",
                ])
        }
        // v1 cpusets inherit their parent's CPUs and nodes, or they would take no task.
        #expect(model["/cg/cpuset/machine/swift-virt-web1/vcpu1/cpuset.cpus"] == "0-3")
        #expect(model["/cg/cpuset/machine/swift-virt-web1/emulator/cpuset.mems"] == "0-1")

        try group.setShares(2048)
        #expect(model["/cg/cpu/machine/swift-virt-web1/cpu.shares"] == "2048")
        #expect(try group.shares() == 2048)
        try group.setBandwidth(period: 50_000, quota: 25_000, for: .vcpu(1))
        #expect(try group.bandwidth(for: .vcpu(1)) == .init(period: 50_000, quota: 25_000))
        #expect(try group.bandwidth(for: .vcpu(0)) == .init(period: 100_000, quota: -1))
        try group.setBandwidth(period: nil, quota: -5, for: .emulator)
        #expect(model["/cg/cpu/machine/swift-virt-web1/emulator/cpu.cfs_quota_us"] == "-1")

        try group.setCPUs(CPUSet([2]), for: .vcpu(0))
        #expect(try group.cpus(for: .vcpu(0)) == CPUSet([2]))
        try group.setCPUs(nil, for: .vcpu(0))
        #expect(try group.cpus(for: .vcpu(0)) == CPUSet(0...3))
        try group.setMems(CPUSet([1]))
        for scope in group.scopes { #expect(try group.mems(for: scope) == CPUSet([1])) }

        try group.attachProcess(4242, to: .emulator)
        try group.attachThread(4243, to: .vcpu(1))
        #expect(try group.threads(in: .emulator) == [4242])
        #expect(try group.threads(in: .vcpu(1)) == [4243])
        #expect(model["/cg/cpuset/machine/swift-virt-web1/vcpu1/tasks"] == "4243")
        #expect(throws: VirtError.self) { try group.remove(timeoutMilliseconds: 0) }

        // The tasks are gone (the hypervisor was reaped): everything goes, the partition too.
        try model.write("/cg/cpu/tasks", "4242")
        try model.write("/cg/cpu/tasks", "4243")
        try model.write("/cg/cpuset/tasks", "4242")
        try model.write("/cg/cpuset/tasks", "4243")
        try group.remove(timeoutMilliseconds: 0)
        #expect(model.groups(under: "/cg/cpu").isEmpty)
        #expect(model.groups(under: "/cg/cpuset").isEmpty)
        #expect(!group.exists())
        try group.remove(timeoutMilliseconds: 0)  // idempotent
    }

    @Test func aBusyGroupNamesItsTasks() throws {
        let model = CGroupFilesModel(.v1)
        let group = v1Group(model)
        try group.create()
        try group.attachThread(777, to: .vcpu(0))
        #expect {
            try group.remove(timeoutMilliseconds: 0)
        } throws: { error in
            let error = error as? VirtError
            return error?.errno == EBUSY && error?.message.contains("tasks still in it: 777") == true
        }
    }

    @Test func anotherDomainKeepsThePartition() throws {
        let model = CGroupFilesModel(.v1)
        let first = v1Group(model)
        let second = v1Group(model, name: "swift-virt-web2")
        try first.create()
        try second.create()
        try first.remove(timeoutMilliseconds: 0)
        #expect(model.groups(under: "/cg/cpu").first == "/cg/cpu/machine")
        #expect(second.exists())
        try second.remove(timeoutMilliseconds: 0)
        #expect(model.groups(under: "/cg/cpu").isEmpty)
    }

    @Test func aLeftoverGroupIsReplacedUnlessItHoldsTasks() throws {
        let model = CGroupFilesModel(.v1)
        let group = v1Group(model)
        try group.create()
        try group.setShares(512)
        try group.create()
        #expect(try group.shares() == 1024, "a fresh group, not the old one")
        try group.attachThread(99, to: .emulator)
        #expect {
            try group.create()
        } throws: { error in
            (error as? VirtError)?.message.contains("already exists and cannot be removed") == true
        }
    }

    @Test func aFailedCreationLeavesNothing() throws {
        let model = CGroupFilesModel(.v1)
        model.failingWrites["/cg/cpuset/machine/swift-virt-web1/vcpu1/cpuset.mems"] = EACCES
        let group = v1Group(model)
        #expect(throws: VirtError.self) { try group.create() }
        #expect(model.groups(under: "/cg/cpu").isEmpty)
        #expect(model.groups(under: "/cg/cpuset").isEmpty)
    }

    @Test func realTimeRuntimeIsSharedOut() throws {
        let model = CGroupFilesModel(.v1)
        let first = v1Group(model)
        try first.create()
        #expect(first.groupsRealTimeTasks)
        try first.grantRealTimeRuntime(toVCPUs: [0, 1])
        #expect(model["/cg/cpu/machine/cpu.rt_runtime_us"] == "950000")
        #expect(model["/cg/cpu/machine/swift-virt-web1/cpu.rt_runtime_us"] == "950000")
        #expect(model["/cg/cpu/machine/swift-virt-web1/vcpu0/cpu.rt_runtime_us"] == "475000")
        #expect(model["/cg/cpu/machine/swift-virt-web1/emulator/cpu.rt_runtime_us"] == "0")
        let second = v1Group(model, name: "swift-virt-web2")
        try second.create()
        #expect {
            try second.grantRealTimeRuntime(toVCPUs: [0])
        } throws: { error in
            (error as? VirtError)?.message.hasPrefix("no real-time runtime is left in cgroup '/cg/cpu/machine'") == true
        }
    }

    // MARK: cgroup v2 model

    private func v2Group(_ model: CGroupFilesModel) -> DomainCGroup {
        DomainCGroup(
            host: CGroupHost(root: "/cg", version: .v2, mounts: [.cpu: "/cg", .cpuset: "/cg"]), name: "swift-virt-web1",
            vcpus: 2, files: model)
    }

    @Test func v2TreeIsThreadedWithControllersEnabledDownToTheDomain() throws {
        let model = CGroupFilesModel(.v2)
        let group = v2Group(model)
        try group.create()
        #expect(model["/cg/cgroup.subtree_control"] == "cpu cpuset")
        #expect(model["/cg/machine/cgroup.subtree_control"] == "cpu cpuset")
        #expect(model["/cg/machine/swift-virt-web1/cgroup.subtree_control"] == "cpu cpuset")
        #expect(model["/cg/machine/swift-virt-web1/vcpu0/cgroup.type"] == "threaded")
        #expect(model["/cg/machine/swift-virt-web1/emulator/cgroup.type"] == "threaded")

        try group.setShares(300)
        #expect(model["/cg/machine/swift-virt-web1/cpu.weight"] == "300")
        #expect {
            try group.setShares(20_000)
        } throws: { error in
            (error as? VirtError)?.description == "invalid argument: shares '20000' must be in range [1, 10000]"
        }
        try group.setBandwidth(period: nil, quota: 30_000, for: .vcpu(0))
        #expect(model["/cg/machine/swift-virt-web1/vcpu0/cpu.max"] == "30000 100000")
        try group.setBandwidth(period: 60_000, quota: nil, for: .vcpu(0))
        #expect(try group.bandwidth(for: .vcpu(0)) == .init(period: 60_000, quota: 30_000))
        try group.setBandwidth(period: nil, quota: -1, for: .vcpu(0))
        #expect(model["/cg/machine/swift-virt-web1/vcpu0/cpu.max"] == "max 60000")

        // Empty v2 cpusets use the parent's; set ones are their own.
        #expect(try group.cpus(for: .vcpu(1)) == CPUSet(0...3))
        try group.setCPUs(CPUSet([3]), for: .vcpu(1))
        #expect(try group.cpus(for: .vcpu(1)) == CPUSet([3]))
        try group.setMems(CPUSet([0]))
        #expect(try group.mems(for: .emulator) == CPUSet([0]))

        try group.attachProcess(5000, to: .emulator)
        try group.attachThread(5001, to: .vcpu(0))
        #expect(try group.threads(in: .vcpu(0)) == [5001])
        #expect(!group.groupsRealTimeTasks)
        try group.grantRealTimeRuntime(toVCPUs: [0])  // nothing to grant on v2
        try model.write("/cg/cgroup.procs", "5000")
        try model.write("/cg/cgroup.procs", "5001")
        try group.remove(timeoutMilliseconds: 0)
        #expect(model.groups(under: "/cg").isEmpty)
    }

    @Test func missingControllersAreNamed() throws {
        let model = CGroupFilesModel(.v1)
        let group = DomainCGroup(
            host: CGroupHost(root: "/cg", version: .v1, mounts: [.cpu: "/cg/cpu"]), name: "swift-virt-web1", vcpus: 1,
            files: model)
        try group.create()
        #expect {
            try group.setMems(CPUSet([0]))
        } throws: { error in
            (error as? VirtError)?.description.hasPrefix(
                "Requested operation is not valid: cgroup cpuset controller is not mounted") == true
        }
        try group.remove(timeoutMilliseconds: 0)
    }
}
