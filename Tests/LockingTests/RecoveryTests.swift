import Glibc
import Locking
import Testing
import VirtBase
import VirtTestSupport

/// A daemon started after another went away (killed, crashed, stopped) while owners held leases: until
/// those owners have reclaimed (or are gone, or the grace period ends) nobody else may acquire.
@Suite struct RecoveryTests {
    let web1 = LeaseOwner(uuid: "11111111-1111-1111-1111-111111111111", name: "web1", pid: getpid())
    let web2 = LeaseOwner(uuid: "22222222-2222-2222-2222-222222222222", name: "web2", pid: getpid())

    private func exclusive(_ path: String) -> LeaseResource {
        LeaseResource(lockspace: "", name: path, mode: .exclusive, label: "disk '\(path)'")
    }

    /// A daemon whose leases were held by a separate `--client-hold` process for web1, then killed -9;
    /// returns the holder (still running, its leases gone with the daemon) and a fresh daemon.
    private func killedDaemon(_ dir: TemporaryDirectory, disk: String, reclaimTimeout: Int) -> (TestProcess, TestDaemon)
    {
        let first = TestDaemon(root: dir.path, config: "reclaim_timeout = \(reclaimTimeout)\n")
        let holder = TestProcess([
            TestProcess.virtlockd, "--client-hold", "--root", dir.path, "--no-start", "--uuid", web1.uuid, "--name",
            "web1", "--disk", disk,
        ])
        #expect(holder.awaitOutputLine() == "held 1\n")
        first.process.signal(SIGKILL)
        first.process.wait()
        return (holder, TestDaemon(root: dir.path, config: "reclaim_timeout = \(reclaimTimeout)\n"))
    }

    private func impatient(_ daemon: TestDaemon) -> LeaseClient {
        LeaseClient(paths: daemon.paths, daemonExecutable: nil, connectTimeoutMs: 2000, recoveryWaitMs: 0)
    }

    @Test func newcomersWaitUntilThePreviousOwnerReclaims() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let disk = dir.file("a.img")
        let (holder, daemon) = killedDaemon(dir, disk: disk, reclaimTimeout: 60)
        defer { daemon.stop() }
        #expect(try daemon.client.status().recovering == 1)
        // The disk is unlocked now, but web1 may come back: web2 is refused, with web1 named.
        #expect {
            try impatient(daemon).acquire(owner: web2, resources: [exclusive(disk)])
        } throws: { error in
            let text = "\(error)"
            return text.hasPrefix("resource busy: disk '\(disk)' cannot be leased yet")
                && text.contains("domain 'web1' (uuid \(web1.uuid))")
        }
        // web1's supervisor reclaims (here on its behalf: the owner is matched by uuid) and gets the disk.
        let back = try impatient(daemon).reclaim(owner: web1, resources: [exclusive(disk)])
        #expect(back.failures.isEmpty)
        #expect(back.session.leases.map(\.resource) == [disk])
        #expect(try daemon.client.status().recovering == 0)
        #expect {
            try impatient(daemon).acquire(owner: web2, resources: [exclusive(disk)])
        } throws: { "\($0)".hasPrefix("resource busy: disk '\(disk)' is leased by domain 'web1'") }
        back.session.close()
        holder.closeInput()
        holder.wait()
    }

    @Test func theGracePeriodEndsWhenThePreviousOwnerIsGone() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let disk = dir.file("a.img")
        let (holder, daemon) = killedDaemon(dir, disk: disk, reclaimTimeout: 60)
        defer { daemon.stop() }
        #expect(throws: VirtError.self) { try impatient(daemon).acquire(owner: web2, resources: [exclusive(disk)]) }
        holder.signal(SIGKILL)
        holder.wait()
        let session = try retrying { try impatient(daemon).acquire(owner: web2, resources: [exclusive(disk)]) }
        #expect(session.leases.count == 1)
        #expect(try daemon.client.status().recovering == 0)
        session.close()
    }

    @Test func theGracePeriodEndsAtItsDeadlineAndPatientClientsWaitForIt() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let disk = dir.file("a.img")
        let (holder, daemon) = killedDaemon(dir, disk: disk, reclaimTimeout: 1)
        defer { daemon.stop() }
        // The default client waits through the grace period instead of failing.
        let session = try daemon.client.acquire(owner: web2, resources: [exclusive(disk)])
        #expect(session.leases.count == 1)
        #expect(try daemon.client.status().recovering == 0)
        session.close()
        holder.closeInput()
        holder.wait()
    }

    @Test func reclaimKeepsWhatItCanAndReportsTheRest() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let daemon = TestDaemon(root: dir.path)
        defer { daemon.stop() }
        let a = dir.file("a.img")
        let b = dir.file("b.img")
        let other = try daemon.client.acquire(owner: web2, resources: [exclusive(b)])
        let back = try daemon.client.reclaim(owner: web1, resources: [exclusive(a), exclusive(b)])
        #expect(back.session.leases.map(\.resource) == [a])
        let failure = try #require(back.failures[exclusive(b)])
        #expect(failure.code == LockProtocol.ErrorCode.resourceBusy)
        #expect(failure.holder?.name == "web2")
        back.session.close()
        other.close()
    }

    @Test func anOnDemandDaemonLeavesWhenIdle() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let paths = LockdPaths.embed(root: dir.path)
        let daemon = TestProcess([TestProcess.virtlockd, "--root", dir.path, "--timeout", "1"])
        let client = LeaseClient(paths: paths, daemonExecutable: nil)
        #expect(eventually { (try? client.status()) != nil })
        // In use, it stays.
        let session = try client.acquire(owner: web1, resources: [exclusive(dir.file("a.img"))])
        usleep(1_500_000)
        #expect(!daemon.hasExited)
        session.close()
        // Idle, it goes, cleaning up its socket and pid file.
        #expect(eventually { daemon.hasExited })
        #expect(daemon.wait() == 0)
        #expect(Posix.readFile(paths.socketPath) == nil && Posix.readFile(paths.pidFilePath) == nil)
    }

    @Test func theOwnerJournalFollowsConnections() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let daemon = TestDaemon(root: dir.path)
        defer { daemon.stop() }
        let journal = daemon.paths.ownerJournalPath
        let session = try daemon.client.acquire(owner: web1, resources: [exclusive(dir.file("a.img"))])
        let text = String(decoding: Posix.readFile(journal) ?? [], as: UTF8.self)
        #expect(text.hasPrefix("+ \(getpid()) "))
        #expect(text.contains("\"name\":\"web1\""))
        session.close()
        #expect(
            eventually {
                String(decoding: Posix.readFile(journal) ?? [], as: UTF8.self).contains("- \(getpid()) ")
            })
    }
}
