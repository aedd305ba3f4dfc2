/// The guest's physical memory map, as e820 entries (Linux zero page) and PVH memmap entries.
public struct E820Entry: Sendable, Equatable {
    /// e820 type 1: usable RAM.
    public static let ram: UInt32 = 1
    /// e820 type 2: reserved.
    public static let reserved: UInt32 = 2

    /// First byte of the range.
    public var address: UInt64
    /// Length in bytes.
    public var size: UInt64
    /// e820 type: `ram` or `reserved`.
    public var type: UInt32

    /// The map for `memory`: RAM below the EBDA, the legacy hole reserved, RAM from 1 MiB to the PCI hole,
    /// and RAM above 4 GiB (Firecracker `configure_64bit_boot`).
    public static func map(for regions: [GuestMemory.Region]) -> [E820Entry] {
        var entries = [
            E820Entry(address: 0, size: GuestLayout.ebdaStart, type: ram),
            E820Entry(
                address: GuestLayout.ebdaStart, size: GuestLayout.legacyAreaEnd - GuestLayout.ebdaStart,
                type: reserved),
        ]
        for region in regions {
            let start = max(region.guestAddress, GuestLayout.legacyAreaEnd)
            guard region.end > start else { continue }
            // Guest NUMA cells side by side are one range of RAM to the guest (their bounds belong in ACPI SRAT).
            if let last = entries.last, last.type == ram, last.address + last.size == start {
                entries[entries.count - 1].size += region.end - start
            } else {
                entries.append(E820Entry(address: start, size: region.end - start, type: ram))
            }
        }
        return entries
    }
}
