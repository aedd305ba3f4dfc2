import Glibc
import Locking

/// One accepted client. Only the worker thread touches it, so it needs no lock of its own.
final class ClientConnection: @unchecked Sendable {
    /// The connection's id in the lock table and its epoll token.
    let id: UInt64
    /// The socket (non-blocking).
    let fd: Int32
    /// Bytes of a frame not yet complete.
    var splitter = FrameSplitter()

    init(id: UInt64, fd: Int32) {
        self.id = id
        self.fd = fd
    }

    /// Sends a whole reply, waiting (at most `timeoutMs` per stall) when the socket buffer is full.
    /// False when the client cannot be written to (it is then dropped).
    func send(_ bytes: [UInt8], timeoutMs: Int32 = 5000) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent >= 0 {
                offset += sent
                continue
            }
            if errno == EINTR { continue }
            guard errno == EAGAIN else { return false }
            var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            guard poll(&entry, 1, timeoutMs) > 0 else { return false }
        }
        return true
    }
}

/// A pthread running a closure (FoundationEssentials has no Thread).
enum DetachedThread {
    final class Box: @unchecked Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }

    static func start(_ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(
            &thread, nil,
            { argument in
                let box = Unmanaged<Box>.fromOpaque(argument!).takeRetainedValue()
                box.body()
                return nil
            }, box)
        precondition(result == 0, "virtlockd cannot create a worker thread: \(String(cString: strerror(result)))")
        pthread_detach(thread)
    }
}
