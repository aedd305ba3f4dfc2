import Foundation
import Glibc

/// A child process started with posix_spawn and reaped with waitpid (Foundation's Process can miss a child's
/// exit in the busy test process). Standard output and error go to files; standard input is a pipe the test
/// writes to, or /dev/null.
final class SpawnedProcess {
    let pid: pid_t
    let outputPath: String
    let errorPath: String
    /// The write end of standard input, when asked for (closed by `closeInput` or when the value goes away).
    private var inputFD: Int32 = -1
    private var status: Int32?

    /// How long `wait` gives a child before killing it, so a test never hangs.
    static let defaultTimeout: Double = 30

    init(_ path: String, _ arguments: [String], environment: [String: String] = [:], pipeInput: Bool = false)
        throws
    {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("spawn-\(UUID().uuidString)").path
        outputPath = base + ".out"
        errorPath = base + ".err"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var fds: [Int32] = [-1, -1]
        if pipeInput {
            guard pipe(&fds) == 0 else { throw POSIXError(.EMFILE) }
            _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
            posix_spawn_file_actions_adddup2(&actions, fds[0], 0)
            posix_spawn_file_actions_addclose(&actions, fds[0])
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        // The test thread blocks signals; the child starts with none blocked and default dispositions.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        Self.startWithDefaultSignals(&attributes)
        var env = ProcessInfo.processInfo.environment
        env["LC_ALL"] = "C"
        env.removeValue(forKey: "VIRTSH_DEFAULT_URI")
        for (key, value) in environment { env[key] = value }
        let envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let rc = posix_spawn(&child, path, &actions, &attributes, argv, envp)
        if pipeInput { close(fds[0]) }
        guard rc == 0 else {
            if pipeInput { close(fds[1]) }
            throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EIO)
        }
        pid = child
        inputFD = pipeInput ? fds[1] : -1
    }

    /// Makes `attributes` start the child with no signal blocked and every disposition at its default (a test
    /// thread blocks most signals, and a child that inherited that would never see SIGCHLD or SIGHUP).
    static func startWithDefaultSignals(_ attributes: inout posix_spawnattr_t) {
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        var defaults = sigset_t()
        sigfillset(&defaults)
        sigdelset(&defaults, SIGKILL)
        sigdelset(&defaults, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    }

    deinit {
        closeInput()
        if status == nil {
            kill(pid, SIGKILL)
            _ = wait()
        }
        unlink(outputPath)
        unlink(errorPath)
    }

    /// Writes `bytes` to the child's standard input.
    func send(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { _ = write(inputFD, $0.baseAddress, $0.count) }
    }

    func send(_ text: String) { send(Array(text.utf8)) }

    func closeInput() {
        if inputFD >= 0 { close(inputFD) }
        inputFD = -1
    }

    var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }
    var errorOutput: String { (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "" }

    /// Whether the child has not exited yet.
    var isRunning: Bool {
        if status != nil { return false }
        var raw: Int32 = 0
        if waitpid(pid, &raw, WNOHANG) == pid {
            status = raw
            return false
        }
        return true
    }

    /// Waits for the exit (killing the child after `timeout` seconds); the exit status, or 128 + signal.
    @discardableResult
    func wait(timeout: Double = defaultTimeout) -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while isRunning {
            if Date() > deadline { kill(pid, SIGKILL) }
            usleep(10_000)
        }
        let raw = status ?? 0
        let signal = raw & 0x7f
        return signal == 0 ? (raw >> 8) & 0xff : 128 + signal
    }

    /// Waits up to `seconds` until standard output contains `text`.
    func waitForOutput(_ text: String, seconds: Double = 10) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if output.contains(text) { return true }
            usleep(20_000)
        }
        return output.contains(text)
    }
}

/// `virtsh` through SpawnedProcess.
enum ProcessRunnerSpawn {
    static func virtsh(_ arguments: [String]) throws -> ProcessResult {
        let process = try SpawnedProcess(ProcessRunner.virtshPath, arguments)
        let status = process.wait()
        return ProcessResult(stdout: process.output, stderr: process.errorOutput, status: status)
    }
}
