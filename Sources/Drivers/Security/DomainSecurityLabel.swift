/// The label one security driver gave a domain: what the live XML shows (`<label>`, `<imagelabel>`), what
/// `dominfo` prints, and the categories the caller keeps reserved in its store while the domain runs.
public struct DomainSecurityLabel: Sendable, Equatable, Codable {
    /// `selinux`, `dac` or `none`.
    public var model: String
    /// The domain of interpretation `dominfo` prints (`0` for SELinux and DAC, empty for none).
    public var doi: String
    /// The resolved label type.
    public var type: SecurityLabelType
    /// Whether the domain's files are relabelled.
    public var relabel: Bool
    /// The process label (`system_u:system_r:svirt_t:s0:c1,c2`, or `+107:+107` for DAC); nil for type none.
    public var label: String?
    /// The label its image files get (`system_u:object_r:svirt_image_t:s0:c1,c2`, or `+107:+107`).
    public var imageLabel: String?
    /// The `<baselabel>` the label was built from, when one was given.
    public var baseLabel: String?
    /// The MCS categories of a dynamic SELinux label: reserved by the caller while the domain runs.
    public var categories: MCSCategoryPair?
    /// Whether the process label is in force on this host.
    public var enforcement: LabelEnforcement

    /// A label as a driver generated it.
    public init(
        model: String, doi: String, type: SecurityLabelType, relabel: Bool, label: String?, imageLabel: String?,
        baseLabel: String? = nil, categories: MCSCategoryPair? = nil, enforcement: LabelEnforcement
    ) {
        self.model = model
        self.doi = doi
        self.type = type
        self.relabel = relabel
        self.label = label
        self.imageLabel = imageLabel
        self.baseLabel = baseLabel
        self.categories = categories
        self.enforcement = enforcement
    }

    /// `dominfo`'s `Security label:` value: `label (enforcing)`, `(permissive)` or `(not enforced)`.
    public var dominfoLabel: String {
        "\(label ?? "") (\(enforcement.rawValue))"
    }
}

/// Whether a process label takes effect: `dominfo` prints it in parentheses after the label.
public enum LabelEnforcement: String, Sendable, Equatable, Codable {
    /// SELinux enabled and enforcing (DAC is always enforcing).
    case enforcing
    /// SELinux enabled but permissive: denials are only logged.
    case permissive
    /// SELinux disabled on the host: files are labelled, the process label is not applied.
    case notEnforced = "not enforced"
}
