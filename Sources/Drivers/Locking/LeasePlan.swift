import VirtBase

/// One resource to lease, as sent to the daemon.
public struct LeaseResource: Codable, Sendable, Equatable, Hashable {
    /// The lockspace directory, "" for the direct lockspace.
    public var lockspace: String
    /// The disk path (direct) or the lease file's name in the lockspace.
    public var name: String
    /// Shared or exclusive.
    public var mode: LeaseMode
    /// What people call it: `disk '/srv/a.img'`, `lease 'key' in lockspace 'ls'`.
    public var label: String

    /// A resource.
    public init(lockspace: String, name: String, mode: LeaseMode, label: String) {
        self.lockspace = lockspace
        self.name = name
        self.mode = mode
        self.label = label
    }

    private enum CodingKeys: String, CodingKey {
        case lockspace, mode, label
        case name = "resource"
    }

    /// The daemon's key for this resource.
    public var key: LeaseKey { LeaseKey(lockspace: lockspace, resource: name) }
}

/// A disk as the lock manager sees it: its path and how the domain uses it.
public struct DiskLeaseRequest: Sendable, Equatable {
    /// How the domain uses the disk.
    public enum Access: Sendable, Equatable {
        /// Written by this domain alone: exclusive lease.
        case writable
        /// `<shareable/>`: shared lease.
        case shareable
        /// `<readonly/>`: not leased.
        case readOnly
    }

    /// The disk's source path (file or block device).
    public var path: String
    /// How it is used.
    public var access: Access

    /// A disk.
    public init(path: String, access: Access) {
        self.path = path
        self.access = access
    }
}

/// An explicit `<lease>`: `<lockspace>`, `<key>`, `<target path=…>`. The key locks its own file,
/// `TARGET/LOCKSPACE/KEY`, exclusively.
public struct ExplicitLease: Sendable, Equatable {
    /// The lockspace name.
    public var lockspace: String
    /// The key.
    public var key: String
    /// The target directory.
    public var targetPath: String

    /// A lease.
    public init(lockspace: String, key: String, targetPath: String) {
        self.lockspace = lockspace
        self.key = key
        self.targetPath = targetPath
    }
}

/// One planned lease: what it protects and the resource the daemon locks for it.
public struct PlannedLease: Sendable, Equatable {
    /// What a lease protects.
    public enum Kind: String, Sendable, Equatable {
        /// A disk (`auto_disk_leases`).
        case disk
        /// An explicit `<lease>`.
        case lease
    }

    /// A disk or an explicit lease.
    public var kind: Kind
    /// The disk's path as the definition gives it, or the lease's key.
    public var name: String
    /// The resource to lease.
    public var resource: LeaseResource
}

/// Turns a domain's disks and `<lease>`s into the resources to lease, following `lockd.conf`.
public enum LeasePlan {
    /// The resources, sorted and without duplicates (a disk listed twice is leased once, in the
    /// stronger mode). Throws when `require_lease_for_disks` is set and writable disks have no lease.
    public static func resources(
        disks: [DiskLeaseRequest], leases: [ExplicitLease], config: LockdConfig
    ) throws(VirtError) -> [LeaseResource] {
        try entries(disks: disks, leases: leases, config: config).map(\.resource)
    }

    /// `resources`, each with what it protects.
    public static func entries(
        disks: [DiskLeaseRequest], leases: [ExplicitLease], config: LockdConfig
    ) throws(VirtError) -> [PlannedLease] {
        var byKey: [LeaseKey: PlannedLease] = [:]
        func add(_ kind: PlannedLease.Kind, _ name: String, _ resource: LeaseResource) {
            if let existing = byKey[resource.key], existing.resource.mode == .exclusive { return }
            byKey[resource.key] = PlannedLease(kind: kind, name: name, resource: resource)
        }
        for lease in leases {
            guard !lease.key.isEmpty, !lease.key.contains("/"), lease.key != ".", lease.key != ".." else {
                throw VirtError(.invalidArgument, .locking, "lease key '\(lease.key)' must be a plain name")
            }
            guard lease.targetPath.hasPrefix("/") else {
                throw VirtError(.invalidArgument, .locking, "lease target path '\(lease.targetPath)' must be absolute")
            }
            let directory = lease.lockspace.isEmpty ? lease.targetPath : lease.targetPath + "/" + lease.lockspace
            add(
                .lease, lease.key,
                LeaseResource(
                    lockspace: directory, name: lease.key, mode: .exclusive,
                    label: "lease '\(lease.key)' in lockspace '\(lease.lockspace)'"))
        }
        let writable = disks.filter { $0.access == .writable }
        if config.requireLeaseForDisks && !config.autoDiskLeases && !writable.isEmpty && leases.isEmpty {
            throw VirtError(
                .configUnsupported, .locking,
                "Read/write, exclusive access, disks were present, but no leases specified "
                    + "(add <lease> elements or set auto_disk_leases = 1 in lockd.conf)")
        }
        if config.autoDiskLeases {
            for disk in disks where disk.access != .readOnly {
                guard disk.path.hasPrefix("/") else {
                    throw VirtError(
                        .invalidArgument, .locking, "disk path '\(disk.path)' must be absolute to be leased")
                }
                let canonical = (try? Posix.canonicalPath(disk.path)) ?? disk.path
                let mode: LeaseMode = disk.access == .shareable ? .shared : .exclusive
                let label = "disk '\(disk.path)'"
                if let directory = config.fileLockspaceDir {
                    add(
                        .disk, disk.path,
                        LeaseResource(lockspace: directory, name: SHA256.hexDigest(canonical), mode: mode, label: label)
                    )
                } else {
                    add(.disk, disk.path, LeaseResource(lockspace: "", name: canonical, mode: mode, label: label))
                }
            }
        }
        return byKey.values.sorted {
            ($0.resource.lockspace, $0.resource.name) < ($1.resource.lockspace, $1.resource.name)
        }
    }
}
