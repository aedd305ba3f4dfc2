import Foundation
import VirtCore

// The `--json` documents of the tuning commands: camelCase keys, units in the key, `null` for absent values.

/// `vcpupin DOMAIN --json` (query form).
struct VCPUPinJSON: Encodable {
    var vcpus: [Entry]

    struct Entry: Encodable {
        var vcpu: Int
        var cpuAffinity: String
    }
}

/// `emulatorpin DOMAIN --json` (query form).
struct EmulatorPinJSON: Encodable {
    var cpuAffinity: String
}

/// `numatune DOMAIN --json` (query form).
struct NUMATuneJSON: Encodable {
    var mode: String?
    var nodeset: String

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(mode, forKey: .mode)
        try c.encode(nodeset, forKey: .nodeset)
    }

    enum CodingKeys: String, CodingKey { case mode, nodeset }
}

/// `schedinfo DOMAIN --json`: the scheduler and its parameters, keyed by libvirt's field names in camelCase with
/// the unit of the CFS values (`vcpuPeriodUs`).
struct SchedulerInfoJSON: Encodable {
    var scheduler: String
    var parameters: [TypedParameter]

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: DynamicKey.self)
        try c.encode(scheduler, forKey: DynamicKey("scheduler"))
        var nested = c.nestedContainer(keyedBy: DynamicKey.self, forKey: DynamicKey("parameters"))
        for parameter in parameters {
            let key = DynamicKey(Self.key(parameter.field))
            switch parameter.value {
            case .int(let v): try nested.encode(v, forKey: key)
            case .uint(let v): try nested.encode(v, forKey: key)
            case .llong(let v): try nested.encode(v, forKey: key)
            case .ullong(let v): try nested.encode(v, forKey: key)
            case .double(let v): try nested.encode(v, forKey: key)
            case .boolean(let v): try nested.encode(v, forKey: key)
            case .string(let v): try nested.encode(v, forKey: key)
            }
        }
    }

    /// `vcpu_quota` → `vcpuQuotaUs`, `cpu_shares` → `cpuShares`.
    static func key(_ field: String) -> String {
        let parts = field.split(separator: "_").map(String.init)
        guard let first = parts.first else { return field }
        var key = first + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
        if field.hasSuffix("_period") || field.hasSuffix("_quota") { key += "Us" }
        return key
    }

    struct DynamicKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

/// `vcpuinfo DOMAIN --json`: run-time facts of a running domain, `null` where an inactive domain has none.
struct VCPUInfoJSON: Encodable {
    var vcpus: [Entry]

    struct Entry: Encodable {
        var vcpu: Int
        var cpu: Int?
        var state: String?
        var cpuTimeNs: UInt64?
        var cpuAffinity: String

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(vcpu, forKey: .vcpu)
            try c.encode(cpu, forKey: .cpu)
            try c.encode(state, forKey: .state)
            try c.encode(cpuTimeNs, forKey: .cpuTimeNs)
            try c.encode(cpuAffinity, forKey: .cpuAffinity)
        }

        enum CodingKeys: String, CodingKey { case vcpu, cpu, state, cpuTimeNs, cpuAffinity }
    }
}

/// `vcpucount DOMAIN --json`: every count virsh would print, `null` for the ones it would leave out.
struct VCPUCountJSON: Encodable {
    var maximumConfig: Int?
    var maximumLive: Int?
    var currentConfig: Int?
    var currentLive: Int?

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(maximumConfig, forKey: .maximumConfig)
        try c.encode(maximumLive, forKey: .maximumLive)
        try c.encode(currentConfig, forKey: .currentConfig)
        try c.encode(currentLive, forKey: .currentLive)
    }

    enum CodingKeys: String, CodingKey { case maximumConfig, maximumLive, currentConfig, currentLive }
}

/// `vcpucount DOMAIN --maximum --json` and the other single counts.
struct VCPUSingleCountJSON: Encodable {
    var count: Int
}
