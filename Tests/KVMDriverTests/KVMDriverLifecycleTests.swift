import Foundation
import Glibc
import KVMDriver
import Testing
import VirtCore
import VirtTestSupport

/// Real guests through the kvm:// driver: `virt-kvm` supervisor and hypervisor, monitor, reconciliation.
@Suite("kvm:// driver: running guests", .enabled(if: TickGuest.available))
struct KVMDriverLifecycleTests {
    /// A ticking domain whose console goes to `console` (or a pty when nil).
    static func document(_ name: String, console: String?, delay: Int = 300_000) -> String {
        let serial =
            console.map { "<serial type='file'><source path='\($0)'/><target port='0'/></serial>" }
            ?? "<serial type='pty'><target port='0'/></serial>"
        return """
            <domain type='kvm'>
              <name>\(name)</name>
              <memory unit='MiB'>16</memory>
              <vcpu>1</vcpu>
              <os><type>hvm</type><kernel>\(TickGuest.image.path ?? "")</kernel><cmdline>delay=\(delay)</cmdline></os>
              <devices>\(serial)</devices>
            </domain>
            """
    }

    static func lines(_ path: String) -> Int {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").count
    }

    @Test("start, console output, suspend stops it, resume continues, destroy leaves nothing behind")
    func startSuspendResumeDestroy() throws {
        let root = try EmbedRoot()
        defer { root.remove() }
        let console = root.path + ".console"
        defer { unlink(console) }
        let connection = try Connection.open(root.uri, factories: [KVMDriverFactory()])
        let uuid = try connection.defineXML(Self.document("ticker", console: console)).domain.uuid
        try "output of an earlier run\n".write(toFile: console, atomically: false, encoding: .utf8)
        try connection.start(uuid)
        defer { try? connection.destroy(uuid) }
        #expect(try connection.summary(uuid).state == .booted)
        #expect(eventually(within: 5) { Self.lines(console) >= 2 }, "the guest's ticks reach the console file")
        let text = try String(contentsOfFile: console, encoding: .utf8)
        #expect(!text.contains("earlier run"), "a console file without append='on' starts empty")

        try connection.suspend(uuid)
        #expect(try connection.summary(uuid).state == .pausedUser)
        let paused = Self.lines(console)
        usleep(300_000)
        #expect(Self.lines(console) == paused, "a paused guest prints nothing")

        try connection.resume(uuid)
        #expect(try connection.summary(uuid).state == .unpaused)
        #expect(eventually(within: 5) { Self.lines(console) > paused }, "a resumed guest prints again")
        #expect(try connection.info(uuid).cpuTimeNs > 0)

        try connection.destroy(uuid)
        #expect(try connection.summary(uuid).state == .shutoffDestroyed)
        let run = (try? FileManager.default.contentsOfDirectory(atPath: root.path + "/run")) ?? []
        #expect(run.filter { $0.hasPrefix("ticker.") }.isEmpty, "run files left: \(run)")
    }

    @Test("shutdown: the guest answers Ctrl+Alt+Del by powering off, the domain ends shut off (shutdown)")
    func shutdown() throws {
        let root = try EmbedRoot()
        defer { root.remove() }
        let connection = try Connection.open(root.uri, factories: [KVMDriverFactory()])
        let uuid = try connection.defineXML(Self.document("polite", console: "/dev/null")).domain.uuid
        try connection.start(uuid)
        defer { try? connection.destroy(uuid) }
        try connection.shutdown(uuid)
        #expect(try eventually(within: 5) { try connection.summary(uuid).state == .shutoffShutdown })
    }

    @Test("kill -9 of the hypervisor: the next call shows shut off (crashed) and frees the run files")
    func crash() throws {
        let root = try EmbedRoot()
        defer { root.remove() }
        let connection = try Connection.open(root.uri, factories: [KVMDriverFactory()])
        let uuid = try connection.defineXML(Self.document("victim", console: "/dev/null")).domain.uuid
        try connection.start(uuid)
        defer { try? connection.destroy(uuid) }
        let pidText = try String(contentsOfFile: root.path + "/run/victim.pid", encoding: .utf8)
        let pid = try #require(Int32(pidText.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(kill(pid, SIGKILL) == 0)
        #expect(try eventually(within: 1.5) { try connection.summary(uuid).state == .shutoffCrashed })
        #expect(eventually(within: 1) { !FileManager.default.fileExists(atPath: root.path + "/run/victim.pid") })
    }

    @Test("a pty console shows its path in the live XML only")
    func ptyInLiveXML() throws {
        let root = try EmbedRoot()
        defer { root.remove() }
        let connection = try Connection.open(root.uri, factories: [KVMDriverFactory()])
        let uuid = try connection.defineXML(Self.document("tty", console: nil)).domain.uuid
        try connection.start(uuid)
        defer { try? connection.destroy(uuid) }
        let live = try connection.domainXML(uuid)
        #expect(live.contains("<source path='/dev/pts/"))
        #expect(live.contains("<domain type='kvm' id='"))
        #expect(!(try connection.domainXML(uuid, inactive: true)).contains("/dev/pts/"))
        // Defining the live XML again keeps no pty path in the definition.
        try connection.defineXML(live)
        #expect(!(try connection.domainXML(uuid, inactive: true)).contains("/dev/pts/"))
    }

    @Test("two concurrent virtsh start of one domain: one success, one 'Domain is already active'")
    func concurrentStarts() throws {
        let root = try EmbedRoot()
        defer { root.remove() }
        let connection = try Connection.open(root.uri, factories: [KVMDriverFactory()])
        let uuid = try connection.defineXML(Self.document("racer", console: "/dev/null")).domain.uuid
        defer { try? connection.destroy(uuid) }
        let virtsh = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("virtsh").path
        try #require(FileManager.default.isExecutableFile(atPath: virtsh), "virtsh is built beside the tests")
        // posix_spawn + waitpid: Foundation's Process can miss a child's exit in a busy test process.
        var pids: [pid_t] = []
        var outputs: [String] = []
        for index in 0..<2 {
            let output = root.path + ".start\(index).err"
            outputs.append(output)
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 2, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            let arguments = [virtsh, "-q", "-c", root.uri, "start", "racer"]
            var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
            defer { argv.forEach { free($0) } }
            var pid: pid_t = 0
            #expect(posix_spawn(&pid, virtsh, &actions, nil, &argv, environ) == 0)
            pids.append(pid)
        }
        var statuses: [Int32] = []
        for pid in pids {
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
            statuses.append((status >> 8) & 0xff)
        }
        statuses.sort()
        let messages = outputs.map { (try? String(contentsOfFile: $0, encoding: .utf8)) ?? "" }
        outputs.forEach { unlink($0) }
        #expect(statuses == [0, 1], "\(messages)")
        #expect(messages.joined().contains("already active") || messages.joined().contains("already running"))
        #expect(try connection.summary(uuid).state.state == .running)
    }
}
