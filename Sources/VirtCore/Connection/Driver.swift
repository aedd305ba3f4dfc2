import Foundation
import VirtBase

/// A hypervisor driver behind a `Connection` (libvirt's `virHypervisorDriver`): `test:///`, `kvm:///`.
///
/// Drivers deal in values (`DomainDefinition`, `DomainSummary`); `Connection` does the XML. Every thrown
/// error is a `VirtError`. Calls are blocking and are made from one thread at a time per driver instance.
public protocol Driver: AnyObject {
    /// The URI this driver was opened with, canonical (`test:///default`, `kvm:///embed?root=/x`).
    var uri: String { get }
    /// libvirt's hypervisor type name for `version`: `TEST`, `KVM`.
    var typeName: String { get }
    /// The hypervisor's version for `version` (`Running hypervisor: TEST 0.0.2`).
    var hypervisorVersion: String { get }

    /// The host's name as the driver sees it.
    func hostname() throws -> String
    /// The capabilities document (libvirt's capabilities XML).
    func capabilitiesXML() throws -> String
    /// `nodeinfo`.
    func nodeInfo() throws -> NodeInfo
    /// Free memory of `cells` (`.host`: none, only the host figure) and of the host (`freecell`). A cell the
    /// host lacks is the driver's error.
    func nodeFreeMemory(cells: NodeCellSelection) throws -> NodeFreeMemory
    /// Free pages of `sizesKiB` (nil: every page size the host offers) on `cells` (`freepages`), one entry per
    /// cell (or one for `.host`).
    func nodeFreePages(sizesKiB: [UInt64]?, cells: NodeCellSelection) throws -> [NodePageCounts]
    /// Sets (or with `add` grows) the huge page pool of `sizeKiB` on `cells` to `count` pages (`allocpages`).
    func allocPages(sizeKiB: UInt64, count: UInt64, cells: NodeCellSelection, add: Bool) throws -> [NodePagePoolChange]
    /// The host's CPU map (`nodecpumap`).
    func nodeCPUMap() throws -> NodeCPUMapInfo
    /// Memory statistics of cell `cell`, or of the host when nil (`nodememstats`).
    func nodeMemoryStats(cell: Int?) throws -> NodeMemoryStatistics

    /// Every domain the driver knows, active and inactive, unfiltered and unsorted.
    func listDomains() throws -> [DomainSummary]
    /// One domain by name, uuid or id; `Domain not found: ...` when there is none.
    func lookup(_ key: DomainLookupKey) throws -> DomainSummary
    /// Defines (or redefines, same name and uuid) a persistent domain.
    func define(_ definition: DomainDefinition) throws -> DomainSummary
    /// Removes a persistent definition; a running domain becomes transient.
    func undefine(_ uuid: UUID) throws
    /// The definition, either the persistent one (`live == false`, `dumpxml --inactive`) or the running one with
    /// its live values filled in (pty paths, labels, chosen nodesets). The id is in the summary.
    func definition(_ uuid: UUID, live: Bool) throws -> DomainDefinition
    /// `dominfo` data.
    func info(_ uuid: UUID) throws -> DomainInfo

    func start(_ uuid: UUID, flags: StartFlags) throws
    /// A start that may take over work begun before the connection opened (`DriverFactory.prepareStart`).
    func start(_ uuid: UUID, flags: StartFlags, prepared: (any StartPreparation)?) throws
    func shutdown(_ uuid: UUID) throws
    func destroy(_ uuid: UUID, graceful: Bool) throws
    func reboot(_ uuid: UUID) throws
    func reset(_ uuid: UUID) throws
    func suspend(_ uuid: UUID) throws
    func resume(_ uuid: UUID) throws
    func setAutostart(_ uuid: UUID, _ enabled: Bool) throws

    /// `domleases`: the disk leases a running domain holds (`DomainLeaseInfo.swift` has the default).
    func domainLeases(_ uuid: UUID) throws -> [DomainLeaseInfo]
    /// `leases`: every lease of the host's lock daemon for this URI.
    func hostLeases() throws -> [DomainLeaseInfo]
}

/// How a domain is named on the command line: virsh tries id, then uuid, then name.
public enum DomainLookupKey: Sendable, Equatable, CustomStringConvertible {
    case name(String)
    case uuid(UUID)
    case id(Int)

    public var description: String {
        switch self {
        case .name(let name): name
        case .uuid(let uuid): uuid.uuidString.lowercased()
        case .id(let id): String(id)
        }
    }
}

/// One row of `list`: what is known about a domain without reading its XML.
public struct DomainSummary: Sendable, Equatable {
    /// The running id; nil when inactive (virsh prints `-`).
    public var id: Int?
    public var name: String
    public var uuid: UUID
    public var state: DomainStateReason
    public var persistent: Bool
    public var autostart: Bool
    public var title: String?

    public init(
        id: Int?, name: String, uuid: UUID, state: DomainStateReason, persistent: Bool = true,
        autostart: Bool = false, title: String? = nil
    ) {
        self.id = id
        self.name = name
        self.uuid = uuid
        self.state = state
        self.persistent = persistent
        self.autostart = autostart
        self.title = title
    }
}

/// `dominfo` data beyond the summary.
public struct DomainInfo: Sendable, Equatable {
    public var osType: String
    public var vcpus: Int
    /// CPU time used, ns (0 when inactive).
    public var cpuTimeNs: UInt64
    /// `Max memory:` KiB; nil prints `no limit`.
    public var maxMemoryKiB: UInt64?
    /// `Used memory:` KiB.
    public var memoryKiB: UInt64
    public var managedSave: Bool
    /// The primary security model's block, when the driver has one.
    public var security: SecurityInfo?

    public init(
        osType: String, vcpus: Int, cpuTimeNs: UInt64, maxMemoryKiB: UInt64?, memoryKiB: UInt64,
        managedSave: Bool = false, security: SecurityInfo? = nil
    ) {
        self.osType = osType
        self.vcpus = vcpus
        self.cpuTimeNs = cpuTimeNs
        self.maxMemoryKiB = maxMemoryKiB
        self.memoryKiB = memoryKiB
        self.managedSave = managedSave
        self.security = security
    }

    /// `Security model:`, `Security DOI:`, `Security label:`.
    public struct SecurityInfo: Sendable, Equatable {
        public var model: String
        public var doi: String
        /// The process label; nil when the domain is inactive.
        public var label: String?
        /// Whether the label is enforced (`(enforcing)`) or only recorded.
        public var enforcing: Bool
        /// What `dominfo` prints in parentheses after the label: `enforcing`, `permissive`, or `not enforced`
        /// (a host without the security module: the label is shown, the kernel does not apply it).
        public var enforcement: String
        public init(model: String, doi: String, label: String?, enforcing: Bool, enforcement: String? = nil) {
            self.model = model
            self.doi = doi
            self.label = label
            self.enforcing = enforcing
            self.enforcement = enforcement ?? (enforcing ? "enforcing" : "permissive")
        }
    }
}

/// `nodeinfo`.
public struct NodeInfo: Sendable, Equatable {
    public var model: String
    public var cpus: Int
    public var mhz: Int
    public var nodes: Int
    public var sockets: Int
    public var cores: Int
    public var threads: Int
    public var memoryKiB: UInt64

    public init(
        model: String, cpus: Int, mhz: Int, nodes: Int, sockets: Int, cores: Int, threads: Int, memoryKiB: UInt64
    ) {
        self.model = model
        self.cpus = cpus
        self.mhz = mhz
        self.nodes = nodes
        self.sockets = sockets
        self.cores = cores
        self.threads = threads
        self.memoryKiB = memoryKiB
    }
}

/// `start` options.
public struct StartFlags: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// `--paused`: create the guest but leave its vCPUs stopped.
    public static let paused = StartFlags(rawValue: 1)
    /// `--force-boot`.
    public static let forceBoot = StartFlags(rawValue: 2)
}

/// Builds a `Driver` for the URIs of one scheme (`test`, `kvm`). The executables pass the factories they link.
public protocol DriverFactory: Sendable {
    /// The URI scheme this factory answers (`test`, `kvm`).
    var scheme: String { get }
    /// Opens a driver for `uri`; throws `no connection driver available for ...` or a clear error otherwise.
    func open(_ uri: ConnectionURI) throws -> any Driver
    /// Begins what every start of a domain on `uri` needs before the connection is open and the domain found,
    /// so it overlaps them (the kvm:// driver's supervisor process loads meanwhile). Nil when there is nothing to
    /// begin, and on any failure: the start then does it all itself.
    func prepareStart(_ uri: ConnectionURI) -> (any StartPreparation)?
}

extension DriverFactory {
    public func prepareStart(_ uri: ConnectionURI) -> (any StartPreparation)? { nil }
}

/// Work begun for a start ahead of it (`DriverFactory.prepareStart`), handed to `Connection.start`. A start
/// that uses it takes it over; `cancel` undoes whatever was not taken over, and is harmless after a start.
public protocol StartPreparation: AnyObject {
    func cancel()
}

extension Driver {
    /// Drivers that prepare nothing ignore a preparation.
    public func start(_ uuid: UUID, flags: StartFlags, prepared: (any StartPreparation)?) throws {
        prepared?.cancel()
        try start(uuid, flags: flags)
    }
}
