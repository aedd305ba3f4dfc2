import Foundation
public import VirtBase

/// Which definition a tuning call reads or changes: libvirt's `VIR_DOMAIN_AFFECT_*` flags. The empty set is
/// `VIR_DOMAIN_AFFECT_CURRENT`: the live definition of a running domain, else the persistent one.
public struct DomainAffect: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// `VIR_DOMAIN_AFFECT_LIVE`: the running domain.
    public static let live = DomainAffect(rawValue: 1)
    /// `VIR_DOMAIN_AFFECT_CONFIG`: the persistent definition (the next boot).
    public static let config = DomainAffect(rawValue: 2)
    /// `VIR_DOMAIN_AFFECT_CURRENT`.
    public static let current: DomainAffect = []

    /// The definitions these flags choose for a domain (libvirt's `virDomainObjGetDefs`): none given means the live
    /// one of a running domain, else the persistent one. Refuses the live one of an inactive domain and the
    /// persistent one of a transient domain, with libvirt's messages; errors carry `domain`.
    public func resolved(active: Bool, persistent: Bool, domain: VirtError.Domain) throws(VirtError) -> DomainAffect {
        var affect = self
        if affect.isEmpty { affect = active ? .live : .config }
        if affect.contains(.live) && !active { throw VirtError(.operationInvalid, domain, "domain is not running") }
        if affect.contains(.config) && !persistent {
            throw VirtError(.operationInvalid, domain, "transient domains do not have any persistent config")
        }
        return affect
    }

    /// The one definition these flags choose (`virDomainObjGetOneDef`): both at once is libvirt's usage error.
    public func resolvedOne(active: Bool, persistent: Bool, domain: VirtError.Domain) throws(VirtError)
        -> DomainAffect
    {
        let affect = try resolved(active: active, persistent: persistent, domain: domain)
        if affect.contains(.live) && affect.contains(.config) {
            throw VirtError(
                .usage, domain, "Flags 'VIR_DOMAIN_AFFECT_LIVE' and 'VIR_DOMAIN_AFFECT_CONFIG' are mutually exclusive")
        }
        return affect
    }
}

/// `virDomainGetVcpusFlags` flags: which count (`VIR_DOMAIN_VCPU_MAXIMUM`, `_GUEST`) of which definition.
public struct VCPUCountFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let live = VCPUCountFlags(rawValue: 1)
    public static let config = VCPUCountFlags(rawValue: 2)
    /// The maximum rather than the current count.
    public static let maximum = VCPUCountFlags(rawValue: 4)
    /// The count the guest agent reports.
    public static let guest = VCPUCountFlags(rawValue: 8)
}

/// One value of libvirt's typed parameter lists (`virTypedParameter`), as `schedinfo` reads and sets them.
public struct TypedParameter: Sendable, Equatable {
    /// The typed value.
    public enum Value: Sendable, Equatable {
        case int(Int32)
        case uint(UInt32)
        case llong(Int64)
        case ullong(UInt64)
        case double(Double)
        case boolean(Bool)
        case string(String)

        /// libvirt's name of the type (`uint`, `ullong`).
        public var typeName: String {
            switch self {
            case .int: "int"
            case .uint: "uint"
            case .llong: "llong"
            case .ullong: "ullong"
            case .double: "double"
            case .boolean: "boolean"
            case .string: "string"
            }
        }
    }

    /// The field name (`cpu_shares`, `vcpu_quota`).
    public var field: String
    public var value: Value

    public init(_ field: String, _ value: Value) {
        self.field = field
        self.value = value
    }

    /// The value as virsh prints it (`vshGetTypedParamValue`).
    public var text: String {
        switch value {
        case .int(let v): String(v)
        case .uint(let v): String(v)
        case .llong(let v): String(v)
        case .ullong(let v): String(v)
        case .double(let v): String(format: "%f", v)
        case .boolean(let v): v ? "yes" : "no"
        case .string(let v): v
        }
    }

    /// libvirt's `virTypedParamsValidate`: every field known, once, of the type `allowed` gives it.
    public static func validate(_ parameters: [TypedParameter], allowed: [TypedParameter]) throws(VirtError) {
        var seen: Set<String> = []
        for parameter in parameters {
            guard let expected = allowed.first(where: { $0.field == parameter.field }) else {
                throw VirtError(.invalidArgument, .domain, "parameter '\(parameter.field)' not supported")
            }
            guard seen.insert(parameter.field).inserted else {
                throw VirtError(.invalidArgument, .domain, "parameter '\(parameter.field)' occurs multiple times")
            }
            guard parameter.value.typeName == expected.value.typeName else {
                throw VirtError(
                    .invalidArgument, .domain,
                    "invalid type '\(parameter.value.typeName)' for parameter '\(parameter.field)', expected "
                        + "'\(expected.value.typeName)'")
            }
        }
    }

    /// A parameter of the same type as `template`, parsed from `text` as `virTypedParamsAddFromString` does; fails
    /// with libvirt's `Invalid value for field '…': expected …`.
    public static func parse(_ text: String, like template: TypedParameter) throws(VirtError) -> TypedParameter {
        func invalid(_ expected: String) -> VirtError {
            VirtError(.invalidArgument, .domain, "Invalid value for field '\(template.field)': expected \(expected)")
        }
        switch template.value {
        case .int:
            guard let v = CNumber.signed(text), let narrow = Int32(exactly: v) else { throw invalid("int") }
            return TypedParameter(template.field, .int(narrow))
        case .uint:
            guard let v = CNumber.unsigned(text, bits: 32) else { throw invalid("unsigned int") }
            return TypedParameter(template.field, .uint(UInt32(v)))
        case .llong:
            guard let v = CNumber.signed(text) else { throw invalid("long long") }
            return TypedParameter(template.field, .llong(v))
        case .ullong:
            guard let v = CNumber.unsigned(text, bits: 64) else { throw invalid("unsigned long long") }
            return TypedParameter(template.field, .ullong(v))
        case .double:
            guard let v = Double(text) else { throw invalid("double") }
            return TypedParameter(template.field, .double(v))
        case .boolean:
            switch text.lowercased() {
            case "1", "yes", "true": return TypedParameter(template.field, .boolean(true))
            case "0", "no", "false": return TypedParameter(template.field, .boolean(false))
            default: throw invalid("boolean")
            }
        case .string:
            return TypedParameter(template.field, .string(text))
        }
    }
}

/// libvirt's number parsing (`virStrToLong_*`: C's `strtol`/`strtoul` in base 10 on the whole string); the
/// unsigned forms accept a leading `-` and wrap, as `strtoul` does.
enum CNumber {
    static func signed(_ text: String) -> Int64? {
        let (negative, digits) = split(text)
        guard let digits, let magnitude = UInt64(digits) else { return nil }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        return Int64(exactly: magnitude)
    }

    static func unsigned(_ text: String, bits: Int) -> UInt64? {
        let (negative, digits) = split(text)
        guard let digits, let magnitude = UInt64(digits) else { return nil }
        let limit: UInt64 = bits == 64 ? .max : (1 << UInt64(bits)) - 1
        if negative {
            // strtoul negates in unsigned long ("-1" is the largest value); for an unsigned int libvirt accepts a
            // negation that fits and keeps its low 32 bits.
            let wrapped = 0 &- magnitude
            if bits == 64 { return wrapped }
            return magnitude <= limit ? wrapped & limit : nil
        }
        return magnitude <= limit ? magnitude : nil
    }

    private static func split(_ text: String) -> (Bool, String?) {
        var rest = Substring(text)
        while let first = rest.first, first == " " || first == "\t" || first == "\n" { rest = rest.dropFirst() }
        var negative = false
        if let sign = rest.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            rest = rest.dropFirst()
        }
        guard !rest.isEmpty, rest.allSatisfy({ $0.isASCII && $0.isNumber }) else { return (negative, nil) }
        return (negative, String(rest))
    }
}

/// One vCPU of a running domain (`virVcpuInfo` with its CPU map).
public struct VCPURuntimeInfo: Sendable, Equatable {
    /// `VIR_VCPU_*` states.
    public enum State: Int, Sendable {
        case offline = 0, running = 1, blocked = 2
        /// virsh's word.
        public var name: String {
            switch self {
            case .offline: "offline"
            case .running: "running"
            case .blocked: "blocked"
            }
        }
    }

    public var number: Int
    public var state: State
    /// CPU time used, ns (0: unknown, virsh then prints no line).
    public var cpuTimeNs: UInt64
    /// The host CPU it last ran on.
    public var cpu: Int
    /// The host CPUs it may run on.
    public var affinity: CPUSet

    public init(number: Int, state: State, cpuTimeNs: UInt64, cpu: Int, affinity: CPUSet) {
        self.number = number
        self.state = state
        self.cpuTimeNs = cpuTimeNs
        self.cpu = cpu
        self.affinity = affinity
    }
}

/// `numatune` values: libvirt's `virDomainNumatuneMemMode` number and the nodeset as text.
public struct NUMATuneParameters: Sendable, Equatable {
    /// `VIR_DOMAIN_NUMATUNE_MEM_*`: strict 0, preferred 1, interleave 2, restrictive 3.
    public var mode: Int?
    /// The nodeset as given (`0-1`), parsed by the driver.
    public var nodeset: String?

    public init(mode: Int? = nil, nodeset: String? = nil) {
        self.mode = mode
        self.nodeset = nodeset
    }

    /// The mode's name for a libvirt mode number, nil for a number libvirt does not know.
    public static func modeName(_ mode: Int) -> String? {
        mode >= 0 && mode < modes.count ? modes[mode].rawValue : nil
    }

    /// The number of a mode, in libvirt's order.
    public static func modeNumber(_ mode: NUMATune.Mode) -> Int { modes.firstIndex(of: mode) ?? 0 }

    /// libvirt's order of `virDomainNumatuneMemMode`.
    public static let modes: [NUMATune.Mode] = [.strict, .preferred, .interleave, .restrictive]

    /// The mode and nodeset asked for, checked as libvirt does; errors carry the driver's `domain`.
    public func parsed(for domain: VirtError.Domain) throws -> (mode: NUMATune.Mode?, nodeset: CPUSet?) {
        var parsedMode: NUMATune.Mode?
        if let number = mode {
            guard let name = Self.modeName(number), let known = NUMATune.Mode(rawValue: name) else {
                throw VirtError(.invalidArgument, domain, "unsupported numatune mode: '\(number)'")
            }
            parsedMode = known
        }
        var parsedNodes: CPUSet?
        if let text = nodeset {
            let nodes = try CPUSet.parsingBitmap(text, size: CPUSet.defaultLimit)
            if nodes.isEmpty { throw VirtError(.operationInvalid, domain, "Invalid nodeset of 'numatune': \(text)") }
            parsedNodes = nodes
        }
        return (parsedMode, parsedNodes)
    }
}

/// The live tuning calls of libvirt's API a driver implements: vCPU and emulator pinning, NUMA memory tuning,
/// scheduler (cgroup CPU) parameters and vCPU facts. Each mirrors one libvirt call; `flags` nil stands for the
/// call without flags (`virDomainPinVcpu` rather than `virDomainPinVcpuFlags`), which some drivers treat
/// differently. A driver without these calls makes `Connection` answer libvirt's "not supported" error.
public protocol TuningDriver: Driver {
    /// `virDomainGetVcpuPinInfo`: the host CPUs of each vCPU of the chosen definition, one entry per vCPU up to
    /// its maximum count.
    func vcpuPinInfo(_ uuid: UUID, flags: DomainAffect) throws -> [CPUSet]
    /// `virDomainPinVcpu` (nil flags) / `virDomainPinVcpuFlags`.
    func pinVCPU(_ uuid: UUID, vcpu: Int, cpus: CPUSet, flags: DomainAffect?) throws
    /// `virDomainGetEmulatorPinInfo`.
    func emulatorPinInfo(_ uuid: UUID, flags: DomainAffect) throws -> CPUSet
    /// `virDomainPinEmulator`.
    func pinEmulator(_ uuid: UUID, cpus: CPUSet, flags: DomainAffect) throws
    /// `virDomainGetNumaParameters`: mode number and nodeset text.
    func numaParameters(_ uuid: UUID, flags: DomainAffect) throws -> (mode: Int, nodeset: String)
    /// `virDomainSetNumaParameters`.
    func setNumaParameters(_ uuid: UUID, _ parameters: NUMATuneParameters, flags: DomainAffect) throws
    /// `virDomainGetSchedulerType`: the scheduler's name and how many parameters it has.
    func schedulerType(_ uuid: UUID) throws -> (name: String, parameters: Int)
    /// `virDomainGetSchedulerParameters` (nil flags) / `…Flags`.
    func schedulerParameters(_ uuid: UUID, flags: DomainAffect?) throws -> [TypedParameter]
    /// `virDomainSetSchedulerParameters` (nil flags) / `…Flags`.
    func setSchedulerParameters(_ uuid: UUID, _ parameters: [TypedParameter], flags: DomainAffect?) throws
    /// `virDomainGetVcpus`: the running domain's vCPUs.
    func vcpuInfo(_ uuid: UUID) throws -> [VCPURuntimeInfo]
    /// `virDomainGetVcpusFlags`.
    func vcpuCount(_ uuid: UUID, flags: VCPUCountFlags) throws -> Int
}
