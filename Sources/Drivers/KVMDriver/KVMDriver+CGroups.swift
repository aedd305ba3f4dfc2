import Foundation
import Host
import KVM
import VirtBase
import VirtCore

/// Where a domain's cgroups are, what the supervisor is told to make, and their removal when reconciliation finds
/// the domain ended (a supervisor killed with the hypervisor never removed them itself).
extension KVMDriver {
    /// The cgroup file systems of the host this driver probes (`<host root>/sys/fs/cgroup`).
    var cgroupRoot: String { HostFileSystem(root: hostRoot).resolve("/sys/fs/cgroup") }

    /// The domain's group name: `swift-virt-<name>` for `kvm:///system`; other connections (session, embed)
    /// qualify it with a hash of their store, so that two stores' domains of one name never share a group.
    func cgroupName(_ domain: String) -> String {
        DomainCGroup.groupName(
            domain: domain, qualifier: paths.kind == .system ? nil : DomainCGroup.qualifier(for: paths.storePath))
    }

    /// The domain's cgroup tree on this host, or nil when the host has no usable hierarchy.
    func domainCGroup(_ name: String, vcpus: Int = 0) -> DomainCGroup? {
        guard let host = CGroupHost.detect(root: cgroupRoot) else { return nil }
        return DomainCGroup(host: host, name: cgroupName(name), vcpus: vcpus)
    }

    /// What the supervisor applies at start; fails first when the definition needs cgroups this host or this
    /// user cannot give.
    func tuningConfiguration(
        _ resolver: HypervisorConfigurationResolver, name: String, placement: PlacementConfiguration
    ) throws -> TuningConfiguration {
        try resolver.validateCGroups(root: cgroupRoot)
        return try resolver.tuning(groupName: cgroupName(name), cgroupRoot: cgroupRoot, placement: placement)
    }

    /// Removes the groups of a domain that ended, unless a live supervisor owns the domain (it holds the lock on
    /// `<name>.supervisor.pid`; its groups are its own). Failures are left for the next reconciliation.
    func removeLeftoverCGroups(_ name: String, uuid: UUID) {
        guard let group = domainCGroup(name), group.exists() else { return }
        let files = runFiles(name: name, uuid: uuid)
        guard SmallFile.exists(files.runDirectory) else {
            try? group.remove()
            return
        }
        let existed = SmallFile.exists(files.supervisorPIDFile)
        guard let lock = DomainProcess.lockForCleanUp(files) else { return }
        defer {
            if !existed { SmallFile.remove(files.supervisorPIDFile) }
            close(lock)
        }
        try? group.remove()
    }
}
