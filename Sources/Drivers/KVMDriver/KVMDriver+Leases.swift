import Foundation
import KVM
import Locking
import VirtBase
import VirtCore

/// Disk leases (docs/locking.md): the plan the supervisor takes at start, the daemon started on demand,
/// and what `domleases` / `leases` show.
extension KVMDriver {
    /// The URI's lock daemon files: `<config>/lockd.conf`, `<run>/lockd/virtlockd.sock`, ...
    var lockdPaths: LockdPaths {
        LockdPaths(configDirectory: paths.configDirectory, runDirectory: paths.runDirectory)
    }

    /// The leases the supervisor must take for `definition` (`kvmConf`'s `lock_manager`, lockd.conf, the disks
    /// and `<lease>` elements); nil when the lock manager is `nop` or nothing is to be leased. Makes sure the
    /// URI's lock daemon runs, starting it on demand, so a missing `virtlockd` is reported before anything starts.
    func leaseSettings(for definition: DomainDefinition, kvmConf: ConfFile?) throws -> SupervisorLeases? {
        guard try LockManagerKind.from(kvmConf: kvmConf) == .lockd else { return nil }
        let config = try LockdConfig.load(path: lockdPaths.lockdConfPath)
        var disks: [DiskLeaseRequest] = []
        for disk in definition.devices.disks {
            guard let source = disk.source else { continue }
            let access: DiskLeaseRequest.Access =
                !disk.isWritable ? .readOnly : disk.shareable ? .shareable : .writable
            disks.append(DiskLeaseRequest(path: source, access: access))
        }
        var explicit: [ExplicitLease] = []
        for lease in definition.devices.leases {
            if let offset = lease.offset, offset != 0 {
                throw VirtError(
                    .configUnsupported, .locking,
                    "lease '\(lease.key)' has offset \(offset): Offset must be zero for this lock manager")
            }
            explicit.append(ExplicitLease(lockspace: lease.lockspace, key: lease.key, targetPath: lease.path))
        }
        let planned = try LeasePlan.entries(disks: disks, leases: explicit, config: config)
        guard !planned.isEmpty else { return nil }
        let executable = LeaseClient.defaultDaemonExecutable()
        try LeaseClient(paths: lockdPaths, daemonExecutable: executable).ensureDaemon()
        return SupervisorLeases(
            configDirectory: lockdPaths.configDirectory, runDirectory: lockdPaths.runDirectory,
            daemonExecutable: executable,
            onLockFailure: definition.onLockfailure.flatMap { LeaseFailureAction(rawValue: $0.rawValue) } ?? .poweroff,
            resources: planned.map { entry in
                SupervisorLeases.Resource(
                    kind: entry.kind == .disk ? .disk : .lease, name: entry.name,
                    lockspace: entry.resource.lockspace, resource: entry.resource.name,
                    exclusive: entry.resource.mode == .exclusive, label: entry.resource.label)
            })
    }

    /// The supervisor's account of a running domain's leases; nil when it holds none.
    func leaseStatus(name: String, uuid: UUID) -> DomainLeaseStatus? {
        guard let bytes = try? SmallFile.read(runFiles(name: name, uuid: uuid).leasesFile) else { return nil }
        return try? DomainLeaseStatus.decodeJSON(bytes)
    }

    /// `domleases`: the leases a running domain holds (none when it is not running).
    public func domainLeases(_ uuid: UUID) throws -> [DomainLeaseInfo] {
        try reconcile()
        let domain = try store.require(.uuid(uuid))
        guard domain.id != nil, let status = leaseStatus(name: domain.name, uuid: uuid) else { return [] }
        return status.leases.map { Self.info($0, domain: domain.name, uuid: uuid.uuidString.lowercased()) }
    }

    /// `leases`: every lease the URI's lock daemon holds (with what each protects, for the running domains
    /// of this URI), and the leases running domains lost. No daemon: no leases (none is started for this).
    public func hostLeases() throws -> [DomainLeaseInfo] {
        try reconcile()
        var statuses: [String: (name: String, status: DomainLeaseStatus)] = [:]
        for runtime in try store.activeStatuses() {
            guard let domain = try store.summary(.uuid(runtime.uuid)),
                let status = leaseStatus(name: domain.name, uuid: runtime.uuid)
            else { continue }
            statuses[runtime.uuid.uuidString.lowercased()] = (domain.name, status)
        }
        var result: [DomainLeaseInfo] = []
        for record in try daemonLeases() {
            let known = statuses[record.owner.uuid.lowercased()]?.status.leases.first {
                $0.resource.lockspace == record.lockspace && $0.resource.resource == record.resource
            }
            if let known {
                var info = Self.info(known, domain: record.owner.name, uuid: record.owner.uuid)
                info.state = .held
                info.error = nil
                result.append(info)
            } else {
                result.append(
                    DomainLeaseInfo(
                        domain: record.owner.name, uuid: record.owner.uuid, kind: nil, name: record.label,
                        exclusive: record.mode == .exclusive, state: .held, lockspace: record.lockspace,
                        lockFile: LeaseKey(lockspace: record.lockspace, resource: record.resource).path))
            }
        }
        for (uuid, entry) in statuses {
            for lease in entry.status.leases where lease.state != .held {
                result.append(Self.info(lease, domain: entry.name, uuid: uuid))
            }
        }
        return result.sorted { ($0.domain, $0.name, $0.lockFile) < ($1.domain, $1.name, $1.lockFile) }
    }

    /// The daemon's `list all`; empty when no daemon listens.
    private func daemonLeases() throws -> [LeaseRecord] {
        do throws(VirtError) {
            return try LeaseClient(paths: lockdPaths, daemonExecutable: nil).allLeases()
        } catch {
            if error.errno == ENOENT || error.errno == ECONNREFUSED { return [] }
            throw error
        }
    }

    private static func info(_ entry: DomainLeaseStatus.Entry, domain: String, uuid: String) -> DomainLeaseInfo {
        let state: DomainLeaseInfo.State =
            switch entry.state {
            case .held: .held
            case .recovering: .recovering
            case .lost: .lost
            }
        return DomainLeaseInfo(
            domain: domain, uuid: uuid, kind: entry.resource.kind == .disk ? .disk : .lease, name: entry.resource.name,
            exclusive: entry.resource.exclusive, state: state, lockspace: entry.resource.lockspace,
            lockFile: entry.resource.lockFile, error: entry.error)
    }

    // MARK: Lock failures and the domain's state

    /// A guest the supervisor paused for a lost lease (`on_lockfailure` pause) shows as paused.
    func foldLockFailurePause(_ runtime: RuntimeStatus, name: String) throws {
        guard runtime.state.state == .running, let status = leaseStatus(name: name, uuid: runtime.uuid),
            status.pausedForLockFailure
        else { return }
        try store.setState(runtime.uuid, Self.pausedForLockFailure)
    }

    /// `paused (unknown)`: libvirt has no paused reason for a lock failure; `domleases` tells the cause.
    static let pausedForLockFailure = DomainStateReason(.paused, 0)

    /// Before `resume`: a guest whose leases are not all held stays paused.
    func checkLeasesBeforeResume(name: String, uuid: UUID) throws {
        guard let status = leaseStatus(name: name, uuid: uuid), status.hasLostLeases else { return }
        let lost = status.leases.filter { $0.state != .held }
        let what = lost.map { entry in
            entry.resource.label + (entry.error.map { " (\($0))" } ?? " (being taken back)")
        }.joined(separator: "; ")
        throw VirtError(
            .resourceBusy, .locking,
            "domain '\(name)' cannot resume without its leases: \(what); it resumes once they are back")
    }

    /// After `resume` of a guest paused for a lock failure: waits (briefly) until the supervisor has seen it
    /// run again, so the next call does not fold the old pause back in.
    func awaitLockFailurePauseCleared(name: String, uuid: UUID) {
        for _ in 0..<100 {
            guard let status = leaseStatus(name: name, uuid: uuid), status.pausedForLockFailure else { return }
            usleep(20_000)
        }
    }
}
