import Glibc
import VirtBase

/// DAC: the hypervisor runs as `user:group` from `kvm.conf` (or a `<seclabel model='dac'>` label), and the
/// domain's files are chowned to it with the original owner remembered (`dynamic_ownership`, `remember_owner`).
/// Always stacked under the primary model, as in libvirt.
public struct DACSecurityDriver: SecurityDriver {
    /// The configured identity (`user`/`group` resolved).
    public let identity: DACIdentity
    /// `dynamic_ownership`.
    public let dynamicOwnership: Bool
    /// The management process's own identity, which the supervisor shares: a hypervisor that keeps it needs no
    /// file to change owner.
    public let caller: DACIdentity
    let relabeler: FileRelabeler

    /// The driver for `identity`.
    public init(
        identity: DACIdentity, settings: SecuritySettings, bootTime: String? = nil, caller: DACIdentity = .caller
    ) {
        self.identity = identity
        self.caller = caller
        dynamicOwnership = settings.dynamicOwnership
        relabeler = FileRelabeler(
            remembered: RememberedLabels(
                access: DACFileAccess(), bootTime: bootTime ?? hostBootTime(), remember: settings.rememberOwner))
    }

    public var model: String { "dac" }

    /// The DOI libvirt reports for DAC.
    static let doi = "0"

    public func generateLabel(
        for request: SecurityLabelRequest, excluding reserved: Set<MCSCategoryPair>
    ) throws(VirtError) -> DomainSecurityLabel {
        let spec = request.label(for: model, isPrimary: false)
        let type = try SecurityLabelRules.resolveType(
            spec, defaultConfined: true, requireConfined: false, domain: request.domainName)
        var owner = identity
        if type == .static, let text = spec?.label {
            owner = try DACIdentity.resolve(label: text, source: "domain '\(request.domainName)' DAC label")
        }
        // As libvirt: `dynamic_ownership = 0` keeps relabel='yes' in the label and only stops the chown (see
        // `fileLabelPlan`). A type='none' DAC label still runs the hypervisor as the configured user.
        let relabel = type != .none && (spec?.relabel ?? (type == .dynamic))
        return DomainSecurityLabel(
            model: model, doi: Self.doi, type: type, relabel: relabel, label: owner.description,
            imageLabel: owner.description, enforcement: .enforcing)
    }

    public func fileLabelPlan(
        for request: SecurityLabelRequest, label: DomainSecurityLabel
    ) throws(VirtError) -> [FileLabelAction] {
        guard dynamicOwnership, label.relabel, let imageLabel = label.imageLabel else { return [] }
        let owner = try DACIdentity.resolve(label: imageLabel, source: "domain '\(request.domainName)' DAC label")
        // Ownership follows the uid change (the architecture's rule): a hypervisor that runs as the caller (session
        // and embed by default) leaves owners alone, except where a disk names its own DAC label.
        let follows = owner.uid != caller.uid || owner.gid != caller.gid
        var actions: [FileLabelAction] = []
        for disk in request.disks {
            let device = disk.label(for: model, isPrimary: false)
            if device?.relabel == false { continue }
            if let text = device?.label {
                let diskOwner = try DACIdentity.resolve(label: text, source: "disk '\(disk.path)' DAC label")
                actions.append(FileLabelAction(path: disk.path, label: diskOwner.description))
            } else if follows {
                actions.append(FileLabelAction(path: disk.path, label: owner.description))
            }
        }
        for path in [request.kernel, request.initrd].compactMap({ $0 }) where follows {
            actions.append(FileLabelAction(path: path, label: owner.description))
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

    public func contribute(_ label: DomainSecurityLabel, to credentials: inout HypervisorCredentials) throws(VirtError)
    {
        guard let text = label.label else { return }
        let owner = try DACIdentity.resolve(label: text, source: "DAC label")
        let caller = DACIdentity.caller
        // The same uid and gid as the supervisor: no identity change (session and embed run as the caller).
        guard owner.uid != caller.uid || owner.gid != caller.gid else { return }
        credentials.identity = owner
    }

    /// The reference count the remembered-owner store holds for `path` (0: not in use).
    public func referenceCount(_ path: String) throws(VirtError) -> Int {
        try relabeler.remembered.referenceCount(path)
    }
}

/// DAC ownership as `+uid:+gid` labels.
struct DACFileAccess: FileLabelAccess {
    var model: String { "dac" }

    func read(_ path: String) throws(VirtError) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let code = errno
            throw VirtError(
                .systemError, .security, "cannot read the owner of '\(path)': \(String(cString: strerror(code)))",
                errno: code)
        }
        return DACIdentity(uid: info.st_uid, gid: info.st_gid).description
    }

    func write(_ path: String, _ label: String) throws(VirtError) {
        let owner = try DACIdentity.resolve(label: label, source: "DAC label")
        guard chown(path, owner.uid, owner.gid) == 0 else {
            let code = errno
            throw VirtError(
                .systemError, .security,
                "unable to set user and group to '\(owner.uid):\(owner.gid)' on '\(path)': "
                    + String(cString: strerror(code)), errno: code)
        }
    }

    func clear(_ path: String) throws(VirtError) {}

    /// Without a remembered owner, libvirt gives files back to root.
    func fallbackRestoreLabel(_ path: String) -> String? { "+0:+0" }
}
