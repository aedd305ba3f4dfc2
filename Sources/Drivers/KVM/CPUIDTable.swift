import CVirtShims
import Glibc
import VirtBase

/// The guest's CPUID, built from `KVM_GET_SUPPORTED_CPUID` and patched per vCPU for topology, APIC ids and
/// the domain's `<cpu><feature>` policies (Firecracker `cpuid/normalize.rs` is the model).
public struct CPUIDTable: Sendable {
    /// One CPUID leaf/subleaf result.
    public struct Entry: Sendable, Equatable {
        /// CPUID leaf.
        public var function: UInt32
        /// CPUID subleaf.
        public var index: UInt32
        /// KVM_CPUID_FLAG_* bits.
        public var flags: UInt32
        /// Output EAX.
        public var eax: UInt32
        /// Output EBX.
        public var ebx: UInt32
        /// Output ECX.
        public var ecx: UInt32
        /// Output EDX.
        public var edx: UInt32
    }

    /// The entries in KVM's order.
    public var entries: [Entry]

    /// `KVM_CPUID_FLAG_SIGNIFCANT_INDEX`: the entry depends on the subleaf.
    static let significantIndex: UInt32 = 1
    /// Entries to size the `KVM_GET_SUPPORTED_CPUID` buffer for (hosts return ~75-100).
    static let maxEntries = 256

    /// Wraps existing entries (tests build tables by hand).
    public init(entries: [Entry]) { self.entries = entries }

    /// The host's supported CPUID (`KVM_GET_SUPPORTED_CPUID`).
    public static func supported(by system: KVMSystem) throws -> CPUIDTable {
        let stride = MemoryLayout<kvm_cpuid_entry2>.stride
        let header = Int(CVIRT_KVM_CPUID2_HEADER_SIZE)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: header + maxEntries * stride, alignment: 8)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0, count: header + maxEntries * stride)
        buffer.storeBytes(of: UInt32(maxEntries), as: UInt32.self)
        try SystemCall.ioctl(
            system.fd, CVIRT_KVM_GET_SUPPORTED_CPUID, buffer, name: "KVM_GET_SUPPORTED_CPUID", object: system.path)
        let count = Int(buffer.load(as: UInt32.self))
        let raw = (buffer + header).bindMemory(to: kvm_cpuid_entry2.self, capacity: count)
        let entries = (0..<count).map { i in
            let e = raw[i]
            return Entry(
                function: e.function, index: e.index, flags: e.flags, eax: e.eax, ebx: e.ebx, ecx: e.ecx,
                edx: e.edx)
        }
        return CPUIDTable(entries: entries)
    }

    /// Position of the entry for `function`/`index` (index ignored unless the entry is index-significant).
    func position(_ function: UInt32, _ index: UInt32 = 0) -> Int? {
        entries.firstIndex {
            $0.function == function && ($0.flags & Self.significantIndex == 0 || $0.index == index)
        }
    }

    /// Reads one feature bit.
    public func has(_ feature: CPUFeatureBit) -> Bool {
        guard let i = position(feature.leaf, feature.subleaf) else { return false }
        return Self.value(entries[i], feature.register) & (1 << feature.bit) != 0
    }

    /// Clears one feature bit.
    public mutating func clear(_ feature: CPUFeatureBit) {
        guard let i = position(feature.leaf, feature.subleaf) else { return }
        let v = Self.value(entries[i], feature.register) & ~(1 << feature.bit)
        Self.set(&entries[i], feature.register, v)
    }

    static func value(_ e: Entry, _ r: CPUFeatureBit.Register) -> UInt32 {
        switch r {
        case .eax: e.eax
        case .ebx: e.ebx
        case .ecx: e.ecx
        case .edx: e.edx
        }
    }

    static func set(_ e: inout Entry, _ r: CPUFeatureBit.Register, _ v: UInt32) {
        switch r {
        case .eax: e.eax = v
        case .ebx: e.ebx = v
        case .ecx: e.ecx = v
        case .edx: e.edx = v
        }
    }

    /// Applies `<feature policy='disable|require'>`: disabled bits are cleared; a required bit the host
    /// cannot offer, or an unknown name, is an error naming the feature.
    public mutating func apply(features: [HypervisorConfiguration.CPUFeature], domain: String) throws {
        for feature in features {
            guard let bit = CPUFeatureBit.named(feature.name) else {
                throw VirtError(
                    .configUnsupported, .kvm,
                    "domain '\(domain)': unknown CPU feature '\(feature.name)'; use a name from libvirt's x86 "
                        + "CPU map such as cx16, xsave, avx, x2apic")
            }
            switch feature.policy {
            case .disable:
                clear(bit)
                if feature.name.lowercased() == "xsave" { disableXSAVEDependents() }
            case .require where !has(bit):
                throw VirtError(
                    .operationUnsupported, .kvm,
                    "domain '\(domain)' requires CPU feature '\(feature.name)', which this host's KVM does not "
                        + "offer; remove the requirement or run on a host that has it")
            case .require:
                break
            }
        }
    }

    /// Without XSAVE the guest must not see OSXSAVE, AVX-family bits or the XSAVE leaf's extensions.
    mutating func disableXSAVEDependents() {
        for name in ["osxsave", "avx", "f16c", "fma", "avx2", "avx512f", "xsaveopt", "xsavec", "xgetbv1", "xsaves"] {
            if let bit = CPUFeatureBit.named(name) { clear(bit) }
        }
    }
}
