import VirtBase

/// A libvirt connection URI: `driver[+transport]://[host]/path[?key=value&...]`.
public struct ConnectionURI: Sendable, Equatable, CustomStringConvertible {
    /// The driver part of the scheme (`test`, `kvm`).
    public var scheme: String
    /// `+transport`, when present (remote transports are not supported).
    public var transport: String?
    /// The host part; empty for local URIs.
    public var host: String
    /// The path: `/default`, `/system`, `/session`, `/embed`.
    public var path: String
    /// Query parameters in order (`root=/dir`).
    public var query: [(key: String, value: String)]

    public init(parsing text: String) throws {
        func bad(_ why: String) -> VirtError {
            VirtError(.invalidArgument, .connection, "cannot parse URI '\(text)': \(why)")
        }
        guard let schemeEnd = text.range(of: "://") else {
            throw bad("expected 'driver:///path', for example 'test:///default' or 'kvm:///system'")
        }
        let schemePart = String(text[..<schemeEnd.lowerBound])
        guard !schemePart.isEmpty else { throw bad("the driver name is empty") }
        let schemeParts = schemePart.split(separator: "+", maxSplits: 1).map(String.init)
        scheme = schemeParts[0].lowercased()
        transport = schemeParts.count > 1 ? schemeParts[1] : nil
        var rest = String(text[schemeEnd.upperBound...])
        var queryText = ""
        if let q = rest.firstIndex(of: "?") {
            queryText = String(rest[rest.index(after: q)...])
            rest = String(rest[..<q])
        }
        if let slash = rest.firstIndex(of: "/") {
            host = String(rest[..<slash])
            path = String(rest[slash...])
        } else {
            host = rest
            path = ""
        }
        query = []
        for item in queryText.split(separator: "&") where !item.isEmpty {
            let kv = item.split(separator: "=", maxSplits: 1).map(String.init)
            let key = Self.percentDecode(kv[0])
            let value = kv.count > 1 ? Self.percentDecode(kv[1]) : ""
            query.append((key, value))
        }
    }

    /// The value of query parameter `key`, if present.
    public func queryValue(_ key: String) -> String? { query.first { $0.key == key }?.value }

    public var description: String {
        var text = scheme + (transport.map { "+\($0)" } ?? "") + "://" + host + path
        if !query.isEmpty { text += "?" + query.map { "\($0.key)=\($0.value)" }.joined(separator: "&") }
        return text
    }

    public static func == (lhs: ConnectionURI, rhs: ConnectionURI) -> Bool { lhs.description == rhs.description }

    private static func percentDecode(_ text: String) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"), let h = iterator.next(), let l = iterator.next(),
                let value = UInt8(String(decoding: [h, l], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
