import Foundation
public import VirtBase

/// A domain as libvirt's domain XML describes it: the persistent definition, value types only.
///
/// Parsing (`DomainXMLParser`), post-parse defaults (`DomainPostParse`), validation (`DomainValidator`) and
/// formatting (`DomainXMLFormatter`) are separate steps, as in libvirt's `src/conf`; `DomainXML` runs them.
/// All memory sizes are held in KiB.
public struct DomainDefinition: Sendable, Equatable {
    /// `<domain type=...>`: the hypervisor type (`kvm`, `test`, ...).
    public var type: DomainType
    /// `<name>`: unique per connection.
    public var name: String
    /// `<uuid>`: generated when the document has none.
    public var uuid: UUID
    /// `<title>`: one line, shown by `list --title`.
    public var title: String?
    /// `<description>`: free text.
    public var description: String?
    /// `<metadata>`: each namespaced child element kept verbatim (serialized with its namespace declarations).
    public var metadata: [String]
    /// `<maxMemory slots=...>`: the hot-plug ceiling.
    public var maxMemory: MaxMemory?
    /// `<memory>`: boot-time maximum, KiB.
    public var memoryKiB: UInt64
    /// `<memory dumpCore=...>`.
    public var memoryDumpCore: OnOff?
    /// `<currentMemory>`: balloon target, KiB (defaults to `memoryKiB`).
    public var currentMemoryKiB: UInt64
    /// `<memoryBacking>`.
    public var memoryBacking: MemoryBacking?
    /// `<vcpu>`.
    public var vcpu: VCPUConfig
    /// `<iothreads>`: how many I/O threads.
    public var iothreads: Int?
    /// `<cputune>`.
    public var cputune: CPUTune?
    /// `<numatune>`.
    public var numatune: NUMATune?
    /// `<os>`.
    public var os: OSConfig
    /// `<features>`.
    public var features: Features
    /// `<cpu>`.
    public var cpu: CPUDefinition?
    /// `<clock>`.
    public var clock: Clock
    /// `<on_poweroff>`.
    public var onPoweroff: LifecycleAction
    /// `<on_reboot>`.
    public var onReboot: LifecycleAction
    /// `<on_crash>`.
    public var onCrash: LifecycleAction
    /// `<on_lockfailure>`; nil is libvirt's "default" (not formatted; poweroff at run time).
    public var onLockfailure: LockFailureAction?
    /// `<devices>`.
    public var devices: Devices
    /// Top-level `<seclabel>` elements, one per security model.
    public var seclabels: [SecurityLabel]

    /// A minimal definition with libvirt's post-parse defaults; parsers start from here.
    public init(type: DomainType, name: String, uuid: UUID = UUID(), memoryKiB: UInt64) {
        self.type = type
        self.name = name
        self.uuid = uuid
        self.metadata = []
        self.memoryKiB = memoryKiB
        self.currentMemoryKiB = memoryKiB
        self.vcpu = VCPUConfig(count: 1)
        self.os = OSConfig()
        self.features = Features()
        self.clock = Clock()
        self.onPoweroff = .destroy
        self.onReboot = .restart
        self.onCrash = .destroy
        self.devices = Devices()
        self.seclabels = []
    }
}

/// `<domain type>`: the values libvirt's schema allows.
public enum DomainType: String, Sendable, CaseIterable {
    case qemu, kqemu, kvm, xen, lxc, uml, openvz, test, vmware, hyperv, vbox, phyp, vz, bhyve, hvf
}

/// libvirt's `on`/`off` attribute values.
public enum OnOff: String, Sendable, CaseIterable { case on, off }

/// libvirt's `yes`/`no` attribute values.
public enum YesNo: String, Sendable, CaseIterable {
    case yes, no
    /// The value as a Bool.
    public var bool: Bool { self == .yes }
    /// `yes` for true, `no` for false.
    public init(_ value: Bool) { self = value ? .yes : .no }
}

/// `<maxMemory slots='N' unit=...>`.
public struct MaxMemory: Sendable, Equatable {
    public var slots: Int
    public var kib: UInt64
    public init(slots: Int, kib: UInt64) {
        self.slots = slots
        self.kib = kib
    }
}

/// `<on_poweroff>`, `<on_reboot>`, `<on_crash>` values.
public enum LifecycleAction: String, Sendable, CaseIterable {
    case destroy, restart, preserve
    case renameRestart = "rename-restart"
    /// `on_crash` only.
    case coredumpDestroy = "coredump-destroy"
    /// `on_crash` only.
    case coredumpRestart = "coredump-restart"
}

/// `<on_lockfailure>` values.
public enum LockFailureAction: String, Sendable, CaseIterable {
    case poweroff, restart, pause, ignore
}

/// `<vcpu placement cpuset current>N</vcpu>`.
public struct VCPUConfig: Sendable, Equatable {
    /// The maximum vCPU count (the element's text).
    public var count: Int
    /// vCPUs online at boot; nil means all.
    public var current: Int?
    /// `placement`; nil when the document did not say (libvirt formats `static`).
    public var placement: Placement?
    /// Default pinning for vCPUs without `<vcpupin>` and for the emulator.
    public var cpuset: CPUSet?

    public init(count: Int, current: Int? = nil, placement: Placement? = nil, cpuset: CPUSet? = nil) {
        self.count = count
        self.current = current
        self.placement = placement
        self.cpuset = cpuset
    }

    /// vCPUs online at boot.
    public var currentCount: Int { current ?? count }
}

/// `placement='static|auto'`.
public enum Placement: String, Sendable, CaseIterable { case `static`, auto }
