/// An error as it travels in a reply: `{"code":"...","message":"..."}`.
///
/// Protocol failures use the codes below; a server's own failures use `VirtError.Code` raw values
/// (`operationInvalid`, ...) so a client can rebuild the `VirtError` with `virtError(_:)`.
public struct WireError: Error, Codable, Equatable, Sendable, CustomStringConvertible {
    /// Machine-readable kind.
    public var code: String
    /// The message for people.
    public var message: String

    /// An error with a code and a message.
    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    /// The wire form of a `VirtError`: its code's raw value and its message.
    public init(_ error: VirtError) {
        self.init(code: error.code.rawValue, message: error.message)
    }

    /// The frame was not a JSON object of the protocol's shape.
    public static let malformedFrame = "malformed-frame"
    /// The length prefix passed the 1 MiB limit.
    public static let frameTooLarge = "frame-too-large"
    /// The request named a method the server does not have.
    public static let unknownMethod = "unknown-method"
    /// The request's `version` is not one the server speaks.
    public static let unsupportedVersion = "unsupported-version"
    /// The method exists but its `params` do not fit it.
    public static let invalidParams = "invalid-params"
    /// The peer's uid may not use this socket.
    public static let permissionDenied = "permission-denied"

    /// The error as a `VirtError` of `domain`: server-side codes map back to themselves, protocol codes to
    /// `rpc` failures, prefixed with `what` (e.g. "monitor of domain 'web1'").
    public func virtError(_ domain: VirtError.Domain, what: String) -> VirtError {
        if let code = VirtError.Code(rawValue: code) { return VirtError(code, domain, message) }
        return VirtError(.operationFailed, .rpc, "\(what): \(message)")
    }

    /// `code: message`.
    public var description: String { "\(code): \(message)" }
}

/// A request read from the wire: `{"version":1,"id":N,"method":"name","params":{...}}`.
public struct WireRequest: Sendable {
    /// The protocol version the client speaks.
    public var version: Int
    /// The client's request id, echoed in the reply.
    public var id: Int
    /// The method's name.
    public var method: String
    /// The whole JSON payload, kept so `params(_:)` can decode it as the method's own type.
    public var payload: [UInt8]

    /// Why a payload is not a request: the id when one could be read (then the error can be answered).
    public struct Failure: Error, Sendable {
        /// The request id, when the payload had one.
        public var id: Int?
        /// What to answer.
        public var error: WireError
    }

    private struct Header: Decodable {
        var version: Int?
        var id: Int?
        var method: String?
    }

    /// Parses a frame's payload. Throws a `Failure` that names what is missing or wrong.
    public static func parse(_ payload: [UInt8]) throws(Failure) -> WireRequest {
        let header: Header
        do {
            header = try FrameCodec.decode(Header.self, from: payload)
        } catch {
            throw Failure(id: nil, error: WireError(code: WireError.malformedFrame, message: "\(error)"))
        }
        guard let id = header.id else {
            throw Failure(
                id: nil, error: WireError(code: WireError.malformedFrame, message: "malformed frame: no request 'id'"))
        }
        guard let version = header.version else {
            throw Failure(
                id: id, error: WireError(code: WireError.malformedFrame, message: "malformed frame: no 'version'"))
        }
        guard version == FrameCodec.protocolVersion else {
            throw Failure(
                id: id,
                error: WireError(
                    code: WireError.unsupportedVersion,
                    message: "protocol version \(version) is not supported; this server speaks "
                        + "version \(FrameCodec.protocolVersion)"))
        }
        guard let method = header.method, !method.isEmpty else {
            throw Failure(
                id: id, error: WireError(code: WireError.malformedFrame, message: "malformed frame: no 'method'"))
        }
        return WireRequest(version: version, id: id, method: method, payload: payload)
    }

    private struct ParamsEnvelope<P: Decodable>: Decodable { var params: P? }

    /// The request's `params` decoded as `type`; a missing `params` is read as `{}`.
    public func params<P: Decodable>(_ type: P.Type) throws(WireError) -> P {
        do {
            if let params = try FrameCodec.decode(ParamsEnvelope<P>.self, from: payload).params { return params }
            return try FrameCodec.decode(type, from: Array("{}".utf8))
        } catch {
            throw WireError(code: WireError.invalidParams, message: "invalid params for '\(method)': \(error)")
        }
    }

    /// A framed request, ready to write.
    public static func frame<P: Encodable>(id: Int, method: String, params: P) throws(FrameError) -> [UInt8] {
        try FrameCodec.encode(Outgoing(version: FrameCodec.protocolVersion, id: id, method: method, params: params))
    }

    private struct Outgoing<P: Encodable>: Encodable {
        var version: Int
        var id: Int
        var method: String
        var params: P
    }
}

/// A parameter or result object with no members: `{}`.
public struct WireEmpty: Codable, Equatable, Sendable {
    /// The empty object.
    public init() {}
}

/// A reply read from the wire: `{"id":N,"result":{...}}` or `{"id":N,"error":{...}}`.
public struct WireReply: Sendable {
    /// The id of the request this answers; nil when the server could not read one.
    public var id: Int?
    /// The error, when the request failed.
    public var error: WireError?
    /// The whole JSON payload, kept so `result(_:)` can decode it as the method's own type.
    public var payload: [UInt8]

    private struct Header: Decodable {
        var id: Int?
        var error: WireError?
    }

    /// Parses a frame's payload as a reply.
    public static func parse(_ payload: [UInt8]) throws(FrameError) -> WireReply {
        let header = try FrameCodec.decode(Header.self, from: payload)
        return WireReply(id: header.id, error: header.error, payload: payload)
    }

    private struct ResultEnvelope<R: Decodable>: Decodable { var result: R }

    /// The result decoded as `type`; throws the reply's error when it carries one.
    public func result<R: Decodable>(_ type: R.Type) throws(WireError) -> R {
        if let error { throw error }
        do {
            return try FrameCodec.decode(ResultEnvelope<R>.self, from: payload).result
        } catch {
            throw WireError(code: WireError.malformedFrame, message: "unexpected reply: \(error)")
        }
    }

    /// A framed success reply.
    public static func frame<R: Encodable>(id: Int, result: R) throws(FrameError) -> [UInt8] {
        try FrameCodec.encode(Success(id: id, result: result))
    }

    /// A framed error reply; `id` nil (JSON null) when the request's id could not be read.
    public static func frame(id: Int?, error: WireError) -> [UInt8] {
        // An error object of two short strings always encodes; cap the message so it always fits a frame.
        var error = error
        if error.message.utf8.count > 4096 { error.message = String(error.message.prefix(4096)) }
        return (try? FrameCodec.encode(Failure(id: id, error: error))) ?? []
    }

    private struct Success<R: Encodable>: Encodable {
        var id: Int
        var result: R
    }

    private struct Failure: Encodable {
        var id: Int?
        var error: WireError
        enum CodingKeys: String, CodingKey { case id, error }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(error, forKey: .error)
        }
    }
}
