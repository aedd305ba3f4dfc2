import CVirtShims

#if canImport(Glibc)
    import Glibc
#endif

/// A listening Unix stream socket: created at a path with mode 0600, or adopted from a descriptor a
/// parent process created and handed down.
public final class UnixSocketListener: @unchecked Sendable {
    // Sendable because the descriptor never changes after init and accept(2) is thread-safe.

    /// The listening descriptor (close-on-exec unless a caller hands it to a child).
    public let descriptor: Int32
    /// The socket's path when this listener created it.
    public let path: String?

    /// The file mode of sockets this helper creates: owner read/write only.
    public static let defaultMode: mode_t = 0o600
    /// How many connections may wait to be accepted.
    public static let defaultBacklog: Int32 = 16

    /// Creates the socket file at `path` (replacing a stale socket) with `mode`, and listens.
    public init(path: String, mode: mode_t = UnixSocketListener.defaultMode, backlog: Int32 = defaultBacklog)
        throws(VirtError)
    {
        let fd = cvirt_unix_listen(path, mode, backlog)
        guard fd >= 0 else {
            let code = errno
            if code == ENAMETOOLONG {
                throw VirtError(
                    .invalidArgument, .rpc,
                    "socket path '\(path)' passes the \(cvirt_unix_path_max())-byte limit of Unix sockets; "
                        + "use a shorter run directory", errno: code)
            }
            throw VirtError(
                .systemError, .rpc, "cannot listen on socket '\(path)': \(String(cString: strerror(code)))",
                errno: code)
        }
        self.descriptor = fd
        self.path = path
    }

    /// Adopts a listening descriptor created elsewhere (inherited across exec).
    public init(adopting descriptor: Int32) {
        self.descriptor = descriptor
        self.path = nil
    }

    /// The longest socket path the kernel accepts (107 bytes on Linux).
    public static var maximumPathBytes: Int { Int(cvirt_unix_path_max()) }

    /// Waits at most `timeoutMilliseconds` (nil: forever) for a connection; nil when none came.
    public func accept(timeoutMilliseconds: Int?) throws(SocketError) -> UnixSocketConnection? {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let ready = poll(&entry, 1, timeoutMilliseconds.map { Int32(clamping: $0) } ?? -1)
        if ready < 0 {
            if errno == EINTR { return nil }
            throw .lastError("poll")
        }
        if ready == 0 { return nil }
        let fd = cvirt_accept(descriptor)
        if fd < 0 {
            if errno == EINTR || errno == EAGAIN || errno == ECONNABORTED { return nil }
            throw .lastError("accept")
        }
        return UnixSocketConnection(adopting: fd)
    }

    /// Closes the descriptor and, when this listener created the file, removes it.
    public func close() {
        _ = Glibc.close(descriptor)
        if let path { _ = unlink(path) }
    }
}
