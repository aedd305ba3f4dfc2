import VirtCore

/// One domain of the test driver: libvirt's `virDomainObj` reduced to what the test driver uses.
struct TestDomain {
    /// The running definition while active, else the persistent one.
    var definition: DomainDefinition
    /// The persistent definition to apply at the next stop, when it was redefined while active
    /// (libvirt's `newDef`).
    var pendingDefinition: DomainDefinition?
    var state: DomainStateReason
    /// The id while active.
    var id: Int?
    var persistent: Bool
    var autostart = false

    /// Whether the domain has an id (running, paused).
    var isActive: Bool { id != nil }

    /// The persistent definition (`dumpxml --inactive`).
    var persistentDefinition: DomainDefinition { pendingDefinition ?? definition }

    /// The `list` row.
    var summary: DomainSummary {
        DomainSummary(
            id: id, name: definition.name, uuid: definition.uuid, state: state, persistent: persistent,
            autostart: autostart, title: persistentDefinition.title)
    }
}
