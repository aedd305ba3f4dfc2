import Testing
import VirtBase

@testable import KVM

/// Boot structures and kernel checks, without KVM.
@Suite("boot structures")
struct BootTests {
    @Test func gdtEntriesMatchTheLinuxBootValues() {
        // Firecracker's regs.rs asserts the same encodings.
        #expect(BootGDT.entry(flags: 0xa09b, base: 0, limit: 0xfffff) == 0x00af_9b00_0000_ffff)
        #expect(BootGDT.entry(flags: 0xc093, base: 0, limit: 0xfffff) == 0x00cf_9300_0000_ffff)
        #expect(BootGDT.entry(flags: 0x808b, base: 0, limit: 0xfffff) == 0x008f_8b00_0000_ffff)
        let code = BootGDT.segment(0x00af_9b00_0000_ffff, selector: 8)
        #expect(code.l == 1 && code.g == 1 && code.present == 1 && code.limit == 0xffff_ffff && code.type == 0xb)
    }

    @Test func memoryRegionsSplitAroundThePCIHole() {
        let small = GuestMemory.regions(forSize: 64 << 20)
        #expect(small == [GuestMemory.Region(guestAddress: 0, size: 64 << 20, hostOffset: 0)])
        let large = GuestMemory.regions(forSize: 4 << 30)
        #expect(large.count == 2)
        #expect(large[0].end == GuestLayout.mmioHoleStart)
        #expect(large[1].guestAddress == 1 << 32 && large[1].size == 1 << 30 && large[1].hostOffset == 3 << 30)
        let map = E820Entry.map(for: large)
        #expect(map.map(\.type) == [1, 2, 1, 1])
        #expect(map[2].address == 0x100000 && map[2].address + map[2].size == GuestLayout.mmioHoleStart)
    }

    @Test func cpuFeaturePoliciesShapeCPUID() throws {
        var table = CPUIDTable(entries: [
            .init(function: 0, index: 0, flags: 0, eax: 0xd, ebx: 0, ecx: 0, edx: 0),
            .init(function: 1, index: 0, flags: 0, eax: 0, ebx: 0, ecx: (1 << 13) | (1 << 26) | (1 << 28), edx: 1 << 8),
        ])
        try table.apply(
            features: [.init(name: "cx16", policy: .disable), .init(name: "xsave", policy: .disable)], domain: "d")
        #expect(!table.has(CPUFeatureBit.named("cx16")!))
        #expect(!table.has(CPUFeatureBit.named("avx")!), "AVX goes with XSAVE")
        #expect(table.has(CPUFeatureBit.named("cx8")!))
        #expect(throws: VirtError.self) {
            try table.apply(features: [.init(name: "avx512f", policy: .require)], domain: "d")
        }
        #expect(throws: VirtError.self) {
            try table.apply(features: [.init(name: "no-such-flag", policy: .disable)], domain: "d")
        }
        let vcpu3 = table.forVCPU(3, vcpuCount: 4, topology: .init(sockets: 1, dies: 1, cores: 4, threads: 1))
        let leaf1 = vcpu3.entries.first { $0.function == 1 }!
        #expect(leaf1.ebx >> 24 == 3, "initial APIC id")
        #expect(leaf1.ecx >> 31 == 1, "hypervisor bit")
        let topology = vcpu3.entries.filter { $0.function == 0xb }
        #expect(topology.count == 3)
        #expect(topology.allSatisfy { $0.edx == 3 })
        #expect(topology[1].ebx == 4 && topology[1].eax == 2)
    }

    @Test func hypervisorConfigurationRoundTripsThroughJSON() throws {
        // Plain Codable values are the contract with the process layer; no Foundation needed here.
        let config = HypervisorConfiguration(
            name: "a", uuid: "u", memoryBytes: 1 << 26, vcpus: 2, kernel: FileSource(path: "/k"),
            disks: [DiskConfiguration(source: FileSource(path: "/d", fd: 5), readonly: true, target: "vda")],
            kvmDevice: FileSource(path: "/dev/kvm", fd: 3))
        #expect(config.topology.sockets == 2)
        #expect(config.kvmDevice?.fd == 3)
    }
}
