import CVirtShims
import Glibc
import VirtBase

/// One blocking connection to a lock daemon: send a request, read its reply. Closing it (or the
/// process dying) makes the daemon end every lease taken through it.
public final class LockConnection {
    /// The socket descriptor.
    public let fd: Int32
    private var nextID = 1
    private var splitter = FrameSplitter()
    private var buffer = [UInt8](repeating: 0, count: 65536)
    private var closed = false

    /// How long a call polls for its reply before it sleeps, yielding the CPU between polls: the daemon answers
    /// within tens of microseconds, and a sleeping caller costs a wake-up, which takes tens of microseconds on a host
    /// whose idle CPUs are slow to wake. With many callers on few CPUs the yields pass the CPU from one to the next,
    /// which costs less than putting each to sleep and waking it (docs/locking.md, "Performance").
    static let spinNanoseconds = 200_000

    /// How long a call waits for the daemon to take a request or answer it, in seconds: a daemon that is
    /// stopped (SIGSTOP, a hung disk under it) fails the call instead of hanging the supervisor or the start.
    public static let replyTimeoutSeconds = 15

    /// Wraps a connected socket (and gives it send and receive timeouts).
    public init(fd: Int32) {
        self.fd = fd
        var timeout = timeval(tv_sec: Self.replyTimeoutSeconds, tv_usec: 0)
        let size = socklen_t(MemoryLayout<timeval>.size)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, size)
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, size)
    }

    deinit { close() }

    /// Closes the connection; the daemon ends its leases.
    public func close() {
        guard !closed else { return }
        closed = true
        _ = Glibc.close(fd)
    }

    /// Calls `method` and returns its result, or throws the daemon's error (as `LockWireError`
    /// wrapped in a `VirtError` by the caller) or a connection failure.
    public func call(_ method: LockProtocol.Method, _ params: LockParams = LockParams()) throws(LockCallError)
        -> LockResult
    {
        guard !closed else {
            throw .connection(VirtError(.operationInvalid, .locking, "the lock daemon connection is closed"))
        }
        let id = nextID
        nextID += 1
        do {
            try Posix.writeAll(fd, try LockWire.encode(LockRequest(id: id, method: method, params: params)))
        } catch {
            // The daemon may have refused the connection (uid, max_clients) and closed it: its reply
            // explains why better than the broken pipe does.
            if let reply = try? readReply(), let refusal = reply.error { throw .daemon(refusal) }
            throw .connection(error)
        }
        let reply = try readReply()
        if let error = reply.error { throw .daemon(error) }
        guard reply.id == id, let result = reply.result else {
            throw .connection(
                VirtError(.internalError, .rpc, "the lock daemon answered request \(id) with reply \(reply.id ?? -1)"))
        }
        return result
    }

    /// Reads the next reply frame.
    public func readReply() throws(LockCallError) -> LockReply {
        while true {
            do {
                if let payload = try splitter.next() { return try LockWire.decode(LockReply.self, payload) }
            } catch {
                throw .connection(VirtError(.internalError, .rpc, "bad reply from the lock daemon: \(error.message)"))
            }
            let got = receive()
            if got < 0 && errno == EINTR { continue }
            if got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                throw .connection(
                    VirtError(
                        .operationTimeout, .locking,
                        "the lock daemon did not answer within \(Self.replyTimeoutSeconds) s; check that virtlockd runs "
                            + "(its log is in the run directory's lockd/)"))
            }
            if got < 0 { throw .connection(Posix.failure("cannot read from the lock daemon")) }
            if got == 0 {
                throw .connection(VirtError(.operationFailed, .locking, "the lock daemon closed the connection"))
            }
            buffer.withUnsafeBytes { splitter.append(UnsafeRawBufferPointer(rebasing: $0[0..<got])) }
        }
    }

    /// One receive for a reply: polled for `spinNanoseconds`, then blocking (up to `replyTimeoutSeconds`).
    private func receive() -> Int {
        buffer.withUnsafeMutableBytes { cvirt_recv_spinning(fd, $0.baseAddress, $0.count, Self.spinNanoseconds) }
    }

    /// Whether the daemon is still there: the socket has not been hung up or closed by the peer.
    public var isAlive: Bool {
        guard !closed else { return false }
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, 0) >= 0 else { return false }
        if entry.revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 { return false }
        if entry.revents & Int16(POLLIN) != 0 {
            var byte: UInt8 = 0
            return recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) > 0
        }
        return true
    }
}

/// Why a call failed: the daemon refused it, or the connection broke.
public enum LockCallError: Error, Sendable {
    /// The daemon answered with an error.
    case daemon(LockWireError)
    /// The connection could not carry the call.
    case connection(VirtError)

    /// As a `VirtError`.
    public var virtError: VirtError {
        switch self {
        case .daemon(let error): error.virtError
        case .connection(let error): error
        }
    }
}
