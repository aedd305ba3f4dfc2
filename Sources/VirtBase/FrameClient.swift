/// A blocking wire-protocol client: one connection, one request at a time, a deadline on every wait.
/// Every failure is a `VirtError` that names the peer (`what`), so callers never hang on a dead socket.
public final class FrameClient {
    /// The socket path.
    public let path: String
    /// How the peer is named in messages ("monitor of domain 'web1'").
    public let what: String
    private let domain: VirtError.Domain
    private let timeoutMilliseconds: Int
    private var connection: UnixSocketConnection?
    private var nextID = 1

    /// A client for the socket at `path`; connects on first call.
    public init(path: String, what: String, domain: VirtError.Domain, timeoutMilliseconds: Int) {
        self.path = path
        self.what = what
        self.domain = domain
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    /// Closes the connection.
    public func close() {
        connection?.close()
        connection = nil
    }

    /// Sends `method` with `params` and decodes the result as `R`. Server errors come back as the
    /// `VirtError` the server raised; socket failures and timeouts as `operationFailed` / `operationTimeout`.
    public func call<P: Encodable, R: Decodable>(_ method: String, _ params: P, returning: R.Type) throws(VirtError)
        -> R
    {
        let id = nextID
        nextID += 1
        let reply: WireReply
        do {
            let connection = try connected()
            let frame = try WireRequest.frame(id: id, method: method, params: params)
            try connection.send(frame, timeoutMilliseconds: timeoutMilliseconds)
            guard let payload = try connection.receiveFrame(timeoutMilliseconds: timeoutMilliseconds) else {
                throw SocketError.peerClosed
            }
            reply = try WireReply.parse(payload)
        } catch let error as SocketError {
            close()
            if case .timedOut = error {
                throw VirtError(
                    .operationTimeout, domain, "\(what) at '\(path)' gave no answer to '\(method)': \(error)")
            }
            throw VirtError(.operationFailed, domain, "cannot talk to \(what) at '\(path)': \(error)")
        } catch {
            close()
            throw VirtError(.operationFailed, domain, "cannot talk to \(what) at '\(path)': \(error)")
        }
        if let error = reply.error { throw error.virtError(domain, what: what) }
        guard reply.id == id else {
            close()
            throw VirtError(
                .operationFailed, domain,
                "\(what) answered request \(reply.id.map(String.init) ?? "null") instead of \(id)")
        }
        do {
            return try reply.result(R.self)
        } catch {
            throw VirtError(
                .operationFailed, domain, "\(what) sent an unexpected reply to '\(method)': \(error.message)")
        }
    }

    private func connected() throws(SocketError) -> UnixSocketConnection {
        if let connection { return connection }
        let connection = try UnixSocketConnection.connect(path: path, timeoutMilliseconds: timeoutMilliseconds)
        self.connection = connection
        return connection
    }
}
