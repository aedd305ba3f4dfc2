import CVirtShims
import Glibc
import VirtBase

/// One KVM vCPU: its descriptor, its mapped `kvm_run`, and the boot-time register setup.
final class VCPU: @unchecked Sendable {
    /// Index (also the APIC id).
    let index: Int
    /// The vCPU descriptor (`KVM_CREATE_VCPU`).
    let fd: Int32
    /// The shared `kvm_run` page(s).
    let run: UnsafeMutablePointer<kvm_run>
    private let mapSize: Int
    private let object: String

    /// MSRs set at boot (Firecracker `msr.rs::create_boot_msr_entries`; Intel SDM vol. 4).
    static let bootMSRs: [(UInt32, UInt64)] = [
        (0x174, 0), (0x175, 0), (0x176, 0),  // IA32_SYSENTER_CS/ESP/EIP
        (0xc000_0081, 0), (0xc000_0082, 0), (0xc000_0083, 0), (0xc000_0084, 0),  // STAR, LSTAR, CSTAR, SFMASK
        (0xc000_0102, 0),  // KERNEL_GS_BASE
        (0x10, 0),  // IA32_TSC
        (0x1a0, 1),  // IA32_MISC_ENABLE: fast strings
        (0x2ff, (1 << 11) | 6),  // MTRRdefType: enabled, write-back default
    ]
    /// x87 control word and MXCSR reset values (Firecracker `regs.rs::setup_fpu`).
    static let fpuControlWord: UInt16 = 0x37f
    static let mxcsrDefault: UInt32 = 0x1f80
    /// RFLAGS bit 1 is reserved and always set.
    static let rflagsReserved: UInt64 = 0x2
    /// CR0 / CR4 / EFER bits (Intel SDM vol. 3A §2.5, §2.2.1).
    static let cr0PE: UInt64 = 1 << 0
    static let cr0ET: UInt64 = 1 << 4
    static let cr0PG: UInt64 = 1 << 31
    static let cr4PAE: UInt64 = 1 << 5
    static let eferLME: UInt64 = 1 << 8
    static let eferLMA: UInt64 = 1 << 10
    /// LAPIC LVT0/LVT1 register offsets and delivery modes (Intel SDM vol. 3A §10.5.1).
    static let lapicLVT0: Int = 0x350
    static let lapicLVT1: Int = 0x360
    static let deliveryModeMask: UInt32 = 0x700
    static let deliveryExtINT: UInt32 = 7
    static let deliveryNMI: UInt32 = 4

    init(vm: KVMVM, system: KVMSystem, index: Int) throws {
        self.index = index
        object = "vCPU \(index) of domain '\(vm.name)'"
        fd = try SystemCall.ioctl(
            vm.fd, CVIRT_KVM_CREATE_VCPU, value: UInt(index), name: "KVM_CREATE_VCPU", object: object)
        mapSize = system.vcpuMapSize
        let mapped = mmap(nil, mapSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
        guard let mapped, mapped != UnsafeMutableRawPointer(bitPattern: -1) else {
            let saved = errno
            close(fd)
            throw SystemCall.error("mmap(kvm_run)", object, errno: saved)
        }
        run = mapped.bindMemory(to: kvm_run.self, capacity: 1)
    }

    deinit {
        munmap(UnsafeMutableRawPointer(run), mapSize)
        close(fd)
    }

    /// `KVM_SET_CPUID2`.
    func setCPUID(_ table: CPUIDTable) throws {
        let header = Int(CVIRT_KVM_CPUID2_HEADER_SIZE)
        let stride = MemoryLayout<kvm_cpuid_entry2>.stride
        let bytes = header + table.entries.count * stride
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 8)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        buffer.storeBytes(of: UInt32(table.entries.count), as: UInt32.self)
        let raw = (buffer + header).bindMemory(to: kvm_cpuid_entry2.self, capacity: table.entries.count)
        for (i, e) in table.entries.enumerated() {
            var k = kvm_cpuid_entry2()
            k.function = e.function
            k.index = e.index
            k.flags = e.flags
            k.eax = e.eax
            k.ebx = e.ebx
            k.ecx = e.ecx
            k.edx = e.edx
            raw[i] = k
        }
        try SystemCall.ioctl(fd, CVIRT_KVM_SET_CPUID2, buffer, name: "KVM_SET_CPUID2", object: object)
    }

    /// `KVM_SET_MSRS` with the boot MSRs.
    func setBootMSRs() throws {
        let header = Int(CVIRT_KVM_MSRS_HEADER_SIZE)
        let stride = MemoryLayout<kvm_msr_entry>.stride
        let bytes = header + Self.bootMSRs.count * stride
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 8)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        buffer.storeBytes(of: UInt32(Self.bootMSRs.count), as: UInt32.self)
        let raw = (buffer + header).bindMemory(to: kvm_msr_entry.self, capacity: Self.bootMSRs.count)
        for (i, (index, value)) in Self.bootMSRs.enumerated() {
            var entry = kvm_msr_entry()
            entry.index = index
            entry.data = value
            raw[i] = entry
        }
        let set = try SystemCall.ioctl(fd, CVIRT_KVM_SET_MSRS, buffer, name: "KVM_SET_MSRS", object: object)
        // KVM_SET_MSRS returns how many it set; MTRRdefType is optional on some hosts.
        if set < Self.bootMSRs.count - 1 {
            throw VirtError(
                .internalError, .kvm, "KVM_SET_MSRS on \(object) set only \(set) of \(Self.bootMSRs.count) boot MSRs")
        }
    }

    /// `KVM_SET_FPU` with the reset control words.
    func setFPU() throws {
        var fpu = kvm_fpu()
        fpu.fcw = Self.fpuControlWord
        fpu.mxcsr = Self.mxcsrDefault
        try SystemCall.ioctl(fd, CVIRT_KVM_SET_FPU, &fpu, name: "KVM_SET_FPU", object: object)
    }

    /// LINT0 = ExtINT (the PIC), LINT1 = NMI (`KVM_GET_LAPIC` / `KVM_SET_LAPIC`).
    func setLINT() throws {
        var lapic = kvm_lapic_state()
        try SystemCall.ioctl(fd, CVIRT_KVM_GET_LAPIC, &lapic, name: "KVM_GET_LAPIC", object: object)
        withUnsafeMutableBytes(of: &lapic.regs) { regs in
            for (offset, mode) in [(Self.lapicLVT0, Self.deliveryExtINT), (Self.lapicLVT1, Self.deliveryNMI)] {
                let old = regs.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
                regs.storeBytes(of: (old & ~Self.deliveryModeMask) | (mode << 8), toByteOffset: offset, as: UInt32.self)
            }
        }
        try SystemCall.ioctl(fd, CVIRT_KVM_SET_LAPIC, &lapic, name: "KVM_SET_LAPIC", object: object)
    }

    /// Registers and segments for the boot vCPU's entry.
    func setBootRegisters(_ entry: BootEntry) throws {
        var sregs = kvm_sregs()
        try SystemCall.ioctl(fd, CVIRT_KVM_GET_SREGS, &sregs, name: "KVM_GET_SREGS", object: object)
        let longMode = entry.mode == .linux64
        let gdt = BootGDT.table(longMode: longMode)
        let code = Self.segment(BootGDT.segment(gdt[1], selector: BootGDT.codeSelector))
        let data = Self.segment(BootGDT.segment(gdt[2], selector: BootGDT.dataSelector))
        var tss = Self.segment(BootGDT.segment(gdt[3], selector: BootGDT.tssSelector))
        if !longMode {
            tss.limit = 0x67
        }
        sregs.cs = code
        sregs.ds = data
        sregs.es = data
        sregs.fs = data
        sregs.gs = data
        sregs.ss = data
        sregs.tr = tss
        sregs.gdt.base = GuestLayout.gdtAddress
        sregs.gdt.limit = UInt16(gdt.count * 8 - 1)
        sregs.idt.base = GuestLayout.idtAddress
        sregs.idt.limit = 7
        sregs.cr0 = (sregs.cr0 | Self.cr0PE | Self.cr0ET)
        if longMode {
            sregs.cr3 = GuestLayout.pml4Address
            sregs.cr4 |= Self.cr4PAE
            sregs.cr0 |= Self.cr0PG
            sregs.efer |= Self.eferLME | Self.eferLMA
        } else {
            sregs.cr0 &= ~Self.cr0PG
            sregs.cr4 = 0
            sregs.efer = 0
        }
        try SystemCall.ioctl(fd, CVIRT_KVM_SET_SREGS, &sregs, name: "KVM_SET_SREGS", object: object)
        var regs = kvm_regs()
        regs.rflags = Self.rflagsReserved
        regs.rip = entry.instructionPointer
        switch entry.mode {
        case .pvh32:
            regs.rbx = entry.bootInfoAddress
        case .linux64:
            regs.rsi = entry.bootInfoAddress
            regs.rsp = GuestLayout.bootStackPointer
            regs.rbp = GuestLayout.bootStackPointer
        }
        try SystemCall.ioctl(fd, CVIRT_KVM_SET_REGS, &regs, name: "KVM_SET_REGS", object: object)
    }

    static func segment(_ s: BootGDT.Segment) -> kvm_segment {
        var k = kvm_segment()
        k.base = s.base
        k.limit = s.limit
        k.selector = s.selector
        k.type = s.type
        k.present = s.present
        k.dpl = s.dpl
        k.db = s.db
        k.s = s.s
        k.l = s.l
        k.g = s.g
        k.avl = s.avl
        k.unusable = s.unusable
        return k
    }
}
