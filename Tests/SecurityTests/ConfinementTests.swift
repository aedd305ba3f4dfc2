import Foundation
import Glibc
import Testing
import VirtBase

@testable import Security

/// The seccomp filter, privilege drop and the fork-to-exec helper, checked on real processes.
@Suite("Hypervisor confinement", .serialized)
struct ConfinementTests {
    @Test func theAllowListResolvesAndTheProgramHasTheDocumentedShape() throws {
        let names = SeccompAllowList.names(SeccompAllowList.hypervisor)
        #expect(names.count == SeccompAllowList.hypervisor.count, "no duplicates in the table")
        #expect(SeccompAllowList.hypervisor.allSatisfy { !$0.reason.isEmpty })
        for needed in ["ioctl", "pread64", "pwritev", "futex", "epoll_pwait", "accept4", "rt_sigreturn", "exit_group"] {
            #expect(names.contains(needed), "\(needed)")
        }
        for refused in ["execve", "openat", "socket", "ptrace", "setuid", "mount", "kexec_load", "bpf"] {
            #expect(!names.contains(refused), "\(refused)")
        }
        // Without an ioctl restriction: every comparison jumps exactly onto the final ALLOW.
        let open = try SeccompFilter(rules: SeccompAllowList.hypervisor)
        let plain = open.program
        #expect(plain.count == open.allowed.count + 8)
        #expect(plain[1].k == 0xC000_003E, "AUDIT_ARCH_X86_64")
        #expect(plain[2].k == SeccompFilter.killProcess)
        #expect(plain[plain.count - 2].k == SeccompFilter.killProcess)
        #expect(plain[plain.count - 1].k == SeccompFilter.allow)
        for index in 6..<(plain.count - 2) {
            #expect(index + 1 + Int(plain[index].jt) == plain.count - 1)
        }
        #expect(open.allowed.contains(16), "ioctl is 16 on x86_64")
        // The hypervisor's filter: ioctl leaves the plain list for the type check.
        let filter = try SeccompFilter.hypervisor()
        let program = filter.program
        #expect(!filter.allowed.contains(16))
        #expect(filter.ioctlTypes == [0x54, 0xAE])
        #expect(program.count == filter.allowed.count + 8 + 3 + 2)
        let ioctlCheck = 6 + filter.allowed.count
        #expect(program[ioctlCheck].k == 16)
        #expect(ioctlCheck + 1 + Int(program[ioctlCheck].jf) == program.count - 2, "other calls: KILL")
        #expect(program[ioctlCheck + 1].k == 24, "args[1], low word")
        #expect(program[ioctlCheck + 2].k == 0xff00)
        for index in (ioctlCheck + 3)..<(program.count - 2) {
            #expect(index + 1 + Int(program[index].jt) == program.count - 1)
        }
        #expect(throws: VirtError.self) { try SeccompFilter(allowing: ["read", "no_such_call"]) }
    }

    @Test func aConfinedProbeRunsAllowedCallsAndDiesOfSIGSYSOnAForbiddenOne() throws {
        for forbidden in ["getuid", "open", "socket", "ioctl", "x32"] {
            let result = try runProbe(["confine", forbidden])
            #expect(result.output.contains("NoNewPrivs:\t1"), "\(result.output)")
            #expect(result.output.contains("Seccomp:\t2"))
            #expect(result.output.contains("CapEff:\t0000000000000000"))
            // Only a root process may shrink its bounding set (CAP_SETPCAP).
            #expect(result.output.contains("CapBnd:\t0000000000000000") || !runningAsRoot)
            #expect(result.output.contains("allowed calls: ok"))
            #expect(result.output.contains("thread and poll: ok"))
            #expect(result.output.contains("allowed ioctls: ok"), "\(result.output)")
            #expect(result.output.contains("calling \(forbidden)"))
            #expect(!result.output.contains("survived"))
            #expect(result.signal == SIGSYS, "\(forbidden): \(result)")
        }
    }

    @Test(.enabled(if: rootRequired("uid/gid drop"))) func theChildDropsToAPlusUIDUserWithExecLabelAndDeathSignal()
        throws
    {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let labelFile = try directory.file("attr-exec")
        var api = FakeSELinux(isEnabled: true)
        api.execLabelPath = labelFile
        let manager = try SecurityManager(
            settings: SecuritySettings(defaultUser: "+65534", defaultGroup: "+65533"), selinux: api)
        let labels = try manager.generate(for: SecurityLabelRequest(domainName: "probe"), excluding: [])
        let credentials = try manager.credentials(for: labels)
        #expect(credentials.identity == DACIdentity(uid: 65534, gid: 65533))
        #expect(credentials.dropBoundingSetThrough == Capabilities.lastCapability())

        let result = try runProbe(["identity"], credentials: credentials)
        #expect(result.exitStatus == 0, "\(result)")
        #expect(result.output.contains("Uid:\t65534\t65534\t65534\t65534"), "\(result.output)")
        #expect(result.output.contains("Gid:\t65533\t65533\t65533\t65533"))
        let groups = result.output.split(separator: "\n").first { $0.hasPrefix("Groups:") }
        #expect(
            groups?.dropFirst("Groups:".count).allSatisfy { $0 == " " || $0 == "\t" } == true, "no supplementary groups"
        )
        #expect(result.output.contains("CapEff:\t0000000000000000"))
        #expect(result.output.contains("CapBnd:\t0000000000000000"))
        #expect(result.output.contains("PDeathSig: \(SIGKILL)"))
        #expect(try String(contentsOfFile: labelFile, encoding: .utf8) == labels.primary?.label)

        // The whole path: unprivileged, then confined.
        let confined = try runProbe(["confine"], credentials: credentials)
        #expect(confined.output.contains("Uid:\t65534"))
        #expect(confined.output.contains("Seccomp:\t2"))
        #expect(confined.signal == SIGSYS)
    }

    @Test func failedStepsAreNamed() throws {
        let missing = #expect(throws: VirtError.self) {
            try HypervisorLauncher.spawn(
                executable: "/nonexistent/virt-kvm", arguments: ["virt-kvm"], environment: [],
                credentials: HypervisorCredentials())
        }
        #expect(missing?.message.contains("execve failed") == true)
        #expect(missing?.errno == ENOENT)
        let label = #expect(throws: VirtError.self) {
            try HypervisorLauncher.spawn(
                executable: "/bin/true", arguments: ["true"], environment: [],
                credentials: HypervisorCredentials(
                    execLabel: "system_u:system_r:svirt_t:s0:c1,c2", execLabelRequired: true))
        }
        // This host has no LSM: writing /proc/self/attr/exec fails, which is fatal when enforcing is claimed.
        #expect(label?.message.contains("setting the SELinux exec label") == true)
        // Not required (permissive): the same failure is ignored and exec goes ahead.
        let pid = try HypervisorLauncher.spawn(
            executable: "/bin/true", arguments: ["true"], environment: [],
            credentials: HypervisorCredentials(execLabel: "system_u:system_r:svirt_t:s0:c1,c2"))
        var status: Int32 = 0
        #expect(waitpid(pid, &status, 0) == pid)
        #expect(status == 0)
    }
}

/// docs/security.md lists exactly the calls of the allow-list, so the page cannot drift from the table.
@Suite("Security documentation")
struct SecurityDocumentationTests {
    @Test func theAllowListTableMatchesTheCode() throws {
        let source = URL(fileURLWithPath: #filePath)
        let page = source.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/security.md")
        let text = try String(contentsOf: page, encoding: .utf8)
        let section = try #require(text.range(of: "## The seccomp allow-list")).upperBound
        let end = text.range(of: "\n## ", range: section..<text.endIndex)?.lowerBound ?? text.endIndex
        let cells = text[section..<end].split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("| `") else { return nil }
            return String(line.dropFirst(3).prefix { $0 != "`" })
        }
        #expect(cells.filter { !$0.hasPrefix("0x") } == SeccompAllowList.names(SeccompAllowList.hypervisor))
        let types = SeccompAllowList.hypervisorIoctlTypes.map { "0x" + String($0.type, radix: 16, uppercase: true) }
        #expect(cells.filter { $0.hasPrefix("0x") } == types)
    }
}

/// Naming the call of a seccomp kill from the kernel's audit record.
@Suite("Seccomp violations in the kernel log")
struct SeccompViolationTests {
    static let record =
        "5,4711,9186326307,-;audit: type=1326 audit(1795292555.271:436): auid=4294967295 uid=0 gid=0 "
        + "ses=4294967295 pid=9826 comm=\"exe\" exe=\"/usr/bin/virt-kvm\" sig=31 arch=c000003e syscall=75 "
        + "compat=0 ip=0x7f4ade0f3507 code=0x80000000\n SUBSYSTEM=audit"

    @Test func aRecordSplitsIntoItsTimeAndText() {
        let (microseconds, text) = SeccompViolation.record(Self.record)
        #expect(microseconds == 9_186_326_307)
        #expect(text.hasPrefix("audit: type=1326 ") && text.hasSuffix("code=0x80000000"))
    }

    @Test func theRecordOfThePIDNamesTheCall() {
        let text = SeccompViolation.record(Self.record).text
        let found = SeccompViolation.parse(text, pid: 9826)
        #expect(found == SeccompViolation(pid: 9826, number: 75, name: "fdatasync"))
        #expect(found?.description == "system call 75 (fdatasync)")
        #expect(SeccompViolation.parse(text, pid: 9827) == nil, "another process's kill")
        #expect(SeccompViolation.parse("audit: type=1400 pid=9826 syscall=75", pid: 9826) == nil, "not seccomp")
        let x32 = SeccompViolation.parse("audit: type=1326 pid=5 syscall=1073741863", pid: 5)
        #expect(x32?.name == nil && x32?.description == "system call 1073741863")
    }
}
