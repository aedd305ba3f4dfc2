import Foundation

/// sVirt label reservations: the MCS category pair of every domain that runs (or is being started) with a
/// dynamic SELinux label, unique across the store. A start reserves its pair in the same transaction that reads
/// the pairs already taken; the pair is released when the domain is recorded inactive (stop, crash found by
/// reconciliation) or when its start fails.
extension StateStore {
    /// A reservation as stored.
    public struct SecurityReservation: Sendable, Equatable {
        /// The domain.
        public var uuid: UUID
        /// The categories (`c3,c17`).
        public var categories: String
        /// The management process that reserved them, while the start is in flight.
        public var ownerPID: Int32
        /// Its start time in clock ticks since boot, so a recycled pid is not mistaken for it.
        public var ownerStartTime: UInt64
    }

    /// Every reservation.
    public func securityReservations() throws -> [SecurityReservation] {
        var result: [SecurityReservation] = []
        try database.run("SELECT uuid, categories, owner_pid, owner_start_time FROM security_reservations") { row in
            guard let text = row.text(0), let uuid = UUID(uuidString: text), let categories = row.text(1) else {
                return
            }
            result.append(
                SecurityReservation(
                    uuid: uuid, categories: categories, ownerPID: Int32(truncatingIfNeeded: row.int(2)),
                    ownerStartTime: UInt64(bitPattern: row.int(3))))
        }
        return result
    }

    /// Reserves labels for starting `uuid`, in one transaction: drops stale reservations (of inactive domains
    /// whose reserving process is gone, as `isAlive` tells), refuses a start another live process has in
    /// flight, hands `generate` the categories taken, and stores the categories it returns (nil: the labels
    /// need no reservation). Returns what `generate` returned.
    public func reserveSecurityLabels<T>(
        _ uuid: UUID, owner: (pid: Int32, startTime: UInt64), isAlive: (Int32, UInt64) -> Bool,
        generate: (Set<String>) throws -> (categories: String?, result: T)
    ) throws -> T {
        try transaction {
            let domain = try require(.uuid(uuid))
            let active = Set(try activeStatuses().map(\.uuid))
            var taken = Set<String>()
            for reservation in try securityReservations() {
                let inFlight = isAlive(reservation.ownerPID, reservation.ownerStartTime)
                if reservation.uuid == uuid && inFlight && !active.contains(uuid) {
                    throw VirtError(
                        .operationInvalid, .domain,
                        "domain '\(domain.name)' is already being started (by process \(reservation.ownerPID))")
                }
                if !active.contains(reservation.uuid) && !inFlight {
                    try releaseSecurityLabels(reservation.uuid)
                    continue
                }
                taken.insert(reservation.categories)
            }
            let (categories, result) = try generate(taken)
            if let categories {
                try database.run(
                    """
                    INSERT INTO security_reservations (uuid, categories, owner_pid, owner_start_time, reserved_at)
                    VALUES (?, ?, ?, ?, ?)
                    """,
                    [
                        .text(Self.key(uuid)), .text(categories), .int(Int64(owner.pid)),
                        .int(Int64(bitPattern: owner.startTime)), .int(Int64(time(nil))),
                    ])
            }
            return result
        }
    }

    /// Releases the reservation of `uuid` (nothing happens when it has none).
    public func releaseSecurityLabels(_ uuid: UUID) throws {
        try database.run("DELETE FROM security_reservations WHERE uuid = ?", [.text(Self.key(uuid))])
    }
}
