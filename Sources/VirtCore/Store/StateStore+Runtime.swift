import Foundation

/// Runtime status and the domain id counter: what the hypervisor driver records when a domain starts,
/// changes state and stops.
extension StateStore {
    /// Takes the next domain id. Ids start at 1 and only grow, like libvirt's, and are never reused
    /// while the store exists.
    public func allocateDomainID() throws -> Int {
        try transaction {
            guard let next = try database.scalarInt("SELECT value FROM counters WHERE name = 'next_domain_id'") else {
                throw VirtError.internal("state store '\(path)' has no domain id counter", .store)
            }
            try database.run("UPDATE counters SET value = value + 1 WHERE name = 'next_domain_id'")
            return Int(next)
        }
    }

    /// The recorded status of a domain, nil when none was ever written (an inactive domain).
    public func runtimeStatus(_ uuid: UUID) throws -> RuntimeStatus? {
        var found: RuntimeStatus?
        try database.run(Self.statusColumns + " WHERE uuid = ?", [.text(Self.key(uuid))]) {
            found = Self.status($0)
        }
        return found
    }

    /// Every domain that has an id (running, paused, in shutdown): what reconciliation walks.
    public func activeStatuses() throws -> [RuntimeStatus] {
        var result: [RuntimeStatus] = []
        try database.run(Self.statusColumns + " WHERE id IS NOT NULL") { row in
            if let status = Self.status(row) { result.append(status) }
        }
        return result
    }

    /// Records a domain as active: takes a fresh id (unless `status.id` is set) and writes the process
    /// details. Fails with `domain is already running` when it is active already. Returns the id.
    @discardableResult
    public func markActive(_ status: RuntimeStatus) throws -> Int {
        try transaction {
            let domain = try require(.uuid(status.uuid))
            if domain.id != nil {
                throw VirtError(.operationInvalid, .domain, "domain '\(domain.name)' is already running")
            }
            guard status.state.state.isActive else {
                throw VirtError.internal(
                    "markActive needs an active state, not '\(status.state.stateAndReason)'", .store)
            }
            let id = try status.id ?? allocateDomainID()
            try database.run(
                """
                INSERT OR REPLACE INTO domain_status (uuid, state, reason, id, pid, pid_start_time, supervisor_pid,
                    supervisor_start_time, monitor_path, live_xml, started_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    .text(Self.key(status.uuid)), .int(Int64(status.state.state.rawValue)),
                    .int(Int64(status.state.code)), .int(Int64(id)), .optional(status.pid.map(Int64.init)),
                    .optional(status.pidStartTime.map { Int64(bitPattern: $0) }),
                    .optional(status.supervisorPID.map(Int64.init)),
                    .optional(status.supervisorStartTime.map { Int64(bitPattern: $0) }),
                    .optional(status.monitorPath), .optional(status.liveXML),
                    .int(status.startedAt ?? Int64(time(nil))), .int(Int64(time(nil))),
                ])
            return id
        }
    }

    /// Records the hypervisor that now runs an active domain (the supervisor restarted it after a guest reset or
    /// power-off whose action is `restart`).
    public func updateHypervisor(_ uuid: UUID, pid: Int32, startTime: UInt64) throws {
        try transaction {
            let domain = try require(.uuid(uuid))
            guard domain.id != nil else { throw VirtError(.operationInvalid, .domain, "domain is not running") }
            try database.run(
                "UPDATE domain_status SET pid = ?, pid_start_time = ?, updated_at = ? WHERE uuid = ?",
                [
                    .int(Int64(pid)), .int(Int64(bitPattern: startTime)), .int(Int64(time(nil))),
                    .text(Self.key(uuid)),
                ])
        }
    }

    /// Changes the state of an active domain (paused, running again, in shutdown).
    public func setState(_ uuid: UUID, _ state: DomainStateReason) throws {
        try transaction {
            let domain = try require(.uuid(uuid))
            guard domain.id != nil, state.state.isActive else {
                throw VirtError(.operationInvalid, .domain, "domain is not running")
            }
            try database.run(
                "UPDATE domain_status SET state = ?, reason = ?, updated_at = ? WHERE uuid = ?",
                [
                    .int(Int64(state.state.rawValue)), .int(Int64(state.code)), .int(Int64(time(nil))),
                    .text(Self.key(uuid)),
                ])
        }
    }

    /// Records that a domain stopped, with its reason (`shut off (destroyed)`, `shut off (crashed)`, ...):
    /// the id and process details are cleared, its sVirt label reservation is released, and a transient domain
    /// disappears.
    public func markInactive(_ uuid: UUID, reason: DomainStateReason) throws {
        try transaction {
            let domain = try require(.uuid(uuid))
            try releaseSecurityLabels(uuid)
            if !domain.persistent {
                try database.run("DELETE FROM domains WHERE uuid = ?", [.text(Self.key(uuid))])
                return
            }
            try database.run(
                """
                INSERT OR REPLACE INTO domain_status (uuid, state, reason, id, pid, pid_start_time, supervisor_pid,
                    supervisor_start_time, monitor_path, live_xml, started_at, updated_at)
                VALUES (?, ?, ?, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, ?)
                """,
                [
                    .text(Self.key(uuid)), .int(Int64(reason.state.rawValue)), .int(Int64(reason.code)),
                    .int(Int64(time(nil))),
                ])
        }
    }

    static let statusColumns = """
        SELECT uuid, state, reason, id, pid, pid_start_time, supervisor_pid, supervisor_start_time, monitor_path,
            live_xml, started_at FROM domain_status
        """

    static func status(_ row: SQLRow) -> RuntimeStatus? {
        guard let text = row.text(0), let uuid = UUID(uuidString: text),
            let state = DomainState(rawValue: Int(row.int(1)))
        else { return nil }
        return RuntimeStatus(
            uuid: uuid, state: DomainStateReason(state, Int(row.int(2))), id: row.optionalInt(3).map(Int.init),
            pid: row.optionalInt(4).map { Int32(truncatingIfNeeded: $0) },
            pidStartTime: row.optionalInt(5).map { UInt64(bitPattern: $0) },
            supervisorPID: row.optionalInt(6).map { Int32(truncatingIfNeeded: $0) },
            supervisorStartTime: row.optionalInt(7).map { UInt64(bitPattern: $0) },
            monitorPath: row.text(8), liveXML: row.text(9), startedAt: row.optionalInt(10))
    }
}
