import KVM
import VirtBase

#if canImport(Glibc)
    import Glibc
#endif

extension Supervisor {
    /// `<memoryBacking><locked/>`: the hypervisor locks every page of guest RAM, which a hypervisor without
    /// `CAP_IPC_LOCK` (one running as another user) may do only within `RLIMIT_MEMLOCK`. As libvirt does for a
    /// locked guest, the supervisor lifts the limit, and the hypervisor inherits it. Where it may not (no
    /// `CAP_SYS_RESOURCE`), the limit stays: a hypervisor that keeps `CAP_IPC_LOCK` locks anyway, and one that
    /// does not fails the start at `mlock` with the remedy. Returns a line for the log when the limit stays.
    static func liftMemoryLockLimit(for hypervisor: HypervisorConfiguration) -> String? {
        guard hypervisor.resolvedMemoryCells.contains(where: { $0.backing.locked }) else { return nil }
        let resource = Int32(__RLIMIT_MEMLOCK.rawValue)
        var limit = rlimit(rlim_cur: rlim_t.max, rlim_max: rlim_t.max)  // RLIM_INFINITY
        guard setrlimit(resource, &limit) != 0 else { return nil }
        let reason = String(cString: strerror(errno))
        _ = getrlimit(resource, &limit)
        return "cannot lift the memlock limit for the locked guest RAM (\(reason)); it stays at "
            + "\(limit.rlim_cur) bytes"
    }
}
