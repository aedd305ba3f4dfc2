import Glibc
import KVM
import Testing
import VirtBase

@testable import KVMDriver

/// The process layer with the real hypervisor: a tiny PVH guest, assembled at test time, runs under
/// `virt-kvm` through `DomainProcess`. Needs /dev/kvm and gcc with 32-bit support.
@Suite("Domain processes on KVM", .serialized, .enabled(if: KVMGuestImage.unavailableReason == nil))
struct KVMGuestProcessTests {
    private func configuration(_ fixture: DomainProcessFixture, guest: String, serial: String)
        -> SupervisorConfiguration
    {
        var configuration = fixture.configuration(kernel: guest, vcpus: 1)
        configuration.machine = .kvm
        configuration.hypervisor.memoryBytes = 16 << 20
        configuration.hypervisor.serial = SerialConfiguration(kind: .file, source: FileSource(path: serial))
        return configuration
    }

    /// Polls `path` until it contains `text` (bounded: guest code runs ~1000x slower here).
    private func waitForText(_ path: String, _ text: String, seconds: Int = 60) -> Bool {
        for _ in 0..<(seconds * 50) {
            if let content = try? SmallFile.readText(path), content.contains(text) { return true }
            usleep(20_000)
        }
        return false
    }

    @Test("a real guest: ready, serial output in its file, pause, resume, vCPU threads, statistics, destroy")
    func realGuest() throws {
        let fixture = try DomainProcessFixture()
        let guest = try KVMGuestImage.build(in: fixture.root, poweroff: false)
        let serial = fixture.root + "/serial.log"
        let process = try fixture.start(configuration(fixture, guest: guest, serial: serial))
        #expect(waitForText(serial, KVMGuestImage.banner))
        #expect(try process.status().state == .running)
        #expect(try process.pause().state == .paused)
        #expect(try process.resume().state == .running)
        // The supervisor opened /dev/kvm; the hypervisor runs on that descriptor.
        let open = fixture.openFiles(process.hypervisor.pid)
        #expect(open["/dev/kvm"] != nil)
        let threads = try process.vcpuThreadIDs()
        #expect(threads.count == 1)
        #expect(threads.allSatisfy { SmallFile.exists("/proc/\(process.hypervisor.pid)/task/\($0)") })
        struct Statistics: Decodable {
            var exitsByReason: [String: UInt64]
            var vcpuCPUTimeNs: [UInt64]
        }
        let statistics = try process.statistics(as: Statistics.self)
        #expect(statistics.vcpuCPUTimeNs.count == 1)
        #expect(!statistics.exitsByReason.isEmpty)
        let status = process.destroy()
        #expect(status.reason == .destroyed)
        #expect(fixture.entries(process.runFiles.runDirectory).isEmpty)
    }

    @Test("a real guest that powers off through port 0x501 ends shut off (shutdown)")
    func poweroffGuest() throws {
        let fixture = try DomainProcessFixture()
        let guest = try KVMGuestImage.build(in: fixture.root, poweroff: true)
        let serial = fixture.root + "/serial.log"
        let process = try fixture.start(configuration(fixture, guest: guest, serial: serial))
        let status = try #require(fixture.waitForEnd(process, seconds: 60))
        #expect(status.reason == .shutdown)
        if case .poweroff = status.guestExit {
        } else {
            Issue.record("expected a power-off, got \(String(describing: status.guestExit))")
        }
        #expect(try SmallFile.readText(serial)?.contains(KVMGuestImage.banner) == true)
    }
}

/// A PVH guest of a few instructions: prints a banner on COM1, then either powers off through the
/// isa-debug-exit port or halts forever.
enum KVMGuestImage {
    /// What the guest prints.
    static let banner = "swift-virt process test guest"

    /// Why the guest cannot run here, or nil.
    static let unavailableReason: String? = {
        if access("/dev/kvm", R_OK | W_OK) != 0 { return "/dev/kvm is not usable by this user" }
        if access("/usr/bin/gcc", X_OK) != 0 { return "gcc is not installed" }
        return nil
    }()

    /// Assembles the guest into `directory`; returns the ELF's path.
    static func build(in directory: String, poweroff: Bool) throws -> String {
        let name = poweroff ? "poweroff" : "idle"
        let source = directory + "/\(name).S"
        let script = directory + "/guest.ld"
        let output = directory + "/\(name).elf"
        let ending =
            poweroff
            ? "    movw $0x501, %dx\n    xorb %al, %al\n    outb %al, %dx\n"
            : ""
        try SmallFile.writeAtomically(source, Array((assembly(ending)).utf8))
        try SmallFile.writeAtomically(script, Array(linkerScript.utf8))
        let pid = try ChildProcess.spawn(
            "/usr/bin/gcc",
            [
                "gcc", "-m32", "-nostdlib", "-static", "-fno-pic", "-Wl,-T,\(script)", "-Wl,--build-id=none",
                "-o", output, source,
            ], options: ChildProcess.Options())
        guard try ChildProcess.wait(pid) == .exited(0) else {
            throw VirtError(.operationFailed, .kvm, "gcc could not build the test guest \(source)")
        }
        return output
    }

    // PVH entry (XEN_ELFNOTE_PHYS32_ENTRY = 18): 32-bit protected mode, paging off, interrupts off.
    private static func assembly(_ ending: String) -> String {
        """
            .section .note.Xen, "a", @note
            .balign 4
            .long 4
            .long 4
            .long 18
            .asciz "Xen"
            .long entry
            .text
            .code32
            .globl entry
        entry:
            cli
            movl $message, %esi
            movw $0x3f8, %dx
        print:
            lodsb
            testb %al, %al
            jz printed
            outb %al, %dx
            jmp print
        printed:
        \(ending)
        idle:
            hlt
            jmp idle
        message:
            .asciz "\(banner)\\n"
            .section .note.GNU-stack, "", @progbits

        """
    }

    private static let linkerScript = """
        ENTRY(entry)
        SECTIONS
        {
            . = 0x100000;
            .note.Xen : { *(.note.Xen) }
            .text : { *(.text*) }
            /DISCARD/ : { *(.note.gnu*) *(.comment) *(.eh_frame*) }
        }

        """
}
