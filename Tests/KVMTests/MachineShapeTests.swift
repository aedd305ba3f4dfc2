import Foundation
import KVM
import VirtBase
import Testing

/// VM shapes beyond the default: several vCPUs, RAM above the 32-bit hole, memfd/hugetlb backing, a Unix
/// socket console.
@Suite("machine shapes", .serialized)
struct MachineShapeTests {
    static func runHello(_ config: HypervisorConfiguration) throws -> (GuestExit, VirtualMachine) {
        let vm = try VirtualMachine(configuration: config)
        try vm.start(paused: false)
        let watchdog = Watchdog(vm, seconds: GuestImages.helperTimeoutSeconds)
        defer { watchdog.cancel() }
        return (vm.waitForExit(), vm)
    }

    static let helloOutput = "hello from a PVH guest\nstart info: ok\nmemory map: ram at 1M\ngreeting: shapes\nbye\n"

    // Needs /dev/kvm and gcc: the application processors wait for SIPI inside KVM and must still be stopped.
    @Test(.enabled(if: TestEnvironment.canRunGuests))
    func twoVCPUs() throws {
        let directory = TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let console = directory.appendingPathComponent("out.txt")
        var config = GuestRunner.configuration("hello", cmdline: "greeting=shapes", console: console)
        config.vcpus = 2
        config.topology = .init(sockets: 1, dies: 1, cores: 2, threads: 1)
        let (exit, vm) = try Self.runHello(config)
        #expect(exit == .poweroff(code: 0))
        #expect(try String(contentsOf: console, encoding: .utf8) == Self.helloOutput)
        #expect(vm.vcpuThreadIDs.count == 2)
        #expect(Set(vm.vcpuThreadIDs).count == 2)
        #expect(vm.statistics().vcpuCPUTimeNs.count == 2)
    }

    // Needs /dev/kvm and gcc: RAM continues above 4 GiB in a second memory slot.
    @Test(.enabled(if: TestEnvironment.canRunGuests))
    func ramAboveThePCIHole() throws {
        let directory = TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let console = directory.appendingPathComponent("out.txt")
        let config = GuestRunner.configuration("hello", cmdline: "greeting=shapes", console: console, memoryMiB: 3584)
        let (exit, _) = try Self.runHello(config)
        #expect(exit == .poweroff(code: 0))
        #expect(try String(contentsOf: console, encoding: .utf8) == Self.helloOutput)
    }

    // Needs /dev/kvm and gcc.
    @Test(.enabled(if: TestEnvironment.canRunGuests))
    func memfdBackingSharedAndLocked() throws {
        let directory = TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let console = directory.appendingPathComponent("out.txt")
        var config = GuestRunner.configuration("hello", cmdline: "greeting=shapes", console: console)
        config.memoryBacking = MemoryBackingConfiguration(source: .memfd, shared: true, locked: true, mergeable: false)
        let (exit, _) = try Self.runHello(config)
        #expect(exit == .poweroff(code: 0))
        #expect(try String(contentsOf: console, encoding: .utf8) == Self.helloOutput)
    }

    static var freeHugePages: Int {
        let meminfo = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? ""
        let line = meminfo.split(separator: "\n").first { $0.hasPrefix("HugePages_Free:") }
        return line.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
    }

    /// The host-wide 2 MiB pool the hugetlb test grows for itself.
    static let hugePagePool = "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"

    // Needs /dev/kvm, gcc, and root to reserve 16 × 2 MiB huge pages, which it gives back afterwards. The pool is
    // changed relatively and under the lock file HostTests' pool test takes too.
    @Test(
        .enabled(
            if: TestEnvironment.canRunGuests && geteuid() == 0
                && FileManager.default.isWritableFile(atPath: MachineShapeTests.hugePagePool),
            "needs root and a 2 MiB huge page pool to reserve pages in"))
    func hugetlbBacking() throws {
        let lock = open("/tmp/swift-virt-tests-hugepages.lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard lock >= 0, flock(lock, LOCK_EX) == 0 else { throw VirtError(.systemError, .kvm, "cannot lock the pool") }
        defer { close(lock) }
        func poolSize() throws -> Int {
            Int(try String(contentsOfFile: Self.hugePagePool, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        }
        func setPool(_ count: Int) throws { try "\(count)\n".write(toFile: Self.hugePagePool, atomically: false, encoding: .utf8) }
        let before = try poolSize()
        try setPool(before + 16)
        defer {
            // Under the lock nobody else resizes the pool, so it goes back to exactly its earlier size. Pages the
            // guest still maps cannot be freed yet (the kernel keeps them in the pool), so retry until they are.
            var restored = false
            for _ in 0..<100 where !restored {
                try? setPool(before)
                restored = (try? poolSize()) == before
                if !restored { usleep(50_000) }
            }
            if !restored { Issue.record("could not give back the 16 huge pages (pool is not back to \(before))") }
        }
        try #require(Self.freeHugePages >= 16, "the kernel could not reserve 16 free 2 MiB pages")
        let directory = TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let console = directory.appendingPathComponent("out.txt")
        var config = GuestRunner.configuration("hello", cmdline: "greeting=shapes", console: console)
        config.memoryBacking = MemoryBackingConfiguration(source: .hugetlb, hugePageBytes: 2 << 20)
        let (exit, _) = try Self.runHello(config)
        #expect(exit == .poweroff(code: 0))
    }

    // Needs /dev/kvm and gcc: odd sizes cannot be huge-page backed; the error says what to do.
    @Test(.enabled(if: TestEnvironment.canRunGuests))
    func hugetlbRejectsUnalignedSizes() throws {
        var config = GuestRunner.configuration(
            "hello", cmdline: "", console: URL(fileURLWithPath: "/dev/null"), memoryMiB: 33)
        config.memoryBacking = MemoryBackingConfiguration(source: .hugetlb, hugePageBytes: 2 << 20)
        #expect(throws: Error.self) { try VirtualMachine(configuration: config) }
    }

    // Needs /dev/kvm and gcc: the console on a listening Unix socket.
    @Test(.enabled(if: TestEnvironment.canRunGuests))
    func unixSocketConsole() throws {
        let directory = TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let socketPath = directory.appendingPathComponent("console.sock").path
        let log = directory.appendingPathComponent("log.txt")
        var config = GuestRunner.configuration("echo", cmdline: "", console: log)
        config.serial = SerialConfiguration(
            kind: .unix, source: FileSource(path: socketPath), logFile: FileSource(path: log.path))
        let vm = try VirtualMachine(configuration: config)
        let client = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(client) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: Array(socketPath.utf8))
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(client, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        #expect(connected == 0)
        try vm.start(paused: false)
        // The input thread accepts the client; send once the guest is ready.
        _ = LifecycleGuestTests.waitForOutput(log) { $0.contains("echo ready\n") }
        let input = Array("via socket~".utf8)
        #expect(write(client, input, input.count) == input.count)
        let watchdog = Watchdog(vm, seconds: GuestImages.helperTimeoutSeconds)
        #expect(vm.waitForExit() == .poweroff(code: 0))
        watchdog.cancel()
        #expect(try String(contentsOf: log, encoding: .utf8) == "echo ready\nvia socket\necho done\n")
    }

    // Needs /dev/kvm and gcc: a console client that hangs up must not take the hypervisor down (SIGPIPE).
    @Test(.enabled(if: TestEnvironment.canRunGuests))
    func consoleClientHangingUpIsHarmless() throws {
        let directory = TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let socketPath = directory.appendingPathComponent("console.sock").path
        let log = directory.appendingPathComponent("log.txt")
        var config = GuestRunner.configuration("hello", cmdline: "greeting=shapes", console: log)
        config.serial = SerialConfiguration(
            kind: .unix, source: FileSource(path: socketPath), logFile: FileSource(path: log.path))
        let vm = try VirtualMachine(configuration: config)
        let client = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(socketPath.utf8)) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(client, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        #expect(connected == 0)
        close(client)
        try vm.start(paused: false)
        let watchdog = Watchdog(vm, seconds: GuestImages.helperTimeoutSeconds)
        #expect(vm.waitForExit() == .poweroff(code: 0))
        watchdog.cancel()
        #expect(try String(contentsOf: log, encoding: .utf8) == Self.helloOutput)
    }
}
