import VirtBase

/// Loads an ELF kernel that carries a Xen PVH entry note and builds `hvm_start_info` (Xen
/// `include/public/arch-x86/hvm/start_info.h`; ELF layout: System V ABI, `elf.h`).
enum PVHLoader {
    // ELF identification and header fields (elf.h).
    static let elfMagic: [UInt8] = [0x7f, 0x45, 0x4c, 0x46]
    static let classELF32: UInt8 = 1
    static let classELF64: UInt8 = 2
    static let dataLittleEndian: UInt8 = 1
    static let machine386: UInt16 = 3
    static let machineX8664: UInt16 = 62
    static let segmentLoad: UInt32 = 1
    static let segmentNote: UInt32 = 4
    /// `XEN_ELFNOTE_PHYS32_ENTRY` (xen/include/public/elfnote.h), in a note named "Xen".
    static let xenNotePhys32Entry: UInt32 = 18
    static let xenNoteName: [UInt8] = Array("Xen\0".utf8)
    /// `hvm_start_info` magic and version 1 (with the memory map).
    static let startInfoMagic: UInt32 = 0x336e_c578
    static let startInfoVersion: UInt32 = 1
    static let startInfoSize = 56
    static let moduleEntrySize = 32
    static let memmapEntrySize = 24
    /// Upper bound on program headers read (a hostile file must not make us allocate without limit).
    static let maxProgramHeaders = 512

    /// A parsed ELF program header.
    struct Segment {
        var type: UInt32
        var offset: UInt64
        var physicalAddress: UInt64
        var fileSize: UInt64
        var memorySize: UInt64
    }

    /// Whether `header` starts with the ELF magic.
    static func isELF(_ header: [UInt8]) -> Bool { header.starts(with: elfMagic) }

    /// Loads the segments, finds the PVH entry, and returns the entry with the guest range the kernel uses.
    static func loadKernel(_ file: KernelFile, into memory: GuestMemory) throws -> (entry: UInt64, range: Range<UInt64>)
    {
        let what = "kernel '\(file.path)'"
        let ident = ByteBuffer(try file.read(offset: 0, count: 64))
        guard ident.bytes.count >= 52, let elfClass = ident.bytes.dropFirst(4).first,
            elfClass == classELF32 || elfClass == classELF64, ident.bytes[5] == dataLittleEndian
        else {
            throw VirtError(.invalidArgument, .kvm, "\(what) is not a little-endian ELF32/ELF64 file")
        }
        let is64 = elfClass == classELF64
        let machine = ident.get(UInt16.self, at: 18) ?? 0
        guard machine == machine386 || machine == machineX8664 else {
            throw VirtError(.invalidArgument, .kvm, "\(what) is an ELF file for machine \(machine), not x86")
        }
        let phoff = is64 ? (ident.get(UInt64.self, at: 32) ?? 0) : UInt64(ident.get(UInt32.self, at: 28) ?? 0)
        let phentsize = Int(ident.get(UInt16.self, at: is64 ? 54 : 42) ?? 0)
        let phnum = Int(ident.get(UInt16.self, at: is64 ? 56 : 44) ?? 0)
        guard phentsize >= (is64 ? 56 : 32), phnum > 0, phnum <= maxProgramHeaders else {
            throw VirtError(.invalidArgument, .kvm, "\(what) has no usable ELF program headers")
        }
        let table = ByteBuffer(try file.read(offset: phoff, count: phentsize * phnum))
        guard table.bytes.count == phentsize * phnum else {
            throw VirtError(.invalidArgument, .kvm, "\(what) is truncated inside its program headers")
        }
        let segments = (0..<phnum).map { i in segment(table, at: i * phentsize, is64: is64) }
        var entry: UInt64?
        for note in segments where note.type == segmentNote {
            if let found = try pvhEntry(file, note) { entry = found }
        }
        guard let entry else {
            throw VirtError(
                .configUnsupported, .kvm,
                "\(what) is an ELF file without a Xen PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); build the kernel "
                    + "with CONFIG_PVH=y or boot its bzImage")
        }
        var low = UInt64.max
        var high: UInt64 = 0
        for s in segments where s.type == segmentLoad && s.memorySize > 0 {
            guard s.fileSize <= s.memorySize, memory.pointer(s.physicalAddress, length: s.memorySize) != nil else {
                throw VirtError(
                    .configUnsupported, .kvm,
                    "\(what) needs \(s.memorySize) bytes at 0x\(String(s.physicalAddress, radix: 16)), beyond guest RAM "
                        + "of \(memory.size >> 20) MiB; give the guest more memory")
            }
            guard
                s.physicalAddress >= GuestLayout.highMemoryStart
                    || s.physicalAddress + s.memorySize <= GuestLayout.gdtAddress
            else {
                throw VirtError(
                    .configUnsupported, .kvm,
                    "\(what) loads at 0x\(String(s.physicalAddress, radix: 16)), inside the boot structures below "
                        + "1 MiB; link it at 1 MiB or above")
            }
            try file.load(offset: s.offset, count: s.fileSize, into: memory, at: s.physicalAddress)
            if s.memorySize > s.fileSize,
                let bss = memory.pointer(s.physicalAddress + s.fileSize, length: s.memorySize - s.fileSize)
            {
                bss.initializeMemory(as: UInt8.self, repeating: 0, count: Int(s.memorySize - s.fileSize))
            }
            low = min(low, s.physicalAddress)
            high = max(high, s.physicalAddress + s.memorySize)
        }
        guard low < high else { throw VirtError(.invalidArgument, .kvm, "\(what) has no loadable segment") }
        return (entry, low..<high)
    }

    static func segment(_ table: ByteBuffer, at o: Int, is64: Bool) -> Segment {
        if is64 {
            return Segment(
                type: table.get(UInt32.self, at: o) ?? 0, offset: table.get(UInt64.self, at: o + 8) ?? 0,
                physicalAddress: table.get(UInt64.self, at: o + 24) ?? 0,
                fileSize: table.get(UInt64.self, at: o + 32) ?? 0, memorySize: table.get(UInt64.self, at: o + 40) ?? 0)
        }
        return Segment(
            type: table.get(UInt32.self, at: o) ?? 0, offset: UInt64(table.get(UInt32.self, at: o + 4) ?? 0),
            physicalAddress: UInt64(table.get(UInt32.self, at: o + 12) ?? 0),
            fileSize: UInt64(table.get(UInt32.self, at: o + 16) ?? 0),
            memorySize: UInt64(table.get(UInt32.self, at: o + 20) ?? 0))
    }

    /// Walks one PT_NOTE segment for the Xen PHYS32_ENTRY note.
    static func pvhEntry(_ file: KernelFile, _ note: Segment) throws -> UInt64? {
        let notes = ByteBuffer(try file.read(offset: note.offset, count: Int(min(note.fileSize, 1 << 16))))
        var o = 0
        while o + 12 <= notes.bytes.count {
            let nameSize = Int(notes.get(UInt32.self, at: o) ?? 0)
            let descSize = Int(notes.get(UInt32.self, at: o + 4) ?? 0)
            let type = notes.get(UInt32.self, at: o + 8) ?? 0
            let nameStart = o + 12
            let descStart = nameStart + ((nameSize + 3) & ~3)
            guard nameSize <= notes.bytes.count, descSize <= notes.bytes.count,
                descStart + descSize <= notes.bytes.count
            else { return nil }
            if type == xenNotePhys32Entry && Array(notes.bytes[nameStart..<nameStart + nameSize]) == xenNoteName {
                if descSize >= 8 { return notes.get(UInt64.self, at: descStart) }
                if descSize >= 4 { return UInt64(notes.get(UInt32.self, at: descStart) ?? 0) }
                return nil
            }
            o = descStart + ((descSize + 3) & ~3)
        }
        return nil
    }

    /// Writes `hvm_start_info`, the module list (initrd) and the memory map; returns the start info address.
    static func writeStartInfo(
        memory: GuestMemory, cmdlineAddress: UInt64, initrd: (address: UInt64, size: UInt64)?
    ) throws -> UInt64 {
        let map = E820Map.entries(memory)
        var info = ByteBuffer(count: startInfoSize)
        info.set(startInfoMagic, at: 0)
        info.set(startInfoVersion, at: 4)
        info.set(UInt32(initrd == nil ? 0 : 1), at: 12)
        info.set(initrd == nil ? UInt64(0) : GuestLayout.pvhModuleListAddress, at: 16)
        info.set(cmdlineAddress, at: 24)
        info.set(GuestLayout.pvhMemoryMapAddress, at: 40)
        info.set(UInt32(map.count), at: 48)
        try memory.write(info.bytes, at: GuestLayout.pvhStartInfoAddress, what: "PVH start info")
        if let initrd {
            var module = ByteBuffer(count: moduleEntrySize)
            module.set(initrd.address, at: 0)
            module.set(initrd.size, at: 8)
            try memory.write(module.bytes, at: GuestLayout.pvhModuleListAddress, what: "PVH module list")
        }
        var table = ByteBuffer([])
        for e in map {
            table.append(e.address)
            table.append(e.size)
            table.append(e.type)
            table.append(UInt32(0))
        }
        try memory.write(table.bytes, at: GuestLayout.pvhMemoryMapAddress, what: "PVH memory map")
        return GuestLayout.pvhStartInfoAddress
    }
}

/// Shorthand used by both boot paths.
enum E820Map {
    static func entries(_ memory: GuestMemory) -> [E820Entry] { E820Entry.map(for: memory.regions) }
}
