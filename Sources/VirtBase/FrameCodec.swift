import FoundationEssentials

/// The wire protocol shared by the monitor socket and the lock daemon: frames of a 4-byte big-endian
/// length followed by one UTF-8 JSON object of at most `maximumFrameBytes` bytes.
///
/// JSON goes through FoundationEssentials' `JSONEncoder`/`JSONDecoder`: it is the one JSON codec that
/// understands `Codable` without pulling in the full Foundation (no ICU, no libxml2), and it costs the
/// per-guest processes a few MiB of RSS instead of a hand-written encoder/decoder pair to maintain.
public enum FrameCodec {
    /// The largest JSON payload a frame may carry (1 MiB, the architecture page's limit).
    public static let maximumFrameBytes = 1 << 20
    /// Bytes of the big-endian length prefix.
    public static let headerBytes = 4
    /// The protocol version every request carries.
    public static let protocolVersion = 1

    /// Prefixes `payload` with its big-endian length. Throws when the payload passes the limit.
    public static func frame(_ payload: [UInt8]) throws(FrameError) -> [UInt8] {
        guard payload.count <= maximumFrameBytes else { throw .oversized(payload.count) }
        let length = UInt32(payload.count)
        var bytes: [UInt8] = [
            UInt8(truncatingIfNeeded: length >> 24), UInt8(truncatingIfNeeded: length >> 16),
            UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length),
        ]
        bytes.reserveCapacity(headerBytes + payload.count)
        bytes.append(contentsOf: payload)
        return bytes
    }

    /// Encodes `value` as a JSON object and frames it.
    public static func encode<T: Encodable>(_ value: T) throws(FrameError) -> [UInt8] {
        let data: Data
        do {
            data = try makeEncoder().encode(value)
        } catch {
            throw .unencodable("\(error)")
        }
        return try frame([UInt8](data))
    }

    /// Encodes `value` as one line of JSON (no frame header, a trailing newline): status files, pipe reports.
    public static func jsonLine<T: Encodable>(_ value: T) throws(FrameError) -> [UInt8] {
        Array(try encode(value).dropFirst(headerBytes)) + [UInt8(ascii: "\n")]
    }

    /// Decodes a frame's JSON payload as `T`.
    public static func decode<T: Decodable>(_ type: T.Type, from payload: [UInt8]) throws(FrameError) -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(payload))
        } catch let error as DecodingError {
            throw .malformed(describe(error))
        } catch {
            throw .malformed("\(error)")
        }
    }

    /// The encoder every frame uses: sorted keys, so equal values give equal bytes.
    static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// A one-line account of a decoding failure: what was wrong and where.
    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }
            return keys.isEmpty ? "" : " at '\(keys.joined(separator: "."))'"
        }
        switch error {
        case .dataCorrupted(let context):
            return "not a JSON document\(path(context)): \(context.debugDescription)"
        case .keyNotFound(let key, let context):
            return "missing key '\(key.stringValue)'\(path(context))"
        case .typeMismatch(let type, let context):
            return "expected \(type)\(path(context))"
        case .valueNotFound(let type, let context):
            return "missing \(type) value\(path(context))"
        @unknown default:
            return "\(error)"
        }
    }
}

/// Why a frame could not be produced or taken apart.
public enum FrameError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The length prefix (or an outgoing payload) passes `FrameCodec.maximumFrameBytes`.
    case oversized(Int)
    /// The payload is not the JSON object the protocol expects.
    case malformed(String)
    /// A value could not be encoded as JSON.
    case unencodable(String)

    /// A message that names the limit or the defect.
    public var description: String {
        switch self {
        case .oversized(let length):
            "frame of \(length) bytes passes the \(FrameCodec.maximumFrameBytes)-byte limit"
        case .malformed(let detail): "malformed frame: \(detail)"
        case .unencodable(let detail): "cannot encode frame: \(detail)"
        }
    }
}
