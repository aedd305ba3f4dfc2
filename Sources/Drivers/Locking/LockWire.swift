import Glibc
import VirtBase

/// The one seam between the lock protocol and the byte stream: 4-byte big-endian length + JSON
/// frames of at most 1 MiB (architecture page, "Wire protocol"). When VirtBase's shared frame codec is
/// available this file is the only place that changes.
public enum LockWire {
    /// The largest payload a frame may carry.
    public static let maximumFrameBytes = 1 << 20
    /// Bytes of the length prefix.
    static let headerBytes = 4

    /// `payload` with its length prefix.
    static func frame(_ payload: [UInt8]) -> [UInt8] {
        let length = UInt32(payload.count)
        var bytes: [UInt8] = [
            UInt8(truncatingIfNeeded: length >> 24), UInt8(truncatingIfNeeded: length >> 16),
            UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length),
        ]
        bytes.append(contentsOf: payload)
        return bytes
    }

    /// A framed JSON encoding of `value`.
    public static func encode(_ value: some LockWireCodable) throws(VirtError) -> [UInt8] {
        var writer = JSONWriter()
        value.write(to: &writer)
        let payload = writer.bytes
        guard payload.count <= maximumFrameBytes else {
            throw VirtError(.overflow, .rpc, "lock protocol message of \(payload.count) bytes passes the 1 MiB limit")
        }
        return frame(payload)
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

/// Splits a byte stream into frames.
public struct FrameSplitter: Sendable {
    private var buffer: [UInt8] = []
    private var start = 0

    /// An empty splitter.
    public init() {}

    /// Bytes received but not yet returned as frames.
    public var pending: [UInt8] { Array(buffer[start...]) }

    /// Adds received bytes.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete payload, nil when more bytes are needed. Throws `frame-too-large` when the
    /// length prefix passes the limit (the stream cannot be resynchronised after that).
    public mutating func next() throws(LockWireError) -> [UInt8]? {
        guard buffer.count - start >= LockWire.headerBytes else { return nil }
        let length =
            Int(buffer[start]) << 24 | Int(buffer[start + 1]) << 16 | Int(buffer[start + 2]) << 8
            | Int(buffer[start + 3])
        guard length <= LockWire.maximumFrameBytes else {
            throw LockWireError(
                code: LockProtocol.ErrorCode.frameTooLarge,
                message: "frame of \(length) bytes passes the \(LockWire.maximumFrameBytes)-byte limit")
        }
        guard buffer.count - start - LockWire.headerBytes >= length else { return nil }
        let bodyStart = start + LockWire.headerBytes
        let payload = Array(buffer[bodyStart..<bodyStart + length])
        start = bodyStart + length
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        return payload
    }
}
