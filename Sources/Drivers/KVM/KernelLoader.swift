import VirtBase

/// Picks the boot path for a kernel image (ELF with a PVH note, or bzImage), loads it with its initrd and
/// command line, and writes the boot GDT/IDT.
public enum KernelLoader {
    /// Initrd placement alignment (one page).
    static let initrdAlignment: UInt64 = 4096

    /// Loads everything and returns how the boot vCPU enters the guest.
    static func load(
        kernel: FileSource, initrd: FileSource?, cmdline: String, memory: GuestMemory
    ) throws -> BootEntry {
        let kernelFile = try KernelFile(kernel, role: "kernel")
        let initrdFile = try initrd.map { try KernelFile($0, role: "initrd") }
        var cmdlineBytes = Array(cmdline.utf8)
        guard cmdlineBytes.count < GuestLayout.cmdlineMaxBytes else {
            throw VirtError(
                .invalidArgument, .kvm,
                "the kernel command line is \(cmdlineBytes.count) bytes; at most \(GuestLayout.cmdlineMaxBytes - 1) fit"
            )
        }
        let header = try kernelFile.read(offset: 0, count: 1024)
        let entry: BootEntry
        if PVHLoader.isELF(header) {
            let (pvhEntry, range) = try PVHLoader.loadKernel(kernelFile, into: memory)
            var initrdPlacement: (address: UInt64, size: UInt64)?
            if let initrdFile {
                let address = try placeInitrd(
                    initrdFile, below: memory.lowMemoryEnd, above: range.upperBound, memory: memory,
                    kernelRange: range)
                initrdPlacement = (address, initrdFile.size)
            }
            let info = try PVHLoader.writeStartInfo(
                memory: memory, cmdlineAddress: GuestLayout.cmdlineAddress, initrd: initrdPlacement)
            entry = BootEntry(mode: .pvh32, instructionPointer: pvhEntry, bootInfoAddress: info)
        } else if BzImageLoader.isBzImage(header) {
            entry = try BzImageLoader.load(kernelFile, initrd: initrdFile, cmdline: cmdlineBytes, memory: memory)
        } else {
            throw VirtError(
                .invalidArgument, .kvm,
                "kernel '\(kernel.path)' is neither an ELF image with a PVH note nor a bzImage; give an uncompressed "
                    + "vmlinux built with CONFIG_PVH=y or a bzImage")
        }
        cmdlineBytes.append(0)
        try memory.write(cmdlineBytes, at: GuestLayout.cmdlineAddress, what: "kernel command line")
        var gdt = ByteBuffer([])
        for descriptor in BootGDT.table(longMode: entry.mode == .linux64) { gdt.append(descriptor) }
        try memory.write(gdt.bytes, at: GuestLayout.gdtAddress, what: "boot GDT")
        try memory.write([UInt8](repeating: 0, count: 8), at: GuestLayout.idtAddress, what: "boot IDT")
        return entry
    }

    /// Puts the initrd as high as possible below `below` (page aligned) and checks it stays clear of the
    /// kernel (everything under `above`, and `kernelRange` when given).
    static func placeInitrd(
        _ initrd: KernelFile, below limit: UInt64, above kernelEnd: UInt64, memory: GuestMemory,
        kernelRange: Range<UInt64>? = nil
    ) throws -> UInt64 {
        let what = "initrd '\(initrd.path)' (\(initrd.size) bytes)"
        guard initrd.size > 0 else { throw VirtError(.invalidArgument, .kvm, "\(what) is empty") }
        guard initrd.size < limit else {
            throw VirtError(
                .configUnsupported, .kvm,
                "\(what) does not fit below 0x\(String(limit, radix: 16)); give the guest more memory")
        }
        let address = (limit - initrd.size) & ~(initrdAlignment - 1)
        let overlapsKernel =
            kernelRange.map { address < $0.upperBound && address + initrd.size > $0.lowerBound } ?? false
        guard address >= kernelEnd, address >= GuestLayout.highMemoryStart, !overlapsKernel else {
            throw VirtError(
                .configUnsupported, .kvm,
                "\(what) would overlap the kernel, which ends at 0x\(String(kernelEnd, radix: 16)); give the guest "
                    + "more memory or use a smaller initrd")
        }
        try initrd.load(offset: 0, count: initrd.size, into: memory, at: address)
        return address
    }
}
