import Foundation
import KVM
import Testing

/// Host-side control of a running guest: pause/resume/stop, power button, reset, statistics, serial input.
@Suite("lifecycle", .serialized)
struct LifecycleGuestTests {
    /// Reads `url` until `predicate` holds for its text (the guest is slow; there is no deadline but `limit`).
    static func waitForOutput(_ url: URL, limit: Int = 6000, _ predicate: (String) -> Bool) -> String {
        var text = ""
        for _ in 0..<limit {
            text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
            if predicate(text) { return text }
            usleep(10_000)
        }
        return text
    }

    static func ticks(in text: String) -> Int { text.split(separator: "\n").filter { $0.hasPrefix("tick ") }.count }

    // Needs /dev/kvm and gcc -m32; skipped (and reported) where either is missing.
    @Test(.enabled(if: TestEnvironment.canRunGuests))
    func pauseResumeAndStop() throws {
        let directory = TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let console = directory.appendingPathComponent("ticks.txt")
        let vm = try VirtualMachine(
            configuration: GuestRunner.configuration("ticks", cmdline: "delay=2000", console: console))
        try vm.start(paused: true)
        #expect(vm.vcpuThreadIDs.count == 1)
        #expect(vm.vcpuThreadIDs.allSatisfy { $0 > 0 })
        let threadName = try String(contentsOfFile: "/proc/self/task/\(vm.vcpuThreadIDs[0])/comm", encoding: .utf8)
        #expect(threadName == "vcpu0\n")
        #expect(Self.ticks(in: (try? String(contentsOf: console, encoding: .utf8)) ?? "") == 0, "started paused")
        try vm.resume()
        _ = Self.waitForOutput(console) { Self.ticks(in: $0) >= 2 }
        let clock = ContinuousClock()
        let pauseTime = try clock.measure { try vm.pause() }
        print("KVMTests: pause() of a running vCPU took \(pauseTime)")
        let atPause = try String(contentsOf: console, encoding: .utf8)
        #expect(Self.ticks(in: atPause) >= 2)
        usleep(200_000)
        #expect(try String(contentsOf: console, encoding: .utf8) == atPause, "no output while paused")
        try vm.resume()
        let later = Self.waitForOutput(console) { Self.ticks(in: $0) > Self.ticks(in: atPause) }
        #expect(Self.ticks(in: later) > Self.ticks(in: atPause))
        vm.stop()
        #expect(vm.waitForExit() == .stopped)
        #expect(throws: Error.self) { try vm.pause() }
        let stats = vm.statistics()
        #expect((stats.exitsByReason["io"] ?? 0) > 0)
        #expect(stats.vcpuCPUTimeNs.count == 1)
        #expect(stats.vcpuCPUTimeNs[0] > 0)
    }

    // Needs /dev/kvm and gcc -m32.
    @Test(.enabled(if: TestEnvironment.canRunGuests))
    func powerButtonReachesTheGuestKeyboard() throws {
        let directory = TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let console = directory.appendingPathComponent("ticks.txt")
        let vm = try VirtualMachine(
            configuration: GuestRunner.configuration("ticks", cmdline: "delay=2000", console: console))
        try vm.start(paused: false)
        _ = Self.waitForOutput(console) { Self.ticks(in: $0) >= 1 }
        vm.powerButton()
        #expect(vm.waitForExit() == .poweroff(code: 2))
        #expect(try String(contentsOf: console, encoding: .utf8).hasSuffix("ctrl-alt-del\n"))
    }

    // Needs /dev/kvm and gcc -m32.
    @Test(.enabled(if: TestEnvironment.canRunGuests))
    func hostResetEndsTheRun() throws {
        let directory = TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let console = directory.appendingPathComponent("ticks.txt")
        let vm = try VirtualMachine(
            configuration: GuestRunner.configuration("ticks", cmdline: "delay=2000", console: console))
        try vm.start(paused: false)
        _ = Self.waitForOutput(console) { Self.ticks(in: $0) >= 1 }
        vm.reset()
        #expect(vm.waitForExit() == .reset)
    }

    // Needs /dev/kvm and gcc -m32: serial input through an allocated pty, output in the log file.
    @Test(.enabled(if: TestEnvironment.canRunGuests), arguments: ["echo", "irqecho"])
    func echoThroughAPTY(guest: String) throws {
        let directory = TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = directory.appendingPathComponent("echo.log")
        let vm = try VirtualMachine(
            configuration: GuestRunner.configuration(guest, cmdline: "", console: log, serialKind: .pty))
        let path = try #require(vm.serialPTYPath)
        #expect(path.hasPrefix("/dev/pts/"))
        let slave = open(path, O_RDWR | O_NOCTTY)
        #expect(slave >= 0)
        defer { close(slave) }
        try vm.start(paused: false)
        let prefix = guest == "echo" ? "" : "irq "
        _ = Self.waitForOutput(log) { $0.contains("echo ready\n") }
        let input = Array("hello, echo~".utf8)
        #expect(write(slave, input, input.count) == input.count)
        let watchdog = Watchdog(vm, seconds: GuestImages.helperTimeoutSeconds)
        #expect(vm.waitForExit() == .poweroff(code: 0))
        watchdog.cancel()
        #expect(
            try String(contentsOf: log, encoding: .utf8) == "\(prefix)echo ready\nhello, echo\n\(prefix)echo done\n")
    }

    // QEMU reads the same input from a file; skipped visibly where QEMU is missing.
    @Test(.enabled(if: TestEnvironment.canCompareWithQEMU), arguments: ["echo", "irqecho"])
    func echoMatchesQEMU(guest: String) throws {
        let directory = TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let prefix = guest == "echo" ? "" : "irq "
        let qemu = GuestRunner.runQEMU(guest, input: "hello, echo~", in: directory)
        #expect(qemu.output == "\(prefix)echo ready\nhello, echo\n\(prefix)echo done\n")
    }
}
