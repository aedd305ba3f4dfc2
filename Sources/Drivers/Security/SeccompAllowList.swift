/// One system call the hypervisor may make, with the reason it needs it (docs/security.md prints this table).
public struct SeccompRule: Sendable, Equatable {
    /// The system call's name as the kernel spells it (`pread64`).
    public let name: String
    /// Why the hypervisor needs it.
    public let reason: String

    /// A rule.
    public init(_ name: String, _ reason: String) {
        self.name = name
        self.reason = reason
    }
}

/// An ioctl request type (`_IOC_TYPE`, the "magic" byte) the hypervisor may use, with the reason.
public struct SeccompIoctlType: Sendable, Equatable {
    /// The type byte (0xAE for KVM).
    public let type: UInt8
    /// Why the hypervisor needs it.
    public let reason: String

    /// A type.
    public init(_ type: UInt8, _ reason: String) {
        self.type = type
        self.reason = reason
    }
}

/// The system calls a confined hypervisor may make. Anything else kills the process (SECCOMP_RET_KILL_PROCESS).
///
/// The hypervisor opens nothing after confinement: `/dev/kvm`, disks, kernel, initrd, the pty and the monitor's
/// listening socket arrive as descriptors from the supervisor, so `open`, `socket`, `execve` and the
/// identity calls stay out.
public enum SeccompAllowList {
    /// The hypervisor's allow-list.
    public static let hypervisor: [SeccompRule] = [
        // KVM and device I/O.
        SeccompRule("ioctl", "KVM_RUN and the other KVM ioctls, pty modes; only the request types listed below"),
        SeccompRule("read", "serial input from the pty, monitor requests, eventfd counters"),
        SeccompRule("write", "serial output, monitor replies, log lines on stderr, eventfd signals"),
        SeccompRule("readv", "scattered reads of monitor frames and pty data"),
        SeccompRule("writev", "gathered writes of monitor frames; glibc's stdio uses it"),
        SeccompRule("pread64", "virtio-blk reads at a sector offset"),
        SeccompRule("pwrite64", "virtio-blk writes at a sector offset"),
        SeccompRule("preadv", "virtio-blk reads of a descriptor chain into several guest buffers"),
        SeccompRule("pwritev", "virtio-blk writes of a descriptor chain from several guest buffers"),
        SeccompRule("preadv2", "glibc implements preadv through preadv2 on recent kernels"),
        SeccompRule("pwritev2", "glibc implements pwritev through pwritev2 on recent kernels"),
        SeccompRule("lseek", "disk size probing (SEEK_END) on the inherited disk descriptors"),
        SeccompRule("fsync", "virtio-blk VIRTIO_BLK_T_FLUSH"),
        SeccompRule("fdatasync", "virtio-blk flush when only data must reach the disk"),
        SeccompRule("fstat", "disk size and type of an inherited descriptor"),
        SeccompRule("newfstatat", "glibc's fstat is newfstatat(fd, \"\", AT_EMPTY_PATH)"),
        SeccompRule("statx", "the Swift runtime and glibc stat descriptors through statx"),
        SeccompRule("fcntl", "O_NONBLOCK on the monitor and pty descriptors, FD_CLOEXEC"),
        SeccompRule("close", "closing monitor connections and finished descriptors"),
        SeccompRule("dup", "duplicating a descriptor for a second reader (serial console)"),
        // Memory.
        SeccompRule("mmap", "guest RAM, vCPU kvm_run areas, thread stacks, malloc arenas"),
        SeccompRule("munmap", "releasing mappings (malloc, thread exit)"),
        SeccompRule("mprotect", "thread stack guard pages, malloc arena growth"),
        SeccompRule("mremap", "realloc of large blocks"),
        SeccompRule("madvise", "MADV_DONTNEED on freed memory, MADV_HUGEPAGE on guest RAM"),
        SeccompRule("mbind", "NUMA policy of guest RAM from <numatune>"),
        SeccompRule("brk", "malloc's main heap"),
        // Threads and synchronisation.
        SeccompRule("futex", "mutexes and condition variables between vCPU, device and monitor threads"),
        SeccompRule("clone", "vCPU and I/O threads (pthread_create)"),
        SeccompRule("clone3", "glibc 2.34+ creates threads with clone3"),
        SeccompRule("set_robust_list", "every new thread registers its robust futex list"),
        SeccompRule("rseq", "glibc registers restartable sequences for every new thread"),
        SeccompRule("sched_yield", "spin-wait back-off in the Swift runtime and atomics"),
        SeccompRule("sched_getaffinity", "the Swift runtime and glibc count usable CPUs"),
        SeccompRule("sched_setaffinity", "pinning vCPU threads per <vcpupin> and <emulatorpin>"),
        SeccompRule("gettid", "thread ids for affinity and for kicking a vCPU thread"),
        SeccompRule("getpid", "tgkill needs the process id; glibc caches it"),
        SeccompRule("prctl", "PR_SET_NAME for thread names shown by ps and top"),
        // Events and sockets.
        SeccompRule("epoll_create1", "the device and monitor event loop"),
        SeccompRule("epoll_ctl", "adding and removing descriptors of the event loop"),
        SeccompRule("epoll_wait", "waiting in the event loop"),
        SeccompRule("epoll_pwait", "glibc implements epoll_wait through epoll_pwait"),
        SeccompRule("poll", "waiting on a single descriptor (monitor connection)"),
        SeccompRule("ppoll", "glibc implements poll through ppoll"),
        SeccompRule("eventfd2", "ioeventfd/irqfd for virtio notifications, wake-ups between threads"),
        SeccompRule("pipe2", "wake-up pipes between threads"),
        SeccompRule("accept4", "monitor connections on the inherited listening socket"),
        SeccompRule("recvmsg", "monitor requests (with SCM_RIGHTS)"),
        SeccompRule("sendmsg", "monitor replies and events"),
        SeccompRule("recvfrom", "glibc's recv"),
        SeccompRule("sendto", "glibc's send"),
        SeccompRule("shutdown", "closing a monitor connection's write side"),
        SeccompRule("getsockopt", "SO_PEERCRED to check who connects to the monitor"),
        // Time.
        SeccompRule("clock_gettime", "time stamps when the vDSO falls back to the system call"),
        SeccompRule("gettimeofday", "the vDSO fallback of gettimeofday"),
        SeccompRule("clock_nanosleep", "timed waits (device timers, back-off)"),
        SeccompRule("nanosleep", "short sleeps"),
        // Signals.
        SeccompRule("rt_sigreturn", "returning from the vCPU kick signal handler"),
        SeccompRule("rt_sigprocmask", "blocking the kick signal outside KVM_RUN; pthread_create masks signals"),
        SeccompRule("rt_sigaction", "installing handlers (the Swift runtime's crash handler, vCPU kick)"),
        SeccompRule("tgkill", "kicking a vCPU thread out of KVM_RUN (pthread_kill)"),
        SeccompRule("sigaltstack", "alternate signal stacks for threads"),
        SeccompRule("rt_sigtimedwait", "the termination thread waits for SIGTERM, SIGINT, SIGHUP (sigwait)"),
        SeccompRule("restart_syscall", "the kernel restarts an interrupted sleep through it"),
        // Randomness and exit.
        SeccompRule("getrandom", "Swift's hashing seed and SystemRandomNumberGenerator"),
        SeccompRule("exit", "a thread ends"),
        SeccompRule("exit_group", "the hypervisor ends"),
    ]

    /// The ioctl request types the hypervisor may use; any other ioctl kills it, even on a descriptor it owns.
    public static let hypervisorIoctlTypes: [SeccompIoctlType] = [
        SeccompIoctlType(0xAE, "KVMIO: every KVM ioctl (<linux/kvm.h>) on /dev/kvm, the VM and vCPU descriptors"),
        SeccompIoctlType(
            0x54,
            "'T': terminal ioctls on the serial pty (TCGETS/TCSETS for raw mode, TIOCGWINSZ, FIONBIO, FIONREAD, "
                + "TIOCGPTPEER to reach the slave)"),
    ]

    /// The distinct names of `rules`, in order.
    public static func names(_ rules: [SeccompRule]) -> [String] {
        var seen = Set<String>()
        return rules.map(\.name).filter { seen.insert($0).inserted }
    }
}
