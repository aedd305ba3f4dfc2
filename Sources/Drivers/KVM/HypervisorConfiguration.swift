/// Everything the hypervisor needs to build and run one guest, as plain values.
///
/// The kvm:// driver resolves a domain definition into this (it never crosses into VirtCore types), the
/// supervisor passes it to the hypervisor as JSON, and the hypervisor builds the VM from it. Paths are
/// resolved by the supervisor, which may instead hand down already-open descriptors (`fd`).
public struct HypervisorConfiguration: Codable, Sendable, Equatable {
    /// The domain's name (thread names, log lines).
    public var name: String
    /// The domain's uuid, lower-case canonical form.
    public var uuid: String
    /// Guest RAM in bytes.
    public var memoryBytes: UInt64
    /// vCPUs started at boot.
    public var vcpus: Int
    /// CPU topology presented through CPUID; sockets × dies × cores × threads ≥ vcpus.
    public var topology: Topology
    /// `<cpu><feature policy='disable|require'>` that shape CPUID (names as libvirt/Linux spell them: `cx16`).
    public var cpuFeatures: [CPUFeature]
    /// The kernel to boot: an ELF with a Xen PVH note, or a bzImage.
    public var kernel: FileSource
    /// The initial ramdisk, if any.
    public var initrd: FileSource?
    /// The kernel command line as the user gave it; the hypervisor appends its `virtio_mmio.device=` entries.
    public var cmdline: String
    /// One virtio-blk device per disk, in order.
    public var disks: [DiskConfiguration]
    /// The COM1 serial port's backend.
    public var serial: SerialConfiguration
    /// How guest RAM is backed and placed.
    public var memoryBacking: MemoryBackingConfiguration
    /// Guest NUMA cells, each with its own mapping, backing and policy; their sizes add up to `memoryBytes`.
    /// Empty: one mapping of `memoryBytes` per `memoryBacking` and `placement.memoryPolicy`.
    public var memoryCells: [MemoryCellConfiguration]
    /// The KVM device: nil opens `/dev/kvm`; the supervisor may hand down an open descriptor instead.
    public var kvmDevice: FileSource?
    /// Host CPU pinning of the threads and the NUMA policy of guest RAM.
    public var placement: PlacementConfiguration

    /// Builds the value.
    public init(
        name: String, uuid: String, memoryBytes: UInt64, vcpus: Int, topology: Topology? = nil,
        cpuFeatures: [CPUFeature] = [], kernel: FileSource, initrd: FileSource? = nil, cmdline: String = "",
        disks: [DiskConfiguration] = [], serial: SerialConfiguration = .init(kind: .none),
        memoryBacking: MemoryBackingConfiguration = .init(), memoryCells: [MemoryCellConfiguration] = [],
        kvmDevice: FileSource? = nil, placement: PlacementConfiguration = .init()
    ) {
        self.name = name
        self.uuid = uuid
        self.memoryBytes = memoryBytes
        self.vcpus = vcpus
        self.topology = topology ?? Topology(sockets: vcpus, dies: 1, cores: 1, threads: 1)
        self.cpuFeatures = cpuFeatures
        self.kernel = kernel
        self.initrd = initrd
        self.cmdline = cmdline
        self.disks = disks
        self.serial = serial
        self.memoryBacking = memoryBacking
        self.memoryCells = memoryCells
        self.kvmDevice = kvmDevice
        self.placement = placement
    }

    /// CPU topology.
    public struct Topology: Codable, Sendable, Equatable {
        /// Sockets.
        public var sockets: Int
        /// Dies per socket.
        public var dies: Int
        /// Cores per die.
        public var cores: Int
        /// Threads per core.
        public var threads: Int
        /// Builds the value.
        public init(sockets: Int, dies: Int, cores: Int, threads: Int) {
            self.sockets = sockets
            self.dies = dies
            self.cores = cores
            self.threads = threads
        }
    }

    /// A CPUID feature the domain disables or requires.
    public struct CPUFeature: Codable, Sendable, Equatable {
        /// The feature name as libvirt spells it (`cx16`).
        public var name: String
        /// What to do with it.
        public var policy: Policy
        /// Builds the value.
        public init(name: String, policy: Policy) {
            self.name = name
            self.policy = policy
        }
        /// `disable` hides the bit; `require` fails the start when the host cannot offer it.
        public enum Policy: String, Codable, Sendable { case disable, require }
    }
}

/// A file the hypervisor reads or writes: a path, or a descriptor the supervisor already opened.
public struct FileSource: Codable, Sendable, Equatable {
    /// The path as the user named it (also used in messages).
    public var path: String
    /// An inherited open descriptor for `path`; nil means open `path` directly.
    public var fd: Int32?
    /// Builds the value.
    public init(path: String, fd: Int32? = nil) {
        self.path = path
        self.fd = fd
    }
}

/// One virtio-blk disk.
public struct DiskConfiguration: Codable, Sendable, Equatable {
    /// The image (raw file or block device).
    public var source: FileSource
    /// `<readonly/>`: advertised to the guest (VIRTIO_BLK_F_RO) and enforced.
    public var readonly: Bool
    /// Returned by VIRTIO_BLK_T_GET_ID (at most 20 bytes), from `<serial>`.
    public var serial: String?
    /// The target name (`vda`), for messages and statistics.
    public var target: String
    /// Builds the value.
    public init(source: FileSource, readonly: Bool = false, serial: String? = nil, target: String) {
        self.source = source
        self.readonly = readonly
        self.serial = serial
        self.target = target
    }
}

/// Where COM1's output goes and its input comes from.
public struct SerialConfiguration: Codable, Sendable, Equatable {
    /// The backend kind.
    public var kind: Kind
    /// pty: the master descriptor (or nil to allocate one); file: the file to append to; unix: the socket path.
    public var source: FileSource?
    /// `<log file>`: a copy of everything the guest writes, appended.
    public var logFile: FileSource?
    /// Builds the value.
    public init(kind: Kind, source: FileSource? = nil, logFile: FileSource? = nil) {
        self.kind = kind
        self.source = source
        self.logFile = logFile
    }
    /// Serial backends: none, a pty, a file (output only), a listening Unix socket, or stdio.
    public enum Kind: String, Codable, Sendable { case none, pty, file, unix, stdio }
}

/// Guest RAM backing and NUMA placement (the NUMA issue fills in placement; defaults are anonymous memory).
public struct MemoryBackingConfiguration: Codable, Sendable, Equatable {
    /// Anonymous memory, a memfd, or huge pages (anonymous `MAP_HUGETLB`, or a hugetlb memfd when shared).
    public var source: Source
    /// Huge page size in bytes when `source` is `.hugetlb`.
    public var hugePageBytes: UInt64?
    /// `MAP_SHARED` instead of private.
    public var shared: Bool
    /// mlock the whole of guest RAM.
    public var locked: Bool
    /// Allow KSM to merge pages (`nosharepages` clears it).
    public var mergeable: Bool
    /// Fault every page in before the guest runs (`<allocation mode='immediate'>`); hugetlb RAM always is.
    public var preallocate: Bool
    /// Threads that fault the pages in (`<allocation threads>`); nil: one per CPU the hypervisor may use, up to 8.
    public var allocationThreads: Int?
    /// Builds the value.
    public init(
        source: Source = .anonymous, hugePageBytes: UInt64? = nil, shared: Bool = false, locked: Bool = false,
        mergeable: Bool = true, preallocate: Bool = false, allocationThreads: Int? = nil
    ) {
        self.source = source
        self.hugePageBytes = hugePageBytes
        self.shared = shared
        self.locked = locked
        self.mergeable = mergeable
        self.preallocate = preallocate
        self.allocationThreads = allocationThreads
    }
    /// Where guest RAM comes from.
    public enum Source: String, Codable, Sendable { case anonymous, memfd, hugetlb }
}

/// How a guest run ended, as the hypervisor saw it; the supervisor turns it into a state and reason.
public enum GuestExit: Codable, Sendable, Equatable {
    /// The guest powered itself off (isa-debug-exit port write); `code` is the value written.
    case poweroff(code: UInt32)
    /// The guest asked for a reset (i8042 0xFE, triple fault is `.crashed`).
    case reset
    /// A triple fault or a KVM system-event crash.
    case crashed(reason: String)
    /// KVM refused to enter or emulate: internal error or failed entry, with detail.
    case internalError(reason: String)
    /// Stopped from outside (monitor `quit`, destroy).
    case stopped
}
