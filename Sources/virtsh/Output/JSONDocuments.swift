import Foundation
import VirtCore

// The `--json` documents: camelCase keys, units in the key, `null` for absent values (never a missing key).

/// `list --json`.
struct DomainListJSON: Encodable {
    var domains: [Entry]

    struct Entry: Encodable {
        var id: Int?
        var name: String
        var uuid: String
        var state: String
        var reason: String
        var persistent: Bool
        var autostart: Bool
        var title: String?

        init(_ summary: DomainSummary) {
            id = summary.id
            name = summary.name
            uuid = summary.uuid.uuidString.lowercased()
            state = summary.state.state.displayName
            reason = summary.state.displayName
            persistent = summary.persistent
            autostart = summary.autostart
            title = summary.title
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(name, forKey: .name)
            try c.encode(uuid, forKey: .uuid)
            try c.encode(state, forKey: .state)
            try c.encode(reason, forKey: .reason)
            try c.encode(persistent, forKey: .persistent)
            try c.encode(autostart, forKey: .autostart)
            try c.encode(title, forKey: .title)
        }

        enum CodingKeys: String, CodingKey { case id, name, uuid, state, reason, persistent, autostart, title }
    }
}

/// `dominfo --json`.
struct DomainInfoJSON: Encodable {
    var summary: DomainSummary
    var info: DomainInfo

    init(_ summary: DomainSummary, _ info: DomainInfo) {
        self.summary = summary
        self.info = info
    }

    enum CodingKeys: String, CodingKey {
        case id, name, uuid, osType, state, reason, vcpus, cpuTimeNs, maxMemoryKiB, memoryKiB, persistent, autostart
        case managedSave, security
    }

    struct Security: Encodable {
        var model: String
        var doi: String
        var label: String?
        var enforcing: Bool
        var enforcement: String

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(model, forKey: .model)
            try c.encode(doi, forKey: .doi)
            try c.encode(label, forKey: .label)
            try c.encode(enforcing, forKey: .enforcing)
            try c.encode(enforcement, forKey: .enforcement)
        }

        enum CodingKeys: String, CodingKey { case model, doi, label, enforcing, enforcement }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(summary.id, forKey: .id)
        try c.encode(summary.name, forKey: .name)
        try c.encode(summary.uuid.uuidString.lowercased(), forKey: .uuid)
        try c.encode(info.osType, forKey: .osType)
        try c.encode(summary.state.state.displayName, forKey: .state)
        try c.encode(summary.state.displayName, forKey: .reason)
        try c.encode(info.vcpus, forKey: .vcpus)
        try c.encode(info.cpuTimeNs, forKey: .cpuTimeNs)
        try c.encode(info.maxMemoryKiB, forKey: .maxMemoryKiB)
        try c.encode(info.memoryKiB, forKey: .memoryKiB)
        try c.encode(summary.persistent, forKey: .persistent)
        try c.encode(summary.autostart, forKey: .autostart)
        try c.encode(info.managedSave, forKey: .managedSave)
        let security = info.security.map {
            Security(
                model: $0.model, doi: $0.doi, label: $0.label, enforcing: $0.enforcing, enforcement: $0.enforcement)
        }
        try c.encode(security, forKey: .security)
    }
}

/// `domstate --json` (the reason is always included).
struct DomainStateJSON: Encodable {
    var state: String
    var reason: String
}

/// `domblklist --json`.
struct DiskListJSON: Encodable {
    var disks: [Entry]

    struct Entry: Encodable {
        var type: String
        var device: String
        var target: String
        var bus: String?
        var source: String?
        var readonly: Bool

        init(_ disk: Disk) {
            type = disk.type.rawValue
            device = disk.device.rawValue
            target = disk.target
            bus = disk.bus
            source = disk.source
            readonly = disk.readonly
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(type, forKey: .type)
            try c.encode(device, forKey: .device)
            try c.encode(target, forKey: .target)
            try c.encode(bus, forKey: .bus)
            try c.encode(source, forKey: .source)
            try c.encode(readonly, forKey: .readonly)
        }

        enum CodingKeys: String, CodingKey { case type, device, target, bus, source, readonly }
    }
}

/// `nodeinfo --json`.
struct NodeInfoJSON: Encodable {
    var cpuModel: String
    var cpus: Int
    var cpuFrequencyMHz: Int
    var sockets: Int
    var coresPerSocket: Int
    var threadsPerCore: Int
    var numaCells: Int
    var memoryKiB: UInt64

    init(_ info: NodeInfo) {
        cpuModel = info.model
        cpus = info.cpus
        cpuFrequencyMHz = info.mhz
        sockets = info.sockets
        coresPerSocket = info.cores
        threadsPerCore = info.threads
        numaCells = info.nodes
        memoryKiB = info.memoryKiB
    }
}

/// `uri --json`.
struct URIJSON: Encodable {
    var uri: String
}

/// `hostname --json`.
struct HostnameJSON: Encodable {
    var hostname: String
}

/// `version --json`.
struct VersionJSON: Encodable {
    var compiledAgainst: String
    var library: String
    var api: String
    var hypervisor: String
}
