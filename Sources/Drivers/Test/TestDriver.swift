import Foundation
import VirtCore

/// libvirt's test driver (`test:///default`) in memory: the predefined running domain `test` and libvirt's
/// state machine, reasons and error messages for every lifecycle call. State lives as long as the
/// connection; nothing is written anywhere.
public final class TestDriver: Driver {
    /// `test:///default`.
    public let uri = "test:///default"
    /// `TEST`.
    public let typeName = "TEST"
    /// `0.0.2`.
    public let hypervisorVersion = TestDefaults.hypervisorVersion

    var domains: [TestDomain]
    /// The next id to hand out: the predefined domain took 1.
    private var nextID = 2

    /// A fresh test host with libvirt's default configuration.
    public init() {
        domains = [
            TestDomain(
                definition: TestDefaults.domain(), state: DomainStateReason(.running, 0), id: 1, persistent: true)
        ]
    }

    // MARK: Host

    /// The machine's host name, as libvirt's test driver reports it.
    public func hostname() throws -> String { try SystemIdentity.hostname() }

    public func capabilitiesXML() throws -> String { TestDefaults.capabilities().xml() }

    public func nodeInfo() throws -> NodeInfo { TestDefaults.nodeInfo }

    // MARK: Queries

    public func listDomains() throws -> [DomainSummary] { domains.map(\.summary) }

    public func lookup(_ key: DomainLookupKey) throws -> DomainSummary { domains[try index(key)].summary }

    func index(_ key: DomainLookupKey) throws -> Int {
        let found: Int? =
            switch key {
            case .name(let name): domains.firstIndex { $0.definition.name == name }
            case .uuid(let uuid): domains.firstIndex { $0.definition.uuid == uuid }
            case .id(let id): domains.firstIndex { $0.id == id }
            }
        guard let found else { throw key.notFoundError }
        return found
    }

    public func definition(_ uuid: UUID, live: Bool) throws -> DomainDefinition {
        let domain = domains[try index(.uuid(uuid))]
        return live && domain.isActive ? domain.definition : domain.persistentDefinition
    }

    /// `dominfo`: libvirt's test driver reports the current time as the CPU time and `linux` as the OS type.
    public func info(_ uuid: UUID) throws -> DomainInfo {
        let domain = domains[try index(.uuid(uuid))]
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let nanoseconds = UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
        return DomainInfo(
            osType: TestDefaults.osType, vcpus: domain.definition.vcpu.currentCount, cpuTimeNs: nanoseconds,
            maxMemoryKiB: domain.definition.memoryKiB, memoryKiB: domain.definition.currentMemoryKiB,
            security: .init(
                model: TestDefaults.securityModel, doi: TestDefaults.securityDOI,
                label: domain.isActive ? TestDefaults.securityLabel : nil, enforcing: true))
    }

    // MARK: Definitions

    @discardableResult
    public func define(_ definition: DomainDefinition) throws -> DomainSummary {
        let holderOfUUID = domains.first { $0.definition.uuid == definition.uuid }
        let holderOfName = domains.first { $0.definition.name == definition.name }
        try DomainConflict.check(
            name: definition.name, uuid: definition.uuid,
            holderOfUUID: holderOfUUID.map { (name: $0.definition.name, uuid: $0.definition.uuid) },
            holderOfName: holderOfName.map { (name: $0.definition.name, uuid: $0.definition.uuid) })
        if let existing = domains.firstIndex(where: { $0.definition.uuid == definition.uuid }) {
            // Same name and uuid: a running domain keeps its live definition until it stops.
            if domains[existing].isActive {
                domains[existing].pendingDefinition = definition
            } else {
                domains[existing].definition = definition
            }
            domains[existing].persistent = true
            return domains[existing].summary
        }
        let domain = TestDomain(definition: definition, state: .shutoffUnknown, id: nil, persistent: true)
        domains.append(domain)
        return domain.summary
    }

    /// Removes an inactive domain; a running one becomes transient and goes away when it stops.
    public func undefine(_ uuid: UUID) throws {
        let position = try index(.uuid(uuid))
        if domains[position].isActive {
            domains[position].persistent = false
            domains[position].pendingDefinition = nil
        } else {
            domains.remove(at: position)
        }
    }

    public func setAutostart(_ uuid: UUID, _ enabled: Bool) throws {
        domains[try index(.uuid(uuid))].autostart = enabled
    }

    // MARK: Lifecycle (libvirt's test driver state machine)

    /// Starts a shut-off domain (`running (booted)`). libvirt's test driver takes no start flags, so
    /// `--paused` and `--force-boot` fail with its message (flag values are libvirt's).
    public func start(_ uuid: UUID, flags: StartFlags) throws {
        let position = try index(.uuid(uuid))
        if !flags.isEmpty {
            let libvirtFlags = (flags.contains(.paused) ? 0x1 : 0) | (flags.contains(.forceBoot) ? 0x10 : 0)
            throw VirtError(
                .usage, .test,
                "unsupported flags (0x\(String(libvirtFlags, radix: 16))) in function testDomainCreateWithFlags")
        }
        guard domains[position].state.state == .shutoff else {
            throw VirtError(.internalError, .test, "Domain '\(domains[position].definition.name)' is already running")
        }
        domains[position].id = nextID
        nextID += 1
        domains[position].state = .booted
    }

    /// Shutdown applies `on_poweroff`: `destroy` and `preserve` stop the domain (`shut off (shutdown)`),
    /// `restart` leaves it running (`booted`).
    public func shutdown(_ uuid: UUID) throws {
        let position = try index(.uuid(uuid))
        guard domains[position].state.state != .shutoff else {
            throw VirtError(.internalError, .test, "domain '\(domains[position].definition.name)' not running")
        }
        applyLifecycleAction(domains[position].definition.onPoweroff, at: position)
    }

    /// Reboot applies `on_reboot` to a running domain, like libvirt's test driver.
    public func reboot(_ uuid: UUID) throws {
        let position = try requireActive(uuid)
        applyLifecycleAction(domains[position].definition.onReboot, at: position)
    }

    /// Reset needs a running domain and changes nothing visible.
    public func reset(_ uuid: UUID) throws {
        _ = try requireActive(uuid)
    }

    public func destroy(_ uuid: UUID, graceful: Bool) throws {
        let position = try requireActive(uuid)
        stop(at: position, reason: .shutoffDestroyed)
    }

    public func suspend(_ uuid: UUID) throws {
        let position = try index(.uuid(uuid))
        let state = domains[position].state.state
        guard state != .shutoff && state != .paused else {
            throw VirtError(.internalError, .test, "domain '\(domains[position].definition.name)' not running")
        }
        domains[position].state = .pausedUser
    }

    public func resume(_ uuid: UUID) throws {
        let position = try index(.uuid(uuid))
        guard domains[position].state.state == .paused else {
            throw VirtError(.internalError, .test, "domain '\(domains[position].definition.name)' not paused")
        }
        domains[position].state = .unpaused
    }

    /// The domain's index, or `Requested operation is not valid: domain is not running`.
    private func requireActive(_ uuid: UUID) throws -> Int {
        let position = try index(.uuid(uuid))
        guard domains[position].isActive else {
            throw VirtError(.operationInvalid, .test, "domain is not running")
        }
        return position
    }

    private func applyLifecycleAction(_ action: LifecycleAction, at position: Int) {
        switch action {
        case .restart, .renameRestart:
            domains[position].state = .booted
        default:
            stop(at: position, reason: .shutoffShutdown)
        }
    }

    /// Stops a domain: the id goes, a pending definition takes effect, a transient domain disappears.
    private func stop(at position: Int, reason: DomainStateReason) {
        guard domains[position].persistent else {
            domains.remove(at: position)
            return
        }
        domains[position].id = nil
        domains[position].state = reason
        if let pending = domains[position].pendingDefinition {
            domains[position].definition = pending
            domains[position].pendingDefinition = nil
        }
    }
}
