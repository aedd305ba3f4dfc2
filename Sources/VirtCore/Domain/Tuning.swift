public import VirtBase

/// `<cputune>`: pinning, CFS shares/period/quota and real-time scheduling.
public struct CPUTune: Sendable, Equatable {
    /// `<vcpupin vcpu cpuset>`, in document order.
    public var vcpupins: [VCPUPin] = []
    /// `<emulatorpin cpuset>`.
    public var emulatorpin: CPUSet?
    /// `<iothreadpin iothread cpuset>`.
    public var iothreadpins: [IOThreadPin] = []
    /// `<shares>`: relative weight, 2–262144.
    public var shares: UInt64?
    /// `<period>` µs, 1000–1000000.
    public var period: UInt64?
    /// `<quota>` µs, 1000–17592186044415 or negative (unlimited).
    public var quota: Int64?
    /// `<emulator_period>` µs.
    public var emulatorPeriod: UInt64?
    /// `<emulator_quota>` µs.
    public var emulatorQuota: Int64?
    /// `<vcpusched>`, expanded to one entry per vCPU on output as libvirt does.
    public var vcpuscheds: [VCPUSched] = []

    public init() {}
}

/// `<vcpupin vcpu='N' cpuset='...'/>`.
public struct VCPUPin: Sendable, Equatable {
    public var vcpu: Int
    public var cpuset: CPUSet
    public init(vcpu: Int, cpuset: CPUSet) {
        self.vcpu = vcpu
        self.cpuset = cpuset
    }
}

/// `<iothreadpin iothread='N' cpuset='...'/>`.
public struct IOThreadPin: Sendable, Equatable {
    public var iothread: Int
    public var cpuset: CPUSet
    public init(iothread: Int, cpuset: CPUSet) {
        self.iothread = iothread
        self.cpuset = cpuset
    }
}

/// `<vcpusched vcpus='...' scheduler='...' priority='N'/>`.
public struct VCPUSched: Sendable, Equatable {
    /// Which vCPUs; nil means all.
    public var vcpus: CPUSet?
    public var scheduler: Scheduler
    /// Required for fifo and rr.
    public var priority: Int?
    public init(vcpus: CPUSet?, scheduler: Scheduler, priority: Int?) {
        self.vcpus = vcpus
        self.scheduler = scheduler
        self.priority = priority
    }

    /// Host scheduler classes.
    public enum Scheduler: String, Sendable, CaseIterable { case batch, idle, fifo, rr }
}

/// `<numatune>`.
public struct NUMATune: Sendable, Equatable {
    /// `<memory mode nodeset placement>`.
    public var memory: Memory?
    /// `<memnode cellid mode nodeset>`, per guest NUMA cell.
    public var memnodes: [MemNode] = []

    public init(memory: Memory? = nil, memnodes: [MemNode] = []) {
        self.memory = memory
        self.memnodes = memnodes
    }

    /// `<memory mode='...' nodeset='...' placement='...'/>`.
    public struct Memory: Sendable, Equatable {
        /// nil when absent (libvirt's default is strict).
        public var mode: Mode?
        public var nodeset: CPUSet?
        public var placement: Placement?
        public init(mode: Mode? = nil, nodeset: CPUSet? = nil, placement: Placement? = nil) {
            self.mode = mode
            self.nodeset = nodeset
            self.placement = placement
        }
    }

    /// `<memnode cellid='N' mode='...' nodeset='...'/>`.
    public struct MemNode: Sendable, Equatable {
        public var cellID: Int
        public var mode: Mode
        public var nodeset: CPUSet
        public init(cellID: Int, mode: Mode, nodeset: CPUSet) {
            self.cellID = cellID
            self.mode = mode
            self.nodeset = nodeset
        }
    }

    /// Memory policy modes.
    public enum Mode: String, Sendable, CaseIterable { case strict, preferred, interleave, restrictive }
}

/// `<memoryBacking>`.
public struct MemoryBacking: Sendable, Equatable {
    /// `<hugepages>` present; its `<page>` children (empty = the default huge page size).
    public var hugepages: [HugePage]?
    /// `<nosharepages/>`: not mergeable by KSM.
    public var nosharepages = false
    /// `<locked/>`: mlock the guest RAM.
    public var locked = false
    /// `<source type>`.
    public var source: Source?
    /// `<access mode>`.
    public var access: Access?
    /// `<allocation mode threads>`.
    public var allocation: Allocation?
    /// `<discard/>`.
    public var discard = false

    public init() {}

    /// `<page size unit nodeset>`; `sizeKiB` normalised to KiB.
    public struct HugePage: Sendable, Equatable {
        public var sizeKiB: UInt64
        /// Guest NUMA cells this size applies to; nil = all.
        public var nodeset: CPUSet?
        public init(sizeKiB: UInt64, nodeset: CPUSet?) {
            self.sizeKiB = sizeKiB
            self.nodeset = nodeset
        }
    }

    /// `<source type='file|anonymous|memfd'/>`.
    public enum Source: String, Sendable, CaseIterable { case file, anonymous, memfd }
    /// `<access mode='shared|private'/>`.
    public enum Access: String, Sendable, CaseIterable { case shared, `private` }

    /// `<allocation mode='immediate|ondemand' threads='N'/>`.
    public struct Allocation: Sendable, Equatable {
        public var mode: Mode?
        public var threads: Int?
        public init(mode: Mode?, threads: Int?) {
            self.mode = mode
            self.threads = threads
        }
        public enum Mode: String, Sendable, CaseIterable { case immediate, ondemand }
    }
}

/// `<cpu>`: model, features, topology and guest NUMA cells.
public struct CPUDefinition: Sendable, Equatable {
    public var mode: Mode?
    public var match: Match?
    public var check: Check?
    public var migratable: OnOff?
    /// `<model fallback>name</model>`.
    public var model: Model?
    /// `<vendor>`.
    public var vendor: String?
    /// `<topology sockets dies cores threads>`.
    public var topology: Topology?
    /// `<feature policy name>`, in document order.
    public var features: [Feature] = []
    /// `<numa><cell>...</numa>`.
    public var numaCells: [NUMACell] = []

    public init() {}

    public enum Mode: String, Sendable, CaseIterable {
        case custom
        case hostModel = "host-model"
        case hostPassthrough = "host-passthrough"
        case maximum
    }
    public enum Match: String, Sendable, CaseIterable { case minimum, exact, strict }
    public enum Check: String, Sendable, CaseIterable { case none, partial, full }

    /// `<model fallback='allow|forbid'>name</model>`.
    public struct Model: Sendable, Equatable {
        public var name: String
        public var fallback: String?
        public init(name: String, fallback: String? = nil) {
            self.name = name
            self.fallback = fallback
        }
    }

    /// `<topology>`; `dies` defaults to 1.
    public struct Topology: Sendable, Equatable {
        public var sockets: Int
        public var dies: Int
        public var cores: Int
        public var threads: Int
        public init(sockets: Int, dies: Int = 1, cores: Int, threads: Int) {
            self.sockets = sockets
            self.dies = dies
            self.cores = cores
            self.threads = threads
        }
        /// sockets × dies × cores × threads.
        public var vcpuCount: Int { sockets * dies * cores * threads }
    }

    /// `<feature policy='...' name='...'/>`.
    public struct Feature: Sendable, Equatable {
        public var policy: Policy
        public var name: String
        public init(policy: Policy, name: String) {
            self.policy = policy
            self.name = name
        }
        public enum Policy: String, Sendable, CaseIterable { case force, require, optional, disable, forbid }
    }

    /// `<cell id cpus memory unit memAccess discard>` with optional `<distances>`.
    public struct NUMACell: Sendable, Equatable {
        public var id: Int
        public var cpus: CPUSet?
        public var memoryKiB: UInt64
        public var memAccess: MemoryBacking.Access?
        public var discard: YesNo?
        /// `<sibling id value>`.
        public var distances: [Distance] = []
        public init(id: Int, cpus: CPUSet?, memoryKiB: UInt64) {
            self.id = id
            self.cpus = cpus
            self.memoryKiB = memoryKiB
        }
        public struct Distance: Sendable, Equatable {
            public var id: Int
            public var value: Int
            public init(id: Int, value: Int) {
                self.id = id
                self.value = value
            }
        }
    }
}
