import Foundation
import VirtBase

/// One disk lease as `virtsh domleases` and `virtsh leases` show it: what it protects, who holds it and
/// where it stands (docs/locking.md).
public struct DomainLeaseInfo: Sendable, Equatable {
    /// What a lease protects.
    public enum Kind: String, Sendable, CaseIterable {
        /// A disk image or block device.
        case disk
        /// An explicit `<lease>` key.
        case lease
    }

    /// Where a lease stands.
    public enum State: String, Sendable, CaseIterable {
        /// The lock daemon holds it for the domain.
        case held
        /// The daemon went away; the domain's supervisor is taking it back.
        case recovering
        /// It could not be taken back; `<on_lockfailure>` applied.
        case lost
    }

    /// The holding domain's name (the owner's name for a holder that is not a domain of this URI).
    public var domain: String
    /// The holding domain's uuid.
    public var uuid: String
    /// A disk or a `<lease>`; nil when the holder is not a domain of this URI (then `name` is the daemon's label).
    public var kind: Kind?
    /// The disk's path as the definition gives it, or the lease's key.
    public var name: String
    /// `shared` or `exclusive`.
    public var exclusive: Bool
    /// Where it stands.
    public var state: State
    /// The lockspace directory; empty for the direct lockspace (the disk itself is locked).
    public var lockspace: String
    /// The file that carries the lock (`lslocks` shows it).
    public var lockFile: String
    /// Why a lost lease was lost (its holder named when known).
    public var error: String?

    public init(
        domain: String, uuid: String, kind: Kind?, name: String, exclusive: Bool, state: State, lockspace: String,
        lockFile: String, error: String? = nil
    ) {
        self.domain = domain
        self.uuid = uuid
        self.kind = kind
        self.name = name
        self.exclusive = exclusive
        self.state = state
        self.lockspace = lockspace
        self.lockFile = lockFile
        self.error = error
    }

    /// `shared` or `exclusive`.
    public var modeName: String { exclusive ? "exclusive" : "shared" }
}

extension Driver {
    /// The leases a running domain holds (none when inactive); drivers without a lock manager say so.
    public func domainLeases(_ uuid: UUID) throws -> [DomainLeaseInfo] {
        throw VirtError(.noSupport, .domain, "virDomainGetLeases")
    }

    /// Every lease the host's lock daemon holds for this URI; drivers without a lock manager say so.
    public func hostLeases() throws -> [DomainLeaseInfo] {
        throw VirtError(.noSupport, .connection, "virConnectListLeases")
    }
}

extension Connection {
    /// `domleases`: the leases of one domain.
    public func domainLeases(_ uuid: UUID) throws -> [DomainLeaseInfo] { try driver.domainLeases(uuid) }

    /// `leases`: every lease of the host's lock daemon.
    public func hostLeases() throws -> [DomainLeaseInfo] { try driver.hostLeases() }
}
