/// What the hypervisor process becomes before exec, computed in advance by the security drivers so the
/// child runs only async-signal-safe calls (see `HypervisorLauncher`).
public struct HypervisorCredentials: Sendable, Equatable, Codable {
    /// The SELinux exec label, or nil to leave the process label alone (SELinux disabled, or type none).
    public var execLabel: String?
    /// Where the exec label is written (`/proc/self/attr/exec`; tests use a plain file through the seam).
    public var execLabelPath: String
    /// Whether failing to set the exec label stops the start (only when SELinux is enforcing, as in libvirt).
    public var execLabelRequired: Bool
    /// The uid/gid/groups to switch to, or nil to keep the supervisor's (session and embed as the caller).
    public var identity: DACIdentity?
    /// Drop capabilities 0...N from the bounding set before the uid change (needs CAP_SETPCAP: root supervisor).
    public var dropBoundingSetThrough: Int?

    /// No change at all.
    public init(
        execLabel: String? = nil, execLabelPath: String = "/proc/self/attr/exec", execLabelRequired: Bool = false,
        identity: DACIdentity? = nil, dropBoundingSetThrough: Int? = nil
    ) {
        self.execLabel = execLabel
        self.execLabelPath = execLabelPath
        self.execLabelRequired = execLabelRequired
        self.identity = identity
        self.dropBoundingSetThrough = dropBoundingSetThrough
    }
}
