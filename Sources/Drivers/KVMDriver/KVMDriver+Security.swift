import Foundation
import KVM
import Locking
import Security
import VirtBase
import VirtCore

/// sVirt for kvm://: `kvm.conf` in the URI's configuration directory chooses the security drivers and the
/// hypervisor's user; a start generates the domain's labels (its MCS pair reserved in the store), hands the
/// supervisor the resolved plan, and records the labels in the live XML. `docs/security.md` has the sequence.
extension KVMDriver {
    /// `<config>/kvm.conf`, read and parsed once, validated against the keys of every module that reads it (so a
    /// typo anywhere is an error naming file and line); nil when there is none.
    func kvmConf() throws -> ConfFile? {
        try SecuritySettings.loadConf(configDirectory: paths.configDirectory, otherKeys: LockManagerKind.kvmConfSchema)
    }

    /// The connection's security drivers, from `kvm.conf` (nil: none) over the URI's defaults (`kvm:///system`
    /// runs hypervisors as `swift-virt`, session and embed as the caller).
    func securityManager(kvmConf: ConfFile?) throws -> SecurityManager {
        let defaults = SecuritySettings.defaults(systemInstance: paths.kind == .system)
        guard let kvmConf else { return try SecurityManager(settings: defaults) }
        return try SecurityManager(settings: SecuritySettings(conf: kvmConf, over: defaults))
    }

    /// The security drivers from the `kvm.conf` on disk now.
    func securityManager() throws -> SecurityManager { try securityManager(kvmConf: kvmConf()) }

    /// What the security drivers need from a definition: its `<seclabel>`s, disks with their per-device labels,
    /// kernel and initrd.
    static func securityRequest(_ definition: DomainDefinition) -> SecurityLabelRequest {
        let labels = definition.seclabels.map { label in
            SecurityLabelSpec(
                model: label.model, type: label.type.flatMap { SecurityLabelType(rawValue: $0.rawValue) },
                relabel: label.relabel?.bool, label: label.label, baseLabel: label.baseLabel)
        }
        let disks = definition.devices.disks.compactMap { disk -> DiskLabelSpec? in
            guard let source = disk.source else { return nil }
            return DiskLabelSpec(
                path: source, readonly: !disk.isWritable, shareable: disk.shareable,
                labels: disk.sourceSeclabels.map {
                    DeviceLabelSpec(model: $0.model, relabel: $0.relabel?.bool, label: $0.label)
                })
        }
        return SecurityLabelRequest(
            domainName: definition.name, labels: labels, disks: disks, kernel: definition.os.kernel,
            initrd: definition.os.initrd)
    }

    /// Generates the labels of a domain about to start and reserves its MCS pair in the store (in the
    /// transaction that reads the pairs of the other running domains), then resolves the supervisor's plan.
    /// The caller releases the reservation (`store.releaseSecurityLabels`) if the start fails.
    func reserveSecurityPlan(
        _ uuid: UUID, _ definition: DomainDefinition, kvmConf: ConfFile?
    ) throws -> HypervisorSecurityPlan {
        let manager = try securityManager(kvmConf: kvmConf)
        let request = Self.securityRequest(definition)
        let models = Set(manager.drivers.map(\.model))
        if let unknown = request.labels.compactMap(\.model).first(where: { !models.contains($0) }) {
            throw VirtError(
                .configUnsupported, .security,
                "Unable to find security driver for model \(unknown) (domain '\(definition.name)'; this host's "
                    + "models: \(manager.drivers.map(\.model).joined(separator: ", ")); set security_driver in kvm.conf)"
            )
        }
        guard let owner = ProcessIdentity.of(getpid()) else {
            throw VirtError.internal("cannot read this process's own start time from /proc", .security)
        }
        let labels = try store.reserveSecurityLabels(
            uuid, owner: (owner.pid, owner.startTime),
            isAlive: { ProcessIdentity(pid: $0, startTime: $1).isAlive() }
        ) { taken in
            let reserved = Set(taken.compactMap(MCSCategoryPair.init(parsing:)))
            let labels = try manager.generate(for: request, excluding: reserved)
            return (labels.categories?.description, labels)
        }
        do {
            return try manager.plan(for: request, labels: labels)
        } catch {
            try? store.releaseSecurityLabels(uuid)
            throw error
        }
    }

    /// `dominfo`'s security block: the primary model of a running domain's live labels (the label with the
    /// host's current enforcement, as libvirt asks `security_getenforce()` each time), or of this connection's
    /// drivers for an inactive domain (no label).
    func securityInfo(_ definition: DomainDefinition, active: Bool) throws -> DomainInfo.SecurityInfo {
        if active, let primary = definition.seclabels.first, let model = primary.model {
            let enforcement: LabelEnforcement = model == "selinux" ? SystemSELinux().enforcement : .enforcing
            let label = primary.type == SecurityLabel.LabelType.none ? nil : primary.label
            return DomainInfo.SecurityInfo(
                model: model, doi: "0", label: label, enforcing: enforcement == .enforcing,
                enforcement: enforcement.rawValue)
        }
        let model = try securityManager().primary.model
        return DomainInfo.SecurityInfo(model: model, doi: "0", label: nil, enforcing: false)
    }

    /// The host's `<secmodel>` blocks: the primary model (with the policy's base label for kvm domains) and DAC
    /// (with the hypervisor's `+uid:+gid`).
    func hostSecurityModels() throws -> [VirtCore.Capabilities.SecurityModel] {
        try securityManager().hostSecurityModels.map { model in
            VirtCore.Capabilities.SecurityModel(
                model: model.model, doi: model.doi,
                baseLabels: model.baseLabels.map { .init(domainType: $0.type, label: $0.label) })
        }
    }
}

extension DomainDefinition {
    /// The live XML shows every model's generated label, primary first, as libvirt's status XML does:
    /// `<seclabel type='dynamic' model='selinux' relabel='yes'><label>…</label><imagelabel>…</imagelabel>`.
    mutating func applySecurityLabels(_ labels: DomainSecurityLabels) {
        seclabels = labels.labels.map { generated in
            var label = SecurityLabel(
                type: SecurityLabel.LabelType(rawValue: generated.type.rawValue), model: generated.model)
            if generated.type != .none {
                label.relabel = YesNo(generated.relabel)
                label.label = generated.label
                label.imageLabel = generated.imageLabel
                label.baseLabel = generated.baseLabel
            }
            return label
        }
    }
}
