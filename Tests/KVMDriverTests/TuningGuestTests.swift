import Foundation
import Glibc
import Host
import KVM
import Testing
import VirtBase
import VirtCore
import VirtTestSupport

@testable import KVMDriver

/// A running tick guest's cgroups and live tuning, read back from the kernel: the group files, which threads each
/// group holds (`tasks`), `Cpus_allowed_list`, the vCPU threads' scheduling policy, and that no group outlives the
/// domain however it ends. Needs /dev/kvm, gcc, two online CPUs, root and this host's cgroup v1 hierarchies.
@Suite(
    "kvm:// driver: cgroups and live tuning of a running guest",
    .enabled(
        if: TickGuest.available && sysconf(Int32(_SC_NPROCESSORS_ONLN)) >= 2 && getuid() == 0
            && access("/sys/fs/cgroup/cpu/tasks", W_OK) == 0 && access("/sys/fs/cgroup/cpuset/tasks", W_OK) == 0,
        "needs /dev/kvm, gcc, 2 CPUs, root and writable cgroup v1 cpu and cpuset hierarchies"))
struct TuningGuestTests {
    /// One started domain in its own embed root, with its driver, cgroup paths and hypervisor.
    struct Running {
        let root: EmbedRoot
        let driver: KVMDriver
        let connection: Connection
        let uuid: UUID
        let name: String

        init(_ name: String, vcpus: Int = 2, tuning: String, extra: String = "") throws {
            root = try EmbedRoot()
            driver = try root.open()
            connection = Connection(driver: driver)
            self.name = name
            uuid = try connection.defineXML(
                """
                <domain type='kvm'>
                  <name>\(name)</name>
                  <memory unit='MiB'>16</memory>
                  <vcpu>\(vcpus)</vcpu>
                  \(tuning)
                  <os><type>hvm</type><kernel>\(TickGuest.image.path ?? "")</kernel><cmdline>delay=300000</cmdline></os>
                  \(extra)
                  <devices><serial type='file'><source path='/dev/null'/><target port='0'/></serial></devices>
                </domain>
                """
            ).domain.uuid
        }

        /// The group directory of `scope` in the v1 hierarchy of `controller`.
        func directory(_ controller: String, _ scope: String = "") -> String {
            "/sys/fs/cgroup/\(controller)/machine/\(driver.cgroupName(name))" + (scope.isEmpty ? "" : "/" + scope)
        }

        func value(_ controller: String, _ scope: String, _ file: String) throws -> String {
            try String(contentsOfFile: directory(controller, scope) + "/" + file, encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }

        func tasks(_ controller: String, _ scope: String) throws -> Set<Int32> {
            Set(try value(controller, scope, "tasks").split(separator: "\n").compactMap { Int32($0) })
        }

        var groupExists: Bool {
            FileManager.default.fileExists(atPath: directory("cpu"))
                || FileManager.default.fileExists(atPath: directory("cpuset"))
        }

        /// The hypervisor's pid from its pid file, if the file holds one now (a restart rewrites it).
        func findHypervisorPID() -> Int32? {
            let text = try? String(contentsOfFile: root.path + "/run/\(name).pid", encoding: .utf8)
            return text.flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }

        func hypervisorPID() throws -> Int32 { try #require(findHypervisorPID()) }

        /// Thread id → (comm, Cpus_allowed_list, policy number) of every thread of the hypervisor.
        func threads() throws -> [Int32: (name: String, cpus: String, policy: Int)] {
            guard let pid = findHypervisorPID() else { throw POSIXError(.ESRCH) }
            var result: [Int32: (name: String, cpus: String, policy: Int)] = [:]
            for tid in try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") {
                guard let id = Int32(tid),
                    let comm = try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/comm", encoding: .utf8),
                    let status = try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/status", encoding: .utf8),
                    let stat = try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/stat", encoding: .utf8)
                else { continue }
                let cpus =
                    status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") }?
                    .dropFirst("Cpus_allowed_list:".count).trimmingCharacters(in: .whitespaces) ?? ""
                let fields = stat[stat.index(after: stat.lastIndex(of: ")")!)...].split(separator: " ")
                result[id] = (comm.trimmingCharacters(in: .whitespacesAndNewlines), cpus, Int(fields[38]) ?? -1)
            }
            return result
        }

        /// The thread id of vCPU `index`, if the hypervisor has that thread now.
        func findVCPUThread(_ index: Int) -> Int32? {
            (try? threads())?.first { $0.value.name == "vcpu\(index)" }?.key
        }

        func vcpuThread(_ index: Int) throws -> Int32 { try #require(findVCPUThread(index)) }

        func cleanUp() {
            try? connection.destroy(uuid)
            root.remove()
        }
    }

    @Test("start: values in the cgroup files, every thread in its group, vCPU 1 SCHED_FIFO; destroy removes the groups")
    func startPlacesEveryThread() throws {
        // vCPU 1 is SCHED_FIFO: its real-time runtime comes from the one host-wide budget.
        let realTime = HostTestLock("realtime")
        defer { withExtendedLifetime(realTime) {} }
        let domain = try Running(
            "cg-start",
            tuning: """
                <cputune>
                  <shares>512</shares><period>50000</period><quota>20000</quota>
                  <emulator_period>100000</emulator_period><emulator_quota>60000</emulator_quota>
                  <vcpupin vcpu='0' cpuset='0'/><vcpupin vcpu='1' cpuset='1'/><emulatorpin cpuset='1'/>
                  <vcpusched vcpus='1' scheduler='fifo' priority='2'/>
                </cputune>
                """)
        defer { domain.cleanUp() }
        try domain.connection.start(domain.uuid)
        #expect(try domain.value("cpu", "", "cpu.shares") == "512")
        for vcpu in ["vcpu0", "vcpu1"] {
            #expect(try domain.value("cpu", vcpu, "cpu.cfs_period_us") == "50000")
            #expect(try domain.value("cpu", vcpu, "cpu.cfs_quota_us") == "20000")
        }
        #expect(try domain.value("cpu", "emulator", "cpu.cfs_period_us") == "100000")
        #expect(try domain.value("cpu", "emulator", "cpu.cfs_quota_us") == "60000")
        #expect(try domain.value("cpuset", "vcpu0", "cpuset.cpus") == "0")
        #expect(try domain.value("cpuset", "vcpu1", "cpuset.cpus") == "1")
        #expect(try domain.value("cpuset", "emulator", "cpuset.cpus") == "1")

        let threads = try domain.threads()
        let vcpu0 = try domain.vcpuThread(0)
        let vcpu1 = try domain.vcpuThread(1)
        for controller in ["cpu", "cpuset"] {
            #expect(try domain.tasks(controller, "vcpu0") == [vcpu0])
            #expect(try domain.tasks(controller, "vcpu1") == [vcpu1])
            let emulator = try domain.tasks(controller, "emulator")
            // Every other thread of the hypervisor that lived through the read of `tasks` (a thread seen before
            // and after it; a monitor connection's thread may come or go in between).
            let after = try domain.threads()
            let others = Set(threads.keys).intersection(after.keys).subtracting([vcpu0, vcpu1])
            #expect(others.isSubset(of: emulator), "threads outside the emulator group: \(others.subtracting(emulator))")
            #expect(emulator.isDisjoint(with: [vcpu0, vcpu1]))
        }
        #expect(threads[vcpu0]?.cpus == "0" && threads[vcpu1]?.cpus == "1")
        #expect(threads[vcpu1]?.policy == 1, "SCHED_FIFO is policy 1")
        #expect(threads[vcpu0]?.policy == 0)
        #expect(try ThreadScheduler.get(thread: vcpu1) == ThreadSchedule(policy: .fifo, priority: 2))
        #expect(try domain.value("cpu", "vcpu1", "cpu.rt_runtime_us") != "0")

        let info = try domain.connection.schedulerParameters(domain.uuid, flags: nil)
        #expect(info.map(\.text) == ["512", "50000", "20000", "100000", "60000"])

        try domain.connection.destroy(domain.uuid)
        #expect(!domain.groupExists, "the groups go with the domain")
    }

    @Test(
        "live vcpupin and emulatorpin move the threads (Cpus_allowed_list, cpuset.cpus) and live XML; --config does not"
    )
    func livePinning() throws {
        let domain = try Running("cg-pin", tuning: "<cputune><vcpupin vcpu='0' cpuset='0'/></cputune>")
        defer { domain.cleanUp() }
        try domain.connection.start(domain.uuid)
        let connection = domain.connection
        let vcpu0 = try domain.vcpuThread(0)
        #expect(try domain.threads()[vcpu0]?.cpus == "0")

        try connection.pinVCPU(domain.uuid, vcpu: 0, cpus: CPUSet([1]), flags: nil)
        #expect(try domain.threads()[vcpu0]?.cpus == "1")
        #expect(try domain.value("cpuset", "vcpu0", "cpuset.cpus") == "1")
        #expect(try connection.vcpuPinInfo(domain.uuid, flags: .live)[0] == CPUSet([1]))
        #expect(try connection.vcpuPinInfo(domain.uuid, flags: .config)[0] == CPUSet([0]), "the definition keeps 0")
        #expect(try connection.domainXML(domain.uuid).contains("<vcpupin vcpu='0' cpuset='1'/>"))
        #expect(try connection.domainXML(domain.uuid, inactive: true).contains("<vcpupin vcpu='0' cpuset='0'/>"))
        let info = try connection.vcpuInfo(domain.uuid)
        #expect(info.map(\.affinity) == [CPUSet([1]), CPUSet(0...1)])
        #expect(info[0].cpu == 1)

        try connection.pinEmulator(domain.uuid, cpus: CPUSet([0]), flags: .live)
        let threads = try domain.threads()
        let emulator = threads.filter { !$0.value.name.hasPrefix("vcpu") }
        #expect(!emulator.isEmpty && emulator.allSatisfy { $0.value.cpus == "0" }, "\(emulator)")
        #expect(threads.filter { $0.value.name.hasPrefix("vcpu") }.map(\.value.cpus).sorted() == ["0-1", "1"])
        #expect(try domain.value("cpuset", "emulator", "cpuset.cpus") == "0")
        #expect(try connection.emulatorPinInfo(domain.uuid, flags: .current) == CPUSet([0]))

        try connection.pinVCPU(domain.uuid, vcpu: 1, cpus: CPUSet([0]), flags: .config)
        #expect(try domain.threads().first { $0.value.name == "vcpu1" }?.value.cpus == "0-1", "--config is not live")
        #expect(try connection.domainXML(domain.uuid, inactive: true).contains("<vcpupin vcpu='1' cpuset='0'/>"))

        #expect {
            try connection.pinVCPU(domain.uuid, vcpu: 0, cpus: CPUSet([63]), flags: .live)
        } throws: { error in
            (error as? VirtError)?.description.hasPrefix(
                "invalid argument: pinning vCPU 0 of domain 'cg-pin' names CPU(s) '63'")
                == true
        }
        #expect(try domain.threads()[vcpu0]?.cpus == "1", "a refused pin changes nothing")
    }

    @Test("schedinfo --live writes the cgroups and the live XML, --config the definition; range errors change nothing")
    func liveSchedulerParameters() throws {
        let domain = try Running("cg-sched", tuning: "")
        defer { domain.cleanUp() }
        try domain.connection.start(domain.uuid)
        let connection = domain.connection
        #expect(try connection.schedulerType(domain.uuid) == ("posix", 5))
        #expect(
            try connection.schedulerParameters(domain.uuid, flags: nil).map(\.text) == [
                "1024", "100000", "-1", "100000", "-1",
            ])

        try connection.setSchedulerParameters(
            domain.uuid,
            [
                TypedParameter("cpu_shares", .ullong(300)), TypedParameter("vcpu_quota", .llong(25_000)),
                TypedParameter("emulator_period", .ullong(40_000)),
            ], flags: .live)
        #expect(try domain.value("cpu", "", "cpu.shares") == "300")
        #expect(try domain.value("cpu", "vcpu0", "cpu.cfs_quota_us") == "25000")
        #expect(try domain.value("cpu", "vcpu1", "cpu.cfs_quota_us") == "25000")
        #expect(try domain.value("cpu", "emulator", "cpu.cfs_period_us") == "40000")
        let live = try connection.domainXML(domain.uuid)
        #expect(live.contains("<shares>300</shares>") && live.contains("<quota>25000</quota>"))
        #expect(!(try connection.domainXML(domain.uuid, inactive: true)).contains("<cputune>"))

        try connection.setSchedulerParameters(
            domain.uuid, [TypedParameter("cpu_shares", .ullong(2048))], flags: .config)
        #expect(try domain.value("cpu", "", "cpu.shares") == "300", "--config leaves the running domain alone")
        #expect(try connection.schedulerParameters(domain.uuid, flags: .config).first?.text == "2048")

        #expect {
            try connection.setSchedulerParameters(
                domain.uuid, [TypedParameter("vcpu_period", .ullong(10))], flags: .live)
        } throws: { error in
            (error as? VirtError)?.description
                == "invalid argument: value of 'vcpu_period' is out of range [1000, 1000000]"
        }
        #expect(try domain.value("cpu", "vcpu0", "cpu.cfs_period_us") == "100000")
    }

    @Test("restrictive numatune: cpuset.mems on every group; the nodeset may change live, the mode may not")
    func restrictiveMemory() throws {
        let domain = try Running("cg-numa", tuning: "<numatune><memory mode='restrictive' nodeset='0'/></numatune>")
        defer { domain.cleanUp() }
        try domain.connection.start(domain.uuid)
        for scope in ["", "emulator", "vcpu0", "vcpu1"] {
            #expect(try domain.value("cpuset", scope, "cpuset.mems") == "0")
        }
        let connection = domain.connection
        try connection.setNumaParameters(domain.uuid, NUMATuneParameters(nodeset: "0"), flags: .live)
        #expect {
            try connection.setNumaParameters(domain.uuid, NUMATuneParameters(nodeset: "5"), flags: .live)
        } throws: { error in (error as? VirtError)?.description == "invalid argument: NUMA node 5 is unavailable" }
        #expect {
            try connection.setNumaParameters(domain.uuid, NUMATuneParameters(mode: 0), flags: .live)
        } throws: { error in
            (error as? VirtError)?.description
                == "Requested operation is not valid: can't change numatune mode for running domain"
        }
        #expect(try connection.numaParameters(domain.uuid, flags: .current) == (3, "0"))
    }

    @Test("kill -9 of supervisor and hypervisor: reconciliation removes the groups")
    func crashLeavesNoGroup() throws {
        let domain = try Running("cg-crash", tuning: "<cputune><shares>100</shares></cputune>")
        defer { domain.cleanUp() }
        try domain.connection.start(domain.uuid)
        #expect(domain.groupExists)
        let supervisor = try String(contentsOfFile: domain.root.path + "/run/cg-crash.supervisor.pid", encoding: .utf8)
        kill(try #require(Int32(supervisor.trimmingCharacters(in: .whitespacesAndNewlines))), SIGKILL)
        kill(try domain.hypervisorPID(), SIGKILL)
        // The next call that sees both gone (the kernel takes a moment to end them) folds the crash in.
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline, try domain.connection.summary(domain.uuid).state != .shutoffCrashed { usleep(20_000) }
        #expect(try domain.connection.summary(domain.uuid).state == .shutoffCrashed)
        #expect(!domain.groupExists, "reconciliation removed the groups")
    }

    @Test("a restarted hypervisor (on_reboot restart) is placed in the same groups")
    func restartIsPlacedAgain() throws {
        let domain = try Running(
            "cg-restart", tuning: "<cputune><vcpusched vcpus='0' scheduler='batch'/></cputune>",
            extra: "<on_reboot>restart</on_reboot>")
        defer { domain.cleanUp() }
        try domain.connection.start(domain.uuid)
        let before = try domain.hypervisorPID()
        try domain.connection.reset(domain.uuid)
        let deadline = Date().addingTimeInterval(10)
        var after = before
        while Date() < deadline {
            if let pid = domain.findHypervisorPID(), pid != before, (try? domain.threads().count) ?? 0 > 2 {
                after = pid
                break
            }
            usleep(20_000)
        }
        #expect(after != before, "a new hypervisor runs")
        // Placement happens before the restarted run reports ready; give it that moment.
        var vcpu0: Int32 = 0
        var placed = false
        while Date() < deadline && !placed {
            vcpu0 = domain.findVCPUThread(0) ?? 0
            placed = vcpu0 != 0 && (try? domain.tasks("cpu", "vcpu0")) == [vcpu0]
            if !placed { usleep(20_000) }
        }
        #expect(placed, "the new vCPU 0 thread is in vcpu0")
        #expect(try ThreadScheduler.get(thread: vcpu0).policy == .batch)
        try domain.connection.destroy(domain.uuid)
        #expect(!domain.groupExists)
    }
}

/// Start-time checks of cgroup tuning against hosts without usable cgroups (a fixture host root), and the
/// `<cputune>`/`<vcpusched>`/`<numatune>` → supervisor configuration mapping.
@Suite("kvm:// driver: tuning configuration and its host checks")
struct TuningResolverTests {
    static func resolver(_ tuning: String, vcpus: Int = 2) throws -> HypervisorConfigurationResolver {
        let xml = """
            <domain type='kvm'>
              <name>tuned</name>
              <memory unit='MiB'>16</memory>
              <vcpu>\(vcpus)</vcpu>
              \(tuning)
              <os><type>hvm</type><kernel>/nonexistent/guest.elf</kernel></os>
            </domain>
            """
        return HypervisorConfigurationResolver(definition: try DomainXML.parse(xml).definition)
    }

    @Test func everyValueReachesTheSupervisor() throws {
        let resolver = try Self.resolver(
            """
            <cputune>
              <shares>300</shares><period>20000</period><quota>-1</quota>
              <emulator_period>30000</emulator_period><emulator_quota>4000</emulator_quota>
              <vcpupin vcpu='1' cpuset='1'/><emulatorpin cpuset='0'/>
              <vcpusched vcpus='0' scheduler='idle'/><vcpusched vcpus='1' scheduler='rr' priority='5'/>
            </cputune>
            <numatune><memory mode='strict' nodeset='0'/></numatune>
            """)
        let placement = try resolver.resolve().placement
        let tuning = try resolver.tuning(groupName: "swift-virt-tuned", cgroupRoot: "/cg", placement: placement)
        #expect(tuning.required)
        #expect(tuning.placesBeforeRunning)
        #expect(tuning.shares == 300 && tuning.vcpuPeriod == 20_000 && tuning.vcpuQuota == -1)
        #expect(tuning.emulatorPeriod == 30_000 && tuning.emulatorQuota == 4_000)
        #expect(tuning.vcpuCPUs == [nil, CPUSet([1])] && tuning.emulatorCPUs == CPUSet([0]))
        #expect(tuning.mems == CPUSet([0]))
        #expect(
            tuning.vcpuSchedules == [ThreadSchedule(policy: .idle), ThreadSchedule(policy: .rr, priority: 5)])
        #expect(tuning.cgroupRoot == "/cg" && tuning.groupName == "swift-virt-tuned" && tuning.partition == "machine")
    }

    @Test func guestCellsBoundElsewhereStayAllowed() throws {
        let resolver = try Self.resolver(
            """
            <cpu><numa><cell id='0' cpus='0' memory='8192'/><cell id='1' cpus='1' memory='8192'/></numa></cpu>
            <numatune><memory mode='strict' nodeset='0'/><memnode cellid='1' mode='preferred' nodeset='2'/></numatune>
            """)
        let tuning = try resolver.tuning(groupName: "g", cgroupRoot: "/cg", placement: PlacementConfiguration())
        #expect(tuning.mems == CPUSet([0, 2]))
    }

    @Test func aPlainDomainGetsItsGroupsButNeedsNone() throws {
        let resolver = try Self.resolver("<numatune><memory mode='interleave' nodeset='0'/></numatune>")
        let tuning = try resolver.tuning(
            groupName: "g", cgroupRoot: "/cg", placement: try resolver.resolve().placement)
        #expect(!tuning.required && !tuning.placesBeforeRunning && tuning.mems == nil && tuning.vcpuSchedules.isEmpty)
        try resolver.validateCGroups(root: "/nonexistent")
    }

    @Test(arguments: [
        ("<cputune><shares>300</shares></cputune>", "<cputune><shares> needs the cgroup cpu controller"),
        ("<cputune><emulator_quota>3000</emulator_quota></cputune>", "<cputune><emulator_quota> needs the cgroup cpu"),
        ("<numatune><memory mode='restrictive' nodeset='0'/></numatune>", "needs the cgroup cpuset controller"),
    ])
    func hostsWithoutCGroupsRefuseTheValues(tuning: String, expected: String) throws {
        let resolver = try Self.resolver(tuning)
        #expect {
            try resolver.validateCGroups(root: "/nonexistent/cgroup")
        } throws: { error in
            let text = "\(error)"
            return text.hasPrefix("unsupported configuration: cannot start domain 'tuned': ") && text.contains(expected)
                && text.contains("'/nonexistent/cgroup'")
        }
    }

    @Test func aMissingControllerIsNamed() throws {
        let tree = FileManager.default.temporaryDirectory.appendingPathComponent("cg-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: tree) }
        try FileManager.default.createDirectory(atPath: tree + "/cpuset", withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: tree + "/cpuset/tasks", contents: nil))
        try Self.resolver("<numatune><memory mode='restrictive' nodeset='0'/></numatune>").validateCGroups(root: tree)
        #expect {
            try Self.resolver("<cputune><quota>5000</quota></cputune>").validateCGroups(root: tree)
        } throws: { error in
            "\(error)".contains(
                "<cputune><quota> needs the cgroup cpu controller, which is not available (cgroup v1 "
                    + "(cpuset at \(tree)/cpuset))")
        }
    }

    @Test("a start that needs cgroups fails before anything runs on a host without them")
    func startFailsWithoutCGroups() throws {
        let root = try EmbedRoot()
        defer { root.remove() }
        let hostRoot = root.path + "-host"
        try FileManager.default.createDirectory(atPath: hostRoot, withIntermediateDirectories: true)
        let driver = try KVMDriver(paths: try URIPaths.resolve(ConnectionURI(parsing: root.uri)), hostRoot: hostRoot)
        let connection = Connection(driver: driver)
        let uuid = try connection.defineXML(
            """
            <domain type='kvm'><name>needs-cg</name><memory unit='MiB'>16</memory>
              <cputune><shares>100</shares></cputune>
              <os><type>hvm</type><kernel>/nonexistent/guest.elf</kernel></os></domain>
            """
        ).domain.uuid
        #expect {
            try connection.start(uuid)
        } throws: { error in
            "\(error)".contains("<cputune><shares> needs the cgroup cpu controller")
        }
        #expect(try connection.summary(uuid).state.state == .shutoff)
        let run = (try? FileManager.default.contentsOfDirectory(atPath: root.path + "/run")) ?? []
        #expect(run.filter { $0.hasPrefix("needs-cg") }.isEmpty)
    }
}
