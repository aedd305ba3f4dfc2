import VirtBase

/// Everything the supervisor does for one domain's security, resolved by the management process: the labels it
/// generated (shown in the live XML and `dominfo`), the files each model relabels with the label each gets, and
/// the hypervisor's credentials. Plain values, so the supervisor receives it as JSON inside its configuration
/// and needs neither `kvm.conf` nor the domain XML.
public struct HypervisorSecurityPlan: Sendable, Equatable, Codable {
    /// Every model's label, primary first.
    public var labels: DomainSecurityLabels
    /// The files each model relabels, in labelling order (primary first, DAC second).
    public var files: [ModelFileLabels]
    /// What the hypervisor becomes before exec (exec label, uid/gid, bounding-set drop).
    public var credentials: HypervisorCredentials
    /// System calls taken out of the hypervisor's allow-list for this domain. Only ever narrows the filter:
    /// names outside the list are ignored. The tests use it to make a call the guest triggers forbidden.
    public var seccompDenied: [String]

    /// A plan.
    public init(
        labels: DomainSecurityLabels, files: [ModelFileLabels], credentials: HypervisorCredentials,
        seccompDenied: [String] = []
    ) {
        self.labels = labels
        self.files = files
        self.credentials = credentials
        self.seccompDenied = seccompDenied
    }

    /// How many file labels the plan sets (one per file and model).
    public var fileLabelCount: Int { files.reduce(0) { $0 + $1.actions.count } }

    /// The seccomp rules of a hypervisor under this plan: the allow-list without `seccompDenied`.
    public var seccompRules: [SeccompRule] {
        let denied = Set(seccompDenied)
        return SeccompAllowList.hypervisor.filter { !denied.contains($0.name) }
    }

    /// Labels every file of every model, remembering the originals; on failure nothing stays labelled.
    /// `selinux` is the libselinux seam (the real library outside tests).
    public func labelFiles(selinux: any SELinuxAPI = SystemSELinux(), bootTime: String? = nil) throws(VirtError) {
        let boot = bootTime ?? hostBootTime()
        var done: [ModelFileLabels] = []
        for model in files {
            do throws(VirtError) {
                try model.relabeler(selinux: selinux, bootTime: boot).apply(model.actions)
                done.append(model)
            } catch {
                for undo in done.reversed() {
                    _ = undo.relabeler(selinux: selinux, bootTime: boot).undo(undo.actions)
                }
                throw error
            }
        }
    }

    /// Gives every file its original label back (the last user restores), DAC first; returns every problem met
    /// while carrying on with the other files.
    ///
    /// With `onlyRemembered` (reconciliation after a supervisor died), a file whose remembered label is gone is
    /// left alone instead of getting the fallback label: its restore already happened, or its labelling never did.
    public func restoreFiles(
        selinux: any SELinuxAPI = SystemSELinux(), bootTime: String? = nil, onlyRemembered: Bool = false
    ) -> [VirtError] {
        let boot = bootTime ?? hostBootTime()
        var problems: [VirtError] = []
        for model in files.reversed() {
            let relabeler = model.relabeler(selinux: selinux, bootTime: boot)
            problems += relabeler.undo(model.actions, onlyRemembered: onlyRemembered)
        }
        return problems
    }
}

/// The files one model relabels for a domain.
public struct ModelFileLabels: Sendable, Equatable, Codable {
    /// `selinux` or `dac`.
    public var model: String
    /// `remember_owner`: originals are remembered in `trusted.swift-virt.*` attributes (else restored to the
    /// model's fallback).
    public var remember: Bool
    /// Each file and its label.
    public var actions: [FileLabelAction]

    /// The files of `model`.
    public init(model: String, remember: Bool, actions: [FileLabelAction]) {
        self.model = model
        self.remember = remember
        self.actions = actions
    }

    func relabeler(selinux: any SELinuxAPI, bootTime: String) -> FileRelabeler {
        let access: any FileLabelAccess = model == "dac" ? DACFileAccess() : SELinuxFileAccess(api: selinux)
        return FileRelabeler(remembered: RememberedLabels(access: access, bootTime: bootTime, remember: remember))
    }
}

extension SecurityManager {
    /// The supervisor's plan for a domain whose labels were generated (and reserved) by `generate`.
    public func plan(for request: SecurityLabelRequest, labels: DomainSecurityLabels) throws(VirtError)
        -> HypervisorSecurityPlan
    {
        var files: [ModelFileLabels] = []
        for driver in drivers {
            guard let label = labels.label(for: driver.model) else { continue }
            let actions = try driver.fileLabelPlan(for: request, label: label)
            guard !actions.isEmpty else { continue }
            files.append(ModelFileLabels(model: driver.model, remember: rememberOwner, actions: actions))
        }
        return HypervisorSecurityPlan(labels: labels, files: files, credentials: try credentials(for: labels))
    }
}
