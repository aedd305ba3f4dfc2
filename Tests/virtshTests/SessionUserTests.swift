import Foundation
import Glibc
import Testing
import VirtTestSupport

/// `kvm:///session` run by an unprivileged user (uid 65534), end to end through `virtsh`: one who may not open
/// /dev/kvm is told exactly what is missing, and one who may (a private mount namespace puts a 0666 node of the
/// same device over /dev/kvm, so the host's node is left alone) defines, starts and watches a real guest with
/// everything under $XDG_*: store, run files, lease daemon, log. Needs root (to become the user), /dev/kvm, gcc,
/// setpriv and unshare.
@Suite(
    "kvm:///session as an unprivileged user",
    .serialized,
    .enabled(
        if: getuid() == 0 && FreestandingGuests.hostProblem == nil
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare"),
        "needs root, /dev/kvm, gcc, setpriv and unshare (util-linux)"))
struct SessionUserTests {
    static let uid: uid_t = 65534

    /// A home for the user under a scratch directory: the guest image, a disk and the domain XML beside it.
    struct Home {
        let root: String
        let home: String
        let domainXML: String
        let console: String

        init() throws {
            // A directory of its own per test (the scratch directory is one per test process).
            let scratch = FreestandingGuests.scratchDirectory("session-user").appendingPathComponent(UUID().uuidString)
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            root = scratch.path
            home = root + "/home"
            console = home + "/console.log"
            if let problem = FreestandingGuests.build(["hello"], into: scratch) { throw Failure(problem) }
            chmod(scratch.deletingLastPathComponent().path, 0o755)
            chmod(root, 0o755)
            chmod(root + "/hello.elf", 0o644)
            try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
            let disk = home + "/disk.img"
            guard FileManager.default.createFile(atPath: disk, contents: Data(count: 1 << 20)) else {
                throw Failure("cannot create \(disk)")
            }
            try FileManager.default.createDirectory(atPath: home + "/run", withIntermediateDirectories: false)
            chmod(home + "/run", 0o700)
            for path in [home, home + "/run", disk] where chown(path, SessionUserTests.uid, SessionUserTests.uid) != 0 {
                throw Failure("cannot chown \(path)")
            }
            chmod(home, 0o700)
            domainXML = root + "/session.xml"
            let xml = """
                <domain type='kvm'>
                  <name>sess</name>
                  <memory unit='MiB'>64</memory>
                  <vcpu>1</vcpu>
                  <os>
                    <type arch='x86_64'>hvm</type>
                    <kernel>\(root)/hello.elf</kernel><cmdline>greeting=session</cmdline>
                  </os>
                  <devices>
                    <disk type='file' device='disk'><source file='\(disk)'/><target dev='vda' bus='virtio'/></disk>
                    <serial type='file'><source path='\(console)'/><target port='0'/></serial>
                  </devices>
                </domain>
                """
            try xml.write(toFile: domainXML, atomically: true, encoding: .utf8)
            chmod(domainXML, 0o644)
        }

        /// The user's environment: nothing of ours, only the XDG directories (the run directory is the user's, 0700).
        var environment: [String] {
            [
                "PATH=/usr/bin:/bin", "LC_ALL=C", "HOME=\(home)", "XDG_CONFIG_HOME=\(home)/.config",
                "XDG_DATA_HOME=\(home)/.local/share", "XDG_RUNTIME_DIR=\(home)/run",
            ]
        }

        /// `env -i ENV setpriv --reuid U --regid U --clear-groups virtsh -c kvm:///session COMMANDS`.
        func asUser(_ commands: String) -> [String] {
            ["/usr/bin/env", "-i"] + environment + [
                "/usr/bin/setpriv", "--reuid", "\(SessionUserTests.uid)", "--regid", "\(SessionUserTests.uid)",
                "--clear-groups", ProcessRunner.virtshPath, "-c", "kvm:///session", commands,
            ]
        }

        /// Runs `argv` to its end; returns its status, standard output and standard error.
        func run(_ argv: [String]) throws -> (status: Int32, output: String, error: String) {
            let process = try SpawnedProcess(argv[0], Array(argv.dropFirst()))
            let status = process.wait()
            return (status, process.output, process.errorOutput)
        }

        /// The user's processes still running (virt-kvm, virtlockd), by pid. A zombie is not running: an ended
        /// supervisor is reaped by init (or the nearest subreaper), which it was reparented to, not by us.
        func userProcesses() -> [Int32: String] {
            var found: [Int32: String] = [:]
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
                guard let pid = Int32(entry),
                    let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
                else { continue }
                let lines = status.split(separator: "\n")
                guard !lines.contains(where: { $0.hasPrefix("State:") && $0.contains("Z (zombie)") }),
                    let uidLine = lines.first(where: { $0.hasPrefix("Uid:") }),
                    uidLine.split(separator: "\t").dropFirst().first == "\(SessionUserTests.uid)",
                    let name = lines.first(where: { $0.hasPrefix("Name:") })
                else { continue }
                let comm = name.dropFirst("Name:".count).trimmingCharacters(in: .whitespaces)
                if comm.hasPrefix("virt") { found[pid] = comm }
            }
            return found
        }

        /// Stops the user's lease daemon (started on demand, it would otherwise linger for its idle timeout) and
        /// waits until none of the user's processes is left.
        func cleanUp() {
            if let text = try? String(contentsOfFile: home + "/run/swift-virt/lockd/virtlockd.pid", encoding: .utf8),
                let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
            {
                kill(pid, SIGTERM)
            }
            if !eventually(within: 5, { userProcesses().isEmpty }) {
                for pid in userProcesses().keys { kill(pid, SIGKILL) }
            }
        }
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// Runs `virtsh -c kvm:///session COMMANDS` as the user in a private mount namespace whose /dev/kvm is a node of
    /// the host's KVM device with `mode` (owned by root). The processes a start launches stay in that namespace;
    /// the host's /dev/kvm keeps its owner and mode.
    static func inNamespace(_ home: Home, deviceMode: String, _ commands: String) throws
        -> (status: Int32, output: String, error: String)
    {
        let node = home.root + "/kvm-\(deviceMode)"
        let script =
            "rm -f \(node) && mknod -m \(deviceMode) \(node) c $((0x$(stat -c %t /dev/kvm))) "
            + "$((0x$(stat -c %T /dev/kvm))) && mount --bind \(node) /dev/kvm && exec \"$@\""
        return try home.run(
            ["/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", script, "sh"]
                + home.asUser(commands))
    }

    static func hostDeviceMode() -> mode_t? {
        var info = stat()
        return stat("/dev/kvm", &info) == 0 ? info.st_mode : nil
    }

    @Test("a user who may not open /dev/kvm defines the domain, and start says what is missing")
    func withoutKVMAccess() throws {
        let home = try Home()
        defer { home.cleanUp() }
        let hostMode = Self.hostDeviceMode()
        let result = try Self.inNamespace(home, deviceMode: "600", "define \(home.domainXML); start sess")
        #expect(result.output.contains("Domain 'sess' defined from \(home.domainXML)"), "\(result)")
        #expect(result.status == 1)
        #expect(
            result.error.contains(
                "error: Failed to start domain 'sess'\nerror: operation failed: domain 'sess' did not start: "
                    + "open on /dev/kvm failed: Permission denied; add the user to group 'kvm'"),
            "\(result)")
        // The store is the user's, in the user's directories; nothing runs after the failed start.
        var info = stat()
        #expect(stat(home.home + "/.local/share/swift-virt/swift-virt.db", &info) == 0 && info.st_uid == Self.uid)
        let after = try home.run(home.asUser("list --all"))
        #expect(after.status == 0 && after.output.contains(" -    sess   shut off"), "\(after)")
        home.cleanUp()
        #expect(home.userProcesses().isEmpty)
        #expect(Self.hostDeviceMode() == hostMode, "the host's /dev/kvm is untouched")
    }

    @Test("a user who may open /dev/kvm starts a real guest with a leased disk and sees it end")
    func withKVMAccess() throws {
        let home = try Home()
        defer { home.cleanUp() }
        let hostMode = Self.hostDeviceMode()
        let started = try Self.inNamespace(home, deviceMode: "666", "define \(home.domainXML); start sess")
        #expect(started.status == 0, "\(started)")
        #expect(started.output.contains("Domain 'sess' started"), "\(started)")
        // The guest powers off after its greeting; the domain then reads shut off (shutdown).
        var state = ""
        _ = eventually {
            state = (try? home.run(home.asUser("domstate sess --reason")))?.output ?? ""
            return state.contains("shut off")
        }
        #expect(state.trimmingCharacters(in: .whitespacesAndNewlines) == "shut off (shutdown)")
        let console = (try? String(contentsOfFile: home.console, encoding: .utf8)) ?? ""
        #expect(console.contains("hello from a PVH guest") && console.contains("greeting: session"), "\(console)")
        // The log and the lease daemon were the user's, under $XDG_DATA_HOME and $XDG_RUNTIME_DIR.
        let log = home.home + "/.local/share/swift-virt/log/sess.log"
        var info = stat()
        #expect(stat(log, &info) == 0 && info.st_uid == Self.uid)
        let logText = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(logText.contains("took 1 lease from the lock daemon"), "\(logText)")
        #expect(logText.contains("released the leases"), "\(logText)")
        #expect(stat(home.home + "/run/swift-virt/lockd/virtlockd.sock", &info) == 0 && info.st_uid == Self.uid)
        home.cleanUp()
        #expect(home.userProcesses().isEmpty)
        #expect(Self.hostDeviceMode() == hostMode, "the host's /dev/kvm is untouched")
    }
}
