import Glibc
import Locking
import Testing
import VirtBase
import VirtTestSupport

/// Real daemons on temporary sockets, with the built `virtlockd` beside the test bundle.
@Suite struct DaemonTests {
    let web1 = LeaseOwner(uuid: "11111111-1111-1111-1111-111111111111", name: "web1", pid: getpid())
    let web2 = LeaseOwner(uuid: "22222222-2222-2222-2222-222222222222", name: "web2", pid: getpid())

    private func exclusive(_ path: String) -> LeaseResource {
        LeaseResource(lockspace: "", name: path, mode: .exclusive, label: "disk '\(path)'")
    }

    private func stopOnDemandDaemon(_ paths: LockdPaths) {
        let text = Posix.readFile(paths.pidFilePath) ?? []
        guard let pid = Int32(String(decoding: text.filter { $0 >= 48 && $0 <= 57 }, as: UTF8.self)) else { return }
        kill(pid, SIGTERM)
        _ = eventually { kill(pid, 0) != 0 }
    }

    @Test func startsOnDemandAndRefusesASecondOwnerNamingTheHolder() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let paths = LockdPaths.embed(root: dir.path)
        dir.write("etc/virtlockd.conf", "host_name = \"host-a\"\n")
        let a = dir.file("a.img")
        let b = dir.file("b.img")
        let client = LeaseClient(paths: paths, daemonExecutable: TestProcess.virtlockd)
        defer { stopOnDemandDaemon(paths) }

        let first = try client.acquire(owner: web1, resources: [exclusive(a)])
        #expect(first.isAlive)
        #expect(first.leases.map(\.resource) == [a])
        #expect {
            try client.acquire(owner: web2, resources: [exclusive(b), exclusive(a)])
        } throws: {
            "\($0)" == "resource busy: disk '\(a)' is leased by domain 'web1' (uuid \(web1.uuid)) on host 'host-a'"
        }
        // All or none: the refused start left nothing behind, b is free.
        let third = try client.acquire(
            owner: LeaseOwner(uuid: "3", name: "db", pid: getpid()), resources: [exclusive(b)])
        #expect(try client.allLeases().map(\.owner.name) == ["db", "web1"])
        third.close()
        first.close()
        #expect(eventually { (try? client.status().leases) == 0 })
        let second = try client.acquire(owner: web2, resources: [exclusive(a)])
        #expect(try second.currentLeases().count == 1)
        second.close()
    }

    @Test func shareableDisksAreSharedAndReadOnlyDisksAreNotLocked() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let daemon = TestDaemon(root: dir.path)
        defer { daemon.stop() }
        let shared = dir.file("shared.img")
        let iso = dir.file("install.iso")
        let config = LockdConfig()
        let plan1 = try LeasePlan.resources(
            disks: [.init(path: shared, access: .shareable), .init(path: iso, access: .readOnly)], leases: [],
            config: config)
        let plan2 = try LeasePlan.resources(
            disks: [.init(path: shared, access: .shareable)], leases: [], config: config)
        let one = try daemon.client.acquire(owner: web1, resources: plan1)
        let two = try daemon.client.acquire(owner: web2, resources: plan2)
        #expect(one.leases.map(\.mode) == [.shared])
        #expect(two.leases.map(\.mode) == [.shared])
        // The read-only disk was not leased: someone else may even write-lease it.
        let writer = try daemon.client.acquire(
            owner: LeaseOwner(uuid: "3", name: "builder", pid: getpid()), resources: [exclusive(iso)])
        #expect {
            try daemon.client.acquire(
                owner: LeaseOwner(uuid: "4", name: "x", pid: getpid()), resources: [exclusive(shared)])
        } throws: { "\($0)".hasPrefix("resource busy: disk '\(shared)' is leased by domain 'web") }
        writer.close()
        one.close()
        two.close()
    }

    @Test func killingTheHoldingProcessReleasesItsLeases() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let daemon = TestDaemon(root: dir.path)
        defer { daemon.stop() }
        let disk = dir.file("a.img")
        let holder = TestProcess([
            TestProcess.virtlockd, "--client-hold", "--root", dir.path, "--no-start", "--uuid", web1.uuid, "--name",
            "web1",
            "--disk", disk,
        ])
        #expect(holder.awaitOutputLine() == "held 1\n")
        #expect(throws: VirtError.self) { try daemon.client.acquire(owner: web2, resources: [exclusive(disk)]) }
        holder.signal(SIGKILL)
        #expect(holder.wait() == 128 + SIGKILL)
        #expect(eventually { (try? daemon.client.acquire(owner: web2, resources: [exclusive(disk)]))?.isAlive == true })
        #expect(try daemon.client.status().leases == 0)
    }

    @Test func sessionDiesWithTheDaemon() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let daemon = TestDaemon(root: dir.path)
        let disk = dir.file("a.img")
        let session = try daemon.client.acquire(owner: web1, resources: [exclusive(disk)])
        #expect(session.isAlive)
        daemon.stop()
        #expect(!session.isAlive)
        // A new daemon: the session re-establishes its leases.
        let restarted = TestDaemon(root: dir.path)
        defer { restarted.stop() }
        let again = try session.reestablish(using: restarted.client)
        #expect(again.isAlive && again.leases.count == 1)
        again.close()
    }

    @Test func reexecUnderLoadNeverLetsAContenderIn() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let daemon = TestDaemon(root: dir.path)
        defer { daemon.stop() }
        let disk = dir.file("a.img")
        let others = (0..<20).map { dir.file("other\($0).img") }
        let holder = TestProcess([
            TestProcess.virtlockd, "--client-hold", "--root", dir.path, "--no-start", "--uuid", web1.uuid, "--name",
            "web1",
            "--disk", disk,
        ])
        #expect(holder.awaitOutputLine() == "held 1\n")
        let load = try others.enumerated().map { index, path in
            try daemon.client.acquire(
                owner: LeaseOwner(uuid: "load-\(index)", name: "load\(index)", pid: getpid()),
                resources: [exclusive(path)])
        }
        let stop = dir.path + "/stop"
        let contender = TestProcess([
            "/bin/sh", "-c",
            """
            n=0; got=0
            while [ ! -e '\(stop)' ]; do
              if '\(TestProcess.virtlockd)' --client-hold --root '\(dir.path)' --no-start --uuid contender --name web2 \
                   --disk '\(disk)' </dev/null >/dev/null 2>&1; then got=$((got+1)); fi
              n=$((n+1))
            done
            echo "attempts $n got $got"
            """,
        ])
        let inProcess = Contender(client: daemon.client, owner: web2, resources: [exclusive(disk)])
        let restarts = 20
        for round in 1...restarts {
            kill(daemon.daemonPID, SIGUSR1)
            #expect(eventually { (try? daemon.client.status().restarts) == round })
        }
        inProcess.stop()
        _ = TestProcess.run(["/usr/bin/touch", stop])
        #expect(inProcess.successes.load(ordering: .relaxed) == 0)
        #expect(inProcess.attempts.load(ordering: .relaxed) > 0)
        #expect(contender.wait() == 0)
        let report = contender.output.split(separator: " ")
        #expect(
            report.count == 4 && report[3] == "0\n", "a contender got the lease during a re-exec: \(contender.output)")
        #expect((Int(report[1]) ?? 0) > 0)
        print(
            "re-exec under load: \(restarts) re-execs; in-process contender \(inProcess.attempts.load(ordering: .relaxed)) "
                + "attempts; process contender \(contender.output)", terminator: "")
        let status = try daemon.client.status()
        #expect(status.leases == others.count + 1)
        #expect(status.pid == daemon.daemonPID)
        #expect(load.allSatisfy { $0.isAlive })
        holder.closeInput()
        #expect(holder.wait() == 0)
        #expect(eventually { (try? daemon.client.acquire(owner: web2, resources: [exclusive(disk)])) != nil })
        for session in load { session.close() }
    }

    @Test func malformedOversizedAndUnknownFramesGetErrorsAndTheDaemonLives() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let daemon = TestDaemon(root: dir.path)
        defer { daemon.stop() }
        func connection() throws -> LockConnection {
            LockConnection(
                fd: try UnixSocket.connect(path: daemon.paths.socketPath, timeoutMs: 2000, waitForListener: true))
        }
        func send(_ connection: LockConnection, _ bytes: [UInt8]) throws { try Posix.writeAll(connection.fd, bytes) }
        func framed(_ text: String) -> [UInt8] {
            let body = Array(text.utf8)
            return [0, 0, UInt8(body.count >> 8), UInt8(body.count & 0xff)] + body
        }

        let garbage = try connection()
        try send(garbage, framed("{this is not json"))
        let reply = try garbage.readReply()
        #expect(reply.id == nil && reply.error?.code == LockProtocol.ErrorCode.malformedFrame)
        #expect(throws: LockCallError.self) { try garbage.readReply() }  // closed by the daemon

        let huge = try connection()
        try send(huge, [0x7f, 0xff, 0xff, 0xff])
        #expect(try huge.readReply().error?.code == LockProtocol.ErrorCode.frameTooLarge)

        let unknown = try connection()
        try send(unknown, framed(#"{"version":1,"id":9,"method":"self_destruct"}"#))
        let answer = try unknown.readReply()
        #expect(answer.id == 9 && answer.error?.code == LockProtocol.ErrorCode.unknownMethod)
        // Not registered yet: refused, and the connection stays usable.
        #expect(throws: LockCallError.self) { try unknown.call(.acquire, LockParams(resource: "/x")) }
        #expect(try unknown.call(.status).status?.pid == daemon.daemonPID)  // still served

        // A client holding a lease disconnects in the middle of a request: the lease is released.
        let disk = dir.file("a.img")
        let half = try connection()
        _ = try half.call(.register, LockParams(owner: web1))
        _ = try half.call(.acquire, LockParams(lockspace: "", resource: disk, mode: .exclusive))
        try send(half, Array(framed(#"{"version":1,"id":3,"method":"release","params":{}}"#).prefix(10)))
        half.close()
        #expect(eventually { (try? daemon.client.acquire(owner: web2, resources: [exclusive(disk)])) != nil })
        #expect(try daemon.client.status().pid == daemon.daemonPID)
    }

    @Test func maxClientsIsEnforced() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let daemon = TestDaemon(root: dir.path, config: "max_clients = 2\n")
        defer { daemon.stop() }
        let disk = dir.file("a.img")
        // The readiness probe's connection may still be closing inside the daemon: retry the first two.
        let one = try retrying { try daemon.client.acquire(owner: web1, resources: [exclusive(disk)]) }
        let two = try retrying {
            let connection = LockConnection(
                fd: try UnixSocket.connect(path: daemon.paths.socketPath, timeoutMs: 2000, waitForListener: true))
            _ = try connection.call(.status)
            return connection
        }
        #expect {
            try daemon.client.status()
        } throws: { "\($0)".contains("max_clients = 2") }
        two.close()
        #expect(eventually { (try? daemon.client.status()) != nil })
        one.close()
    }

    @Test(.enabled(if: isRoot, "needs root to connect as another uid (setpriv)"))
    func peersOfAnotherUIDAreRefused() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let daemon = TestDaemon(root: dir.path)
        defer { daemon.stop() }
        var info = stat()
        #expect(stat(daemon.paths.socketPath, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        // Open the file permissions so only the SO_PEERCRED check stands in the way.
        _ = chmod(dir.path, 0o755)
        _ = chmod(dir.path + "/run", 0o755)
        _ = chmod(daemon.paths.lockdDirectory, 0o755)
        _ = chmod(daemon.paths.socketPath, 0o666)
        let (code, _, errors) = TestProcess.run([
            "/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", TestProcess.virtlockd,
            "--client-status",
            "--root", dir.path,
        ])
        #expect(code == 1)
        #expect(errors.contains("operation forbidden") && errors.contains("not uid 65534"), "\(errors)")
        #expect(eventually { (try? daemon.client.status().clients) == 1 })
    }

    @Test func concurrentStartsOnDemandMakeOneDaemon() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let paths = LockdPaths.embed(root: dir.path)
        defer { stopOnDemandDaemon(paths) }
        let holders = (0..<4).map { index in
            TestProcess([
                TestProcess.virtlockd, "--client-hold", "--root", dir.path, "--uuid", "u\(index)", "--name",
                "vm\(index)",
                "--disk", dir.file("d\(index).img"),
            ])
        }
        for holder in holders { #expect(holder.awaitOutputLine() == "held 1\n", "\(holder.errors)") }
        let status = try LeaseClient(paths: paths, daemonExecutable: nil).status()
        #expect(status.leases == 4)
        for holder in holders {
            holder.closeInput()
            holder.wait()
        }
    }

    @Test func configAndPidFileOptions() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        dir.write("custom.conf", "host_name = \"custom-host\"\nlog_level = 4\n")
        let pidFile = dir.path + "/custom.pid"
        let process = TestProcess([
            TestProcess.virtlockd, "--root", dir.path, "-f", dir.path + "/custom.conf", "-p", pidFile,
        ])
        let client = LeaseClient(paths: LockdPaths.embed(root: dir.path), daemonExecutable: nil)
        let status = try retrying { try client.status() }
        #expect(status.host == "custom-host")
        #expect(status.pid == process.pid)
        let written = String(decoding: Posix.readFile(pidFile) ?? [], as: UTF8.self)
        #expect(written == "\(process.pid)\n")
        process.signal(SIGTERM)
        #expect(process.wait() == 0)
        #expect(access(pidFile, F_OK) != 0)

        // A bad configuration stops the start with the file and line named.
        dir.write("bad.conf", "log_level = 2\nmax_clientz = 5\n")
        let (code, _, errors) = TestProcess.run([
            TestProcess.virtlockd, "--root", dir.path, "-f", dir.path + "/bad.conf",
        ])
        #expect(code == 1)
        #expect(errors.contains("\(dir.path)/bad.conf:2: unknown setting 'max_clientz'"), "\(errors)")
    }

    @Test func sigtermStopsCleanly() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let daemon = TestDaemon(root: dir.path)
        #expect(access(daemon.paths.pidFilePath, F_OK) == 0)
        daemon.process.signal(SIGTERM)
        #expect(daemon.process.wait() == 0)
        #expect(access(daemon.paths.socketPath, F_OK) != 0)
        #expect(access(daemon.paths.pidFilePath, F_OK) != 0)
    }
}
