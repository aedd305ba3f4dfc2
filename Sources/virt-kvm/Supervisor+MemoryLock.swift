import KVM
import VirtBase

#if canImport(Glibc)
    import Glibc
#endif

extension Supervisor {
    /// `<memoryBacking><locked/>`: the hypervisor locks every page of guest RAM, which an unprivileged hypervisor
    /// may do only within `RLIMIT_MEMLOCK`. As libvirt does for a locked guest, the supervisor lifts the limit
    /// (the hypervisor inherits it). Where it may not (an unprivileged caller's hard limit), the limit stays and
    /// the hypervisor's `mlock` fails the start with its own remedy.
    static func liftMemoryLockLimit(for hypervisor: HypervisorConfiguration) {
        let locked = hypervisor.resolvedMemoryCells.contains { $0.backing.locked }
        guard locked else { return }
        var limit = rlimit(rlim_cur: rlim_t.max, rlim_max: rlim_t.max)  // RLIM_INFINITY
        _ = setrlimit(Int32(__RLIMIT_MEMLOCK.rawValue), &limit)
    }
}
