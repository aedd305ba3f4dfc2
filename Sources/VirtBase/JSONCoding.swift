/// A value with a hand-written JSON form: the configuration every guest start hands from `virtsh` to the
/// supervisor and on to the hypervisor. Codable's first use of each type in a fresh process costs runtime
/// type lookups (about 1 ms for a configuration in each of the three processes, see `JSONValue`); these
/// readers and writers cost a few µs. The forms are the ones Codable gives the same types (member names as
/// property names, nil optionals left out), so either side may be written by either codec (tests check both).
public protocol JSONCodable {
    /// Reads the value from `json`; errors name the member by its path.
    init(json: JSONField) throws(JSONShapeError)
    /// Writes the value as one JSON value.
    func write(to writer: inout JSONWriter)
}

/// A member of the wrong shape: which one, and what it must be.
public struct JSONShapeError: Error, Equatable, CustomStringConvertible {
    /// The member's path from the document (`hypervisor.disks.0.source`), empty for the document itself.
    public let path: String
    /// What it must be (`a string`, `an unsigned 64-bit integer`).
    public let expected: String

    /// An error at `path`.
    public init(path: String, expected: String) {
        self.path = path
        self.expected = expected
    }

    public var description: String { "'\(path.isEmpty ? "(document)" : path)' must be \(expected)" }
}

/// One JSON value and where it sits in its document, with typed reads that name it when they fail.
public struct JSONField {
    /// The value.
    public let value: JSONValue
    /// Its path from the document.
    public let path: String

    /// The document itself, or a value at `path`.
    public init(_ value: JSONValue, path: String = "") {
        self.value = value
        self.path = path
    }

    /// Parses a whole document (`bytes` may end in one newline, as a JSON line does).
    public static func document(_ bytes: [UInt8]) throws(JSONShapeError) -> JSONField {
        guard let value = JSONValue.parse(bytes) else {
            throw JSONShapeError(path: "", expected: "one valid JSON document")
        }
        return JSONField(value)
    }

    /// The error for this value.
    @inlinable public func wrong(_ expected: String) -> JSONShapeError {
        JSONShapeError(path: path, expected: expected)
    }

    /// Reads the whole value as `T`.
    @inlinable public func decode<T: JSONCodable>(_ type: T.Type = T.self) throws(JSONShapeError) -> T {
        try T(json: self)
    }

    /// The member `key` of this object; nil when absent or null (as Codable's `decodeIfPresent` reads).
    @inlinable
    public func optional<T: JSONCodable>(_ key: String, _ type: T.Type = T.self) throws(JSONShapeError) -> T? {
        guard case .object = value else { throw wrong("an object") }
        guard let found = value[key] else { return nil }
        if case .null = found { return nil }
        return try T(json: JSONField(found, path: member(key)))
    }

    /// The member `key` of this object, which must be present.
    @inlinable
    public func required<T: JSONCodable>(_ key: String, _ type: T.Type = T.self) throws(JSONShapeError) -> T {
        guard let found: T = try optional(key) else { throw JSONShapeError(path: member(key), expected: "present") }
        return found
    }

    /// The path of member `key`.
    public func member(_ key: String) -> String { path.isEmpty ? key : path + "." + key }
}

extension JSONWriter {
    /// `"key": value`.
    @inlinable public mutating func member<T: JSONCodable>(_ key: String, _ value: T) {
        self.key(key)
        value.write(to: &self)
    }

    /// `"key": value` when `value` is not nil; nothing otherwise (as Codable's `encodeIfPresent` writes).
    @inlinable public mutating func member<T: JSONCodable>(_ key: String, ifPresent value: T?) {
        if let value { member(key, value) }
    }

    /// The writer's bytes as one line (status files, pipe hand-offs).
    public var line: [UInt8] { bytes + [UInt8(ascii: "\n")] }
}

extension JSONCodable {
    /// The value as one line of JSON.
    public func jsonLine() -> [UInt8] {
        var writer = JSONWriter()
        write(to: &writer)
        return writer.line
    }

    /// Reads a value from a whole document.
    public static func decodeJSON(_ bytes: [UInt8]) throws(JSONShapeError) -> Self {
        try JSONField.document(bytes).decode()
    }
}

/// String-valued enumerations read and write their raw value.
extension JSONCodable where Self: RawRepresentable, RawValue == String {
    public init(json: JSONField) throws(JSONShapeError) {
        guard case .string(let text) = json.value else { throw json.wrong("a string") }
        guard let value = Self(rawValue: text) else { throw json.wrong("a known value, not '\(text)'") }
        self = value
    }

    public func write(to writer: inout JSONWriter) { writer.string(rawValue) }
}

extension String: JSONCodable {
    public init(json: JSONField) throws(JSONShapeError) {
        guard case .string(let text) = json.value else { throw json.wrong("a string") }
        self = text
    }

    public func write(to writer: inout JSONWriter) { writer.string(self) }
}

extension Bool: JSONCodable {
    public init(json: JSONField) throws(JSONShapeError) {
        guard case .bool(let flag) = json.value else { throw json.wrong("true or false") }
        self = flag
    }

    public func write(to writer: inout JSONWriter) { writer.bool(self) }
}

/// Integers of every width read with a range check.
public protocol JSONInteger: JSONCodable, FixedWidthInteger {}

extension JSONInteger {
    public init(json: JSONField) throws(JSONShapeError) {
        let kind = "\(Self.isSigned ? "a" : "an unsigned") \(Self.bitWidth)-bit integer"
        guard case .integer(let number) = json.value, let value = Self(exactly: number) else { throw json.wrong(kind) }
        self = value
    }

    public func write(to writer: inout JSONWriter) {
        if Self.isSigned { writer.integer(Int64(self)) } else { writer.unsigned(UInt64(self)) }
    }
}

extension Int: JSONInteger {}
extension Int32: JSONInteger {}
extension Int64: JSONInteger {}
extension UInt32: JSONInteger {}
extension UInt64: JSONInteger {}

/// Arrays: JSON arrays, elements at `path.index`.
extension Array: JSONCodable where Element: JSONCodable {
    public init(json: JSONField) throws(JSONShapeError) {
        guard case .array(let items) = json.value else { throw json.wrong("an array") }
        var result: [Element] = []
        result.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            result.append(try Element(json: JSONField(item, path: json.member(String(index)))))
        }
        self = result
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginArray()
        for element in self { element.write(to: &writer) }
        writer.endArray()
    }
}

/// Optionals as array elements: `null` for nil (members use `optional` and `member(_:ifPresent:)`).
extension Optional: JSONCodable where Wrapped: JSONCodable {
    public init(json: JSONField) throws(JSONShapeError) {
        if case .null = json.value {
            self = nil
        } else {
            self = try Wrapped(json: json)
        }
    }

    public func write(to writer: inout JSONWriter) {
        if let self { self.write(to: &writer) } else { writer.null() }
    }
}

/// Its text form, as its Codable form (`0-3,8`; empty for no CPUs).
extension CPUSet: JSONCodable {
    public init(json: JSONField) throws(JSONShapeError) {
        let text: String = try json.decode()
        if text.isEmpty {
            self.init()
            return
        }
        do {
            self = try CPUSet(parsing: text)
        } catch {
            throw json.wrong("a CPU list such as '0-3,8', not '\(text)'")
        }
    }

    public func write(to writer: inout JSONWriter) { writer.string(description) }
}
