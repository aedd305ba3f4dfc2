import Foundation
import VirtCore

/// `domleases --json`, `leases --json`.
struct LeaseListJSON: Encodable {
    var leases: [Entry]

    struct Entry: Encodable {
        var domain: String
        var uuid: String
        var type: String?
        var resource: String
        var mode: String
        var state: String
        var lockspace: String
        var lockFile: String
        var error: String?

        init(_ lease: DomainLeaseInfo) {
            domain = lease.domain
            uuid = lease.uuid
            type = lease.kind?.rawValue
            resource = lease.name
            mode = lease.modeName
            state = lease.state.rawValue
            lockspace = lease.lockspace
            lockFile = lease.lockFile
            error = lease.error
        }

        // Explicit, so that an absent `type` or `error` is `null` rather than a missing key, as in every document.
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(domain, forKey: .domain)
            try c.encode(uuid, forKey: .uuid)
            try c.encode(type, forKey: .type)
            try c.encode(resource, forKey: .resource)
            try c.encode(mode, forKey: .mode)
            try c.encode(state, forKey: .state)
            try c.encode(lockspace, forKey: .lockspace)
            try c.encode(lockFile, forKey: .lockFile)
            try c.encode(error, forKey: .error)
        }

        enum CodingKeys: String, CodingKey {
            case domain, uuid, type, resource, mode, state, lockspace, lockFile, error
        }
    }
}
