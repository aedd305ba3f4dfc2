import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A blocking wire-protocol server on a Unix socket: one OS thread accepts, one thread per connection
/// reads requests and writes the handler's replies. Peers whose uid is not allowed get an error and are
/// closed; malformed and oversized frames get an error reply and their connection is closed; the server
/// lives on. Used by the hypervisor's monitor and the lock daemon.
public final class FrameServer: Sendable {
    /// Answers one request.
    public typealias Handler = @Sendable (WireRequest, PeerCredentials) -> Reply

    /// A framed reply (built with `WireReply.frame`) and what to do once it is written.
    public struct Reply: Sendable {
        /// The bytes to send.
        public var frame: [UInt8]
        /// Runs after the reply was sent (or could not be): e.g. stop the process the reply announced.
        public var afterSend: (@Sendable () -> Void)?
        /// A reply.
        public init(_ frame: [UInt8], afterSend: (@Sendable () -> Void)? = nil) {
            self.frame = frame
            self.afterSend = afterSend
        }
    }

    private let listener: UnixSocketListener
    private let allowedUIDs: Set<UInt32>
    private let idleTimeoutMilliseconds: Int
    private let maximumConnections: Int
    private let handler: Handler
    private let stopping = Atomic<Bool>(false)
    private let connections = Atomic<Int>(0)
    private let requestsInFlight = Atomic<Int>(0)

    /// How long `serve()` waits in accept before it looks at the stop flag.
    static let acceptPollMilliseconds = 200
    /// How long a reply may wait for a peer that does not read.
    public static let sendTimeoutMilliseconds = 5_000

    /// A server on `listener` that accepts peers whose uid is in `allowedUIDs`, closes connections idle for
    /// `idleTimeoutMilliseconds`, and refuses connections beyond `maximumConnections` at once.
    public init(
        listener: UnixSocketListener, allowedUIDs: Set<UInt32>, idleTimeoutMilliseconds: Int = 60_000,
        maximumConnections: Int = 16, handler: @escaping Handler
    ) {
        self.listener = listener
        self.allowedUIDs = allowedUIDs
        self.idleTimeoutMilliseconds = idleTimeoutMilliseconds
        self.maximumConnections = maximumConnections
        self.handler = handler
    }

    /// Accepts connections until `stop()`; each is served on its own thread. Blocks the calling thread.
    public func serve() {
        while !stopping.load(ordering: .acquiring) {
            let connection: UnixSocketConnection?
            do {
                connection = try listener.accept(timeoutMilliseconds: Self.acceptPollMilliseconds)
            } catch {
                continue
            }
            guard let connection else { continue }
            let descriptor = connection.descriptor
            guard connections.add(1, ordering: .acquiringAndReleasing).newValue <= maximumConnections else {
                connections.subtract(1, ordering: .acquiringAndReleasing)
                refuse(connection, WireError(code: "busy", message: "too many connections; try again"))
                continue
            }
            // The connection moves to its thread by descriptor: the class itself is not Sendable.
            connection.releaseDescriptor()
            do {
                try DetachedThread.start("a socket connection") { [self] in
                    self.serve(UnixSocketConnection(adopting: descriptor))
                    self.connections.subtract(1, ordering: .acquiringAndReleasing)
                }
            } catch {
                UnixSocketConnection(adopting: descriptor).close()
                connections.subtract(1, ordering: .acquiringAndReleasing)
            }
        }
    }

    /// Makes `serve()` return within a short poll interval; connections end after their current request.
    public func stop() {
        stopping.store(true, ordering: .releasing)
    }

    /// Waits until no request is being answered (or `timeoutMilliseconds` pass), so a process about to
    /// exit still delivers replies to requests that raced with its end. Returns true when idle.
    public func waitUntilIdle(timeoutMilliseconds: Int) -> Bool {
        let step = 1_000
        var waited = 0
        while requestsInFlight.load(ordering: .acquiring) > 0 {
            if waited >= timeoutMilliseconds * 1_000 { return false }
            usleep(UInt32(step))
            waited += step
        }
        return true
    }

    private func refuse(_ connection: UnixSocketConnection, _ error: WireError) {
        try? connection.send(WireReply.frame(id: nil, error: error), timeoutMilliseconds: Self.sendTimeoutMilliseconds)
        connection.close()
    }

    private func serve(_ connection: UnixSocketConnection) {
        defer { connection.close() }
        guard let peer = try? connection.peerCredentials() else { return }
        guard allowedUIDs.contains(peer.uid) else {
            refuse(
                connection,
                WireError(code: WireError.permissionDenied, message: "uid \(peer.uid) may not use this socket"))
            return
        }
        while !stopping.load(ordering: .acquiring) {
            let payload: [UInt8]
            do {
                guard let frame = try connection.receiveFrame(timeoutMilliseconds: idleTimeoutMilliseconds) else {
                    return
                }
                payload = frame
            } catch .frame(let error) {
                let code = if case .oversized = error { WireError.frameTooLarge } else { WireError.malformedFrame }
                refuse(connection, WireError(code: code, message: error.description))
                return
            } catch {
                return
            }
            let request: WireRequest
            do {
                request = try WireRequest.parse(payload)
            } catch {
                let reply = WireReply.frame(id: error.id, error: error.error)
                try? connection.send(reply, timeoutMilliseconds: Self.sendTimeoutMilliseconds)
                if error.error.code == WireError.malformedFrame { return }
                continue
            }
            requestsInFlight.add(1, ordering: .acquiringAndReleasing)
            let reply = handler(request, peer)
            defer {
                reply.afterSend?()
                requestsInFlight.subtract(1, ordering: .acquiringAndReleasing)
            }
            do {
                try connection.send(reply.frame, timeoutMilliseconds: Self.sendTimeoutMilliseconds)
            } catch {
                return
            }
        }
    }
}
