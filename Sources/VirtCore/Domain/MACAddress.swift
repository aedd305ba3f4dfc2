/// Ethernet MAC addresses as libvirt writes them: six lower-case hex pairs separated by colons.
public enum MACAddress {
    /// The prefix libvirt uses for generated addresses of KVM/QEMU guests (Red Hat / QEMU's OUI `52:54:00`).
    public static let generatedPrefix: [UInt8] = [0x52, 0x54, 0x00]

    /// `aa:bb:cc:dd:ee:ff` (each field one or two hex digits) in canonical form, or nil.
    public static func normalize(_ text: String) -> String? {
        let fields = text.split(separator: ":", omittingEmptySubsequences: false)
        guard fields.count == 6 else { return nil }
        var bytes: [UInt8] = []
        for field in fields {
            guard (1...2).contains(field.count), let byte = UInt8(field, radix: 16) else { return nil }
            bytes.append(byte)
        }
        return format(bytes)
    }

    /// Whether the address has the multicast (group) bit set in its first octet.
    public static func isMulticast(_ canonical: String) -> Bool {
        guard let first = UInt8(canonical.prefix(2), radix: 16) else { return false }
        return first & 0x01 != 0
    }

    /// A random address under `generatedPrefix`, as libvirt assigns to interfaces without `<mac>`.
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return format(generatedPrefix + (0..<3).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    private static func format(_ bytes: [UInt8]) -> String {
        bytes.map { byte in
            let hex = String(byte, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined(separator: ":")
    }
}
