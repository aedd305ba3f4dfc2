import CVirtShims

#if canImport(Glibc)
    import Glibc
#endif

/// The credentials the kernel recorded for the peer of a Unix socket (`SO_PEERCRED`).
public struct PeerCredentials: Equatable, Sendable {
    /// The peer's effective uid when it connected.
    public var uid: UInt32
    /// The peer's effective gid when it connected.
    public var gid: UInt32
    /// The peer's pid when it connected.
    public var pid: Int32
}

/// One connected, blocking Unix stream socket that speaks frames, with a deadline on every wait, so a
/// dead or stuck peer never hangs the caller. Not thread-safe: one thread uses a connection at a time.
public final class UnixSocketConnection {
    /// The socket descriptor (close-on-exec); closed by `close()` or deinit.
    public private(set) var descriptor: Int32
    private var decoder = FrameDecoder()

    /// Takes ownership of a connected descriptor.
    public init(adopting descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit { close() }

    /// Connects to the socket at `path`, waiting at most `timeoutMilliseconds`.
    public static func connect(path: String, timeoutMilliseconds: Int) throws(SocketError) -> UnixSocketConnection {
        let fd = cvirt_unix_connect(path, Int32(clamping: timeoutMilliseconds))
        guard fd >= 0 else {
            if errno == ETIMEDOUT { throw .timedOut(milliseconds: timeoutMilliseconds) }
            throw .lastError("connect to '\(path)'")
        }
        return UnixSocketConnection(adopting: fd)
    }

    /// Closes the socket (idempotent).
    public func close() {
        if descriptor >= 0 {
            _ = Glibc.close(descriptor)
            descriptor = -1
        }
    }

    /// Gives up ownership of the descriptor without closing it (another owner adopted it).
    public func releaseDescriptor() {
        descriptor = -1
    }

    /// The peer's uid, gid and pid (`SO_PEERCRED`).
    public func peerCredentials() throws(SocketError) -> PeerCredentials {
        var uid: uid_t = 0
        var gid: gid_t = 0
        var pid: pid_t = 0
        guard cvirt_peer_credentials(descriptor, &uid, &gid, &pid) == 0 else {
            throw .lastError("getsockopt(SO_PEERCRED)")
        }
        return PeerCredentials(uid: uid, gid: gid, pid: pid)
    }

    /// Writes all of `bytes`, waiting at most `timeoutMilliseconds` for the peer to make room each time.
    public func send(_ bytes: [UInt8], timeoutMilliseconds: Int) throws(SocketError) {
        var offset = 0
        while offset < bytes.count {
            try wait(for: Int16(POLLOUT), timeoutMilliseconds: timeoutMilliseconds)
            let written = bytes.withUnsafeBytes { raw in
                Glibc.send(
                    descriptor, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            }
            if written < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                if errno == EPIPE || errno == ECONNRESET { throw .peerClosed }
                throw .lastError("send")
            }
            offset += written
        }
    }

    /// Sends one framed message built by `FrameCodec`, `WireRequest.frame` or `WireReply.frame`.
    public func sendFrame(_ frame: [UInt8], timeoutMilliseconds: Int) throws(SocketError) {
        try send(frame, timeoutMilliseconds: timeoutMilliseconds)
    }

    /// The next frame's payload; nil when the peer closed cleanly between frames. Each wait for more
    /// bytes lasts at most `timeoutMilliseconds`.
    public func receiveFrame(timeoutMilliseconds: Int) throws(SocketError) -> [UInt8]? {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            do {
                if let frame = try decoder.nextFrame() { return frame }
            } catch {
                throw .frame(error)
            }
            try wait(for: Int16(POLLIN), timeoutMilliseconds: timeoutMilliseconds)
            let count = chunk.withUnsafeMutableBytes { raw in
                recv(descriptor, raw.baseAddress, raw.count, Int32(MSG_DONTWAIT))
            }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                if errno == ECONNRESET { throw .peerClosed }
                throw .lastError("recv")
            }
            if count == 0 {
                if decoder.bufferedBytes == 0 { return nil }
                throw .peerClosed
            }
            decoder.append(chunk[0..<count])
        }
    }

    private func wait(for events: Int16, timeoutMilliseconds: Int) throws(SocketError) {
        guard descriptor >= 0 else { throw .system(call: "poll", errno: EBADF) }
        var entry = pollfd(fd: descriptor, events: events, revents: 0)
        while true {
            let ready = poll(&entry, 1, Int32(clamping: timeoutMilliseconds))
            if ready > 0 { return }
            if ready == 0 { throw .timedOut(milliseconds: timeoutMilliseconds) }
            if errno != EINTR { throw .lastError("poll") }
        }
    }
}
