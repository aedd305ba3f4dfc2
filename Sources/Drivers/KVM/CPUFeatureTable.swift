/// Where a named CPU feature lives in CPUID, for `<cpu><feature policy='disable|require' name='...'/>`.
/// Names follow libvirt's x86 CPU map (cpu_map/x86_features.xml), which mostly match Linux's /proc/cpuinfo.
public struct CPUFeatureBit: Sendable, Equatable {
    /// Which CPUID output register holds the bit.
    public enum Register: Sendable { case eax, ebx, ecx, edx }
    /// CPUID leaf (function).
    public var leaf: UInt32
    /// CPUID subleaf (index); 0 for leaves without subleaves.
    public var subleaf: UInt32
    /// Output register.
    public var register: Register
    /// Bit number.
    public var bit: UInt32

    /// The named feature's location, or nil for an unknown name (case-insensitive; `_` and `-` are equal).
    public static func named(_ name: String) -> CPUFeatureBit? {
        table[String(name.lowercased().map { $0 == "_" ? "-" : $0 })]
    }

    /// Every name this table knows.
    public static var knownNames: [String] { table.keys.sorted() }

    private static func leaf1(_ register: Register, _ bit: UInt32) -> CPUFeatureBit {
        CPUFeatureBit(leaf: 1, subleaf: 0, register: register, bit: bit)
    }
    private static func leaf7(_ register: Register, _ bit: UInt32) -> CPUFeatureBit {
        CPUFeatureBit(leaf: 7, subleaf: 0, register: register, bit: bit)
    }
    private static func extended(_ register: Register, _ bit: UInt32) -> CPUFeatureBit {
        CPUFeatureBit(leaf: 0x8000_0001, subleaf: 0, register: register, bit: bit)
    }
    private static func xsaveLeaf(_ bit: UInt32) -> CPUFeatureBit {
        CPUFeatureBit(leaf: 0xd, subleaf: 1, register: .eax, bit: bit)
    }

    // Intel SDM vol. 2A, CPUID: tables 3-10 (leaf 1 ECX), 3-11 (leaf 1 EDX), leaf 7 and 0x80000001.
    private static let table: [String: CPUFeatureBit] = [
        // Leaf 1 EDX.
        "fpu": leaf1(.edx, 0), "vme": leaf1(.edx, 1), "de": leaf1(.edx, 2), "pse": leaf1(.edx, 3),
        "tsc": leaf1(.edx, 4), "msr": leaf1(.edx, 5), "pae": leaf1(.edx, 6), "mce": leaf1(.edx, 7),
        "cx8": leaf1(.edx, 8), "apic": leaf1(.edx, 9), "sep": leaf1(.edx, 11), "mtrr": leaf1(.edx, 12),
        "pge": leaf1(.edx, 13), "mca": leaf1(.edx, 14), "cmov": leaf1(.edx, 15), "pat": leaf1(.edx, 16),
        "pse36": leaf1(.edx, 17), "clflush": leaf1(.edx, 19), "mmx": leaf1(.edx, 23), "fxsr": leaf1(.edx, 24),
        "sse": leaf1(.edx, 25), "sse2": leaf1(.edx, 26), "ss": leaf1(.edx, 27), "ht": leaf1(.edx, 28),
        // Leaf 1 ECX.
        "pni": leaf1(.ecx, 0), "sse3": leaf1(.ecx, 0), "pclmuldq": leaf1(.ecx, 1), "pclmulqdq": leaf1(.ecx, 1),
        "monitor": leaf1(.ecx, 3), "vmx": leaf1(.ecx, 5), "smx": leaf1(.ecx, 6), "est": leaf1(.ecx, 7),
        "ssse3": leaf1(.ecx, 9), "fma": leaf1(.ecx, 12), "cx16": leaf1(.ecx, 13), "xtpr": leaf1(.ecx, 14),
        "pdcm": leaf1(.ecx, 15), "pcid": leaf1(.ecx, 17), "sse4.1": leaf1(.ecx, 19), "sse4-1": leaf1(.ecx, 19),
        "sse4.2": leaf1(.ecx, 20), "sse4-2": leaf1(.ecx, 20), "x2apic": leaf1(.ecx, 21), "movbe": leaf1(.ecx, 22),
        "popcnt": leaf1(.ecx, 23), "tsc-deadline": leaf1(.ecx, 24), "aes": leaf1(.ecx, 25),
        "xsave": leaf1(.ecx, 26), "osxsave": leaf1(.ecx, 27), "avx": leaf1(.ecx, 28), "f16c": leaf1(.ecx, 29),
        "rdrand": leaf1(.ecx, 30), "hypervisor": leaf1(.ecx, 31),
        // Leaf 7.0 EBX / ECX / EDX.
        "fsgsbase": leaf7(.ebx, 0), "tsc-adjust": leaf7(.ebx, 1), "bmi1": leaf7(.ebx, 3), "hle": leaf7(.ebx, 4),
        "avx2": leaf7(.ebx, 5), "smep": leaf7(.ebx, 7), "bmi2": leaf7(.ebx, 8), "erms": leaf7(.ebx, 9),
        "invpcid": leaf7(.ebx, 10), "rtm": leaf7(.ebx, 11), "mpx": leaf7(.ebx, 14), "avx512f": leaf7(.ebx, 16),
        "avx512dq": leaf7(.ebx, 17), "rdseed": leaf7(.ebx, 18), "adx": leaf7(.ebx, 19), "smap": leaf7(.ebx, 20),
        "avx512ifma": leaf7(.ebx, 21), "clflushopt": leaf7(.ebx, 23), "clwb": leaf7(.ebx, 24),
        "avx512cd": leaf7(.ebx, 28), "sha-ni": leaf7(.ebx, 29), "avx512bw": leaf7(.ebx, 30),
        "avx512vl": leaf7(.ebx, 31), "avx512vbmi": leaf7(.ecx, 1), "umip": leaf7(.ecx, 2), "pku": leaf7(.ecx, 3),
        "ospke": leaf7(.ecx, 4), "waitpkg": leaf7(.ecx, 5), "avx512vbmi2": leaf7(.ecx, 6), "gfni": leaf7(.ecx, 8),
        "vaes": leaf7(.ecx, 9), "vpclmulqdq": leaf7(.ecx, 10), "avx512vnni": leaf7(.ecx, 11),
        "avx512bitalg": leaf7(.ecx, 12), "la57": leaf7(.ecx, 16), "rdpid": leaf7(.ecx, 22),
        "movdiri": leaf7(.ecx, 27), "movdir64b": leaf7(.ecx, 28), "fsrm": leaf7(.edx, 4),
        "md-clear": leaf7(.edx, 10), "serialize": leaf7(.edx, 14), "spec-ctrl": leaf7(.edx, 26),
        "stibp": leaf7(.edx, 27), "arch-capabilities": leaf7(.edx, 29), "ssbd": leaf7(.edx, 31),
        // Leaf 0xD.1 EAX.
        "xsaveopt": xsaveLeaf(0), "xsavec": xsaveLeaf(1), "xgetbv1": xsaveLeaf(2), "xsaves": xsaveLeaf(3),
        // Leaf 0x80000001 ECX / EDX.
        "lahf-lm": extended(.ecx, 0), "cmp-legacy": extended(.ecx, 1), "svm": extended(.ecx, 2),
        "extapic": extended(.ecx, 3), "cr8legacy": extended(.ecx, 4), "abm": extended(.ecx, 5),
        "sse4a": extended(.ecx, 6), "misalignsse": extended(.ecx, 7), "3dnowprefetch": extended(.ecx, 8),
        "osvw": extended(.ecx, 9), "xop": extended(.ecx, 11), "skinit": extended(.ecx, 12),
        "fma4": extended(.ecx, 16), "tbm": extended(.ecx, 21), "topoext": extended(.ecx, 22),
        "syscall": extended(.edx, 11), "nx": extended(.edx, 20), "xd": extended(.edx, 20),
        "mmxext": extended(.edx, 22), "fxsr-opt": extended(.edx, 25), "pdpe1gb": extended(.edx, 26),
        "rdtscp": extended(.edx, 27), "lm": extended(.edx, 29), "3dnowext": extended(.edx, 30),
        "3dnow": extended(.edx, 31),
    ]
}
