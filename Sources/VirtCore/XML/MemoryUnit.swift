/// libvirt's scaled memory sizes (`<memory unit='GiB'>4</memory>`), converted to KiB exactly as libvirt's
/// `virScaleInteger` and `virDomainParseMemory` do.
///
/// Suffixes are case-insensitive: `b`, `byte`, `bytes` = 1; a single letter `k m g t p e` or the letter plus
/// `iB` = powers of 1024; the letter plus `B` (`KB`, `MB`, ...) = powers of 1000. No unit means KiB. The byte
/// count is rounded up to whole KiB and may not exceed 2^63 - 1 bytes.
public enum MemoryUnit {
    /// The largest byte count libvirt accepts for a memory size (`LLONG_MAX`, the size of an `off_t`).
    public static let maxBytes: UInt64 = UInt64(Int64.max)
    /// Bytes per KiB.
    public static let bytesPerKiB: UInt64 = 1024

    /// How many bytes one `suffix` is, or nil for an unknown suffix.
    public static func bytes(per suffix: String) -> UInt64? {
        let lower = suffix.lowercased()
        if lower == "b" || lower == "byte" || lower == "bytes" { return 1 }
        guard let letter = lower.first else { return nil }
        let rest = lower.dropFirst()
        let base: UInt64
        switch rest {
        case "", "ib": base = 1024
        case "b": base = 1000
        default: return nil
        }
        let power: Int
        switch letter {
        case "k": power = 1
        case "m": power = 2
        case "g": power = 3
        case "t": power = 4
        case "p": power = 5
        case "e": power = 6
        default: return nil
        }
        var scale: UInt64 = 1
        for _ in 0..<power { scale *= base }
        return scale
    }

    /// `value` in `unit` (nil = KiB) as KiB, rounded up. Throws libvirt's `invalid argument: unknown suffix
    /// '...'` and `value too large: ...`; `what` names the element or attribute in messages.
    public static func kibibytes(_ value: UInt64, unit: String?, what: String = "memory size") throws(VirtError)
        -> UInt64
    {
        let suffix = unit ?? "KiB"
        guard let scale = bytes(per: suffix) else {
            throw VirtError(
                .invalidArgument, .xml,
                "unknown suffix '\(suffix)' for \(what); use b, bytes, KB, KiB (k), MB, MiB (M), GB, GiB (G), "
                    + "TB, TiB (T), PB, PiB (P), EB or EiB (E)")
        }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: scale)
        guard !overflow, bytes <= maxBytes else {
            throw VirtError(
                .overflow, .xml,
                "\(value)\(unit.map { " " + $0 } ?? " KiB") for \(what) is more than the largest size, "
                    + "\(maxBytes) bytes (8 EiB)")
        }
        return bytes / bytesPerKiB + (bytes % bytesPerKiB == 0 ? 0 : 1)
    }

    /// Parses the decimal text of a scaled value (surrounding blanks allowed) with libvirt's error for
    /// anything else: `Invalid value '4x' for element or attribute './memory[1]'`.
    static func parseValue(_ text: String, xpath: String) throws(VirtError) -> UInt64 {
        let trimmed = text.trimmingSpaces
        guard !trimmed.isEmpty, trimmed.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else {
            throw VirtError(
                .xmlError, .xml,
                "Invalid value '\(text)' for element or attribute '\(xpath)': expected a whole number")
        }
        guard let value = UInt64(trimmed) else {
            throw VirtError(.overflow, .xml, "'\(trimmed)' for '\(xpath)' does not fit in 64 bits")
        }
        return value
    }
}
