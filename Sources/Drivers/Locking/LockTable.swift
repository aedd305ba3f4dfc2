import Glibc
import VirtBase

/// The daemon's bookkeeping: who is connected, as which owner, holding what. Not thread-safe; the
/// server keeps it behind one mutex. Every lease is an OFD lock on its own open file description, so
/// the kernel arbitrates between owners of this daemon exactly as between daemons on other hosts.
public struct LockTable: Sendable {
    /// A client connection's state.
    public struct Client: Codable, Sendable {
        /// The registered owner, nil until `register`.
        public var owner: LeaseOwner?
        /// The leases this connection holds.
        public var leases: [LeaseKey: HeldLease] = [:]
        /// The peer's pid (SO_PEERCRED) as accepted.
        public var peerPID: Int32?
        /// The peer process as recorded in the owner journal at its first registration.
        public var peer: PeerProcess?
    }

    /// The host name recorded for owners that do not name one.
    public let hostName: String
    /// Connections by id.
    public private(set) var clients: [UInt64: Client] = [:]
    /// Which connections hold each locked file (to name a local holder).
    private var holders: [FileIdentity: [UInt64]] = [:]
    /// Leases held, all connections together.
    public private(set) var leaseCount = 0
    /// The grace period after a fresh start, while owners of the previous daemon may come back.
    public private(set) var recovery: LeaseRecovery?
    /// What happened since the daemon last drained the events (for its owner journal and log).
    private var events: [LockTableEvent] = []
    /// How long an indirect lease file left naming an exclusive holder on another host (whose daemon went
    /// away) is kept for that holder to take it back, from the first time someone else asked.
    public var orphanGraceNanoseconds: UInt64 = UInt64(VirtlockdConfig.defaultReclaimTimeout) * 1_000_000_000
    /// When each orphaned lease file was first asked for.
    private var orphansSeen: [FileIdentity: UInt64] = [:]

    /// An empty table.
    public init(hostName: String) { self.hostName = hostName }

    /// Records a new connection from the process `peerPID` (nil when unknown).
    public mutating func connect(_ id: UInt64, peerPID: Int32? = nil) {
        var client = Client()
        client.peerPID = peerPID
        clients[id] = client
    }

    /// Forgets a connection and ends every lease it held.
    public mutating func disconnect(_ id: UInt64) {
        guard let client = clients.removeValue(forKey: id) else { return }
        for lease in client.leases.values { forget(lease, of: id) }
        if let peer = client.peer, let owner = client.owner { events.append(.unregistered(peer, owner)) }
    }

    /// Starts the grace period (a fresh daemon whose journal names owners that still run).
    public mutating func beginRecovery(_ recovery: LeaseRecovery?) {
        self.recovery = recovery.flatMap { $0.pending.isEmpty ? nil : $0 }
    }

    /// The events since the last call.
    public mutating func drainEvents() -> [LockTableEvent] {
        defer { events.removeAll() }
        return events
    }

    /// During the grace period: the first pending owner a plain acquire must wait for. Owners whose process
    /// ended are dropped; at the deadline the period ends.
    public mutating func recoveryBlocker(
        now: UInt64, isAlive: (PeerProcess) -> Bool = { $0.isAlive }
    ) -> PendingOwner? {
        guard var current = recovery else { return nil }
        if now >= current.deadlineNanoseconds {
            events.append(.expired(current.pending))
            recovery = nil
            return nil
        }
        while let first = current.pending.first {
            if isAlive(first.peer) {
                recovery = current
                return first
            }
            events.append(.gone(first))
            current.pending.removeFirst()
        }
        recovery = nil
        return nil
    }

    /// `reclaim`: registers `owner` on connection `id` and takes back every claim it can (busy ones are
    /// reported, not fatal), then settles the pending owner it was.
    public mutating func reclaim(_ id: UInt64, owner: LeaseOwner, claims: [LeaseResource]) throws(LockWireError)
        -> LockResult
    {
        let recorded = try register(id, owner)
        var taken: [LeaseRecord] = []
        var failures: [LeaseClaimFailure] = []
        for claim in claims {
            do throws(LockWireError) {
                taken.append(try acquire(id, key: claim.key, mode: claim.mode, label: claim.label))
            } catch {
                failures.append(LeaseClaimFailure(lockspace: claim.lockspace, resource: claim.name, error: error))
            }
        }
        if var current = recovery {
            let peer = clients[id]?.peer
            let settled = current.pending.filter { $0.owner.uuid == owner.uuid || $0.peer == peer }
            current.pending.removeAll { $0.owner.uuid == owner.uuid || $0.peer == peer }
            events += settled.map { .settled($0) }
            recovery = current.pending.isEmpty ? nil : current
        }
        return LockResult(owner: recorded, leases: taken, failures: failures)
    }

    /// Names the owner of a connection. Re-registering with a different owner while holding leases is
    /// refused.
    public mutating func register(_ id: UInt64, _ owner: LeaseOwner) throws(LockWireError) -> LeaseOwner {
        guard !owner.uuid.isEmpty, owner.uuid.utf8.count <= 64 else {
            throw invalid("register needs the owner's 'uuid' (at most 64 bytes)")
        }
        guard !owner.name.isEmpty, owner.name.utf8.count <= 1024 else {
            throw invalid("register needs the owner's 'name' (at most 1024 bytes)")
        }
        guard owner.pid > 0 else { throw invalid("register needs the owner's 'pid', a positive process id") }
        var recorded = owner
        if recorded.host?.isEmpty ?? true { recorded.host = hostName }
        guard var client = clients[id] else { throw invalid("unknown connection") }
        if let current = client.owner, current != recorded, !client.leases.isEmpty {
            throw LockWireError(
                code: LockProtocol.ErrorCode.invalidParams,
                message: "this connection already holds leases for domain '\(current.name)' (uuid \(current.uuid)); "
                    + "open a new connection for another owner")
        }
        if client.owner == nil, client.peer == nil, let pid = client.peerPID, let peer = PeerProcess.of(pid) {
            client.peer = peer
            events.append(.registered(peer, recorded))
        }
        client.owner = recorded
        clients[id] = client
        return recorded
    }

    /// Takes `key` for connection `id`.
    public mutating func acquire(
        _ id: UInt64, key: LeaseKey, mode: LeaseMode, label suppliedLabel: String?
    ) throws(LockWireError) -> LeaseRecord {
        guard var client = clients[id], let owner = client.owner else { throw notRegistered() }
        try Self.check(key)
        let label = suppliedLabel.flatMap { $0.isEmpty || $0.utf8.count > 4096 ? nil : $0 } ?? Self.defaultLabel(key)
        if let existing = client.leases[key] {
            guard existing.mode == mode else {
                throw invalid(
                    "\(existing.label) is already held \(existing.mode.rawValue) by this owner; release it first")
            }
            return record(existing, owner)
        }
        let result: HeldLease.TakeResult
        do {
            result = try HeldLease.take(key: key, mode: mode, label: label)
        } catch {
            throw LockWireError(code: LockProtocol.ErrorCode.systemError, message: error.description)
        }
        switch result {
        case .taken(let lease, let previous):
            if let previous, let named = HeldLease.exclusiveHolder(previous), named.uuid != owner.uuid,
                let host = named.host, host != hostName
            {
                let now = Posix.monotonicNanoseconds()
                let first = orphansSeen[lease.file] ?? now
                if now - first < orphanGraceNanoseconds {
                    orphansSeen[lease.file] = first
                    lease.abandon()
                    let left = Int((orphanGraceNanoseconds - (now - first) + 999_999_999) / 1_000_000_000)
                    throw LockWireError(
                        code: LockProtocol.ErrorCode.leaseRecovery,
                        message: "\(label) was leased by domain '\(named.name)' (uuid \(named.uuid)) on host "
                            + "'\(host)', whose lock daemon went away without releasing it; it may still take it "
                            + "back: try again in \(max(left, 1)) s", holder: named)
                }
                events.append(.tookOver(named, label))
            }
            orphansSeen[lease.file] = nil
            lease.writeIdentity(owner)
            client.leases[key] = lease
            clients[id] = client
            holders[lease.file, default: []].append(id)
            leaseCount += 1
            return record(lease, owner)
        case .busy(let file, let text):
            var holder = text.flatMap(HeldLease.decodeIdentity)
            for other in holders[file] ?? [] where other != id {
                if let local = clients[other]?.owner {
                    holder = local
                    break
                }
            }
            throw LockWireError(
                code: LockProtocol.ErrorCode.resourceBusy, message: Self.busyMessage(label, holder), holder: holder)
        }
    }

    /// Ends the lease on `key` held by connection `id`.
    public mutating func release(_ id: UInt64, key: LeaseKey) throws(LockWireError) {
        guard var client = clients[id], client.owner != nil else { throw notRegistered() }
        guard let lease = client.leases.removeValue(forKey: key) else {
            throw invalid("this owner holds no lease on '\(key.path)'")
        }
        clients[id] = client
        forget(lease, of: id)
    }

    /// The leases of connection `id`, or of everyone.
    public func list(_ id: UInt64, all: Bool) throws(LockWireError) -> [LeaseRecord] {
        var records: [LeaseRecord] = []
        if all {
            for client in clients.values {
                guard let owner = client.owner else { continue }
                records += client.leases.values.map { record($0, owner) }
            }
        } else {
            guard let client = clients[id], let owner = client.owner else { throw notRegistered() }
            records = client.leases.values.map { record($0, owner) }
        }
        return records.sorted {
            ($0.owner.name, $0.lockspace, $0.resource) < ($1.owner.name, $1.lockspace, $1.resource)
        }
    }

    /// Registered owners.
    public var ownerCount: Int { clients.values.reduce(0) { $0 + ($1.owner == nil ? 0 : 1) } }

    /// Re-adopts the grace period of the previous image after a re-exec.
    public mutating func adopt(recovery: LeaseRecovery?) { self.recovery = recovery }

    /// The message for an acquire refused during the grace period.
    public static func recoveryMessage(_ label: String, waitingFor pending: PendingOwner, secondsLeft: Int) -> String {
        "\(label) cannot be leased yet: the lock daemon was restarted and domain '\(pending.owner.name)' "
            + "(uuid \(pending.owner.uuid)), which held leases through the previous daemon, has not taken them back "
            + "yet; try again in \(max(secondsLeft, 1)) s"
    }

    /// Re-adopts a connection's state after a re-exec (the descriptors were inherited).
    public mutating func adopt(_ id: UInt64, _ client: Client) {
        clients[id] = client
        for lease in client.leases.values {
            holders[lease.file, default: []].append(id)
            leaseCount += 1
        }
    }

    /// The message for a refused acquire, naming the holder when known.
    public static func busyMessage(_ label: String, _ holder: LeaseOwner?) -> String {
        guard let holder else {
            return "\(label) is leased by another holder that cannot be named "
                + "(a direct lockspace only names holders on this host)"
        }
        var text = "\(label) is leased by domain '\(holder.name)' (uuid \(holder.uuid))"
        if let host = holder.host, !host.isEmpty { text += " on host '\(host)'" }
        return text
    }

    private mutating func forget(_ lease: HeldLease, of id: UInt64) {
        if var ids = holders[lease.file] {
            ids.removeAll { $0 == id }
            holders[lease.file] = ids.isEmpty ? nil : ids
        }
        lease.end()
        leaseCount -= 1
    }

    private func record(_ lease: HeldLease, _ owner: LeaseOwner) -> LeaseRecord {
        LeaseRecord(
            lockspace: lease.key.lockspace, resource: lease.key.resource, label: lease.label, mode: lease.mode,
            owner: owner)
    }

    private static func defaultLabel(_ key: LeaseKey) -> String {
        key.isIndirect ? "resource '\(key.resource)' in lockspace '\(key.lockspace)'" : "disk '\(key.resource)'"
    }

    /// Refuses hostile keys: relative paths, names that leave the lockspace.
    static func check(_ key: LeaseKey) throws(LockWireError) {
        if key.isIndirect {
            guard key.lockspace.hasPrefix("/"), key.lockspace.utf8.count < Int(PATH_MAX) else {
                throw invalid("lockspace '\(key.lockspace)' must be an absolute directory path")
            }
            let name = key.resource
            guard !name.isEmpty, name != ".", name != "..", !name.contains("/"), !name.contains("\0"),
                name.utf8.count <= Int(NAME_MAX)
            else {
                throw invalid("resource '\(name)' must be a plain file name inside the lockspace")
            }
        } else {
            guard key.resource.hasPrefix("/"), !key.resource.contains("\0"), key.resource.utf8.count < Int(PATH_MAX)
            else {
                throw invalid("resource '\(key.resource)' of the direct lockspace must be an absolute path")
            }
        }
    }

    private static func invalid(_ message: String) -> LockWireError {
        LockWireError(code: LockProtocol.ErrorCode.invalidParams, message: message)
    }

    private func invalid(_ message: String) -> LockWireError { Self.invalid(message) }

    private func notRegistered() -> LockWireError {
        LockWireError(
            code: LockProtocol.ErrorCode.notRegistered,
            message: "lock owner details have not been registered; call 'register' first")
    }
}
