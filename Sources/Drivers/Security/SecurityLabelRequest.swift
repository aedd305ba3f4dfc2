/// What the kvm:// driver asks of the security drivers for one domain, filled from the domain XML's `<seclabel>`
/// elements and disks. Plain values, so this module never imports VirtCore and the supervisor can receive it
/// as JSON.
public struct SecurityLabelRequest: Sendable, Equatable, Codable {
    /// The domain's name, used in messages.
    public var domainName: String
    /// The top-level `<seclabel>` elements, at most one per model.
    public var labels: [SecurityLabelSpec]
    /// Every disk with a source (empty cdroms are left out by the caller).
    public var disks: [DiskLabelSpec]
    /// `<os><kernel>`: labelled like a read-only disk.
    public var kernel: String?
    /// `<os><initrd>`: labelled like a read-only disk.
    public var initrd: String?

    /// A request for `domainName`.
    public init(
        domainName: String, labels: [SecurityLabelSpec] = [], disks: [DiskLabelSpec] = [], kernel: String? = nil,
        initrd: String? = nil
    ) {
        self.domainName = domainName
        self.labels = labels
        self.disks = disks
        self.kernel = kernel
        self.initrd = initrd
    }

    /// The top-level label for `model`; a label without a model applies to the primary model (as in libvirt).
    public func label(for model: String, isPrimary: Bool) -> SecurityLabelSpec? {
        labels.first { $0.model == model } ?? (isPrimary ? labels.first { $0.model == nil } : nil)
    }
}

/// `<seclabel type model relabel>` with `<label>` and `<baselabel>`.
public struct SecurityLabelSpec: Sendable, Equatable, Codable {
    /// `model='selinux'` or `model='dac'`; nil means the primary model.
    public var model: String?
    /// `type=`; nil means the driver's default (`security_default_confined`, or dynamic when a baselabel is set).
    public var type: SecurityLabelType?
    /// `relabel=`; nil means libvirt's default for the type (yes for dynamic, no for static).
    public var relabel: Bool?
    /// `<label>`: required for static labels.
    public var label: String?
    /// `<baselabel>`: dynamic labels only.
    public var baseLabel: String?

    /// A label for `model`.
    public init(
        model: String? = nil, type: SecurityLabelType? = nil, relabel: Bool? = nil, label: String? = nil,
        baseLabel: String? = nil
    ) {
        self.model = model
        self.type = type
        self.relabel = relabel
        self.label = label
        self.baseLabel = baseLabel
    }
}

/// `<seclabel type=...>`.
public enum SecurityLabelType: String, Sendable, Equatable, Codable, CaseIterable {
    case dynamic, `static`, none
}

/// One disk (or kernel/initrd) the hypervisor uses, with its per-device `<seclabel>` elements.
public struct DiskLabelSpec: Sendable, Equatable, Codable {
    /// The source path (file or block device).
    public var path: String
    /// `<readonly/>`.
    public var readonly: Bool
    /// `<shareable/>`.
    public var shareable: Bool
    /// `<source><seclabel model relabel><label/></seclabel></source>`.
    public var labels: [DeviceLabelSpec]

    /// A disk at `path`.
    public init(path: String, readonly: Bool = false, shareable: Bool = false, labels: [DeviceLabelSpec] = []) {
        self.path = path
        self.readonly = readonly
        self.shareable = shareable
        self.labels = labels
    }

    /// The per-device label for `model`. One without a model applies to every model when it only says
    /// `relabel='no'`, and to the primary model alone when it carries a `<label>` (an SELinux context is no
    /// DAC owner).
    public func label(for model: String, isPrimary: Bool) -> DeviceLabelSpec? {
        labels.first { $0.model == model } ?? labels.first { $0.model == nil && (isPrimary || $0.label == nil) }
    }
}

/// A per-device `<seclabel model relabel>` with an optional `<label>`.
public struct DeviceLabelSpec: Sendable, Equatable, Codable {
    /// The model it applies to; nil for every model.
    public var model: String?
    /// `relabel='no'` leaves the file alone for that model.
    public var relabel: Bool?
    /// A label to use instead of the domain's image label.
    public var label: String?

    /// A per-device label.
    public init(model: String? = nil, relabel: Bool? = nil, label: String? = nil) {
        self.model = model
        self.relabel = relabel
        self.label = label
    }
}
