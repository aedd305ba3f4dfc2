import CVirtShims
import Security
import VirtBase

#if canImport(Glibc)
    import Glibc
#endif

extension HypervisorRun {
    /// Starts `virt-kvm hypervisor` through the privilege-drop path (`HypervisorLauncher`, whose child runs only
    /// `cvirt_security_spawn`): signal defaults, the descriptors in `keep`, the exec label where SELinux is
    /// enabled, the bounding-set drop, setgroups/setresgid/setresuid to the plan's user, `PR_SET_PDEATHSIG(SIGKILL)`
    /// after the uid change and the `getppid()` check, then exec. Without a plan the identity stays the
    /// supervisor's; the bounding set is still dropped when the supervisor is root.
    func spawnConfined(_ arguments: [String], keep: [Int32]) throws(VirtError) -> Int32 {
        var credentials = configuration.security?.credentials ?? HypervisorCredentials()
        if geteuid() == 0 && credentials.dropBoundingSetThrough == nil {
            credentials.dropBoundingSetThrough = Capabilities.lastCapability()
        }
        return try HypervisorLauncher.spawn(
            executable: "/proc/self/exe", arguments: arguments, environment: ChildProcess.currentEnvironment(),
            credentials: credentials, keep: keep)
    }

    /// When the hypervisor died of SIGSYS, the call the seccomp filter refused, from the kernel's audit record
    /// (`SeccompViolation`; records from before the process started, `startTime` in clock ticks since boot, are an
    /// earlier process's with the same pid); nil for any other end.
    func seccompViolation(_ termination: ChildProcess.Termination?, pid: Int32, startTime: UInt64?) -> String? {
        guard termination == .signaled(SIGSYS) else { return nil }
        let ticks = UInt64(max(sysconf(Int32(_SC_CLK_TCK)), 1))
        let notBefore = (startTime ?? 0) * 1_000_000 / ticks
        return SeccompViolation.find(pid: pid, notBeforeMicroseconds: notBefore)?.description
            ?? "a system call the kernel log does not name"
    }
}
