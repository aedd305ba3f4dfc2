// virt-seccomp-probe: a test-support process for SecurityTests. It confines itself exactly as the hypervisor does
// and reports what the kernel says, so the tests check the real filter, not a model of it.
//
//   virt-seccomp-probe confine [forbidden]   drop capabilities, no_new_privs, seccomp; print /proc/self/status
//                                            lines; make allowed calls (memory, time, a thread waking a poll);
//                                            then call `forbidden` (getuid, open, socket, ioctl, x32), which must kill
//                                            the process with SIGSYS
//   virt-seccomp-probe identity              print uid/gid/groups/capabilities and the parent-death signal
import CVirtShims
import Glibc
import Security

/// The `/proc/self/status` lines the tests look at, read through a descriptor opened before confinement
/// (the hypervisor may not open files once confined).
func statusLines(_ fd: Int32) -> [String] {
    var buffer = [UInt8](repeating: 0, count: 8192)
    let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
    guard count > 0 else { return ["status: unreadable"] }
    let wanted = ["Uid:", "Gid:", "Groups:", "CapEff:", "CapPrm:", "CapBnd:", "CapAmb:", "NoNewPrivs:", "Seccomp:"]
    return String(decoding: buffer[0..<count], as: UTF8.self).split(separator: "\n").map(String.init)
        .filter { line in wanted.contains { line.hasPrefix($0) } }
}

/// The thread body: writes one byte to the pipe whose write end is `argument`. A plain function, not a closure
/// of the (main-actor) top-level code, so the runtime has no isolation to check on the new thread.
func wakeMainThread(_ argument: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    var one: UInt8 = 1
    _ = write(Int32(Int(bitPattern: argument)), &one, 1)
    return nil
}

/// __NR_ioctl on x86_64 (<asm/unistd_64.h>); Swift cannot call the variadic ioctl(2) wrapper.
let ioctlNumber = 16

func report(_ line: String) {
    print(line)
    fflush(nil)
}

let arguments = CommandLine.arguments
let mode = arguments.count > 1 ? arguments[1] : "identity"
let status = open("/proc/self/status", O_RDONLY | O_CLOEXEC)
guard status >= 0 else {
    report("error: cannot open /proc/self/status")
    exit(2)
}

switch mode {
case "confine":
    do {
        try HypervisorConfinement.apply()
    } catch {
        report("error: \(error)")
        exit(3)
    }
    for line in statusLines(status) { report(line) }
    // Allowed: memory, time, identity of the process, threads' futexes (through print's lock), write.
    let page = mmap(nil, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
    var now = timespec()
    let clock = clock_gettime(CLOCK_MONOTONIC, &now)
    let allowedOK = page != MAP_FAILED && munmap(page, 4096) == 0 && clock == 0 && getpid() > 0
    report("allowed calls: \(allowedOK ? "ok" : "failed")")
    // A vCPU-like thread waking the main thread through a pipe the main thread polls.
    var wake: [Int32] = [-1, -1]
    let piped = pipe(&wake)
    var thread = pthread_t()
    let started =
        piped == 0
        ? pthread_create(
            &thread, nil,
            wakeMainThread, UnsafeMutableRawPointer(bitPattern: Int(wake[1]))) : -1
    var ready = pollfd(fd: wake[0], events: Int16(POLLIN), revents: 0)
    let woken = started == 0 ? poll(&ready, 1, 5000) : -1
    let joined = started == 0 ? pthread_join(thread, nil) : -1
    // Allowed ioctl types: KVM_GET_API_VERSION and TCGETS on a pipe answer ENOTTY; they are not killed. The
    // kernel truncates the request to 32 bits, and so does the filter.
    var terminal = [UInt8](repeating: 0, count: 64)
    let kvm = cvirt_seccomp_raw_syscall(ioctlNumber, Int(wake[0]), 0xAE00, 0)
    let tcgets = terminal.withUnsafeMutableBytes {
        cvirt_seccomp_raw_syscall(ioctlNumber, Int(wake[0]), 0x5401, Int(bitPattern: $0.baseAddress))
    }
    let wide = cvirt_seccomp_raw_syscall(ioctlNumber, Int(wake[0]), Int(bitPattern: 0xFFFF_FFFF_0000_AE00), 0)
    let ioctlsOK = [kvm, tcgets, wide].allSatisfy { $0 == -Int(ENOTTY) }
    report("allowed ioctls: \(ioctlsOK ? "ok" : "failed (\(kvm), \(tcgets), \(wide))")")
    report("thread and poll: \(woken == 1 && joined == 0 ? "ok" : "failed (\(started), \(woken), \(joined))")")
    let forbidden = arguments.count > 2 ? arguments[2] : "getuid"
    report("calling \(forbidden)")
    switch forbidden {
    case "getuid": report("uid \(getuid())")
    case "open": report("fd \(open("/etc/hostname", O_RDONLY))")
    case "socket": report("fd \(socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0))")
    // getpid (39) through the x32 ABI: the same audit arch as x86_64, refused by its number's bit 30.
    // FS_IOC_GETFLAGS: an ioctl of a type ('f') the hypervisor has no business with.
    case "ioctl": report("result \(cvirt_seccomp_raw_syscall(ioctlNumber, Int(status), 0x8008_6601, 0))")
    case "x32": report("result \(cvirt_seccomp_raw_syscall(0x4000_0000 | 39, 0, 0, 0))")
    default: report("unknown forbidden call \(forbidden)")
    }
    report("survived")
    exit(0)
case "identity":
    for line in statusLines(status) { report(line) }
    report("PDeathSig: \(cvirt_security_parent_death_signal())")
    exit(0)
default:
    report("usage: virt-seccomp-probe confine [getuid|open|socket|ioctl|x32] | identity")
    exit(2)
}
