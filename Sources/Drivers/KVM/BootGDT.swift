/// The boot GDT and the segment registers derived from it (Firecracker `gdt.rs`; Intel SDM vol. 3A §3.4.5).
public enum BootGDT {
    /// Segment-descriptor flag/access words in Firecracker's `gdt_entry(flags, base, limit)` form:
    /// bits 15:12 = G, D/B, L, AVL; bits 7:0 = P, DPL, S, type.
    public static let code64Flags: UInt16 = 0xa09b
    /// 32-bit flat code (G=1, D=1), for the PVH entry.
    public static let code32Flags: UInt16 = 0xc09b
    /// Flat read/write data.
    public static let dataFlags: UInt16 = 0xc093
    /// 32-bit available TSS (type 0xb busy as KVM expects).
    public static let tssFlags: UInt16 = 0x808b
    /// Limit of the flat segments in pages (with G=1 that is 4 GiB).
    public static let flatLimit: UInt32 = 0xfffff

    /// Selectors: entry index × 8.
    public static let codeSelector: UInt16 = 0x08
    /// Data segment selector (GDT entry 2).
    public static let dataSelector: UInt16 = 0x10
    /// Task register selector (GDT entry 3).
    public static let tssSelector: UInt16 = 0x18

    /// Encodes one 8-byte descriptor.
    public static func entry(flags: UInt16, base: UInt32, limit: UInt32) -> UInt64 {
        let f = UInt64(flags)
        let b = UInt64(base)
        let l = UInt64(limit)
        return ((b & 0xff00_0000) << 32) | ((b & 0x00ff_ffff) << 16) | (l & 0x0000_ffff)
            | ((l & 0x000f_0000) << 32) | ((f & 0x0000_f0ff) << 40)
    }

    /// The four descriptors (null, code, data, TSS) for a 64-bit or a 32-bit entry.
    public static func table(longMode: Bool) -> [UInt64] {
        [
            0,
            entry(flags: longMode ? code64Flags : code32Flags, base: 0, limit: flatLimit),
            entry(flags: dataFlags, base: 0, limit: flatLimit),
            entry(flags: tssFlags, base: 0, limit: flatLimit),
        ]
    }

    /// A `kvm_segment`-shaped description of descriptor `value` loaded with `selector`.
    public struct Segment: Equatable, Sendable {
        /// Segment base address.
        public var base: UInt64
        /// Segment limit in bytes (already scaled when G=1).
        public var limit: UInt32
        /// The selector that loads it.
        public var selector: UInt16
        /// Descriptor type (access bits 3:0).
        public var type: UInt8
        /// Present bit.
        public var present: UInt8
        /// Descriptor privilege level.
        public var dpl: UInt8
        /// Default operand size (D/B).
        public var db: UInt8
        /// Code/data (1) or system (0) descriptor.
        public var s: UInt8
        /// 64-bit code segment.
        public var l: UInt8
        /// Granularity: limit in 4 KiB units.
        public var g: UInt8
        /// Available for software.
        public var avl: UInt8
        /// KVM's "unusable" flag: set for non-present segments.
        public var unusable: UInt8
    }

    /// Decodes a descriptor into the segment-register form KVM_SET_SREGS takes.
    public static func segment(_ value: UInt64, selector: UInt16) -> Segment {
        let base = ((value >> 16) & 0xff_ffff) | (((value >> 56) & 0xff) << 24)
        var limit = UInt32((value & 0xffff) | (((value >> 48) & 0xf) << 16))
        let g = UInt8((value >> 55) & 1)
        if g == 1 { limit = (limit << 12) | 0xfff }
        let present = UInt8((value >> 47) & 1)
        return Segment(
            base: base, limit: limit, selector: selector, type: UInt8((value >> 40) & 0xf), present: present,
            dpl: UInt8((value >> 45) & 3), db: UInt8((value >> 54) & 1), s: UInt8((value >> 44) & 1),
            l: UInt8((value >> 53) & 1), g: g, avl: UInt8((value >> 52) & 1), unusable: present == 0 ? 1 : 0)
    }
}
