/// `<os>`: guest type, direct kernel boot and boot order.
public struct OSConfig: Sendable, Equatable {
    /// `<type>` text: `hvm` (also `linux`, `xen`, `exe`).
    public var type: String = "hvm"
    /// `<type arch>`; nil until post-parse fills the host's (or `i686` for the test driver).
    public var arch: String?
    /// `<type machine>`.
    public var machine: String?
    /// `<kernel>`: absolute path.
    public var kernel: String?
    /// `<initrd>`: absolute path.
    public var initrd: String?
    /// `<cmdline>`.
    public var cmdline: String?
    /// `<boot dev>` in priority order; post-parse adds `hd` when there is no kernel and no per-device boot order.
    public var bootDevices: [BootDevice] = []

    public init() {}

    /// `<boot dev='hd|fd|cdrom|network'/>`.
    public enum BootDevice: String, Sendable, CaseIterable { case hd, fd, cdrom, network }
}

/// `<features>`: the platform features we model.
public struct Features: Sendable, Equatable {
    public var acpi = false
    public var apic = false
    public var pae = false
    public init() {}
    /// Whether no feature is set (the element is then not formatted).
    public var isEmpty: Bool { !acpi && !apic && !pae }
}

/// `<clock offset>` with `<timer>` children.
public struct Clock: Sendable, Equatable {
    public var offset: Offset = .utc
    /// `adjustment` (variable), `timezone` (timezone), `basis` (variable).
    public var adjustment: String?
    public var timezone: String?
    public var basis: String?
    public var timers: [Timer] = []
    public init() {}

    public enum Offset: String, Sendable, CaseIterable { case utc, localtime, timezone, variable, absolute }

    /// `<timer name tickpolicy present>`.
    public struct Timer: Sendable, Equatable {
        public var name: String
        public var tickpolicy: String?
        public var present: YesNo?
        public init(name: String, tickpolicy: String? = nil, present: YesNo? = nil) {
            self.name = name
            self.tickpolicy = tickpolicy
            self.present = present
        }
    }
}

/// A top-level `<seclabel>`.
public struct SecurityLabel: Sendable, Equatable {
    public var type: LabelType?
    public var model: String?
    public var relabel: YesNo?
    /// `<label>`: required for static; output-only for dynamic.
    public var label: String?
    /// `<imagelabel>`: output-only.
    public var imageLabel: String?
    /// `<baselabel>`: dynamic only.
    public var baseLabel: String?
    public init(type: LabelType? = nil, model: String? = nil) {
        self.type = type
        self.model = model
    }

    public enum LabelType: String, Sendable, CaseIterable { case dynamic, `static`, none }
}

/// A per-source `<seclabel model relabel>` with an optional `<label>`.
public struct DeviceSecurityLabel: Sendable, Equatable {
    public var model: String?
    public var relabel: YesNo?
    public var label: String?
    public var labelskip: YesNo?
    public init(model: String? = nil, relabel: YesNo? = nil, label: String? = nil) {
        self.model = model
        self.relabel = relabel
        self.label = label
    }
}
