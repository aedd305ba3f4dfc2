/// virsh's number options: `virStrToLong_*` with `vshCommandOpt*`'s messages, and scaled sizes (`2M`, `1GiB`).
enum OptionNumber {
    /// The message virsh prints for a malformed number option.
    static func malformed(_ text: String, _ name: String) -> String {
        "Numeric value '\(text)' for <\(name)> option is malformed or out of range"
    }

    /// The digits of `text` after leading white space and one optional sign, as `strtoull`/`strtol` read them:
    /// the sign, the digits and whatever follows; nil when there are no digits.
    /// What C's `strto*` functions skip before the digits: leading white space, then one optional sign. Returns
    /// whether the sign was `-`, and the text after it.
    static func leadingSign(_ text: String) -> (negative: Bool, rest: Substring) {
        var rest = Substring(text)
        while let first = rest.first, first == " " || ("\t"..."\r").contains(first) { rest.removeFirst() }
        var negative = false
        if let sign = rest.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            rest.removeFirst()
        }
        return (negative, rest)
    }

    private static func split(_ text: String) -> (negative: Bool, digits: Substring, rest: Substring)? {
        let (negative, rest) = leadingSign(text)
        let digits = rest.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty else { return nil }
        return (negative, digits, rest.dropFirst(digits.count))
    }

    /// An `int` option (`--cellno`, `--cell`): negative values allowed, nothing may follow the digits.
    static func int(_ text: String, option name: String) throws -> Int {
        guard let parts = split(text), parts.rest.isEmpty, let magnitude = Int64(parts.digits),
            let value = Int32(exactly: parts.negative ? -magnitude : magnitude)
        else { throw CommandFailure(malformed(text, name)) }
        return Int(value)
    }

    /// An `unsigned long long` option (`--pagecount`): no sign of minus, nothing after the digits.
    static func unsigned(_ text: String, option name: String) throws -> UInt64 {
        guard let parts = split(text), !parts.negative, parts.rest.isEmpty, let value = UInt64(parts.digits) else {
            throw CommandFailure(malformed(text, name))
        }
        return value
    }

    /// A scaled size in bytes (`vshCommandOptScaledInt`): a bare number counts `defaultScale` bytes; `b`, `byte`
    /// and `bytes` are bytes; `k`, `M`, `G`, `T`, `P`, `E` (alone or with `iB`) are powers of 1024, with `B`
    /// (`KB`, `MB`) powers of 1000.
    static func scaledBytes(_ text: String, option name: String, defaultScale: UInt64, limit: UInt64) throws -> UInt64 {
        let malformed = "Scaled numeric value '\(text)' for <\(name)> option is malformed or out of range"
        guard let parts = split(text), !parts.negative, let value = UInt64(parts.digits) else {
            throw CommandFailure(malformed)
        }
        let suffix = parts.rest
        var scale = defaultScale
        if ["b", "byte", "bytes"].contains(suffix.lowercased()) {
            scale = 1
        } else if !suffix.isEmpty {
            let tail = suffix.dropFirst()
            let base: UInt64
            if tail.isEmpty || tail.lowercased() == "ib" {
                base = 1024
            } else if tail.lowercased() == "b" {
                base = 1000
            } else {
                throw CommandFailure(malformed, "invalid argument: unknown suffix '\(suffix)'")
            }
            let powers: [Character: Int] = ["b": 0, "k": 1, "m": 2, "g": 3, "t": 4, "p": 5, "e": 6]
            guard let first = suffix.first, let power = powers[Character(first.lowercased())], power > 0 else {
                throw CommandFailure(malformed, "invalid argument: unknown suffix '\(suffix)'")
            }
            scale = (0..<power).reduce(1) { product, _ in product * base }
        }
        guard value <= limit / scale else {
            throw CommandFailure(malformed, "numerical overflow: value too large: \(value)\(suffix)")
        }
        return value * scale
    }

    /// A page size option in KiB, as virsh reads it: scaled with KiB as the default unit, at most 4 GiB - 1 bytes,
    /// rounded up to whole KiB.
    static func pageSizeKiB(_ text: String, option name: String) throws -> UInt64 {
        let bytes = try scaledBytes(text, option: name, defaultScale: bytesPerKiB, limit: UInt64(UInt32.max))
        return (bytes + bytesPerKiB - 1) / bytesPerKiB
    }

    /// Bytes per KiB.
    static let bytesPerKiB: UInt64 = 1024
}
