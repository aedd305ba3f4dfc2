/// Per-vCPU CPUID patches: APIC ids and the topology leaves (Firecracker `cpuid/normalize.rs`, §1.3 of the
/// project's KVM reference).
extension CPUIDTable {
    /// Leaf 1 EBX[31:24]: initial APIC id.
    static let leaf1APICIDShift: UInt32 = 24
    /// Leaf 1 EBX[23:16]: logical processors per package.
    static let leaf1LogicalCountShift: UInt32 = 16
    /// Leaf 1 EBX[15:8]: CLFLUSH line size in 8-byte units (8 = 64 bytes).
    static let leaf1CLFlushShift: UInt32 = 8
    static let clflushLineUnits: UInt32 = 8
    /// Leaf 1 EDX[28]: HTT, more than one logical processor per package.
    static let leaf1HTTBit: UInt32 = 28
    /// Leaf 1 ECX[31]: running under a hypervisor.
    static let leaf1HypervisorBit: UInt32 = 31
    /// Leaf 0xB level types in ECX[15:8].
    static let levelTypeSMT: UInt32 = 1
    static let levelTypeCore: UInt32 = 2
    /// Leaf 0xB: the extended topology leaf.
    static let topologyLeaf: UInt32 = 0xb

    /// The table vCPU `index` sees, for `topology` and `vcpuCount` vCPUs.
    public func forVCPU(_ index: Int, vcpuCount: Int, topology: HypervisorConfiguration.Topology) -> CPUIDTable {
        var table = self
        let apicID = UInt32(index)
        let threads = UInt32(max(1, topology.threads))
        let perPackage = UInt32(max(1, topology.cores * topology.dies)) * threads
        let logical = UInt32(1) << UInt32(bitWidth(perPackage))
        if let i = table.position(1) {
            var ebx = table.entries[i].ebx & 0x0000_00ff
            ebx |= apicID << Self.leaf1APICIDShift
            ebx |= min(logical, 0xff) << Self.leaf1LogicalCountShift
            ebx |= Self.clflushLineUnits << Self.leaf1CLFlushShift
            table.entries[i].ebx = ebx
            table.entries[i].ecx |= 1 << Self.leaf1HypervisorBit
            if perPackage > 1 {
                table.entries[i].edx |= 1 << Self.leaf1HTTBit
            } else {
                table.entries[i].edx &= ~(1 << Self.leaf1HTTBit)
            }
        }
        table.entries.removeAll { $0.function == Self.topologyLeaf }
        let smtBits = UInt32(bitWidth(threads))
        let coreBits = UInt32(bitWidth(perPackage))
        let smt = Entry(
            function: Self.topologyLeaf, index: 0, flags: Self.significantIndex, eax: smtBits, ebx: threads,
            ecx: (Self.levelTypeSMT << 8) | 0, edx: apicID)
        let core = Entry(
            function: Self.topologyLeaf, index: 1, flags: Self.significantIndex, eax: coreBits, ebx: perPackage,
            ecx: (Self.levelTypeCore << 8) | 1, edx: apicID)
        let end = Entry(
            function: Self.topologyLeaf, index: 2, flags: Self.significantIndex, eax: 0, ebx: 0, ecx: 2,
            edx: apicID)
        table.entries.append(contentsOf: [smt, core, end])
        return table
    }

    /// Bits needed to number `count` items (ceil(log2(count))).
    func bitWidth(_ count: UInt32) -> Int {
        count <= 1 ? 0 : 32 - (count - 1).leadingZeroBitCount
    }
}
