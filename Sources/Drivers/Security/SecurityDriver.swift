import VirtBase

/// One security model (`selinux`, `dac`, `none`): a small driver protocol like libvirt's security managers.
///
/// Label lifetime: the management process `generate`s a label at start (dynamic SELinux labels draw categories
/// not in the caller's reserved set), `reserve`s it (also when it finds a running domain again) and `release`s it
/// at stop; the supervisor `labelFiles` before the hypervisor starts and `restoreFiles` when it has exited, and
/// each driver adds its part to the hypervisor's `HypervisorCredentials`.
public protocol SecurityDriver: Sendable {
    /// The model name: `selinux`, `dac` or `none`.
    var model: String { get }
    /// Generates the domain's label for this model; `reserved` holds the categories of running domains.
    func generateLabel(
        for request: SecurityLabelRequest, excluding reserved: Set<MCSCategoryPair>
    ) throws(VirtError) -> DomainSecurityLabel
    /// Adds the label's categories to `reserved`; a pair already there is an error (two domains, one label).
    func reserveLabel(_ label: DomainSecurityLabel, in reserved: inout Set<MCSCategoryPair>) throws(VirtError)
    /// Removes the label's categories from `reserved`.
    func releaseLabel(_ label: DomainSecurityLabel, from reserved: inout Set<MCSCategoryPair>)
    /// The files this model relabels for the domain, and the label each gets.
    func fileLabelPlan(for request: SecurityLabelRequest, label: DomainSecurityLabel) throws(VirtError)
        -> [FileLabelAction]
    /// Labels the domain's files, remembering their originals; on failure, nothing stays labelled.
    func labelFiles(for request: SecurityLabelRequest, label: DomainSecurityLabel) throws(VirtError)
    /// Gives the domain's files their original labels back (the last user restores); returns every problem met
    /// while carrying on with the other files.
    func restoreFiles(for request: SecurityLabelRequest, label: DomainSecurityLabel) -> [VirtError]
    /// Adds this model's part (exec label, uid/gid) to the hypervisor's credentials.
    func contribute(_ label: DomainSecurityLabel, to credentials: inout HypervisorCredentials) throws(VirtError)
}

/// One file and the label a driver gives it.
public struct FileLabelAction: Sendable, Equatable, Codable {
    /// The file.
    public var path: String
    /// The label (an SELinux context, or DAC `+uid:+gid`).
    public var label: String

    /// An action.
    public init(path: String, label: String) {
        self.path = path
        self.label = label
    }
}

extension SecurityDriver {
    public func reserveLabel(_ label: DomainSecurityLabel, in reserved: inout Set<MCSCategoryPair>) throws(VirtError) {}
    public func releaseLabel(_ label: DomainSecurityLabel, from reserved: inout Set<MCSCategoryPair>) {}
}

/// Applies and undoes a plan through the remembered-label store, shared by the SELinux and DAC drivers.
struct FileRelabeler {
    /// The model's remembered labels.
    let remembered: RememberedLabels

    /// Labels every file of `actions`; when one fails, the ones done so far are released again.
    func apply(_ actions: [FileLabelAction]) throws(VirtError) {
        var done: [FileLabelAction] = []
        for action in actions {
            do throws(VirtError) {
                try remembered.acquire(action.path, label: action.label)
                done.append(action)
            } catch {
                for undo in done.reversed() { _ = try? remembered.release(undo.path) }
                throw error
            }
        }
    }

    /// Releases every file of `actions` (in reverse order), collecting problems instead of stopping. With
    /// `onlyRemembered`, files without a remembered label are left alone (see `RememberedLabels.release`).
    func undo(_ actions: [FileLabelAction], onlyRemembered: Bool = false) -> [VirtError] {
        var problems: [VirtError] = []
        for action in actions.reversed() {
            do throws(VirtError) {
                try remembered.release(action.path, onlyRemembered: onlyRemembered)
            } catch {
                problems.append(error)
            }
        }
        return problems
    }
}
