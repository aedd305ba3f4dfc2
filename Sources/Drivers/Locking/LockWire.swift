import Glibc
import VirtBase

/// The lock protocol on the wire: VirtBase's frames (4-byte big-endian length, at most 1 MiB) carrying JSON
/// written and read by the protocol's own small JSON code, which keeps a lock round trip in microseconds.
public enum LockWire {
    /// A framed JSON encoding of `value`.
    public static func encode(_ value: some LockWireCodable) throws(VirtError) -> [UInt8] {
        var writer = JSONWriter()
        value.write(to: &writer)
        let payload = writer.bytes
        do {
            return try FrameCodec.frame(payload)
        } catch {
            throw VirtError(.overflow, .rpc, "lock protocol message of \(payload.count) bytes passes the 1 MiB limit")
        }
    }

    /// Decodes one frame's payload.
    public static func decode<T: LockWireCodable>(_ type: T.Type, _ payload: [UInt8]) throws(LockWireError) -> T {
        guard let json = JSONValue.parse(payload) else {
            throw LockWireError(
                code: LockProtocol.ErrorCode.malformedFrame, message: "malformed frame: not a valid JSON document")
        }
        return try T(json: json, at: "")
    }
}

/// Splits a byte stream into frames: VirtBase's `FrameDecoder`, with its errors in the lock protocol's codes.
public struct FrameSplitter: Sendable {
    private var decoder = FrameDecoder()

    /// An empty splitter.
    public init() {}

    /// Bytes received but not yet returned as frames.
    public var pending: [UInt8] { decoder.pendingBytes }

    /// Adds received bytes.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) { decoder.append(bytes) }

    /// The next complete payload, nil when more bytes are needed. Throws `frame-too-large` when the
    /// length prefix passes the limit (the stream cannot be resynchronised after that).
    public mutating func next() throws(LockWireError) -> [UInt8]? {
        do {
            return try decoder.nextFrame()
        } catch {
            throw LockWireError(code: LockProtocol.ErrorCode.frameTooLarge, message: error.description)
        }
    }
}
