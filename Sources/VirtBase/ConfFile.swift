/// A configuration file in libvirt's `.conf` syntax: `key = value` lines, strings in double quotes,
/// integers bare, lists in brackets (possibly over several lines), `#` comments.
///
/// Reading is strict: an unknown key or a value of the wrong type is an error that names the file and
/// the line, so a typo never silently falls back to a default.
public struct ConfFile: Sendable, Equatable {
    /// A value as written.
    public enum Value: Sendable, Equatable, CustomStringConvertible {
        case string(String)
        case integer(Int64)
        case list([Value])

        public var description: String {
            switch self {
            case .string: "a string"
            case .integer(let number): "the integer \(number)"
            case .list: "a list"
            }
        }
    }

    /// What a key may hold, for `validate(against:)`.
    public enum Kind: Sendable, Equatable {
        case string, integer, boolean, stringList
    }

    /// One setting with the line it was written on.
    public struct Entry: Sendable, Equatable {
        public var key: String
        public var value: Value
        public var line: Int
    }

    /// The file name used in messages.
    public let name: String
    /// The settings in file order (a repeated key keeps its last value, as libvirt does).
    public private(set) var entries: [Entry] = []

    /// Parses `text`; `name` is the path shown in errors.
    public init(parsing text: String, name: String) throws(VirtError) {
        self.name = name
        var parser = ConfParser(bytes: Array(text.utf8), name: name)
        entries = try parser.parseEntries()
    }

    /// The entry for `key`, if set.
    public func entry(_ key: String) -> Entry? { entries.last { $0.key == key } }

    /// Checks every key against `schema`; unknown keys and wrong kinds are errors naming file and line.
    public func validate(against schema: [String: Kind]) throws(VirtError) {
        for entry in entries {
            guard let kind = schema[entry.key] else {
                let known = schema.keys.sorted().joined(separator: ", ")
                throw error(entry.line, "unknown setting '\(entry.key)' (known settings: \(known))")
            }
            switch (kind, entry.value) {
            case (.string, .string), (.integer, .integer): continue
            case (.boolean, .integer(let n)) where n == 0 || n == 1: continue
            case (.stringList, .list(let items)) where items.allSatisfy({ if case .string = $0 { true } else { false } }):
                continue
            default:
                throw error(entry.line, "'\(entry.key)' must be \(Self.describe(kind)), not \(entry.value)")
            }
        }
    }

    /// A string setting, or nil when absent.
    public func string(_ key: String) throws(VirtError) -> String? {
        guard let entry = entry(key) else { return nil }
        guard case .string(let text) = entry.value else {
            throw error(entry.line, "'\(key)' must be a string in double quotes, not \(entry.value)")
        }
        return text
    }

    /// An integer setting, or nil when absent.
    public func integer(_ key: String) throws(VirtError) -> Int64? {
        guard let entry = entry(key) else { return nil }
        guard case .integer(let number) = entry.value else {
            throw error(entry.line, "'\(key)' must be an integer, not \(entry.value)")
        }
        return number
    }

    /// A 0/1 setting, or nil when absent.
    public func boolean(_ key: String) throws(VirtError) -> Bool? {
        guard let entry = entry(key) else { return nil }
        guard case .integer(let number) = entry.value, number == 0 || number == 1 else {
            throw error(entry.line, "'\(key)' must be 0 or 1, not \(entry.value)")
        }
        return number == 1
    }

    /// A list of strings, or nil when absent.
    public func stringList(_ key: String) throws(VirtError) -> [String]? {
        guard let entry = entry(key) else { return nil }
        guard case .list(let items) = entry.value else {
            throw error(entry.line, "'\(key)' must be a list of strings like [\"a\", \"b\"], not \(entry.value)")
        }
        var strings: [String] = []
        for item in items {
            guard case .string(let text) = item else {
                throw error(entry.line, "'\(key)' must list strings only, not \(item)")
            }
            strings.append(text)
        }
        return strings
    }

    private func error(_ line: Int, _ message: String) -> VirtError {
        VirtError(.configUnsupported, .config, "\(name):\(line): \(message)")
    }

    private static func describe(_ kind: Kind) -> String {
        switch kind {
        case .string: "a string in double quotes"
        case .integer: "an integer"
        case .boolean: "0 or 1"
        case .stringList: "a list of strings like [\"a\", \"b\"]"
        }
    }
}

/// The byte-level reader behind `ConfFile`.
private struct ConfParser {
    let bytes: [UInt8]
    let name: String
    var position = 0
    var line = 1

    init(bytes: [UInt8], name: String) {
        self.bytes = bytes
        self.name = name
    }

    private func fail(_ message: String) -> VirtError {
        VirtError(.configUnsupported, .config, "\(name):\(line): \(message)")
    }

    private var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func advance() {
        if current == UInt8(ascii: "\n") { line += 1 }
        position += 1
    }

    /// Skips blanks and comments; newlines too when `newlines` is set (inside lists).
    private mutating func skipBlanks(newlines: Bool) {
        while let byte = current {
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r") {
                advance()
            } else if newlines && byte == UInt8(ascii: "\n") {
                advance()
            } else if byte == UInt8(ascii: "#") {
                while current != nil && current != UInt8(ascii: "\n") { advance() }
            } else {
                return
            }
        }
    }

    mutating func parseEntries() throws(VirtError) -> [ConfFile.Entry] {
        var entries: [ConfFile.Entry] = []
        while true {
            skipBlanks(newlines: true)
            guard current != nil else { return entries }
            let entryLine = line
            let key = try parseKey()
            skipBlanks(newlines: false)
            guard current == UInt8(ascii: "=") else { throw fail("expected '=' after '\(key)'") }
            advance()
            skipBlanks(newlines: false)
            let value = try parseValue()
            skipBlanks(newlines: false)
            if let byte = current, byte != UInt8(ascii: "\n") {
                throw fail("unexpected '\(Character(Unicode.Scalar(byte)))' after the value of '\(key)'")
            }
            entries.append(.init(key: key, value: value, line: entryLine))
        }
    }

    private mutating func parseKey() throws(VirtError) -> String {
        let start = position
        while let byte = current,
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
        {
            advance()
        }
        guard position > start else { throw fail("expected a setting name (letters, digits and '_')") }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    private mutating func parseValue() throws(VirtError) -> ConfFile.Value {
        guard let byte = current else { throw fail("the value is missing at the end of the file") }
        switch byte {
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "["):
            advance()
            var items: [ConfFile.Value] = []
            skipBlanks(newlines: true)
            if current == UInt8(ascii: "]") {
                advance()
                return .list(items)
            }
            while true {
                skipBlanks(newlines: true)
                items.append(try parseValue())
                skipBlanks(newlines: true)
                guard let next = current else { throw fail("the list is not closed with ']'") }
                advance()
                if next == UInt8(ascii: "]") { return .list(items) }
                guard next == UInt8(ascii: ",") else { throw fail("expected ',' or ']' in the list") }
            }
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let start = position
            advance()
            while let digit = current, digit >= UInt8(ascii: "0") && digit <= UInt8(ascii: "9") { advance() }
            let text = String(decoding: bytes[start..<position], as: UTF8.self)
            guard let number = Int64(text) else { throw fail("'\(text)' is not an integer that fits 64 bits") }
            return .integer(number)
        default:
            throw fail("a value must be a \"string\", an integer or a [list]")
        }
    }

    private mutating func parseString() throws(VirtError) -> String {
        advance()  // the opening quote
        var result: [UInt8] = []
        while let byte = current {
            advance()
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: result, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard let escaped = current else { break }
                advance()
                result.append(escaped)
            case UInt8(ascii: "\n"):
                throw fail("the string is not closed before the end of the line")
            default:
                result.append(byte)
            }
        }
        throw fail("the string is not closed with '\"'")
    }
}
