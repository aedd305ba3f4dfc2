/// `<devices>`: the devices we model. Device order within each kind is the document's.
public struct Devices: Sendable, Equatable {
    /// `<emulator>`: absolute path.
    public var emulator: String?
    public var disks: [Disk] = []
    /// `<lease>` elements.
    public var leases: [Lease] = []
    /// `<interface>`: kept in the definition; starting a domain with one is "unsupported" for now.
    public var interfaces: [Interface] = []
    public var serials: [CharDevice] = []
    public var consoles: [CharDevice] = []
    public init() {}
}

/// `<disk type device>`.
public struct Disk: Sendable, Equatable {
    public var type: DiskType
    public var device: DiskDevice
    /// `<driver name type cache>`.
    public var driver: Driver?
    /// `<source file=...>` or `<source dev=...>` (per `type`); nil for an empty cdrom.
    public var source: String?
    /// `<source><seclabel/></source>`.
    public var sourceSeclabels: [DeviceSecurityLabel] = []
    /// `<target dev bus>`.
    public var target: String
    public var bus: String?
    public var readonly = false
    public var shareable = false
    /// `<serial>`.
    public var serial: String?
    /// `<boot order>`.
    public var bootOrder: Int?

    public init(type: DiskType, device: DiskDevice, source: String?, target: String) {
        self.type = type
        self.device = device
        self.source = source
        self.target = target
    }

    public enum DiskType: String, Sendable, CaseIterable { case file, block }
    public enum DiskDevice: String, Sendable, CaseIterable { case disk, cdrom }

    /// `<driver name='qemu' type='raw' cache='none'/>`.
    public struct Driver: Sendable, Equatable {
        public var name: String?
        public var type: String?
        public var cache: String?
        public init(name: String? = nil, type: String? = nil, cache: String? = nil) {
            self.name = name
            self.type = type
            self.cache = cache
        }
    }

    /// Whether the guest may write the disk (`<readonly/>` absent and not a cdrom).
    public var isWritable: Bool { !readonly && device != .cdrom }
}

/// `<lease><lockspace/><key/><target path offset/></lease>`.
public struct Lease: Sendable, Equatable {
    public var lockspace: String
    public var key: String
    public var path: String
    public var offset: UInt64?
    public init(lockspace: String, key: String, path: String, offset: UInt64? = nil) {
        self.lockspace = lockspace
        self.key = key
        self.path = path
        self.offset = offset
    }
}

/// `<interface type>`: kept for a later issue.
public struct Interface: Sendable, Equatable {
    public var type: String
    public var mac: String?
    /// The `<source>` attribute that names it: network=, bridge= or dev=.
    public var sourceAttribute: String?
    public var sourceValue: String?
    /// `<source mode>` for type='direct' (`vepa`, `bridge`, `private`, `passthrough`).
    public var sourceMode: String?
    public var model: String?
    /// `<target dev>`: output-only.
    public var targetDev: String?
    public init(type: String) { self.type = type }
}

/// `<serial>` / `<console>`: pty, file or unix.
public struct CharDevice: Sendable, Equatable {
    public var type: CharType
    /// `<source path>` (file, unix; live pty path).
    public var sourcePath: String?
    /// `<source mode='bind|connect'>` for unix.
    public var sourceMode: String?
    /// `<source append='on|off'>` for file.
    public var sourceAppend: OnOff?
    /// `<source><seclabel/></source>` for file and unix sources.
    public var sourceSeclabels: [DeviceSecurityLabel] = []
    /// `<target type port>`.
    public var targetType: String?
    public var targetPort: Int?
    /// `<log file append>`.
    public var logFile: String?
    public var logAppend: OnOff?

    public init(type: CharType) { self.type = type }

    public enum CharType: String, Sendable, CaseIterable { case pty, file, unix }
}
