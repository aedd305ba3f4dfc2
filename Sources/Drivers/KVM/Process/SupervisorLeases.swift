/// The leases a domain's supervisor takes before anything else and holds for the domain's whole life,
/// resolved by the driver from the disks, the `<lease>` elements and `lockd.conf` (docs/locking.md).
/// Plain values: the supervisor turns them into lock-daemon calls.
public struct SupervisorLeases: Codable, Sendable, Equatable {
    /// The URI's configuration directory (`virtlockd.conf` for a daemon started on demand).
    public var configDirectory: String
    /// The URI's run directory (the daemon's socket is `<run>/lockd/virtlockd.sock`).
    public var runDirectory: String
    /// The `virtlockd` to start when none listens (nil: never start one).
    public var daemonExecutable: String?
    /// What to do when a lease is lost while the domain runs.
    public var onLockFailure: LeaseFailureAction
    /// The resources, in the order they are taken.
    public var resources: [Resource]

    /// Leases for a domain.
    public init(
        configDirectory: String, runDirectory: String, daemonExecutable: String?, onLockFailure: LeaseFailureAction,
        resources: [Resource]
    ) {
        self.configDirectory = configDirectory
        self.runDirectory = runDirectory
        self.daemonExecutable = daemonExecutable
        self.onLockFailure = onLockFailure
        self.resources = resources
    }

    /// One resource to lease.
    public struct Resource: Codable, Sendable, Equatable {
        /// A disk or an explicit `<lease>`.
        public var kind: LeaseKind
        /// What people call it: the disk's source path, or the lease's key.
        public var name: String
        /// The lockspace directory ("" for the direct lockspace).
        public var lockspace: String
        /// The daemon's resource name (the disk path, a SHA-256 lease file name, or the key).
        public var resource: String
        /// `shared` or `exclusive`.
        public var exclusive: Bool
        /// The daemon's label for messages: `disk '/srv/a.img'`.
        public var label: String

        /// A resource.
        public init(kind: LeaseKind, name: String, lockspace: String, resource: String, exclusive: Bool, label: String)
        {
            self.kind = kind
            self.name = name
            self.lockspace = lockspace
            self.resource = resource
            self.exclusive = exclusive
            self.label = label
        }

        /// The file that carries the lock.
        public var lockFile: String { lockspace.isEmpty ? resource : lockspace + "/" + resource }
    }
}

/// What a lease protects.
public enum LeaseKind: String, Codable, Sendable, CaseIterable {
    /// A disk image or block device (`auto_disk_leases`).
    case disk
    /// An explicit `<lease>` key.
    case lease
}

/// `<on_lockfailure>` as the supervisor applies it (libvirt's values; libvirt's "default" is poweroff).
public enum LeaseFailureAction: String, Codable, Sendable, CaseIterable {
    /// Stop the guest: the domain ends `shut off (destroyed)`.
    case poweroff
    /// Stop the guest, take the leases again and start a fresh one (the domain ends if they cannot be had).
    case restart
    /// Pause the vCPUs until the leases are back and someone resumes the domain.
    case pause
    /// Keep running without the lease (the loss stays visible in `domleases`).
    case ignore
}

/// `<run>/<name>.leases`: the supervisor's account of its leases, rewritten whenever it changes, read by
/// `virtsh domleases` and `leases` and by the driver (a guest paused for a lock failure, a refused resume).
public struct DomainLeaseStatus: Codable, Sendable, Equatable {
    /// The supervisor's pid (the lease owner's pid as the daemon records it).
    public var supervisorPID: Int32
    /// The daemon's pid when last connected.
    public var daemonPID: Int32?
    /// The domain's `<on_lockfailure>`.
    public var onLockFailure: LeaseFailureAction
    /// What the supervisor did about lost leases (nil while none was lost).
    public var action: String?
    /// Whether the supervisor paused the guest because of a lost lease (`on_lockfailure` pause).
    public var pausedForLockFailure: Bool
    /// The leases.
    public var leases: [Entry]
    /// When the file was written, seconds since the epoch.
    public var epochSeconds: Int

    /// A status.
    public init(
        supervisorPID: Int32, daemonPID: Int32?, onLockFailure: LeaseFailureAction, action: String?,
        pausedForLockFailure: Bool, leases: [Entry], epochSeconds: Int
    ) {
        self.supervisorPID = supervisorPID
        self.daemonPID = daemonPID
        self.onLockFailure = onLockFailure
        self.action = action
        self.pausedForLockFailure = pausedForLockFailure
        self.leases = leases
        self.epochSeconds = epochSeconds
    }

    /// Where a lease stands.
    public enum State: String, Codable, Sendable {
        /// The daemon holds it for this domain.
        case held
        /// The daemon went away; the supervisor is taking it back.
        case recovering
        /// It could not be taken back (`error` says why).
        case lost
    }

    /// One lease.
    public struct Entry: Codable, Sendable, Equatable {
        /// The resource.
        public var resource: SupervisorLeases.Resource
        /// Where it stands.
        public var state: State
        /// Why it was lost (the holder named when known).
        public var error: String?

        /// An entry.
        public init(resource: SupervisorLeases.Resource, state: State, error: String? = nil) {
            self.resource = resource
            self.state = state
            self.error = error
        }
    }

    /// Whether any lease is not held.
    public var hasLostLeases: Bool { leases.contains { $0.state != .held } }
}
