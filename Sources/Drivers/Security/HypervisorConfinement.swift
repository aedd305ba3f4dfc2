import VirtBase

/// What the hypervisor does to itself after exec, once it holds every descriptor it needs and before the first
/// guest instruction: drop all capabilities, set `no_new_privs`, install the seccomp allow-list.
/// Always on, whatever `security_driver` says.
public enum HypervisorConfinement {
    /// Confines the calling process with `rules` and `ioctlTypes` (default: the hypervisor's allow-list).
    /// Irreversible.
    public static func apply(
        rules: [SeccompRule] = SeccompAllowList.hypervisor,
        ioctlTypes: [SeccompIoctlType]? = SeccompAllowList.hypervisorIoctlTypes
    ) throws(VirtError) {
        // Build first: a bad table must fail before the process is half-confined.
        let filter = try SeccompFilter(rules: rules, ioctlTypes: ioctlTypes)
        try Capabilities.dropAll()
        try filter.install()
    }
}
