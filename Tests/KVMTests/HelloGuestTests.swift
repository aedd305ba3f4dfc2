import Foundation
import KVM
import Testing
import VirtBase

/// The hello guest: PVH hand-over, serial output, power-off through port 0x501.
@Suite("hello guest", .serialized)
struct HelloGuestTests {
    // Needs /dev/kvm and gcc -m32; skipped (and reported) where either is missing.
    @Test(.enabled(if: TestEnvironment.canRunGuests))
    func printsAndPowersOff() throws {
        let directory = TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let console = directory.appendingPathComponent("hello.txt")
        let vm = try VirtualMachine(
            configuration: GuestRunner.configuration("hello", cmdline: "greeting=world", console: console))
        try vm.start(paused: false)
        let exit = vm.waitForExit()
        let output = try String(contentsOf: console, encoding: .utf8)
        #expect(exit == .poweroff(code: 0))
        let stats = vm.statistics()
        #expect(stats.unknownPortAccesses >= 1, "the POST code write")
        #expect(stats.unknownMMIOAccesses == 1, "the read of unclaimed MMIO")
        #expect((stats.exitsByReason["io"] ?? 0) >= UInt64(output.utf8.count), "each byte is at least one port exit")
        #expect(output == "hello from a PVH guest\nstart info: ok\nmemory map: ram at 1M\ngreeting: world\nbye\n")
    }

    // Needs /dev/kvm and gcc: the Linux 64-bit boot protocol with a bzImage built from bzimage.c.
    @Test(.enabled(if: TestEnvironment.canRunGuests))
    func bzImageBootsThroughTheLinuxProtocol() throws {
        let directory = TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let console = directory.appendingPathComponent("bz.txt")
        var config = GuestRunner.configuration("hello", cmdline: "console=ttyS0 greeting=bz", console: console)
        config.kernel = FileSource(path: GuestImages.bzImagePath)
        let vm = try VirtualMachine(configuration: config)
        try vm.start(paused: false)
        #expect(vm.waitForExit() == .poweroff(code: 0))
        #expect(
            try String(contentsOf: console, encoding: .utf8)
                == "hello from a bzImage guest in long mode\ne820: ram at 1M\ncmdline: console=ttyS0 greeting=bz\nbye\n"
        )
    }

    // Needs /dev/kvm and gcc: `<feature policy='disable' name='cx16'/>` must hide CX16 from the guest's CPUID.
    @Test(.enabled(if: TestEnvironment.canRunGuests))
    func disabledCPUFeaturesAreHiddenFromTheGuest() throws {
        let directory = TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let console = directory.appendingPathComponent("cpu.txt")
        let config = GuestRunner.configuration(
            "hello", cmdline: "showcpu=1", console: console, cpuFeatures: [.init(name: "cx16", policy: .disable)])
        let vm = try VirtualMachine(configuration: config)
        try vm.start(paused: false)
        #expect(vm.waitForExit() == .poweroff(code: 0))
        let output = try String(contentsOf: console, encoding: .utf8)
        #expect(output.contains("cx16=0 hypervisor=1 apic-id=0\n"), "\(output)")
    }

    // Needs /dev/kvm: unknown features and bad sizes fail before anything runs, naming the problem.
    @Test(.enabled(if: TestEnvironment.canRunGuests))
    func badConfigurationsAreRefused() throws {
        let directory = TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let console = directory.appendingPathComponent("x.txt")
        let unknown = GuestRunner.configuration(
            "hello", cmdline: "", console: console, cpuFeatures: [.init(name: "warp-drive", policy: .require)])
        #expect(throws: VirtError.self) { try VirtualMachine(configuration: unknown) }
        var missing = GuestRunner.configuration("hello", cmdline: "", console: console)
        missing.disks = [DiskConfiguration(source: FileSource(path: directory.path + "/nope.img"), target: "vda")]
        do {
            _ = try VirtualMachine(configuration: missing)
            Issue.record("a missing disk image must fail")
        } catch let error as VirtError {
            #expect(error.message.contains("nope.img"))
        }
    }
}
