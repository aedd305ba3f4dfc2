import Foundation
import Glibc
import Locking

/// Stops a lock daemon started on demand for a test's root, through its pid file, and waits until it is
/// gone, so no test leaves a `virtlockd` behind.
enum LockDaemonCleanup {
    static func stop(runDirectory: String) {
        let pidFile = runDirectory + "/lockd/virtlockd.pid"
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0
        else { return }
        kill(pid, SIGTERM)
        for _ in 0..<500 where isRunning(pid) { usleep(10_000) }
        if isRunning(pid) { kill(pid, SIGKILL) }
    }

    /// Whether `pid` runs (a zombie waiting for its reaper does not).
    static func isRunning(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        let state = stat[stat.index(close, offsetBy: 2)...].prefix(1)
        return state != "Z" && state != "X"
    }

    /// The pid in `<run>/lockd/virtlockd.pid`.
    static func daemonPID(runDirectory: String) -> Int32? {
        (try? String(contentsOfFile: runDirectory + "/lockd/virtlockd.pid", encoding: .utf8))
            .flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }
}

/// The built `virtlockd` beside the test bundle.
enum LeaseTools {
    static var virtlockd: String {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("virtlockd").path
    }

    /// A sparse disk image of 1 MiB.
    static func makeDisk(_ path: String) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(fd) }
        guard ftruncate(fd, 1 << 20) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    }
}

/// "Another host": a process that holds a disk through the lock daemon of another root (its own daemon,
/// started on demand), as a domain on a second host sharing the storage would. Released by `release()`.
final class ForeignLeaseHolder {
    let root: String
    private let pid: pid_t
    private var stdinFD: Int32
    private let output: String

    init(root: String, disk: String) throws {
        self.root = root
        output = root + ".holder.out"
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw POSIXError(.EIO) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[0], 0)
        posix_spawn_file_actions_addclose(&actions, fds[1])
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, output + ".err", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let arguments = [
            LeaseTools.virtlockd, "--client-hold", "--root", root, "--uuid", "33333333-3333-4333-8333-333333333333",
            "--name", "intruder", "--disk", disk,
        ]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, arguments[0], &actions, nil, &argv, environ)
        close(fds[0])
        guard rc == 0 else {
            close(fds[1])
            throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EIO)
        }
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        pid = child
        stdinFD = fds[1]
    }

    /// Waits until the holder says it holds the disk (false when it failed or gave up).
    func awaitHeld() -> Bool {
        for _ in 0..<1000 {
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            if text.contains("held 1") { return true }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { return false }
            usleep(10_000)
        }
        return false
    }

    /// Gives the disk back and stops the other root's daemon.
    func release() {
        if stdinFD >= 0 {
            close(stdinFD)
            stdinFD = -1
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
        LockDaemonCleanup.stop(runDirectory: root + "/run")
        unlink(output)
        unlink(output + ".err")
    }

    deinit { release() }
}

/// A thread that keeps trying to take a disk through a root's lock daemon (starting one when none listens,
/// as any domain start would) and counts how often it got it.
final class LeaseContender: @unchecked Sendable {
    private let lock = NSLock()
    private var stopRequested = false
    private var finished = false
    private(set) var attempts = 0
    private(set) var successes = 0
    private let client: LeaseClient
    private let resource: LeaseResource

    init(runDirectory: String, configDirectory: String, disk: String) {
        client = LeaseClient(
            paths: LockdPaths(configDirectory: configDirectory, runDirectory: runDirectory),
            daemonExecutable: LeaseTools.virtlockd, connectTimeoutMs: 2000, recoveryWaitMs: 0)
        resource = LeaseResource(lockspace: "", name: disk, mode: .exclusive, label: "disk '\(disk)'")
        let thread = Thread { [self] in run() }
        thread.start()
    }

    private func run() {
        let owner = LeaseOwner(uuid: "44444444-4444-4444-8444-444444444444", name: "contender", pid: getpid())
        while !(lock.withLock { stopRequested }) {
            let session = try? client.acquire(owner: owner, resources: [resource])
            lock.withLock {
                attempts += 1
                if session != nil { successes += 1 }
            }
            session?.close()
            usleep(1_000)
        }
        lock.withLock { finished = true }
    }

    /// Stops the thread; returns (attempts, successes).
    func stop() -> (attempts: Int, successes: Int) {
        lock.withLock { stopRequested = true }
        while !(lock.withLock { finished }) { usleep(1_000) }
        return lock.withLock { (attempts, successes) }
    }
}
