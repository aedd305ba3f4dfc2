import CVirtShims
import Glibc
import VirtBase

/// A seccomp allow-list as a classic BPF program: check the architecture, refuse the x32 ABI, allow the listed
/// system call numbers, kill the process for anything else.
///
/// Program layout (`n` allowed calls):
/// ```
/// 0      ld  [arch]
/// 1      jeq AUDIT_ARCH_X86_64, +1, +0
/// 2      ret KILL_PROCESS
/// 3      ld  [nr]
/// 4      jge X32_SYSCALL_BIT, +0, +1
/// 5      ret KILL_PROCESS
/// 6+i    jeq nr_i, +(n-i), +0          for each allowed call i in 0..<n
/// 6+n    ret KILL_PROCESS
/// 7+n    ret ALLOW
/// ```
public struct SeccompFilter: Sendable, Equatable {
    /// The allowed system call numbers, sorted.
    public let allowed: [UInt32]
    /// The AUDIT_ARCH_* value the program accepts.
    public let architecture: UInt32

    // Classic BPF opcodes (<linux/filter.h>, <linux/bpf_common.h>).
    /// BPF_LD | BPF_W | BPF_ABS: load a 32-bit word of `struct seccomp_data`.
    static let loadWord: UInt16 = 0x00 | 0x00 | 0x20
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
    /// A conditional jump reaches at most 255 instructions ahead.
    static let maximumRules = 255

    /// The filter for `names` (system call names of this architecture). Unknown names are an error.
    public init(allowing names: [String]) throws(VirtError) {
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
        guard numbers.count <= Self.maximumRules else {
            throw VirtError(
                .internalError, .security, "seccomp allow-list has \(numbers.count) calls; at most \(Self.maximumRules)"
            )
        }
        allowed = numbers.sorted()
        architecture = cvirt_seccomp_audit_arch()
    }

    /// The filter for the rules of an allow-list.
    public init(rules: [SeccompRule]) throws(VirtError) {
        try self.init(allowing: SeccompAllowList.names(rules))
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
        for (index, number) in allowed.enumerated() {
            program.append(jump(Self.jumpIfEqual, number, allowed.count - index, 0))
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
