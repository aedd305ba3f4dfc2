import Glibc
import Locking
import Testing
import VirtBase
import VirtTestSupport

/// systemd socket activation: the daemon serves the listening socket it is handed (LISTEN_FDS/LISTEN_PID)
/// and leaves it in place at shutdown. `systemd-socket-activate` plays systemd's part.
@Suite struct SocketActivationTests {
    static let activator = "/usr/bin/systemd-socket-activate"

    @Test(.enabled(if: access(activator, X_OK) == 0, "needs systemd-socket-activate (package systemd)"))
    func servesThePassedSocket() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let paths = LockdPaths.embed(root: dir.path)
        try Posix.makeDirectories(paths.lockdDirectory, mode: 0o700)
        let activated = TestProcess([Self.activator, "-l", paths.socketPath, TestProcess.virtlockd, "--root", dir.path])
        #expect(eventually { access(paths.socketPath, F_OK) == 0 })
        let client = LeaseClient(paths: paths, daemonExecutable: nil)
        let status = try retrying { try client.status() }
        // systemd-socket-activate execs the daemon in place: same pid.
        #expect(status.pid == activated.pid)
        let disk = dir.file("a.img")
        let session = try client.acquire(
            owner: LeaseOwner(uuid: "1", name: "web1", pid: getpid()),
            resources: [LeaseResource(lockspace: "", name: disk, mode: .exclusive, label: "disk '\(disk)'")])
        #expect(session.isAlive)
        session.close()
        activated.signal(SIGTERM)
        #expect(activated.wait() == 0)
        // The socket belongs to systemd: it stays.
        #expect(access(paths.socketPath, F_OK) == 0)
    }
}
