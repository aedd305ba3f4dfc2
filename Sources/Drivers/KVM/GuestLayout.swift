/// The guest-physical memory map this hypervisor builds (x86-64, Firecracker-style; see docs/hypervisor.md).
public enum GuestLayout {
    /// Boot GDT (four 8-byte entries) — Firecracker `regs.rs` BOOT_GDT_OFFSET.
    public static let gdtAddress: UInt64 = 0x500
    /// Boot IDT (one empty entry) — Firecracker BOOT_IDT_OFFSET.
    public static let idtAddress: UInt64 = 0x520
    /// PVH `hvm_start_info` (Xen `arch-x86/hvm/start_info.h`).
    public static let pvhStartInfoAddress: UInt64 = 0x6000
    /// PVH module list (the initrd), right after the start info.
    public static let pvhModuleListAddress: UInt64 = 0x6040
    /// PVH memory map (`hvm_memmap_table_entry[]`).
    public static let pvhMemoryMapAddress: UInt64 = 0x7000
    /// Linux zero page (`struct boot_params`, boot.rst).
    public static let zeroPageAddress: UInt64 = 0x7000
    /// Initial stack pointer for the 64-bit Linux entry.
    public static let bootStackPointer: UInt64 = 0x8ff0
    /// Identity-map page tables: PML4, PDPT, then four page directories covering 4 GiB with 2 MiB pages.
    public static let pml4Address: UInt64 = 0x9000
    /// Page-directory-pointer table.
    public static let pdptAddress: UInt64 = 0xa000
    /// First of the four page directories.
    public static let pageDirectoryAddress: UInt64 = 0xb000
    /// Kernel command line (Firecracker `layout.rs` CMDLINE_START).
    public static let cmdlineAddress: UInt64 = 0x20000
    /// Largest command line including its NUL.
    public static let cmdlineMaxBytes = 2048
    /// Start of the EBDA hole below 1 MiB, reserved in the memory map.
    public static let ebdaStart: UInt64 = 0x9fc00
    /// End of the reserved legacy area below 1 MiB (system ROM).
    public static let legacyAreaEnd: UInt64 = 0x100000
    /// Where a bzImage's protected-mode code goes (boot.rst: code32_start default).
    public static let highMemoryStart: UInt64 = 0x100000
    /// Start of the 32-bit MMIO hole: RAM beyond this continues above 4 GiB (Firecracker MMIO32_MEM_START).
    public static let mmioHoleStart: UInt64 = 0xc000_0000
    /// End of the 32-bit hole (4 GiB).
    public static let mmioHoleEnd: UInt64 = 0x1_0000_0000
    /// First virtio-mmio transport; each gets `virtioMMIOStride` bytes.
    public static let virtioMMIOBase: UInt64 = 0xd000_0000
    /// Size of each virtio-mmio window (one page, as Firecracker's MMIO_LEN).
    public static let virtioMMIOStride: UInt64 = 0x1000
    /// First legacy IRQ (GSI) for virtio-mmio devices; 4 is COM1, 1 the keyboard.
    public static let virtioFirstIRQ: UInt32 = 5
    /// Last usable legacy IRQ for virtio devices (the IOAPIC has 24 pins).
    public static let virtioLastIRQ: UInt32 = 23
    /// KVM's TSS (three pages) inside the hole (Firecracker KVM_TSS_ADDRESS).
    public static let tssAddress: UInt64 = 0xfffb_d000
    /// KVM's identity-map page for real mode on Intel, just below the TSS.
    public static let identityMapAddress: UInt64 = 0xfffb_c000
}
