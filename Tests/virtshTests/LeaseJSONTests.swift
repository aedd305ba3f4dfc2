import Foundation
import Testing
import VirtCore

@testable import virtsh

/// `domleases --json` and `leases --json` entries: every key present, `null` where a value is absent (a holder that is
/// not a domain of the URI has no type; a lease that was not lost has no error).
@Suite struct LeaseJSONTests {
    func entry(_ lease: DomainLeaseInfo) throws -> [String: Any] {
        let data = try JSONEncoder().encode(LeaseListJSON(leases: [LeaseListJSON.Entry(lease)]))
        let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let leases = try #require(document["leases"] as? [[String: Any]])
        return try #require(leases.first)
    }

    @Test func absentValuesAreNull() throws {
        let held = try entry(
            DomainLeaseInfo(
                domain: "web1", uuid: "u", kind: nil, name: "/srv/a.img", exclusive: true, state: .held, lockspace: "",
                lockFile: "/srv/a.img"))
        #expect(
            Set(held.keys) == ["domain", "uuid", "type", "resource", "mode", "state", "lockspace", "lockFile", "error"])
        #expect(held["type"] is NSNull && held["error"] is NSNull)
        #expect(held["mode"] as? String == "exclusive" && held["state"] as? String == "held")
        let lost = try entry(
            DomainLeaseInfo(
                domain: "web1", uuid: "u", kind: .disk, name: "/srv/a.img", exclusive: false, state: .lost,
                lockspace: "/var/lib/leases", lockFile: "/var/lib/leases/x", error: "held by 'db1'"))
        #expect(lost["type"] as? String == "disk" && lost["error"] as? String == "held by 'db1'")
        #expect(lost["mode"] as? String == "shared")
    }
}
