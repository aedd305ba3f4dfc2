/// Reassembles frames from a byte stream that arrives in arbitrary pieces.
///
/// Feed every read into `append(_:)` and call `nextFrame()` until it returns nil. An oversized length
/// prefix is reported as soon as the 4 header bytes are in, before any payload is buffered, so a
/// hostile peer cannot make the reader hold more than one frame's worth of memory.
public struct FrameDecoder: Sendable {
    private var buffer: [UInt8] = []
    private var start = 0

    /// An empty decoder.
    public init() {}

    /// Bytes received but not yet returned as a frame.
    public var bufferedBytes: Int { buffer.count - start }

    /// Those bytes themselves (handed across virtlockd's re-exec, so a half-received request survives it).
    public var pendingBytes: [UInt8] { Array(buffer[start...]) }

    /// Adds received bytes.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    /// The next complete frame's payload, or nil when more bytes are needed.
    public mutating func nextFrame() throws(FrameError) -> [UInt8]? {
        guard bufferedBytes >= FrameCodec.headerBytes else { return nil }
        var length = 0
        for index in 0..<FrameCodec.headerBytes {
            length = length << 8 | Int(buffer[start + index])
        }
        guard length <= FrameCodec.maximumFrameBytes else { throw .oversized(length) }
        guard bufferedBytes >= FrameCodec.headerBytes + length else { return nil }
        let payloadStart = start + FrameCodec.headerBytes
        let payload = Array(buffer[payloadStart..<payloadStart + length])
        start = payloadStart + length
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        } else if start > FrameCodec.maximumFrameBytes {
            buffer.removeFirst(start)
            start = 0
        }
        return payload
    }
}
