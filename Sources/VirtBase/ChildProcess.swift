import CVirtShims

#if canImport(Glibc)
    import Glibc
#endif

/// Starting and reaping child processes: the child shares the caller's memory until it execs and makes only
/// system calls before (`cvirt_spawn`, as posix_spawn), so it is safe from a process that has threads and copies
/// nothing of the caller.
public enum ChildProcess {
    /// What the child does before exec.
    public struct Options: Sendable {
        /// Descriptors the child keeps (their close-on-exec flag is cleared in the child only).
        public var keep: [Int32] = []
        /// Signal the child receives when its parent dies (`PR_SET_PDEATHSIG`), 0 for none.
        public var parentDeathSignal: Int32 = 0
        /// Leave the caller's session (`setsid`).
        public var newSession = false
        /// Double spawn: the child is not the caller's to reap, in a session of its own (see `cvirt_spawn`).
        public var detach = false
        /// Replacement stdin; -1 keeps the parent's.
        public var stdin: Int32 = -1
        /// Replacement stdout; -1 keeps the parent's.
        public var stdout: Int32 = -1
        /// Replacement stderr; -1 keeps the parent's.
        public var stderr: Int32 = -1
        /// Default options.
        public init() {}
    }

    /// This process's environment (`environ`), as `NAME=value` strings.
    public static func currentEnvironment() -> [String] {
        var environment: [String] = []
        if var entry = cvirt_environment() {
            while let string = entry.pointee {
                environment.append(String(cString: string))
                entry += 1
            }
        }
        return environment
    }

    /// Executes `path` with `arguments` (argv[0] first) and the caller's environment. Returns the pid once
    /// exec succeeded; an exec failure comes back as a `VirtError` with the child's errno.
    public static func spawn(_ path: String, _ arguments: [String], options: Options) throws(VirtError) -> Int32 {
        let environment = currentEnvironment()
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        let pid = options.keep.withUnsafeBufferPointer { keep in
            var c = cvirt_spawn_options(
                keep_fds: keep.baseAddress, keep_count: Int32(keep.count),
                parent_death_signal: options.parentDeathSignal,
                new_session: options.newSession ? 1 : 0, detach: options.detach ? 1 : 0, stdin_fd: options.stdin,
                stdout_fd: options.stdout,
                stderr_fd: options.stderr)
            return cvirt_spawn(path, argv, envp, &c)
        }
        guard pid > 0 else {
            let code = errno
            throw VirtError(
                .systemError, .domain, "cannot execute '\(path)': \(String(cString: strerror(code)))", errno: code)
        }
        return pid
    }

    /// How a child ended, from its `waitpid` status.
    public enum Termination: Equatable, Sendable, CustomStringConvertible {
        /// `exit(code)`.
        case exited(Int32)
        /// Killed by a signal.
        case signaled(Int32)

        /// Decodes a raw wait status (the WIFEXITED/WTERMSIG encoding of Linux).
        public init(waitStatus: Int32) {
            let signal = waitStatus & 0x7f
            self = signal == 0 ? .exited((waitStatus >> 8) & 0xff) : .signaled(signal)
        }

        /// `exited with status 1`, `killed by signal 9`.
        public var description: String {
            switch self {
            case .exited(let code): "exited with status \(code)"
            case .signaled(let signal): "killed by signal \(signal)"
            }
        }
    }

    /// Waits for the child `pid` to end (retrying EINTR).
    public static func wait(_ pid: Int32) throws(VirtError) -> Termination {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { throw SmallFile.failure("cannot wait for process \(pid)") }
        }
        return Termination(waitStatus: status)
    }

    /// A pipe whose both ends are close-on-exec: (read end, write end).
    public static func pipe() throws(VirtError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard cvirt_pipe_cloexec(&fds) == 0 else { throw SmallFile.failure("cannot create a pipe") }
        return (fds[0], fds[1])
    }

    /// Reads `fd` until a newline or end of file, waiting at most `timeoutMilliseconds` (nil: forever) for
    /// each piece. Returns the line without its newline; nil at end of file with nothing read.
    public static func readLine(_ fd: Int32, timeoutMilliseconds: Int?, limit: Int = 1 << 20) throws(VirtError)
        -> String?
    {
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while bytes.count < limit {
            if let timeoutMilliseconds {
                var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let ready = poll(&entry, 1, Int32(clamping: timeoutMilliseconds))
                if ready < 0 && errno == EINTR { continue }
                if ready == 0 {
                    throw VirtError(.operationTimeout, .domain, "no answer within \(timeoutMilliseconds) ms")
                }
            }
            let count = Glibc.read(fd, &byte, 1)
            if count < 0 {
                if errno == EINTR { continue }
                throw SmallFile.failure("cannot read from pipe")
            }
            if count == 0 { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
            if byte == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
