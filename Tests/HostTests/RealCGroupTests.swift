import Foundation
import Glibc
import Testing
import VirtBase
import VirtTestSupport

@testable import Host

/// A child process (`/bin/sleep`) started with posix_spawn, killed and reaped when the test is done.
final class SleepingChild {
    let pid: pid_t

    init() throws {
        var child: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sleep"), strdup("60"), nil]
        defer { argv.forEach { free($0) } }
        let rc = posix_spawn(&child, "/bin/sleep", nil, nil, argv, environ)
        guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EIO) }
        pid = child
    }

    /// The child's line for `controller` in `/proc/PID/cgroup` (`4:cpu:/machine/x/vcpu0` → `/machine/x/vcpu0`).
    func cgroup(_ controller: String) throws -> String? {
        let text = try String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8)
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            if fields.count == 3, fields[1].split(separator: ",").contains(Substring(controller)) {
                return String(fields[2])
            }
        }
        return nil
    }

    func stop() {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
    }
}

/// The domain tree on this host's real cgroup v1 hierarchies (`/sys/fs/cgroup/cpu`, `/sys/fs/cgroup/cpuset`), with a
/// sleeping process in it, read back from the kernel (`/proc/PID/cgroup`, the control files, `Cpus_allowed_list`,
/// the scheduling policy). Each test uses a partition of its own and leaves no group behind.
@Suite(
    "cgroups on this host",
    .enabled(
        if: getuid() == 0 && access("/sys/fs/cgroup/cpu/tasks", W_OK) == 0
            && access("/sys/fs/cgroup/cpuset/tasks", W_OK) == 0,
        "needs root and writable cgroup v1 cpu and cpuset hierarchies"))
struct RealCGroupTests {
    private func group(_ test: String, vcpus: Int = 1) throws -> DomainCGroup {
        let host = try #require(CGroupHost.detect())
        return DomainCGroup(
            host: host, partition: "swift-virt-tests-\(getpid())-\(test)", name: "swift-virt-guest", vcpus: vcpus)
    }

    @Test func processAndThreadPlacementIsWhatTheKernelReports() throws {
        let group = try group("place", vcpus: 2)
        let child = try SleepingChild()
        defer {
            child.stop()
            try? group.remove()
            #expect(!group.exists(), "no group is left behind")
        }
        try group.create()
        try group.attachProcess(child.pid, to: .emulator)
        let emulatorPath = "/" + group.relativePath(.emulator)
        #expect(try child.cgroup("cpu") == emulatorPath)
        #expect(try child.cgroup("cpuset") == emulatorPath)
        try group.attachThread(child.pid, to: .vcpu(1))
        #expect(try child.cgroup("cpu") == "/" + group.relativePath(.vcpu(1)))
        #expect(try group.threads(in: .vcpu(1)) == [child.pid])

        try group.setShares(512)
        #expect(try String(contentsOfFile: group.directory(.cpu, .domain)! + "/cpu.shares", encoding: .utf8) == "512\n")
        try group.setBandwidth(period: 20_000, quota: 5_000, for: .vcpu(1))
        let vcpuDirectory = try #require(group.directory(.cpu, .vcpu(1)))
        #expect(try String(contentsOfFile: vcpuDirectory + "/cpu.cfs_period_us", encoding: .utf8) == "20000\n")
        #expect(try String(contentsOfFile: vcpuDirectory + "/cpu.cfs_quota_us", encoding: .utf8) == "5000\n")

        // A v1 cpuset decides the affinity of the tasks in it.
        let online = try HostTopology.read().online
        let last = CPUSet([online.max ?? 0])
        try group.setCPUs(last, for: .vcpu(1))
        #expect(try ThreadAffinity.allowedCPUs(pid: child.pid, thread: child.pid) == last)
        try group.setCPUs(nil, for: .vcpu(1))
        #expect(try ThreadAffinity.allowedCPUs(pid: child.pid, thread: child.pid) == online)
        let nodes = try HostTopology.read().nodes.map(\.id)
        try group.setMems(CPUSet([nodes.first ?? 0]))
        #expect(try group.mems(for: .vcpu(1)) == CPUSet([nodes.first ?? 0]))

        // Busy while the process lives; removable once it is reaped.
        #expect(throws: VirtError.self) { try group.remove(timeoutMilliseconds: 0) }
        child.stop()
        try group.remove()
        #expect(!FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cpu/" + group.partition))
        #expect(!FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cpuset/" + group.partition))
    }

    @Test func realTimePolicyNeedsAndGetsRuntime() throws {
        let realTime = HostTestLock("realtime")
        defer { withExtendedLifetime(realTime) {} }
        let group = try group("rt")
        let child = try SleepingChild()
        defer {
            child.stop()
            try? group.remove()
        }
        try group.create()
        try group.attachThread(child.pid, to: .vcpu(0))
        let fifo = ThreadSchedule(policy: .fifo, priority: 1)
        if group.groupsRealTimeTasks {
            // New groups have no real-time runtime: the kernel refuses the policy until it is granted.
            #expect {
                try ThreadScheduler.set(fifo, thread: child.pid)
            } throws: { error in
                (error as? VirtError)?.errno == EPERM
                    && (error as? VirtError)?.message.contains("cpu.rt_runtime_us") == true
            }
        }
        try group.grantRealTimeRuntime(toVCPUs: [0])
        try ThreadScheduler.set(fifo, thread: child.pid)
        #expect(try ThreadScheduler.get(thread: child.pid) == fifo)
        try ThreadScheduler.set(ThreadSchedule(policy: .other), thread: child.pid)
        child.stop()
        try group.remove()
        #expect(!group.exists())
    }
}

/// Scheduling policies set on a child process and read back from the kernel.
@Suite("thread scheduling policies")
struct ThreadSchedulerTests {
    @Test(arguments: [ThreadSchedule(policy: .batch), ThreadSchedule(policy: .idle), ThreadSchedule(policy: .other)])
    func nonRealTimePolicies(_ schedule: ThreadSchedule) throws {
        let child = try SleepingChild()
        defer { child.stop() }
        try ThreadScheduler.set(schedule, thread: child.pid)
        #expect(try ThreadScheduler.get(thread: child.pid) == schedule)
        // Field 41 of /proc/PID/stat is the policy number.
        let stat = try String(contentsOfFile: "/proc/\(child.pid)/stat", encoding: .utf8)
        let fields = stat[stat.index(after: stat.lastIndex(of: ")")!)...].split(separator: " ")
        let expected = ["other": "0", "batch": "3", "idle": "5"][schedule.policy.rawValue]
        #expect(String(fields[38]) == expected)
    }

    @Test func priorityOutsideTheHostRangeIsRefused() throws {
        #expect(ThreadScheduler.priorityRange(.fifo) == 1...99)
        #expect {
            try ThreadScheduler.set(ThreadSchedule(policy: .rr, priority: 100), thread: 0)
        } throws: { error in
            (error as? VirtError)?.description == "invalid argument: priority 100 of scheduler 'rr' is outside the "
                + "host's range 1-99"
        }
        #expect(throws: VirtError.self) { try ThreadScheduler.get(thread: 999_999_999) }
    }
}
