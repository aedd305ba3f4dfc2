import Foundation

/// The live definition of a running domain, changed by live tuning (`vcpupin --live`, `schedinfo --live`) so that
/// `dumpxml` shows what the domain runs with.
extension StateStore {
    /// Replaces the live XML of an active domain; `domain is not running` when it has none.
    public func updateLiveXML(_ uuid: UUID, _ xml: String) throws {
        try transaction {
            let domain = try require(.uuid(uuid))
            guard domain.id != nil else { throw VirtError(.operationInvalid, .domain, "domain is not running") }
            try database.run(
                "UPDATE domain_status SET live_xml = ?, updated_at = ? WHERE uuid = ?",
                [.text(xml), .int(Int64(time(nil))), .text(Self.key(uuid))])
        }
    }
}
