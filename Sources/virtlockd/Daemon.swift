import CVirtShims
import Glibc
import Locking
import VirtBase

/// Start-up and the signal loop of the daemon.
enum Daemon {
    /// Environment variable naming the descriptor to write one byte to once the socket listens
    /// (set by `--daemon` for its child).
    static let readyVariable = "VIRTLOCKD_READY_FD"
    /// systemd's first passed descriptor (sd_listen_fds(3)).
    static let firstListenFD: Int32 = 3

    static func run(_ options: DaemonOptions, arguments: [String]) throws(VirtError) -> Int32 {
        let configPath = options.configFile ?? options.paths.virtlockdConfPath
        let config = try VirtlockdConfig.load(path: configPath)
        if options.daemonize { return try background(arguments: arguments) }

        let paths = options.paths
        let detached = getenv(readyVariable) != nil
        try Posix.makeDirectories(paths.lockdDirectory, mode: 0o700)
        let log = DaemonLog(
            outputs: config.logOutputs, level: options.verbose ? 1 : config.logLevel,
            fallback: detached ? .file(paths.lockdDirectory + "/virtlockd.log") : .stderr)
        let signalFD = cvirt_lockd_signalfd()
        guard signalFD >= 0 else { throw Posix.failure("cannot set up signal handling") }
        raiseFileLimit(log)

        let pidFilePath = options.pidFile ?? paths.pidFilePath
        let server: LockServer
        if let state = RestartState.take(from: paths.restartStatePath, log: log) {
            server = try LockServer(
                config: config, paths: paths, listenFD: state.listenFD, pidFileFD: state.pidFileFD,
                pidFilePath: pidFilePath, socketActivated: state.socketActivated, restarts: state.restarts, log: log)
            try server.adopt(state)
        } else {
            guard let pidFileFD = try lockPidFile(pidFilePath, log: log) else { return 0 }
            let (listenFD, activated) = try listeningSocket(paths.socketPath, log: log)
            server = try LockServer(
                config: config, paths: paths, listenFD: listenFD, pidFileFD: pidFileFD, pidFilePath: pidFilePath,
                socketActivated: activated, restarts: 0, log: log)
            log.info("virtlockd \(getpid()) serving '\(paths.socketPath)' as host '\(config.hostName)'")
        }
        server.openJournal(fresh: !server.adopted, reclaimTimeout: config.reclaimTimeout)
        server.startWorker()
        signalReady()

        var idleSince: UInt64?
        while true {
            var entry = pollfd(fd: signalFD, events: Int16(POLLIN), revents: 0)
            let ready = poll(&entry, 1, options.idleTimeout > 0 ? 1000 : -1)
            if ready == 0 {
                // --timeout: an on-demand daemon goes away once nobody has used it for a while.
                guard server.clientCount == 0, !server.isRecovering else {
                    idleSince = nil
                    continue
                }
                let now = Posix.monotonicNanoseconds()
                let since = idleSince ?? now
                idleSince = since
                if now - since >= UInt64(options.idleTimeout) * 1_000_000_000 {
                    log.info("no clients for \(options.idleTimeout) s: exiting")
                    server.shutdown()
                    return 0
                }
                continue
            }
            guard ready > 0 else { continue }
            let signal = cvirt_signalfd_read(signalFD)
            switch signal {
            case SIGUSR1:
                server.reexec(arguments: arguments)
            case SIGTERM, SIGINT, SIGQUIT:
                log.info("signal \(signal): shutting down")
                server.shutdown()
                return 0
            case SIGHUP:
                log.info("SIGHUP ignored: the configuration is read at start; send SIGUSR1 to re-execute")
            default:
                continue
            }
        }
    }

    /// `--daemon`: start the foreground daemon in a new session and return once it listens.
    private static func background(arguments: [String]) throws(VirtError) -> Int32 {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw Posix.failure("cannot create a pipe") }
        try Posix.setCloseOnExec(fds[0], true)
        setenv(readyVariable, String(fds[1]), 1)
        var childArguments = arguments.filter { $0 != "-d" && $0 != "--daemon" }
        childArguments[0] = (try? Posix.canonicalPath("/proc/self/exe")) ?? arguments[0]
        var argv: [UnsafeMutablePointer<CChar>?] = childArguments.map { strdup($0) }
        argv.append(nil)
        let pid = cvirt_spawn_session(childArguments[0], &argv, environ)
        for pointer in argv { free(pointer) }
        close(fds[1])
        guard pid > 0 else { throw Posix.failure("cannot start the background daemon") }
        var byte: UInt8 = 0
        var got = 0
        repeat { got = read(fds[0], &byte, 1) } while got < 0 && errno == EINTR
        close(fds[0])
        if got == 1 { return 0 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exitCode = (status >> 8) & 0xff
        // Exit status 0 without readiness: another daemon already serves this run directory.
        if status & 0x7f == 0 && exitCode == 0 { return 0 }
        Console.error("virtlockd: error: the background daemon failed to start (status \(status)); see its log")
        return 1
    }

    private static func signalReady() {
        guard let text = getenv(readyVariable), let fd = Int32(String(cString: text)) else { return }
        // Keep the variable (a re-exec still logs as a detached daemon) but never signal twice.
        setenv(readyVariable, "signalled", 1)
        var byte: UInt8 = 1
        _ = write(fd, &byte, 1)
        close(fd)
    }

    /// Locks the pid file (OFD write lock on byte 0) and writes our pid; nil when another daemon holds it.
    private static func lockPidFile(_ path: String, log: DaemonLog) throws(VirtError) -> Int32? {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Posix.failure("cannot open the pid file '\(path)'") }
        guard cvirt_lock_byte0(fd, 1) == 0 else {
            let other = String(
                decoding: Posix.readAll(fd, limit: 32).filter { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") },
                as: UTF8.self)
            close(fd)
            log.info("another virtlockd (pid \(other)) already holds '\(path)'; exiting")
            return nil
        }
        let text = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        return fd
    }

    /// The systemd-passed socket when LISTEN_PID names us, else our own socket at `path`.
    private static func listeningSocket(_ path: String, log: DaemonLog) throws(VirtError) -> (Int32, Bool) {
        if let pidText = getenv("LISTEN_PID"), Int32(String(cString: pidText)) == getpid(),
            let countText = getenv("LISTEN_FDS"), let count = Int32(String(cString: countText)), count >= 1
        {
            unsetenv("LISTEN_PID")
            unsetenv("LISTEN_FDS")
            unsetenv("LISTEN_FDNAMES")
            try Posix.setCloseOnExec(firstListenFD, true)
            log.info("using the socket passed by systemd (descriptor \(firstListenFD))")
            return (firstListenFD, true)
        }
        return (try UnixSocket.listen(path: path, mode: 0o600), false)
    }

    /// Raises the open-file soft limit to the hard limit: every lease is a descriptor.
    private static func raiseFileLimit(_ log: DaemonLog) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        guard limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) != 0 {
            log.warning("cannot raise the open-file limit: \(Posix.describe(errno))")
        }
    }
}
