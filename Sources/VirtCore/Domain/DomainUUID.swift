import Foundation

/// libvirt's two textual UUID forms: 32 hex digits, or the 8-4-4-4-12 form with hyphens.
public enum DomainUUID {
    /// Parses either form (hex digits in any case); nil for anything else.
    public static func parse(_ text: String) -> UUID? {
        let utf8 = Array(text.utf8)
        let hyphenPositions: Set<Int> = [8, 13, 18, 23]
        let hyphenated = utf8.count == 36
        guard utf8.count == 32 || hyphenated else { return nil }
        var bytes = [UInt8](repeating: 0, count: 16)
        var nibble = 0
        for (index, char) in utf8.enumerated() {
            if hyphenated, hyphenPositions.contains(index) {
                guard char == UInt8(ascii: "-") else { return nil }
                continue
            }
            guard let value = hexValue(char) else { return nil }
            bytes[nibble / 2] |= nibble % 2 == 0 ? value << 4 : value
            nibble += 1
        }
        guard nibble == 32 else { return nil }
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9],
                bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
    }

    /// A random (version 4) UUID, drawn with the system's generator (`getrandom`), as libvirt generates one
    /// for a document without `<uuid>`.
    public static func random() -> UUID {
        var generator = SystemRandomNumberGenerator()
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9],
                bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
    }

    /// The lower-case 8-4-4-4-12 form libvirt prints.
    public static func format(_ uuid: UUID) -> String { uuid.uuidString.lowercased() }

    private static func hexValue(_ char: UInt8) -> UInt8? {
        switch char {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): char - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): char - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): char - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
