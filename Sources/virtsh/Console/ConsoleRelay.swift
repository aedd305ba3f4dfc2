import Glibc

/// How a console session ended.
enum ConsoleEnd: Equatable {
    /// The user typed the escape character (Ctrl+]).
    case detached
    /// The pty hung up: the hypervisor holding its other end is gone (the domain stopped).
    case hangup
    /// Standard output went away (a closed pipe).
    case outputClosed
    /// A terminating signal (SIGTERM, SIGHUP, SIGINT, SIGQUIT) arrived.
    case signal(Int32)
    /// Another `virtsh console --force` took the console over (it sent SIGUSR1).
    case takenOver
}

/// The write end of the pipe the console's signal handler writes to (set only while a relay runs).
/// A signal handler can only reach globals; it reads this one and makes an async-signal-safe `write`.
nonisolated(unsafe) private var consoleSignalPipe: Int32 = -1

/// Copies bytes both ways between the local terminal (or any input/output descriptors) and a domain's pty
/// with `poll(2)` on blocking descriptors, until the escape character, a hangup of the pty or a signal.
/// On a terminal the input is put in raw mode for the session and restored on every way out.
final class ConsoleRelay {
    /// Ctrl+] (ASCII GS), virsh's default escape character.
    static let escapeByte: UInt8 = 0x1d
    /// Signals that end the session (the terminal is restored before they take their usual effect).
    static let terminatingSignals: [Int32] = [SIGTERM, SIGHUP, SIGINT, SIGQUIT]
    /// Sent by `console --force` to the process holding the console.
    static let takeOverSignal = SIGUSR1
    private static let bufferSize = 4096

    private let ptyFD: Int32
    private let inputFD: Int32
    private let outputFD: Int32

    init(ptyFD: Int32, inputFD: Int32 = STDIN_FILENO, outputFD: Int32 = STDOUT_FILENO) {
        self.ptyFD = ptyFD
        self.inputFD = inputFD
        self.outputFD = outputFD
    }

    /// Relays until the session ends and says how. The terminal (when the input is one) is raw meanwhile,
    /// and the process's previous signal dispositions are back when this returns.
    func run() throws -> ConsoleEnd {
        var pipeFDs: [Int32] = [-1, -1]
        guard pipe(&pipeFDs) == 0 else {
            throw CommandFailure(
                "internal error: cannot create the console's signal pipe: \(String(cString: strerror(errno)))")
        }
        for fd in pipeFDs {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
        defer {
            close(pipeFDs[0])
            close(pipeFDs[1])
        }
        consoleSignalPipe = pipeFDs[1]
        let saved = Self.installHandlers()
        defer {
            Self.restoreHandlers(saved)
            consoleSignalPipe = -1
        }
        let rawMode = RawTerminalMode(fd: inputFD)
        defer { rawMode?.restore() }
        return loop(signalFD: pipeFDs[0])
    }

    private func loop(signalFD: Int32) -> ConsoleEnd {
        var buffer = [UInt8](repeating: 0, count: Self.bufferSize)
        var input = inputFD
        while true {
            var fds = [
                pollfd(fd: signalFD, events: Int16(POLLIN), revents: 0),
                pollfd(fd: ptyFD, events: Int16(POLLIN), revents: 0),
                // A negative descriptor is ignored by poll: input that reached its end.
                pollfd(fd: input, events: Int16(POLLIN), revents: 0),
            ]
            if poll(&fds, nfds_t(fds.count), -1) < 0 {
                if errno == EINTR { continue }
                return .hangup
            }
            if fds[0].revents != 0 {
                var signal: Int32 = 0
                if read(signalFD, &signal, MemoryLayout<Int32>.size) == MemoryLayout<Int32>.size {
                    return signal == Self.takeOverSignal ? .takenOver : .signal(signal)
                }
            }
            if fds[1].revents != 0 {
                let count = read(ptyFD, &buffer, buffer.count)
                if count > 0 {
                    if !Self.writeAll(outputFD, buffer, count) { return .outputClosed }
                } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                    // EIO: nobody holds the master any more.
                    return .hangup
                }
            }
            if input >= 0 && fds[2].revents != 0 {
                let count = read(input, &buffer, buffer.count)
                if count > 0 {
                    let escape = buffer[0..<count].firstIndex(of: Self.escapeByte)
                    let forward = escape ?? count
                    if forward > 0 && !Self.writeAll(ptyFD, buffer, forward) { return .hangup }
                    if escape != nil { return .detached }
                } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                    // End of input: stop sending, keep showing the guest until it ends or is left.
                    input = -1
                }
            }
        }
    }

    private static func writeAll(_ fd: Int32, _ buffer: [UInt8], _ count: Int) -> Bool {
        buffer.withUnsafeBytes { bytes in
            var offset = 0
            while offset < count {
                let n = write(fd, bytes.baseAddress! + offset, count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += n
            }
            return true
        }
    }

    // MARK: Signals

    private static let handledSignals = terminatingSignals + [takeOverSignal, SIGPIPE]

    private static func installHandlers() -> [(Int32, sigaction)] {
        handledSignals.map { signal in
            var action = sigaction()
            if signal == SIGPIPE {
                // A closed output pipe shows as EPIPE from write, not as death.
                action.__sigaction_handler.sa_handler = SIG_IGN
            } else {
                action.__sigaction_handler.sa_handler = { number in
                    var value = number
                    _ = write(consoleSignalPipe, &value, MemoryLayout<Int32>.size)
                }
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            var old = sigaction()
            sigaction(signal, &action, &old)
            return (signal, old)
        }
    }

    private static func restoreHandlers(_ saved: [(Int32, sigaction)]) {
        for (signal, action) in saved {
            var old = action
            sigaction(signal, &old, nil)
        }
    }
}
