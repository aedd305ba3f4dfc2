import Foundation

/// An open connection to one driver (libvirt's `virConnect`): the API `virtsh` and other tools use.
///
/// It resolves names the way virsh does, keeps read-only connections from changing anything, and turns
/// definitions into XML and back. It is used from one thread at a time.
public final class Connection {
    /// The driver behind this connection.
    public let driver: any Driver
    /// Whether the connection was opened read-only (`virtsh -r`).
    public let readOnly: Bool

    /// The canonical URI of the connection.
    public var uri: String { driver.uri }

    /// Opens `uri` with the first factory whose scheme matches.
    public static func open(_ uri: String, factories: [any DriverFactory], readOnly: Bool = false) throws -> Connection {
        let parsed = try ConnectionURI(parsing: uri)
        guard let factory = factories.first(where: { $0.scheme == parsed.scheme }) else {
            let known = factories.map { "\($0.scheme):///" }.joined(separator: ", ")
            throw VirtError(.noConnect, .connection, "\(uri) (this build knows \(known))")
        }
        if let transport = parsed.transport {
            throw VirtError(
                .noConnect, .connection,
                "\(uri): remote transport '\(transport)' is not supported; swift-virt's drivers run in the calling "
                    + "process, so connect on the host itself")
        }
        return Connection(driver: try factory.open(parsed), readOnly: readOnly)
    }

    public init(driver: any Driver, readOnly: Bool = false) {
        self.driver = driver
        self.readOnly = readOnly
    }

    func requireWritable(_ api: String) throws {
        if readOnly { throw VirtError(.operationDenied, .connection, "read only access prevents \(api)") }
    }

    // MARK: Queries

    /// Domains matching `filter`, ordered as `virsh list` orders them: running ones by id, then the
    /// inactive ones by case-insensitive name.
    public func listDomains(_ filter: DomainListFilter = .all) throws -> [DomainSummary] {
        let all = try driver.listDomains().filter(filter.matches)
        let active = all.filter { $0.id != nil }.sorted { ($0.id ?? 0) < ($1.id ?? 0) }
        let inactive = all.filter { $0.id == nil }.sorted {
            let a = $0.name.lowercased()
            let b = $1.name.lowercased()
            return a == b ? $0.name < $1.name : a < b
        }
        return active + inactive
    }

    /// Finds a domain the way virsh does for a `<domain>` argument: as an id when it is a number, then as a
    /// uuid, then as a name. Fails with `failed to get domain 'X'`.
    public func lookup(_ text: String) throws -> DomainSummary {
        if let id = Int(text), id >= 0, let found = try? driver.lookup(.id(id)) { return found }
        if let uuid = UUID(uuidString: text), let found = try? driver.lookup(.uuid(uuid)) { return found }
        if let found = try? driver.lookup(.name(text)) { return found }
        throw VirtError(.noDomain, .domain, "no domain with matching name, uuid or id '\(text)'")
    }

    /// Refreshes one domain's summary.
    public func summary(_ uuid: UUID) throws -> DomainSummary { try driver.lookup(.uuid(uuid)) }

    /// `dumpxml`: the live XML of a running domain, else (or with `inactive`) the persistent definition.
    public func domainXML(_ uuid: UUID, inactive: Bool = false, securityInfo: Bool = false) throws -> String {
        let summary = try driver.lookup(.uuid(uuid))
        let live = !inactive && summary.id != nil
        let definition = try driver.definition(uuid, live: live)
        return DomainXML.format(
            definition, options: DomainXMLFormatOptions(id: live ? summary.id : nil, securityInfo: securityInfo))
    }

    /// The definition (persistent, or live when running and `live` is set).
    public func definition(_ uuid: UUID, live: Bool) throws -> DomainDefinition {
        try driver.definition(uuid, live: live)
    }

    /// `dominfo` data.
    public func info(_ uuid: UUID) throws -> DomainInfo { try driver.info(uuid) }

    /// `nodeinfo`.
    public func nodeInfo() throws -> NodeInfo { try driver.nodeInfo() }
    /// `capabilities`.
    public func capabilitiesXML() throws -> String { try driver.capabilitiesXML() }
    /// `hostname`.
    public func hostname() throws -> String { try driver.hostname() }

    // MARK: Changes

    /// `define`: parses, validates and stores a definition; returns it with what a lax parse dropped.
    @discardableResult
    public func defineXML(_ xml: String, options: DomainXMLParseOptions = .init()) throws -> (
        domain: DomainSummary, dropped: [String]
    ) {
        try requireWritable("virDomainDefineXML")
        let parsed = try DomainXML.parse(xml, options: options)
        return (try driver.define(parsed.definition.removingLiveValues()), parsed.dropped)
    }

    public func undefine(_ uuid: UUID) throws {
        try requireWritable("virDomainUndefine")
        try driver.undefine(uuid)
    }

    public func start(_ uuid: UUID, flags: StartFlags = [], prepared: (any StartPreparation)? = nil) throws {
        try requireWritable("virDomainCreate")
        try driver.start(uuid, flags: flags, prepared: prepared)
    }

    /// Begins, before `open`, what a start of a domain on `uri` needs (`DriverFactory.prepareStart`); nil when the
    /// URI's driver prepares nothing or the URI is not one `open` would take.
    public static func prepareStart(_ uri: String, factories: [any DriverFactory]) -> (any StartPreparation)? {
        guard let parsed = try? ConnectionURI(parsing: uri), parsed.transport == nil,
            let factory = factories.first(where: { $0.scheme == parsed.scheme })
        else { return nil }
        return factory.prepareStart(parsed)
    }

    public func shutdown(_ uuid: UUID) throws {
        try requireWritable("virDomainShutdown")
        try driver.shutdown(uuid)
    }

    public func destroy(_ uuid: UUID, graceful: Bool = false) throws {
        try requireWritable("virDomainDestroy")
        try driver.destroy(uuid, graceful: graceful)
    }

    public func reboot(_ uuid: UUID) throws {
        try requireWritable("virDomainReboot")
        try driver.reboot(uuid)
    }

    public func reset(_ uuid: UUID) throws {
        try requireWritable("virDomainReset")
        try driver.reset(uuid)
    }

    public func suspend(_ uuid: UUID) throws {
        try requireWritable("virDomainSuspend")
        try driver.suspend(uuid)
    }

    public func resume(_ uuid: UUID) throws {
        try requireWritable("virDomainResume")
        try driver.resume(uuid)
    }

    public func setAutostart(_ uuid: UUID, _ enabled: Bool) throws {
        try requireWritable("virDomainSetAutostart")
        try driver.setAutostart(uuid, enabled)
    }
}

/// `list` filters, as virsh's options: which states, persistence and autostart to show.
public struct DomainListFilter: Sendable {
    /// `list` with no options: running and paused (every active domain).
    public static let active = DomainListFilter(active: true, inactive: false)
    /// `list --all`.
    public static let all = DomainListFilter(active: true, inactive: true)
    /// `list --inactive`.
    public static let inactive = DomainListFilter(active: false, inactive: true)

    public var active: Bool
    public var inactive: Bool
    /// `--state-running`, `--state-paused`, `--state-shutoff`, `--state-other`: when any is set, only those (and
    /// still only active or inactive ones as `active`/`inactive` say: virsh lifts its default "active only" for a
    /// state filter, so callers pass `.all` then, but an explicit `--inactive` keeps applying).
    public var states: Set<StateGroup> = []
    /// `--autostart` (true) / `--no-autostart` (false).
    public var autostart: Bool?
    /// `--persistent` (true) / `--transient` (false).
    public var persistent: Bool?

    public init(active: Bool, inactive: Bool) {
        self.active = active
        self.inactive = inactive
    }

    /// virsh's `--state-*` groups.
    public enum StateGroup: Sendable, Hashable { case running, paused, shutoff, other }

    /// Whether `domain` passes the filter.
    public func matches(_ domain: DomainSummary) -> Bool {
        let isActive = domain.id != nil
        if !states.isEmpty {
            let group: StateGroup =
                switch domain.state.state {
                case .running: .running
                case .paused: .paused
                case .shutoff: .shutoff
                default: .other
                }
            if !states.contains(group) { return false }
        }
        if !(isActive ? active : inactive) { return false }
        if let autostart, domain.autostart != autostart { return false }
        if let persistent, domain.persistent != persistent { return false }
        return true
    }
}
