import CVirtShims
import Glibc
import VirtBase

/// Where COM1's bytes go and come from: a pty, a file, stdio, a Unix socket (listening), or nothing; plus
/// an optional log file that receives a copy of the output.
final class SerialBackend: @unchecked Sendable {
    /// The slave path when this backend allocated a pty.
    private(set) var ptyPath: String?
    private var outputFD: Int32 = -1
    private var inputFD: Int32 = -1
    private var listenFD: Int32 = -1
    private var logFD: Int32 = -1
    private var ownedFDs: [Int32] = []
    private var wakePipe: (Int32, Int32) = (-1, -1)
    private var reader: OSThread?
    private let state = Monitor()
    private var clientFD: Int32 = -1
    private let kind: SerialConfiguration.Kind

    /// Pause between polls of a hung-up pty (nobody has the slave open).
    static let hangupBackoffMicroseconds: UInt32 = 20_000

    init(_ config: SerialConfiguration, domain: String) throws {
        kind = config.kind
        let object = "serial console of domain '\(domain)'"
        if let log = config.logFile {
            logFD = try Self.openForAppend(log, object: "serial log of domain '\(domain)'")
            if log.fd == nil { ownedFDs.append(logFD) }
        }
        switch config.kind {
        case .none:
            break
        case .stdio:
            outputFD = STDOUT_FILENO
            inputFD = STDIN_FILENO
        case .file:
            guard let source = config.source else {
                throw VirtError(.configUnsupported, .kvm, "\(object): a file backend needs a path")
            }
            outputFD = try Self.openForAppend(source, object: object)
            if source.fd == nil { ownedFDs.append(outputFD) }
        case .pty:
            if let fd = config.source?.fd {
                // The supervisor allocated the pty and handed its master down; the path names the slave.
                outputFD = fd
                ptyPath = config.source.map(\.path).flatMap { $0.isEmpty ? nil : $0 }
            } else {
                var path = [CChar](repeating: 0, count: 256)
                let fd = cvirt_open_pty(&path, path.count)
                if fd < 0 { throw SystemCall.error("posix_openpt", object, remedy: "check that /dev/pts is mounted") }
                outputFD = fd
                ownedFDs.append(fd)
                ptyPath = String(decoding: path.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
            _ = fcntl(outputFD, F_SETFL, fcntl(outputFD, F_GETFL) | O_NONBLOCK)
            inputFD = outputFD
        case .unix:
            guard let source = config.source else {
                throw VirtError(.configUnsupported, .kvm, "\(object): a unix backend needs a socket path")
            }
            listenFD = try source.fd ?? Self.listen(path: source.path, object: object)
            if source.fd == nil { ownedFDs.append(listenFD) }
        }
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw SystemCall.error("pipe", object) }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        wakePipe = (fds[0], fds[1])
    }

    deinit {
        stop()
        for fd in ownedFDs { close(fd) }
        if clientFD >= 0 { close(clientFD) }
        close(wakePipe.0)
        close(wakePipe.1)
    }

    /// Sends one guest byte to the output and the log. Output that cannot be taken now is dropped, as a
    /// real UART's line would drop it with nobody listening.
    func emit(_ byte: UInt8) {
        var b = byte
        if kind == .unix {
            // A client that went away must not kill the hypervisor with SIGPIPE.
            let client = state.locked { clientFD }
            if client >= 0 { _ = send(client, &b, 1, Int32(MSG_NOSIGNAL)) }
        } else if outputFD >= 0 {
            _ = write(outputFD, &b, 1)
        }
        if logFD >= 0 { _ = write(logFD, &b, 1) }
    }

    /// Starts the input thread, which hands received bytes to `deliver`.
    func startInput(name: String, deliver: @escaping ([UInt8]) -> Void) throws {
        guard inputFD >= 0 || listenFD >= 0 else { return }
        reader = try OSThread(name: name) { [self] in self.readLoop(deliver) }
    }

    /// How long the end of a guest waits for an attached console to read the guest's last output.
    static let drainLimitMicroseconds: UInt32 = 3_000_000
    /// The interval at which the draining checks what is left.
    static let drainPollMicroseconds: UInt32 = 5_000

    /// Closing the pty master discards what an attached console has not read yet (the kernel flushes the
    /// slave's input at hangup), so the guest's last words would be lost. When a console is attached — it
    /// holds a POSIX write lock on the pty, as `virtsh console` does — wait until it has read everything, up
    /// to `drainLimitMicroseconds`; with no console attached, return at once.
    ///
    /// The slave is reached through the master (`TIOCGPTPEER`), not its path: by now the hypervisor is confined
    /// and may not open files.
    func drainPTY() {
        guard kind == .pty, outputFD >= 0 else { return }
        let slave = cvirt_pty_open_peer(outputFD)
        guard slave >= 0 else { return }
        defer { close(slave) }
        var lock = flock()
        lock.l_type = Int16(F_WRLCK)
        lock.l_whence = Int16(SEEK_SET)
        guard fcntl(slave, F_GETLK, &lock) == 0, lock.l_type != Int16(F_UNLCK) else { return }
        var waited: UInt32 = 0
        while waited < Self.drainLimitMicroseconds {
            var unread: Int32 = 0
            guard cvirt_ioctl_pointer(slave, UInt(FIONREAD), &unread) == 0, unread > 0 else { return }
            usleep(Self.drainPollMicroseconds)
            waited += Self.drainPollMicroseconds
        }
    }

    /// Stops the input thread.
    func stop() {
        guard let reader else { return }
        var one: UInt8 = 1
        _ = write(wakePipe.1, &one, 1)
        reader.join()
        self.reader = nil
    }

    private func readLoop(_ deliver: ([UInt8]) -> Void) {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let source = listenFD >= 0 ? state.locked { clientFD } : inputFD
            let watched = source >= 0 ? source : listenFD
            var fds = [
                pollfd(fd: wakePipe.0, events: Int16(POLLIN), revents: 0),
                pollfd(fd: watched, events: Int16(POLLIN), revents: 0),
            ]
            let n = poll(&fds, 2, -1)
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            if fds[0].revents != 0 { return }
            let events = Int32(fds[1].revents)
            if events == 0 { continue }
            if source < 0 {
                let client = accept(listenFD, nil, nil)
                if client >= 0 { _ = fcntl(client, F_SETFD, FD_CLOEXEC) }
                if client >= 0 { state.locked { clientFD = client } }
                continue
            }
            let count = read(source, &buffer, buffer.count)
            if count > 0 {
                deliver(Array(buffer[0..<count]))
            } else if count == 0 || (count < 0 && errno != EAGAIN && errno != EINTR) {
                if listenFD >= 0 {
                    state.locked {
                        close(clientFD)
                        clientFD = -1
                    }
                } else if kind == .pty {
                    usleep(Self.hangupBackoffMicroseconds)
                } else {
                    return
                }
            }
        }
    }

    static func openForAppend(_ source: FileSource, object: String) throws -> Int32 {
        if let fd = source.fd { return fd }
        let fd = open(source.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        if fd < 0 { throw SystemCall.error("open", "'\(source.path)' (\(object))") }
        return fd
    }

    static func listen(path: String, object: String) throws -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else {
            throw VirtError(
                .configUnsupported, .kvm, "\(object): socket path '\(path)' is longer than \(capacity - 1) bytes")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { throw SystemCall.error("socket", object) }
        unlink(path)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if bound != 0 || Glibc.listen(fd, 1) != 0 {
            let saved = errno
            close(fd)
            throw SystemCall.error("bind", "'\(path)' (\(object))", errno: saved)
        }
        return fd
    }
}
