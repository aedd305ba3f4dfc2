import Glibc
import VirtBase

/// The stack of security drivers a kvm:// connection uses: the primary model (`selinux` or `none`) with DAC
/// always underneath, as libvirt stacks them. Built once per connection from `kvm.conf`.
public struct SecurityManager: Sendable {
    /// The primary driver: `selinux` or `none`.
    public let primary: any SecurityDriver
    /// The DAC driver, always present.
    public let dac: DACSecurityDriver
    /// Things the driver should log at start-up (an explicit selinux driver on a host without SELinux).
    public let warnings: [String]
    /// `remember_owner` as in force (off for an unprivileged manager).
    public let rememberOwner: Bool

    /// The drivers in labelling order (primary first, DAC second); restoring runs in reverse.
    public var drivers: [any SecurityDriver] { [primary, dac] }

    /// Builds the stack from `settings`; `selinux` is the libselinux seam (a fake in tests).
    ///
    /// An unprivileged caller (session URIs) can neither write `trusted.*` attributes nor chown other users'
    /// files, and its hypervisor runs as itself: remembering and DAC relabelling are then off, as in libvirt's
    /// session mode.
    public init(
        settings: SecuritySettings, selinux: any SELinuxAPI = SystemSELinux(), bootTime: String? = nil,
        privileged: Bool = geteuid() == 0
    ) throws(VirtError) {
        let boot = bootTime ?? hostBootTime()
        var warnings: [String] = []
        var settings = settings
        if !privileged {
            settings.rememberOwner = false
            settings.dynamicOwnership = false
        }
        switch settings.driver ?? (selinux.isEnabled ? "selinux" : "none") {
        case "selinux":
            if !selinux.isEnabled {
                warnings.append(
                    "security driver selinux: SELinux is disabled on this host, so files are labelled but the "
                        + "hypervisor's process label is not enforced")
            }
            primary = SELinuxSecurityDriver(api: selinux, settings: settings, bootTime: boot)
        default:
            primary = NoneSecurityDriver()
        }
        dac = DACSecurityDriver(identity: try settings.resolveIdentity(), settings: settings, bootTime: boot)
        self.warnings = warnings
        rememberOwner = settings.rememberOwner
    }

    /// Generates every model's label for a start. The caller records `categories` of the result in its store
    /// in the same transaction that read `reserved`, and generates again if the store refuses a duplicate.
    public func generate(
        for request: SecurityLabelRequest, excluding reserved: Set<MCSCategoryPair>
    ) throws(VirtError) -> DomainSecurityLabels {
        var labels: [DomainSecurityLabel] = []
        for driver in drivers {
            labels.append(try driver.generateLabel(for: request, excluding: reserved))
        }
        return DomainSecurityLabels(labels: labels)
    }

    /// Reserves the labels of a domain found running (reconnection); a duplicate pair is an error.
    public func reserve(_ labels: DomainSecurityLabels, in reserved: inout Set<MCSCategoryPair>) throws(VirtError) {
        for driver in drivers {
            guard let label = labels.label(for: driver.model) else { continue }
            try driver.reserveLabel(label, in: &reserved)
        }
    }

    /// Releases the labels of a domain that stopped.
    public func release(_ labels: DomainSecurityLabels, from reserved: inout Set<MCSCategoryPair>) {
        for driver in drivers {
            guard let label = labels.label(for: driver.model) else { continue }
            driver.releaseLabel(label, from: &reserved)
        }
    }

    /// Labels the domain's files for every model; on failure the models done so far are restored.
    public func labelFiles(for request: SecurityLabelRequest, labels: DomainSecurityLabels) throws(VirtError) {
        var done: [(any SecurityDriver, DomainSecurityLabel)] = []
        for driver in drivers {
            guard let label = labels.label(for: driver.model) else { continue }
            do throws(VirtError) {
                try driver.labelFiles(for: request, label: label)
                done.append((driver, label))
            } catch {
                for (undo, undoLabel) in done.reversed() { _ = undo.restoreFiles(for: request, label: undoLabel) }
                throw error
            }
        }
    }

    /// Restores the domain's files for every model (DAC first, then the primary); returns the problems met.
    public func restoreFiles(for request: SecurityLabelRequest, labels: DomainSecurityLabels) -> [VirtError] {
        var problems: [VirtError] = []
        for driver in drivers.reversed() {
            guard let label = labels.label(for: driver.model) else { continue }
            problems += driver.restoreFiles(for: request, label: label)
        }
        return problems
    }

    /// The hypervisor's credentials: exec label, identity, and the bounding-set drop when running as root.
    public func credentials(for labels: DomainSecurityLabels) throws(VirtError) -> HypervisorCredentials {
        var credentials = HypervisorCredentials()
        for driver in drivers {
            guard let label = labels.label(for: driver.model) else { continue }
            try driver.contribute(label, to: &credentials)
        }
        if geteuid() == 0 { credentials.dropBoundingSetThrough = Capabilities.lastCapability() }
        return credentials
    }

    /// The host's `<secmodel>` blocks for `capabilities`: model, DOI and the base label per domain type.
    public var hostSecurityModels: [HostSecurityModel] {
        var models: [HostSecurityModel] = []
        if let selinux = primary as? SELinuxSecurityDriver {
            let domain = selinux.api.virtualDomainContext() ?? SELinuxDefaultContexts.domain
            models.append(
                HostSecurityModel(model: "selinux", doi: SELinuxSecurityDriver.doi, baseLabels: [("kvm", domain)]))
        } else {
            models.append(HostSecurityModel(model: "none", doi: "0", baseLabels: []))
        }
        models.append(
            HostSecurityModel(model: "dac", doi: DACSecurityDriver.doi, baseLabels: [("kvm", dac.identity.description)])
        )
        return models
    }
}

/// Every model's label of one domain, in stacking order: what the store keeps while the domain runs.
public struct DomainSecurityLabels: Sendable, Equatable, Codable {
    /// The labels, primary model first.
    public var labels: [DomainSecurityLabel]

    /// Labels in stacking order.
    public init(labels: [DomainSecurityLabel]) {
        self.labels = labels
    }

    /// The label of `model`.
    public func label(for model: String) -> DomainSecurityLabel? { labels.first { $0.model == model } }

    /// The primary model's label (`dominfo` shows it).
    public var primary: DomainSecurityLabel? { labels.first }

    /// The MCS pair to keep reserved while the domain runs (dynamic SELinux labels only).
    public var categories: MCSCategoryPair? { labels.lazy.compactMap(\.categories).first }
}

/// One `<secmodel>` of the host's capabilities.
public struct HostSecurityModel: Sendable, Equatable {
    /// `selinux`, `dac` or `none`.
    public var model: String
    /// `<doi>`.
    public var doi: String
    /// `<baselabel type='kvm'>...</baselabel>` entries: domain type and label.
    public var baseLabels: [(type: String, label: String)]

    /// A model.
    public init(model: String, doi: String, baseLabels: [(type: String, label: String)]) {
        self.model = model
        self.doi = doi
        self.baseLabels = baseLabels
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.model == rhs.model && lhs.doi == rhs.doi && lhs.baseLabels.elementsEqual(rhs.baseLabels) { $0 == $1 }
    }
}
