import Glibc
import VirtBase

/// sVirt with SELinux: a dynamic MCS label per domain (`svirt_t:s0:cA,cB`), its images labelled
/// `svirt_image_t:s0:cA,cB`, shared disks `svirt_image_t:s0`, read-only disks, kernel and initrd `virt_content_t:s0`.
public struct SELinuxSecurityDriver: SecurityDriver {
    /// The libselinux seam.
    public let api: any SELinuxAPI
    /// Draws the categories of dynamic labels.
    public let allocator: SELinuxLabelAllocator
    /// `security_default_confined`.
    public let defaultConfined: Bool
    /// `security_require_confined`.
    public let requireConfined: Bool
    /// Whether this is the primary model (labels without `model=` are its).
    public let isPrimary: Bool
    let relabeler: FileRelabeler

    /// The driver over `api`; `remember` is `remember_owner`.
    public init(
        api: any SELinuxAPI, settings: SecuritySettings, isPrimary: Bool = true, bootTime: String? = nil
    ) {
        self.api = api
        allocator = SELinuxLabelAllocator(range: settings.mcsRange)
        defaultConfined = settings.defaultConfined
        requireConfined = settings.requireConfined
        self.isPrimary = isPrimary
        relabeler = FileRelabeler(
            remembered: RememberedLabels(
                access: SELinuxFileAccess(api: api), bootTime: bootTime ?? hostBootTime(),
                remember: settings.rememberOwner))
    }

    public var model: String { "selinux" }

    /// The DOI libvirt reports for SELinux.
    static let doi = "0"

    public func generateLabel(
        for request: SecurityLabelRequest, excluding reserved: Set<MCSCategoryPair>
    ) throws(VirtError) -> DomainSecurityLabel {
        let spec = request.label(for: model, isPrimary: isPrimary)
        let type = try SecurityLabelRules.resolveType(
            spec, defaultConfined: defaultConfined, requireConfined: requireConfined, domain: request.domainName)
        let relabel = type != .none && (spec?.relabel ?? (type == .dynamic))
        switch type {
        case .none:
            return DomainSecurityLabel(
                model: model, doi: Self.doi, type: .none, relabel: false, label: nil, imageLabel: nil,
                enforcement: api.enforcement)
        case .static:
            let label = try SELinuxContext(parsing: spec?.label ?? "")
            let image = try imageContext().with(range: label.range)
            return DomainSecurityLabel(
                model: model, doi: Self.doi, type: .static, relabel: relabel, label: label.description,
                imageLabel: image.description, categories: nil, enforcement: api.enforcement)
        case .dynamic:
            let pair = try allocator.allocate(excluding: reserved)
            let base = try SELinuxContext(
                parsing: spec?.baseLabel ?? api.virtualDomainContext() ?? SELinuxDefaultContexts.domain)
            var process = base.with(range: pair.level)
            var image = try imageContext().with(range: pair.level)
            // As libvirt: the process takes our own user and role, images our user, when SELinux can tell them.
            if let ours = api.currentContext().flatMap({ try? SELinuxContext(parsing: $0) }) {
                process.user = ours.user
                process.role = ours.role
                image.user = ours.user
            }
            return DomainSecurityLabel(
                model: model, doi: Self.doi, type: .dynamic, relabel: true, label: process.description,
                imageLabel: image.description, baseLabel: spec?.baseLabel, categories: pair,
                enforcement: api.enforcement)
        }
    }

    public func reserveLabel(_ label: DomainSecurityLabel, in reserved: inout Set<MCSCategoryPair>) throws(VirtError) {
        guard label.type == .dynamic, let pair = label.categories ?? label.label.flatMap(MCSCategoryPair.init(parsing:))
        else { return }
        guard reserved.insert(pair).inserted else {
            throw VirtError(
                .operationInvalid, .security,
                "MCS level for existing domain label \(label.label ?? pair.level) already reserved")
        }
    }

    public func releaseLabel(_ label: DomainSecurityLabel, from reserved: inout Set<MCSCategoryPair>) {
        guard label.type == .dynamic, let pair = label.categories ?? label.label.flatMap(MCSCategoryPair.init(parsing:))
        else { return }
        reserved.remove(pair)
    }

    public func fileLabelPlan(
        for request: SecurityLabelRequest, label: DomainSecurityLabel
    ) throws(VirtError) -> [FileLabelAction] {
        guard label.relabel, label.type != .none, let imageLabel = label.imageLabel else { return [] }
        let image = try SELinuxContext(parsing: imageLabel)
        // Shared images keep the bare sensitivity (no categories); read-only content uses the content type.
        let shared = image.with(range: Self.sensitivity(of: image.range))
        var content = try contentContext().with(range: shared.range)
        content.user = image.user
        var actions: [FileLabelAction] = []
        for disk in request.disks {
            let device = disk.label(for: model, isPrimary: isPrimary)
            if device?.relabel == false { continue }
            if let own = device?.label {
                actions.append(FileLabelAction(path: disk.path, label: try SELinuxContext(parsing: own).description))
            } else if disk.shareable {
                actions.append(FileLabelAction(path: disk.path, label: shared.description))
            } else if disk.readonly {
                actions.append(FileLabelAction(path: disk.path, label: content.description))
            } else {
                actions.append(FileLabelAction(path: disk.path, label: image.description))
            }
        }
        for path in [request.kernel, request.initrd].compactMap({ $0 }) {
            actions.append(FileLabelAction(path: path, label: content.description))
        }
        return actions
    }

    public func labelFiles(for request: SecurityLabelRequest, label: DomainSecurityLabel) throws(VirtError) {
        try relabeler.apply(try fileLabelPlan(for: request, label: label))
    }

    public func restoreFiles(for request: SecurityLabelRequest, label: DomainSecurityLabel) -> [VirtError] {
        do {
            return relabeler.undo(try fileLabelPlan(for: request, label: label))
        } catch {
            return [error]
        }
    }

    public func contribute(_ label: DomainSecurityLabel, to credentials: inout HypervisorCredentials) {
        // On a host without SELinux the label is shown but cannot be applied (writing it fails with EINVAL).
        guard label.type != .none, let processLabel = label.label, label.enforcement != .notEnforced else { return }
        credentials.execLabel = processLabel
        credentials.execLabelPath = api.execLabelPath
        credentials.execLabelRequired = label.enforcement == .enforcing
    }

    /// The reference count the remembered-label store holds for `path` (0: not in use).
    public func referenceCount(_ path: String) throws(VirtError) -> Int {
        try relabeler.remembered.referenceCount(path)
    }

    private func imageContext() throws(VirtError) -> SELinuxContext {
        try SELinuxContext(parsing: api.virtualImageContexts()?.image ?? SELinuxDefaultContexts.image)
    }

    private func contentContext() throws(VirtError) -> SELinuxContext {
        try SELinuxContext(parsing: api.virtualImageContexts()?.content ?? SELinuxDefaultContexts.content)
    }

    /// `s0` from `s0:c1,c2` or `s0-s0:c0.c1023`.
    static func sensitivity(of range: String) -> String {
        String(range.prefix { $0 != ":" && $0 != "-" })
    }
}

/// SELinux file labels through the seam.
struct SELinuxFileAccess: FileLabelAccess {
    let api: any SELinuxAPI
    var model: String { "selinux" }
    func read(_ path: String) throws(VirtError) -> String? { try api.fileLabel(path) }
    func write(_ path: String, _ label: String) throws(VirtError) { try api.setFileLabel(path, label) }
    func clear(_ path: String) throws(VirtError) { try api.removeFileLabel(path) }
    func fallbackRestoreLabel(_ path: String) -> String? {
        var info = stat()
        let mode = stat(path, &info) == 0 ? info.st_mode : 0
        return api.defaultFileLabel(path, mode: mode)
    }
}
