@testable import KVM

/// Wraps a flat 64-bit payload in a minimal bzImage: one setup sector with the boot-protocol header
/// (Documentation/arch/x86/boot.rst) and the payload as the protected-mode part.
enum BzImageFixture {
    static func image(
        payload: [UInt8], version: UInt16 = 0x020f, xloadflags: UInt16 = 1, initSize: UInt32 = 0x10000
    ) -> [UInt8] {
        var b = ByteBuffer(count: 2 * 512)
        b.bytes[0x1f1] = 1  // setup_sects
        b.set(UInt16(0xaa55), at: 0x1fe)  // boot_flag
        b.bytes[0x201] = 0x66  // header length beyond 0x202
        b.set(UInt32(0x5372_6448), at: 0x202)  // "HdrS"
        b.set(version, at: 0x206)
        b.bytes[0x211] = 1  // LOADED_HIGH
        b.set(UInt32(0x7fff_ffff), at: 0x22c)  // initrd_addr_max
        b.set(xloadflags, at: 0x236)
        b.set(UInt32(2047), at: 0x238)  // cmdline_size
        b.set(initSize, at: 0x260)
        return b.bytes + payload
    }
}
