import VirtBase

/// Loads a bzImage through the Linux x86 boot protocol's 64-bit entry (kernel `Documentation/arch/x86/boot.rst`):
/// header checks, protected-mode code at 1 MiB, zero page with e820, command line and initrd.
enum BzImageLoader {
    // Setup header offsets in the file and in `struct boot_params` (boot.rst "THE REAL-MODE KERNEL HEADER").
    static let setupSectsOffset = 0x1f1
    static let bootFlagOffset = 0x1fe
    static let jumpEndOffset = 0x201
    static let headerMagicOffset = 0x202
    static let versionOffset = 0x206
    static let typeOfLoaderOffset = 0x210
    static let loadflagsOffset = 0x211
    static let code32StartOffset = 0x214
    static let ramdiskImageOffset = 0x218
    static let ramdiskSizeOffset = 0x21c
    static let cmdLinePtrOffset = 0x228
    static let initrdAddrMaxOffset = 0x22c
    static let xloadflagsOffset = 0x236
    static let cmdlineSizeOffset = 0x238
    static let initSizeOffset = 0x260
    /// boot_params: number of e820 entries (u8) and the table (20-byte entries, at most 128).
    static let e820EntriesOffset = 0x1e8
    static let e820TableOffset = 0x2d0
    static let e820MaxEntries = 128
    static let zeroPageSize = 4096

    static let bootFlag: UInt16 = 0xaa55
    static let headerMagic: UInt32 = 0x5372_6448  // "HdrS"
    /// Protocol 2.12 introduced xloadflags and the documented 64-bit entry.
    static let minimumVersion: UInt16 = 0x020c
    static let loadedHigh: UInt8 = 0x01
    static let xlfKernel64: UInt16 = 0x01
    /// "Undefined" boot loader id.
    static let loaderUndefined: UInt8 = 0xff
    /// setup_sects = 0 means 4 (boot.rst).
    static let defaultSetupSects = 4
    static let sectorSize = 512
    /// The 64-bit entry is 0x200 past the protected-mode code's start (boot.rst "64-bit BOOT PROTOCOL").
    static let entry64Offset: UInt64 = 0x200
    /// The older default when a header leaves initrd_addr_max 0 (boot.rst).
    static let defaultInitrdAddrMax: UInt64 = 0x37ff_ffff

    /// Checks the setup header; returns it when `header` (the first 1 KiB at least) is a usable bzImage.
    static func isBzImage(_ header: [UInt8]) -> Bool {
        let b = ByteBuffer(header)
        return b.get(UInt16.self, at: bootFlagOffset) == bootFlag
            && b.get(UInt32.self, at: headerMagicOffset) == headerMagic
    }

    /// Loads the kernel, writes the zero page, and returns the 64-bit entry. The caller places the command
    /// line; the initrd is placed here because its limit comes from the header.
    static func load(
        _ file: KernelFile, initrd: KernelFile?, cmdline: [UInt8], memory: GuestMemory
    ) throws -> BootEntry {
        let what = "kernel '\(file.path)'"
        let first = ByteBuffer(try file.read(offset: 0, count: 1024))
        guard let version = first.get(UInt16.self, at: versionOffset), version >= minimumVersion else {
            throw VirtError(
                .configUnsupported, .kvm,
                "\(what) uses boot protocol \(String(first.get(UInt16.self, at: versionOffset) ?? 0, radix: 16)); "
                    + "version 2.12 or later with a 64-bit entry is needed")
        }
        let loadflags = first.bytes[loadflagsOffset]
        let xloadflags = first.get(UInt16.self, at: xloadflagsOffset) ?? 0
        guard loadflags & loadedHigh != 0, xloadflags & xlfKernel64 != 0 else {
            throw VirtError(.configUnsupported, .kvm, "\(what) is not a 64-bit bzImage (no LOADED_HIGH/XLF_KERNEL_64)")
        }
        var setupSects = Int(first.bytes[setupSectsOffset])
        if setupSects == 0 { setupSects = defaultSetupSects }
        let payloadOffset = UInt64((setupSects + 1) * sectorSize)
        guard file.size > payloadOffset else { throw VirtError(.invalidArgument, .kvm, "\(what) is truncated") }
        let payloadSize = file.size - payloadOffset
        let initSize = UInt64(first.get(UInt32.self, at: initSizeOffset) ?? 0)
        let lowEnd = memory.lowMemoryEnd
        let kernelEnd = GuestLayout.highMemoryStart + max(payloadSize, initSize)
        guard kernelEnd <= lowEnd else {
            throw VirtError(
                .configUnsupported, .kvm,
                "\(what) needs \((kernelEnd + (1 << 20) - 1) >> 20) MiB of RAM to unpack, the guest has "
                    + "\(memory.size >> 20) MiB; give the guest more memory")
        }
        try file.load(offset: payloadOffset, count: payloadSize, into: memory, at: GuestLayout.highMemoryStart)

        var zero = ByteBuffer(count: zeroPageSize)
        let headerEnd = headerMagicOffset + Int(first.bytes[jumpEndOffset])
        for i in setupSectsOffset..<min(headerEnd, first.bytes.count) { zero.bytes[i] = first.bytes[i] }
        zero.bytes[typeOfLoaderOffset] = loaderUndefined
        zero.set(UInt32(GuestLayout.highMemoryStart), at: code32StartOffset)
        let maxCmdline = Int(first.get(UInt32.self, at: cmdlineSizeOffset) ?? 255)
        guard cmdline.count <= maxCmdline else {
            throw VirtError(
                .invalidArgument, .kvm,
                "the kernel command line (\(cmdline.count) bytes) exceeds \(what)'s limit of \(maxCmdline)")
        }
        zero.set(UInt32(GuestLayout.cmdlineAddress), at: cmdLinePtrOffset)
        if let initrd {
            var limit = UInt64(first.get(UInt32.self, at: initrdAddrMaxOffset) ?? 0)
            if limit == 0 { limit = defaultInitrdAddrMax }
            let address = try KernelLoader.placeInitrd(
                initrd, below: min(limit + 1, lowEnd), above: kernelEnd, memory: memory)
            zero.set(UInt32(address), at: ramdiskImageOffset)
            zero.set(UInt32(initrd.size), at: ramdiskSizeOffset)
        }
        let map = E820Map.entries(memory)
        zero.bytes[e820EntriesOffset] = UInt8(min(map.count, e820MaxEntries))
        for (i, e) in map.prefix(e820MaxEntries).enumerated() {
            zero.set(e.address, at: e820TableOffset + i * 20)
            zero.set(e.size, at: e820TableOffset + i * 20 + 8)
            zero.set(e.type, at: e820TableOffset + i * 20 + 16)
        }
        try memory.write(zero.bytes, at: GuestLayout.zeroPageAddress, what: "zero page")
        try writeIdentityPageTables(memory)
        return BootEntry(
            mode: .linux64, instructionPointer: GuestLayout.highMemoryStart + entry64Offset,
            bootInfoAddress: GuestLayout.zeroPageAddress)
    }

    // Page-table entry bits (Intel SDM vol. 3A §4.5): present, writable, 2 MiB page.
    static let pagePresent: UInt64 = 0x1
    static let pageWritable: UInt64 = 0x2
    static let pageSize2M: UInt64 = 0x80
    static let directoryCount = 4
    static let entriesPerTable = 512

    /// Identity-maps the first 4 GiB with 2 MiB pages: PML4[0] → PDPT, PDPT[0..3] → four directories.
    static func writeIdentityPageTables(_ memory: GuestMemory) throws {
        var pml4 = ByteBuffer(count: 4096)
        pml4.set(GuestLayout.pdptAddress | pagePresent | pageWritable, at: 0)
        var pdpt = ByteBuffer(count: 4096)
        var directories = ByteBuffer(count: 4096 * directoryCount)
        for d in 0..<directoryCount {
            let directory = GuestLayout.pageDirectoryAddress + UInt64(d * 4096)
            pdpt.set(directory | pagePresent | pageWritable, at: d * 8)
            for i in 0..<entriesPerTable {
                let page = UInt64(d * entriesPerTable + i) << 21
                directories.set(page | pagePresent | pageWritable | pageSize2M, at: (d * entriesPerTable + i) * 8)
            }
        }
        try memory.write(pml4.bytes, at: GuestLayout.pml4Address, what: "PML4")
        try memory.write(pdpt.bytes, at: GuestLayout.pdptAddress, what: "PDPT")
        try memory.write(directories.bytes, at: GuestLayout.pageDirectoryAddress, what: "page directories")
    }
}
