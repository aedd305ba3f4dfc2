/// How the boot vCPU enters the guest, decided by the kernel loader.
public struct BootEntry: Sendable, Equatable {
    /// The CPU mode at entry.
    public enum Mode: Sendable, Equatable {
        /// Xen PVH: 32-bit protected mode, paging off, `ebx` = `hvm_start_info` address.
        case pvh32
        /// Linux 64-bit boot protocol: long mode with identity paging, `rsi` = zero page.
        case linux64
    }
    /// The CPU mode.
    public var mode: Mode
    /// The entry point (guest-physical).
    public var instructionPointer: UInt64
    /// `ebx` for PVH, `rsi` for Linux: the boot information's address.
    public var bootInfoAddress: UInt64
}
