import CVirtShims
import Glibc
import VirtBase

/// A seccomp allow-list as a classic BPF program: check the architecture, refuse the x32 ABI, allow the listed
/// system call numbers, allow `ioctl` only for the listed request types, kill the process for anything else.
///
/// Program layout (`n` calls allowed outright, `t` ioctl types; without an ioctl restriction `ioctl` is one of
/// the `n` and the ioctl block is absent):
/// ```
/// 0        ld  [arch]
/// 1        jeq AUDIT_ARCH_X86_64, +1, +0
/// 2        ret KILL_PROCESS
/// 3        ld  [nr]
/// 4        jge X32_SYSCALL_BIT, +0, +1
/// 5        ret KILL_PROCESS
/// 6+i      jeq nr_i, -> ALLOW             for each call i in 0..<n
/// 6+n      jeq __NR_ioctl, +0, -> KILL
/// 7+n      ld  [args[1] low 32 bits]      the request; the kernel itself truncates it to unsigned int
/// 8+n      and 0xff00                     _IOC_TYPE
/// 9+n+j    jeq type_j << 8, -> ALLOW       for each type j in 0..<t
/// 9+n+t    ret KILL_PROCESS
/// 10+n+t   ret ALLOW
/// ```
public struct SeccompFilter: Sendable, Equatable {
    /// The system call numbers allowed with any arguments, sorted.
    public let allowed: [UInt32]
    /// The ioctl request types (`_IOC_TYPE`, bits 8-15) allowed; nil allows every ioctl when `ioctl` is listed.
    public let ioctlTypes: [UInt8]?
    /// The AUDIT_ARCH_* value the program accepts.
    public let architecture: UInt32

    // Classic BPF opcodes (<linux/filter.h>, <linux/bpf_common.h>).
    /// BPF_LD | BPF_W | BPF_ABS: load a 32-bit word of `struct seccomp_data`.
    static let loadWord: UInt16 = 0x00 | 0x00 | 0x20
    /// BPF_ALU | BPF_AND | BPF_K.
    static let andConstant: UInt16 = 0x04 | 0x50 | 0x00
    /// BPF_JMP | BPF_JEQ | BPF_K.
    static let jumpIfEqual: UInt16 = 0x05 | 0x10 | 0x00
    /// BPF_JMP | BPF_JGE | BPF_K.
    static let jumpIfGreaterOrEqual: UInt16 = 0x05 | 0x30 | 0x00
    /// BPF_RET | BPF_K.
    static let returnConstant: UInt16 = 0x06 | 0x00
    // Seccomp return values (<linux/seccomp.h>).
    /// SECCOMP_RET_KILL_PROCESS: the whole process dies with SIGSYS.
    static let killProcess: UInt32 = 0x8000_0000
    /// SECCOMP_RET_ALLOW.
    static let allow: UInt32 = 0x7fff_0000
    /// __X32_SYSCALL_BIT (<asm/unistd.h>): x32 ABI calls share x86_64's audit arch and must be refused by number.
    static let x32SyscallBit: UInt32 = 0x4000_0000
    /// `offsetof(struct seccomp_data, args[1])`: args start at 16, eight bytes each; x86_64 is little-endian, so
    /// the low 32 bits come first.
    static let secondArgumentLow: UInt32 = 16 + 8
    /// `_IOC_TYPEMASK << _IOC_TYPESHIFT` (<asm-generic/ioctl.h>).
    static let ioctlTypeMask: UInt32 = 0xff00
    /// `_IOC_TYPESHIFT`.
    static let ioctlTypeShift: UInt32 = 8
    /// A conditional jump reaches at most 255 instructions ahead.
    static let maximumJump = 255

    /// The filter for `names` (system call names of this architecture); with `ioctlTypes`, `ioctl` is allowed
    /// only for requests of those types. Unknown names are an error.
    public init(allowing names: [String], ioctlTypes: [UInt8]? = nil) throws(VirtError) {
        #if arch(x86_64)
            let table = SyscallTableX86_64.numbers
        #else
            throw VirtError(.operationUnsupported, .security, "the seccomp allow-list is defined for x86_64 only")
        #endif
        var numbers = Set<UInt32>()
        for name in names {
            guard let number = table[name] else {
                throw VirtError(
                    .internalError, .security, "seccomp allow-list names '\(name)', which is no x86_64 system call")
            }
            numbers.insert(number)
        }
        if ioctlTypes != nil, let ioctl = table["ioctl"] { numbers.remove(ioctl) }
        let types = ioctlTypes.map { Array(Set($0)).sorted() }
        guard numbers.count + (types?.count ?? 0) + 4 <= Self.maximumJump else {
            throw VirtError(
                .internalError, .security,
                "seccomp allow-list has \(numbers.count) calls and \(types?.count ?? 0) ioctl types; too many for "
                    + "one jump table")
        }
        allowed = numbers.sorted()
        self.ioctlTypes = types
        architecture = cvirt_seccomp_audit_arch()
    }

    /// The filter for the rules of an allow-list, with its ioctl types.
    public init(rules: [SeccompRule], ioctlTypes: [SeccompIoctlType]? = nil) throws(VirtError) {
        try self.init(allowing: SeccompAllowList.names(rules), ioctlTypes: ioctlTypes?.map(\.type))
    }

    /// The hypervisor's filter: `SeccompAllowList.hypervisor` with `SeccompAllowList.hypervisorIoctlTypes`.
    public static func hypervisor() throws(VirtError) -> SeccompFilter {
        try SeccompFilter(rules: SeccompAllowList.hypervisor, ioctlTypes: SeccompAllowList.hypervisorIoctlTypes)
    }

    /// The BPF program.
    public var program: [cvirt_bpf_instruction] {
        func statement(_ code: UInt16, _ k: UInt32) -> cvirt_bpf_instruction {
            cvirt_bpf_instruction(code: code, jt: 0, jf: 0, k: k)
        }
        func jump(_ code: UInt16, _ k: UInt32, _ jt: Int, _ jf: Int) -> cvirt_bpf_instruction {
            cvirt_bpf_instruction(code: code, jt: UInt8(jt), jf: UInt8(jf), k: k)
        }
        var program = [
            statement(Self.loadWord, UInt32(CVIRT_SECCOMP_DATA_ARCH)),
            jump(Self.jumpIfEqual, architecture, 1, 0),
            statement(Self.returnConstant, Self.killProcess),
            statement(Self.loadWord, UInt32(CVIRT_SECCOMP_DATA_NR)),
            jump(Self.jumpIfGreaterOrEqual, Self.x32SyscallBit, 0, 1),
            statement(Self.returnConstant, Self.killProcess),
        ]
        let ioctlBlock = ioctlTypes.map { 3 + $0.count } ?? 0
        // Index of the final ALLOW once the program is complete.
        let allowIndex = program.count + allowed.count + ioctlBlock + 1
        for number in allowed {
            program.append(jump(Self.jumpIfEqual, number, allowIndex - program.count - 1, 0))
        }
        if let types = ioctlTypes, let ioctl = SyscallTableX86_64.numbers["ioctl"] {
            let killIndex = allowIndex - 1
            program.append(jump(Self.jumpIfEqual, ioctl, 0, killIndex - program.count - 1))
            program.append(statement(Self.loadWord, Self.secondArgumentLow))
            program.append(statement(Self.andConstant, Self.ioctlTypeMask))
            for type in types {
                program.append(
                    jump(Self.jumpIfEqual, UInt32(type) << Self.ioctlTypeShift, allowIndex - program.count - 1, 0))
            }
        }
        program.append(statement(Self.returnConstant, Self.killProcess))
        program.append(statement(Self.returnConstant, Self.allow))
        return program
    }

    /// Sets `no_new_privs` and installs the filter on every thread of the calling process. Irreversible.
    public func install() throws(VirtError) {
        let noNewPrivs = cvirt_seccomp_set_no_new_privs()
        guard noNewPrivs == 0 else {
            throw VirtError(
                .systemError, .security, "cannot set no_new_privs: \(String(cString: strerror(-noNewPrivs)))",
                errno: -noNewPrivs)
        }
        let instructions = program
        let result = instructions.withUnsafeBufferPointer {
            cvirt_seccomp_install($0.baseAddress, UInt16($0.count))
        }
        guard result == 0 else {
            throw VirtError(
                .systemError, .security,
                "cannot install the seccomp filter: \(String(cString: strerror(-result))) (does the kernel have "
                    + "CONFIG_SECCOMP_FILTER?)", errno: -result)
        }
    }
}
