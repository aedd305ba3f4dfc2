import Foundation
import VirtCore

/// The `kvm://` driver: definitions, autostart and status in the URI's SQLite store.
///
/// Definitions live in the store; running guests are `virt-kvm` supervisor + hypervisor pairs
/// (`KVMDriver+Lifecycle`), and host data comes from sysfs (`KVMDriver+Host`).
public final class KVMDriver: Driver {
    /// The canonical URI.
    public let uri: String
    /// `KVM`.
    public let typeName = "KVM"
    /// The running kernel's version (`6.1.0`): KVM lives in the kernel.
    public let hypervisorVersion: String
    /// The URI's file locations.
    public let paths: URIPaths
    /// The URI's state store.
    public let store: StateStore
    /// The root the host probes read from: `/`, or a fixture tree (`$SWIFT_VIRT_HOST_ROOT`, tests).
    public let hostRoot: String

    /// Creates the URI's directories (0700 for session and embed trees) and opens its store.
    public init(paths: URIPaths, hostRoot: String? = nil) throws {
        self.paths = paths
        let environmentRoot = getenv("SWIFT_VIRT_HOST_ROOT").map { String(cString: $0) } ?? ""
        self.hostRoot = hostRoot ?? (environmentRoot.isEmpty ? "/" : environmentRoot)
        uri = paths.canonicalURI
        hypervisorVersion = SystemIdentity.numericVersion(of: SystemIdentity.kernelRelease())
        try paths.createDirectories()
        store = try StateStore(path: paths.storePath)
    }

    // MARK: Host

    public func hostname() throws -> String { try SystemIdentity.hostname() }

    public func capabilitiesXML() throws -> String { try hostCapabilities().xml() }

    public func nodeInfo() throws -> VirtCore.NodeInfo { try hostNodeInfo() }

    // MARK: Queries

    /// Every domain, after folding ended ones into the store.
    public func listDomains() throws -> [DomainSummary] {
        try reconcile()
        return try store.listSummaries()
    }

    public func lookup(_ key: DomainLookupKey) throws -> DomainSummary {
        try reconcile()
        return try store.require(key)
    }

    public func definition(_ uuid: UUID, live: Bool) throws -> DomainDefinition {
        let summary = try store.require(.uuid(uuid))
        if live, summary.id != nil, let xml = try store.runtimeStatus(uuid)?.liveXML {
            return try parseStored(xml, name: summary.name, what: "live definition", liveStatus: true)
        }
        return try parseStored(try store.definitionXML(uuid), name: summary.name, what: "definition")
    }

    /// `dominfo`: the OS type, vCPUs and memory of the definition; the hypervisor's CPU time while it runs.
    public func info(_ uuid: UUID) throws -> DomainInfo {
        let summary = try lookup(.uuid(uuid))
        let definition = try definition(uuid, live: summary.id != nil)
        return DomainInfo(
            osType: definition.os.type, vcpus: definition.vcpu.currentCount,
            cpuTimeNs: summary.id != nil ? cpuTimeNanoseconds(uuid) : 0,
            maxMemoryKiB: definition.memoryKiB, memoryKiB: definition.currentMemoryKiB,
            security: try securityInfo(definition, active: summary.id != nil))
    }

    private func parseStored(_ xml: String, name: String, what: String, liveStatus: Bool = false) throws
        -> DomainDefinition
    {
        var options = DomainXMLParseOptions()
        options.liveStatus = liveStatus
        options.sourceName = "\(paths.storePath) (domain '\(name)')"
        do {
            return try DomainXML.parse(xml, options: options).definition
        } catch let error as VirtError {
            throw VirtError(
                .internalError, .kvm,
                "the stored \(what) of domain '\(name)' in '\(paths.storePath)' cannot be read back: "
                    + "\(error.description)")
        }
    }

    // MARK: Definitions

    /// Stores the definition as canonical XML, with name, uuid and title in columns for `list`.
    @discardableResult
    public func define(_ definition: DomainDefinition) throws -> DomainSummary {
        guard definition.type == .kvm else {
            throw VirtError(
                .configUnsupported, .kvm,
                "domain '\(definition.name)' has type '\(definition.type.rawValue)'; the kvm:// driver runs "
                    + "<domain type='kvm'> only")
        }
        return try store.define(
            name: definition.name, uuid: definition.uuid, xml: DomainXML.format(definition),
            title: definition.title)
    }

    public func undefine(_ uuid: UUID) throws { try store.undefine(uuid) }

    public func setAutostart(_ uuid: UUID, _ enabled: Bool) throws { try store.setAutostart(uuid, enabled) }

    // MARK: Lifecycle

    public func start(_ uuid: UUID, flags: StartFlags) throws { try startDomain(uuid, flags: flags, prepared: nil) }
    public func start(_ uuid: UUID, flags: StartFlags, prepared: (any StartPreparation)?) throws {
        let early = prepared as? PrelaunchedSupervisor
        if early == nil { prepared?.cancel() }
        try startDomain(uuid, flags: flags, prepared: early)
    }
    public func shutdown(_ uuid: UUID) throws { try shutdownDomain(uuid) }
    public func destroy(_ uuid: UUID, graceful: Bool) throws { try destroyDomain(uuid) }
    public func reboot(_ uuid: UUID) throws { try rebootDomain(uuid) }
    public func reset(_ uuid: UUID) throws { try resetDomain(uuid) }
    public func suspend(_ uuid: UUID) throws { try suspendDomain(uuid) }
    public func resume(_ uuid: UUID) throws { try resumeDomain(uuid) }
}
