import Foundation
import Glibc
import Testing
import VirtCore
import VirtTestSupport

@testable import KVMDriver

/// Disk leases through the kvm:// driver with real tiny guests and real lock daemons started on demand in
/// temporary embed roots (docs/locking.md): the supervisor takes the leases before the guest runs, holds
/// them for the domain's life, takes them back when the daemon dies, and applies `<on_lockfailure>`.
@Suite("kvm:// driver: disk leases", .enabled(if: TickGuest.available))
struct LeaseGuestTests {
    /// A ticking domain with `disks` (XML fragments) and optional extra elements.
    static func document(_ name: String, disks: [String], extra: String = "") -> String {
        """
        <domain type='kvm'>
          <name>\(name)</name>
          <memory unit='MiB'>16</memory>
          <vcpu>1</vcpu>
          <os><type>hvm</type><kernel>\(TickGuest.image.path ?? "")</kernel><cmdline>delay=300000</cmdline></os>
          \(extra)
          <devices>
            \(disks.joined(separator: "\n    "))
            <serial type='file'><source path='/dev/null'/><target port='0'/></serial>
          </devices>
        </domain>
        """
    }

    static func disk(_ path: String, _ target: String = "vda", flags: String = "") -> String {
        "<disk type='file' device='disk'><source file='\(path)'/><target dev='\(target)' bus='virtio'/>\(flags)</disk>"
    }

    /// A root with one disk image and a connection.
    struct Setup {
        let root: EmbedRoot
        let connection: Connection
        let image: String

        init() throws {
            root = try EmbedRoot()
            connection = try Connection.open(root.uri, factories: [KVMDriverFactory()])
            image = root.scratch + "/shared.img"
            try LeaseTools.makeDisk(image)
        }

        func define(_ name: String, disks: [String], extra: String = "") throws -> UUID {
            try connection.defineXML(LeaseGuestTests.document(name, disks: disks, extra: extra)).domain.uuid
        }

        var runDirectory: String { root.path + "/run" }

        func supervisorPID(_ name: String) -> Int32? {
            (try? String(contentsOfFile: runDirectory + "/\(name).supervisor.pid", encoding: .utf8))
                .flatMap { Int32($0.split(separator: "\n").first ?? "") }
        }

        func hypervisorPID(_ name: String) -> Int32? {
            (try? String(contentsOfFile: runDirectory + "/\(name).pid", encoding: .utf8))
                .flatMap { Int32($0.split(separator: "\n").first ?? "") }
        }

        func log(_ name: String) -> String {
            (try? String(contentsOfFile: root.path + "/log/\(name).log", encoding: .utf8)) ?? ""
        }
    }

    @Test("a second domain on a leased disk is refused before it runs, naming the disk and the holder")
    func secondDomainRefused() throws {
        let setup = try Setup()
        defer { setup.root.remove() }
        let first = try setup.define("first", disks: [Self.disk(setup.image)])
        let second = try setup.define("second", disks: [Self.disk(setup.image)])
        try setup.connection.start(first)
        defer { try? setup.connection.destroy(first) }

        var refusal: VirtError?
        do {
            try setup.connection.start(second)
        } catch let error as VirtError {
            refusal = error
        }
        let error = try #require(refusal, "the second start must fail")
        #expect(error.code == .resourceBusy)
        #expect(error.description.hasPrefix("resource busy: disk '\(setup.image)' is leased by domain 'first'"))
        #expect(error.message.contains("(uuid \(first.uuidString.lowercased()))"))
        #expect(error.message.contains(" on host '"))
        #expect(try setup.connection.summary(second).state.state == .shutoff)
        let run = (try? FileManager.default.contentsOfDirectory(atPath: setup.runDirectory)) ?? []
        #expect(run.filter { $0.hasPrefix("second.") }.isEmpty, "a refused start leaves nothing: \(run)")
        #expect(!setup.log("second").contains("hypervisor"), "the second guest never ran")

        let leases = try setup.connection.domainLeases(first)
        #expect(leases.count == 1)
        #expect(leases.first?.kind == .disk && leases.first?.name == setup.image)
        #expect(leases.first?.exclusive == true && leases.first?.state == .held)
        #expect(leases.first?.lockFile == setup.image)
        #expect(try setup.connection.domainLeases(second).isEmpty)
        let host = try setup.connection.hostLeases()
        #expect(host.map(\.domain) == ["first"])
        #expect(host.first?.kind == .disk)
    }

    @Test("virtsh start prints virsh's two lines with the resource busy prefix")
    func virtshTwoLineError() throws {
        let setup = try Setup()
        defer { setup.root.remove() }
        let first = try setup.define("holder", disks: [Self.disk(setup.image)])
        _ = try setup.define("latecomer", disks: [Self.disk(setup.image)])
        try setup.connection.start(first)
        defer { try? setup.connection.destroy(first) }
        let virtsh = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("virtsh").path
        let (status, stderr) = try Self.run([virtsh, "-c", setup.root.uri, "start", "latecomer"])
        #expect(status == 1)
        let lines = stderr.split(separator: "\n").map(String.init)
        #expect(lines.count == 2, "\(stderr)")
        #expect(lines.first == "error: Failed to start domain 'latecomer'")
        #expect(
            lines.last?.hasPrefix(
                "error: resource busy: disk '\(setup.image)' is leased by domain 'holder' (uuid "
                    + first.uuidString.lowercased() + ") on host '") == true, "\(stderr)")
    }

    @Test("a shareable disk is leased shared by both domains; a read-only disk is not leased at all")
    func shareableAndReadOnly() throws {
        let setup = try Setup()
        defer { setup.root.remove() }
        let readOnly = setup.root.scratch + "/base.img"
        try LeaseTools.makeDisk(readOnly)
        let disks = [Self.disk(setup.image, flags: "<shareable/>"), Self.disk(readOnly, "vdb", flags: "<readonly/>")]
        let one = try setup.define("one", disks: disks)
        let two = try setup.define("two", disks: disks)
        let writer = try setup.define("writer", disks: [Self.disk(readOnly)])
        try setup.connection.start(one)
        defer { try? setup.connection.destroy(one) }
        try setup.connection.start(two)
        defer { try? setup.connection.destroy(two) }
        for uuid in [one, two] {
            let leases = try setup.connection.domainLeases(uuid)
            #expect(leases.map(\.name) == [setup.image], "only the shareable disk is leased")
            #expect(leases.first?.exclusive == false)
        }
        #expect(Set(try setup.connection.hostLeases().map(\.domain)) == ["one", "two"])
        // Nobody leases the read-only image, so a domain that writes it is not stopped by the readers.
        try setup.connection.start(writer)
        defer { try? setup.connection.destroy(writer) }
        // An exclusive user of the shared image is refused while the sharers hold it.
        let exclusive = try setup.define("exclusive", disks: [Self.disk(setup.image)])
        #expect(throws: VirtError.self) { try setup.connection.start(exclusive) }
    }

    enum Ending: String, CaseIterable, Sendable {
        case destroy, guestPowerOff, killHypervisor, killSupervisor
    }

    @Test("the leases end with the domain, however it ends", arguments: Ending.allCases)
    func leasesEndWithTheDomain(_ ending: Ending) throws {
        let setup = try Setup()
        defer { setup.root.remove() }
        let first = try setup.define("first", disks: [Self.disk(setup.image)])
        let next = try setup.define("next", disks: [Self.disk(setup.image)])
        try setup.connection.start(first)
        defer { try? setup.connection.destroy(first) }
        #expect(throws: VirtError.self) { try setup.connection.start(next) }
        switch ending {
        case .destroy:
            try setup.connection.destroy(first)
        case .guestPowerOff:
            // The tick guest answers Ctrl+Alt+Del by powering itself off.
            try setup.connection.shutdown(first)
            #expect(try eventually { try setup.connection.summary(first).state.state == .shutoff })
        case .killHypervisor:
            let pid = try #require(setup.hypervisorPID("first"))
            #expect(kill(pid, SIGKILL) == 0)
            #expect(try eventually { try setup.connection.summary(first).state == .shutoffCrashed })
        case .killSupervisor:
            let pid = try #require(setup.supervisorPID("first"))
            #expect(kill(pid, SIGKILL) == 0)
            #expect(try eventually { try setup.connection.summary(first).state.state == .shutoff })
        }
        // A kill -9 is noticed by the daemon when it reads the closed connection: allow it a moment.
        #expect(eventually { (try? setup.connection.start(next)) != nil }, "the disk is free again")
        defer { try? setup.connection.destroy(next) }
        #expect(try setup.connection.domainLeases(next).first?.state == .held)
        #expect(try setup.connection.hostLeases().map(\.domain) == ["next"])
    }

    @Test("the leases are held across a hypervisor restart (on_reboot restart)")
    func heldAcrossRestarts() throws {
        let setup = try Setup()
        defer { setup.root.remove() }
        let first = try setup.define("rebooter", disks: [Self.disk(setup.image)])
        let other = try setup.define("other", disks: [Self.disk(setup.image)])
        try setup.connection.start(first)
        defer { try? setup.connection.destroy(first) }
        let driver = try #require(setup.connection.driver as? KVMDriver)
        let before = try #require(setup.hypervisorPID("rebooter"))
        let daemon = driver.leaseStatus(name: "rebooter", uuid: first)?.daemonPID
        try setup.connection.reset(first)
        #expect(
            eventually {
                guard let now = setup.hypervisorPID("rebooter"), now != before else { return false }
                return LockDaemonCleanup.isRunning(now)
            }, "a fresh hypervisor runs")
        #expect(try setup.connection.summary(first).state.state == .running)
        #expect(driver.leaseStatus(name: "rebooter", uuid: first)?.daemonPID == daemon)
        #expect(try setup.connection.domainLeases(first).map(\.state) == [.held])
        #expect(throws: VirtError.self) { try setup.connection.start(other) }
    }

    @Test(
        "lock daemon killed -9: the supervisor takes the leases back through a new daemon; a contender never gets them")
    func daemonDeath() throws {
        let setup = try Setup()
        defer { setup.root.remove() }
        let uuid = try setup.define("survivor", disks: [Self.disk(setup.image)])
        try setup.connection.start(uuid)
        defer { try? setup.connection.destroy(uuid) }
        let driver = try #require(setup.connection.driver as? KVMDriver)
        let oldDaemon = try #require(LockDaemonCleanup.daemonPID(runDirectory: setup.runDirectory))
        let contender = LeaseContender(
            runDirectory: setup.runDirectory, configDirectory: setup.root.path + "/etc", disk: setup.image)
        defer { _ = contender.stop() }
        // The contender is knocking before the daemon dies, and keeps knocking while it comes back.
        #expect(eventually { contender.attempts >= 3 })
        #expect(kill(oldDaemon, SIGKILL) == 0)
        #expect(
            eventually {
                guard let status = driver.leaseStatus(name: "survivor", uuid: uuid) else { return false }
                return status.daemonPID != oldDaemon && status.leases.allSatisfy { $0.state == .held }
            }, "the leases are back under a new daemon")
        let attemptsAfterDeath = contender.attempts
        #expect(eventually { contender.attempts >= attemptsAfterDeath + 3 })
        let (attempts, successes) = contender.stop()
        #expect(attempts > 0)
        #expect(successes == 0, "the contender got the disk \(successes) times")
        #expect(try setup.connection.summary(uuid).state.state == .running)
        #expect(try setup.connection.domainLeases(uuid).map(\.state) == [.held])
        let log = setup.log("survivor")
        #expect(log.contains("went away; taking 1 lease back"))
        if let line = log.split(separator: "\n").first(where: { $0.contains("back from the new lock daemon") }) {
            print("LeaseGuestTests: \(line)")
        }
    }

    /// Kills the root's daemon while the domain's supervisor is stopped, lets "another host" take the disk,
    /// then lets the supervisor go on: it finds the lease taken and applies `<on_lockfailure>`.
    static func loseTheLease(_ setup: Setup, _ name: String) throws -> ForeignLeaseHolder {
        let supervisor = try #require(setup.supervisorPID(name))
        let daemon = try #require(LockDaemonCleanup.daemonPID(runDirectory: setup.runDirectory))
        #expect(kill(supervisor, SIGSTOP) == 0)
        defer { kill(supervisor, SIGCONT) }
        #expect(kill(daemon, SIGKILL) == 0)
        #expect(eventually { !LockDaemonCleanup.isRunning(daemon) })
        let holder = try ForeignLeaseHolder(root: setup.root.scratch + "/other-host", disk: setup.image)
        #expect(holder.awaitHeld(), "the other host takes the disk while the daemon is gone")
        return holder
    }

    @Test("on_lockfailure default (poweroff): a lease that cannot be had back stops the domain")
    func lockFailurePowerOff() throws {
        let setup = try Setup()
        defer { setup.root.remove() }
        let uuid = try setup.define("victim", disks: [Self.disk(setup.image)])
        try setup.connection.start(uuid)
        defer { try? setup.connection.destroy(uuid) }
        let holder = try Self.loseTheLease(setup, "victim")
        defer { holder.release() }
        #expect(try eventually { try setup.connection.summary(uuid).state == .shutoffDestroyed })
        #expect(setup.log("victim").contains("lease lost: disk '\(setup.image)'"))
        #expect(setup.log("victim").contains("on_lockfailure is poweroff"))
    }

    @Test("on_lockfailure pause: paused while the lease is lost, resume refused until it is back")
    func lockFailurePause() throws {
        let setup = try Setup()
        defer { setup.root.remove() }
        let uuid = try setup.define(
            "careful", disks: [Self.disk(setup.image)], extra: "<on_lockfailure>pause</on_lockfailure>")
        try setup.connection.start(uuid)
        defer { try? setup.connection.destroy(uuid) }
        let holder = try Self.loseTheLease(setup, "careful")
        defer { holder.release() }
        #expect(try eventually { try setup.connection.summary(uuid).state.state == .paused })
        let lost = try setup.connection.domainLeases(uuid)
        #expect(lost.map(\.state) == [.lost])
        #expect(lost.first?.error?.hasPrefix("resource busy: disk '\(setup.image)' is leased") == true)
        var refusal: VirtError?
        do { try setup.connection.resume(uuid) } catch let error as VirtError { refusal = error }
        #expect(refusal?.code == .resourceBusy)
        #expect(refusal?.message.contains("cannot resume without its leases") == true)

        holder.release()
        #expect(
            try eventually { try setup.connection.domainLeases(uuid).map(\.state) == [.held] },
            "the supervisor takes the lease back once the other host let go")
        try setup.connection.resume(uuid)
        #expect(try setup.connection.summary(uuid).state.state == .running)
        usleep(300_000)
        #expect(try setup.connection.summary(uuid).state.state == .running, "the old pause is not folded back in")
    }

    @Test("on_lockfailure ignore: the guest runs on, the lost lease shows in domleases")
    func lockFailureIgnore() throws {
        let setup = try Setup()
        defer { setup.root.remove() }
        let uuid = try setup.define(
            "stubborn", disks: [Self.disk(setup.image)], extra: "<on_lockfailure>ignore</on_lockfailure>")
        try setup.connection.start(uuid)
        defer { try? setup.connection.destroy(uuid) }
        let holder = try Self.loseTheLease(setup, "stubborn")
        defer { holder.release() }
        #expect(try eventually { try setup.connection.domainLeases(uuid).map(\.state) == [.lost] })
        #expect(try setup.connection.summary(uuid).state.state == .running)
        #expect(try setup.connection.hostLeases().contains { $0.domain == "stubborn" && $0.state == .lost })
    }

    @Test("on_lockfailure restart: the guest is stopped and, with the lease still taken, the domain ends failed")
    func lockFailureRestart() throws {
        let setup = try Setup()
        defer { setup.root.remove() }
        let uuid = try setup.define(
            "phoenix", disks: [Self.disk(setup.image)], extra: "<on_lockfailure>restart</on_lockfailure>")
        try setup.connection.start(uuid)
        defer { try? setup.connection.destroy(uuid) }
        let holder = try Self.loseTheLease(setup, "phoenix")
        defer { holder.release() }
        #expect(try eventually { try setup.connection.summary(uuid).state == .shutoffFailed })
        #expect(setup.log("phoenix").contains("could not be taken again for the restart"))
    }

    @Test("lock_manager = \"nop\": no leases, no daemon; explicit <lease> keys conflict under lockd")
    func nopAndExplicitLeases() throws {
        let setup = try Setup()
        defer { setup.root.remove() }
        try "lock_manager = \"nop\"\n".write(
            toFile: setup.root.path + "/etc/kvm.conf", atomically: true, encoding: .utf8)
        let a = try setup.define("a", disks: [Self.disk(setup.image)])
        let b = try setup.define("b", disks: [Self.disk(setup.image)])
        try setup.connection.start(a)
        try setup.connection.start(b)
        #expect(try setup.connection.domainLeases(a).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: setup.runDirectory + "/lockd/virtlockd.pid"))
        try setup.connection.destroy(a)
        try setup.connection.destroy(b)

        try "lock_manager = \"lockd\"\n".write(
            toFile: setup.root.path + "/etc/kvm.conf", atomically: true, encoding: .utf8)
        try "auto_disk_leases = 0\n".write(
            toFile: setup.root.path + "/etc/lockd.conf", atomically: true, encoding: .utf8)
        let leases = setup.root.scratch + "/leases"
        let lease = "<lease><lockspace>area</lockspace><key>db</key><target path='\(leases)'/></lease>"
        let one = try setup.define("keyed1", disks: [lease])
        let two = try setup.define("keyed2", disks: [lease])
        try setup.connection.start(one)
        defer { try? setup.connection.destroy(one) }
        var refusal: VirtError?
        do { try setup.connection.start(two) } catch let error as VirtError { refusal = error }
        #expect(refusal?.code == .resourceBusy)
        #expect(refusal?.message.hasPrefix("lease 'db' in lockspace 'area' is leased by domain 'keyed1'") == true)
        let held = try setup.connection.domainLeases(one)
        #expect(held.first?.kind == .lease && held.first?.name == "db")
        #expect(held.first?.lockFile == leases + "/area/db")
        // auto_disk_leases = 0 makes require_lease_for_disks default to 1: a writable disk without a lease is refused.
        let plain = try setup.define("plain", disks: [Self.disk(setup.image)])
        var unleased: VirtError?
        do { try setup.connection.start(plain) } catch let error as VirtError { unleased = error }
        #expect(unleased?.code == .configUnsupported)
        #expect(unleased?.message.hasPrefix("Read/write, exclusive access, disks were present, but no leases") == true)
        // With require_lease_for_disks = 0 it starts, and the disk itself is not leased.
        try "auto_disk_leases = 0\nrequire_lease_for_disks = 0\n".write(
            toFile: setup.root.path + "/etc/lockd.conf", atomically: true, encoding: .utf8)
        try setup.connection.start(plain)
        defer { try? setup.connection.destroy(plain) }
        #expect(try setup.connection.domainLeases(plain).isEmpty)
    }

    /// Runs `arguments` to completion; returns (exit status, stderr).
    static func run(_ arguments: [String]) throws -> (Int32, String) {
        let errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("lease-test-\(UUID().uuidString)")
            .path
        defer { unlink(errorFile) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, errorFile, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, arguments[0], &actions, nil, &argv, environ)
        guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EIO) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return ((status >> 8) & 0xff, (try? String(contentsOfFile: errorFile, encoding: .utf8)) ?? "")
    }
}
