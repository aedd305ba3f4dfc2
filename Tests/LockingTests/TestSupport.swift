import Glibc
import Locking
import Synchronization
import VirtBase

/// A temporary directory removed (with everything in it) by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() {
        var template = Array("/tmp/lockt.XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func file(_ name: String, bytes: Int = 4096) -> String {
        let full = path + "/" + name
        let fd = open(full, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        precondition(fd >= 0)
        _ = ftruncate(fd, off_t(bytes))
        close(fd)
        return full
    }

    func write(_ name: String, _ text: String) {
        let full = path + "/" + name
        let slash = full.lastIndex(of: "/")!
        try? Posix.makeDirectories(String(full[..<slash]), mode: 0o755)
        try? Posix.writeFileAtomically(full, Array(text.utf8), mode: 0o644)
    }

    func remove() { _ = TestProcess.run(["/bin/rm", "-rf", path]) }
}

/// A child process with a pipe on stdin and its output collected in files.
final class TestProcess {
    let pid: pid_t
    private var stdinFD: Int32
    private let outPath: String
    private let errPath: String
    private var status: Int32?

    /// The built `virtlockd`, beside the test bundle.
    static var virtlockd: String {
        let exe = (try? Posix.canonicalPath("/proc/self/exe")) ?? "/proc/self/exe"
        return String(exe[..<exe.lastIndex(of: "/")!]) + "/virtlockd"
    }

    init(_ arguments: [String], environment: [String: String] = [:]) {
        var pipeFDs: [Int32] = [0, 0]
        precondition(pipe(&pipeFDs) == 0)
        var template = Array("/tmp/lockp.XXXXXX".utf8CString)
        let base = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }.map { String(cString: $0) }!
        outPath = base + "/out"
        errPath = base + "/err"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_adddup2(&actions, pipeFDs[0], 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addclose(&actions, pipeFDs[1])
        var env = LockdPaths.processEnvironment()
        for (key, value) in environment { env[key] = value }
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        var envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        var child: pid_t = 0
        let result = posix_spawn(&child, arguments[0], &actions, nil, &argv, &envp)
        precondition(result == 0, "cannot spawn \(arguments[0]): \(String(cString: strerror(result)))")
        posix_spawn_file_actions_destroy(&actions)
        for pointer in argv + envp { free(pointer) }
        close(pipeFDs[0])
        pid = child
        stdinFD = pipeFDs[1]
        _ = fcntl(stdinFD, F_SETFD, FD_CLOEXEC)
    }

    /// Runs to completion; returns (exit status, stdout, stderr).
    static func run(_ arguments: [String], environment: [String: String] = [:]) -> (Int32, String, String) {
        let process = TestProcess(arguments, environment: environment)
        process.closeInput()
        let code = process.wait()
        return (code, process.output, process.errors)
    }

    var output: String { String(decoding: Posix.readFile(outPath) ?? [], as: UTF8.self) }
    var errors: String { String(decoding: Posix.readFile(errPath) ?? [], as: UTF8.self) }

    func closeInput() {
        if stdinFD >= 0 { close(stdinFD) }
        stdinFD = -1
    }

    /// Waits (up to ~20 s) until stdout holds a line or the process ended; the output so far.
    func awaitOutputLine() -> String {
        for _ in 0..<2000 {
            if output.contains("\n") || hasExited { break }
            usleep(10_000)
        }
        return output
    }

    var hasExited: Bool {
        if status != nil { return true }
        var raw: Int32 = 0
        if waitpid(pid, &raw, WNOHANG) == pid {
            status = raw
            return true
        }
        return false
    }

    /// Exit code (128 + signal when killed).
    @discardableResult
    func wait() -> Int32 {
        if status == nil {
            var raw: Int32 = 0
            while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
            status = raw
        }
        let raw = status!
        return raw & 0x7f == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
    }

    func signal(_ number: Int32) { kill(pid, number) }

    deinit {
        closeInput()
        if !hasExited {
            kill(pid, SIGKILL)
            wait()
        }
        _ = unlink(outPath)
        _ = unlink(errPath)
        _ = rmdir(String(outPath.dropLast(4)))
    }
}

/// A foreground virtlockd on a temporary root, stopped by `stop()`.
final class TestDaemon {
    let root: String
    let paths: LockdPaths
    let process: TestProcess
    private let wrapped: Bool

    init(root: String, config: String? = nil, wrapper: [String] = []) {
        self.root = root
        paths = LockdPaths.embed(root: root)
        try? Posix.makeDirectories(paths.configDirectory, mode: 0o755)
        if let config { try? Posix.writeFileAtomically(paths.virtlockdConfPath, Array(config.utf8), mode: 0o644) }
        wrapped = !wrapper.isEmpty
        process = TestProcess(wrapper + [TestProcess.virtlockd, "--root", root])
        _ = waitUntilReady()
    }

    var client: LeaseClient { LeaseClient(paths: paths, daemonExecutable: nil, connectTimeoutMs: 2000) }

    @discardableResult
    func waitUntilReady() -> LockDaemonStatus? {
        for _ in 0..<2000 {
            if let status = try? client.status() { return status }
            if process.hasExited { return nil }
            usleep(10_000)
        }
        return nil
    }

    /// The daemon's pid as it wrote it (differs from `process.pid` inside a PID namespace wrapper).
    var daemonPID: pid_t {
        Int32(
            String(decoding: (Posix.readFile(paths.pidFilePath) ?? []).filter { $0 >= 48 && $0 <= 57 }, as: UTF8.self))
            ?? -1
    }

    /// SIGTERM to the daemon (inside a namespace wrapper: to the wrapper's children), then waits.
    func stop() {
        let children = String(
            decoding: Posix.readFile("/proc/\(process.pid)/task/\(process.pid)/children") ?? [], as: UTF8.self)
        let targets = wrapped ? children.split(separator: " ").compactMap { Int32($0) } : [process.pid]
        for pid in targets { kill(pid, SIGTERM) }
        process.wait()
    }
}

let isRoot = geteuid() == 0

/// Runs `body` until it succeeds (up to ~10 s), for steps that follow a release: a descriptor closed by
/// one thread of this test process can linger for a moment in a child another test is spawning
/// (between its fork and exec), and a daemon notices a closed connection asynchronously.
func retrying<T>(_ body: () throws -> T) throws -> T {
    for _ in 0..<1000 {
        if let value = try? body() { return value }
        usleep(10_000)
    }
    return try body()
}

/// A thread that keeps trying to take resources through `client` until stopped, counting attempts and
/// successes (a success is released at once).
final class Contender: @unchecked Sendable {
    let attempts = Atomic<Int>(0)
    let successes = Atomic<Int>(0)
    private let stopFlag = Atomic<Bool>(false)
    private let done = Atomic<Bool>(false)

    init(client: LeaseClient, owner: LeaseOwner, resources: [LeaseResource]) {
        let box = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        _ = pthread_create(
            &thread, nil,
            { argument in
                let contender = Unmanaged<Contender>.fromOpaque(argument!).takeRetainedValue()
                contender.run()
                return nil
            }, box)
        pthread_detach(thread)
        self.client = client
        self.owner = owner
        self.resources = resources
    }

    private var client: LeaseClient?
    private var owner: LeaseOwner?
    private var resources: [LeaseResource] = []

    private func run() {
        while client == nil { usleep(100) }
        while !stopFlag.load(ordering: .acquiring) {
            if let session = try? client!.acquire(owner: owner!, resources: resources) {
                successes.add(1, ordering: .relaxed)
                session.close()
            }
            attempts.add(1, ordering: .relaxed)
        }
        done.store(true, ordering: .releasing)
    }

    func stop() {
        stopFlag.store(true, ordering: .releasing)
        while !done.load(ordering: .acquiring) { usleep(1000) }
    }
}
