import Glibc
import VirtBase

/// A domain's leases, held by one open connection to virtlockd: they last exactly as long as the
/// connection (closing the session, or the holding process dying, releases them all).
public final class LeaseSession {
    /// The connection that holds the leases.
    public let connection: LockConnection
    /// The owner as the daemon recorded it.
    public let owner: LeaseOwner
    /// The resources asked for (for re-establishing after a daemon restart).
    public let resources: [LeaseResource]
    /// The leases as the daemon reported them when they were taken.
    public private(set) var leases: [LeaseRecord]

    init(connection: LockConnection, owner: LeaseOwner, resources: [LeaseResource], leases: [LeaseRecord]) {
        self.connection = connection
        self.owner = owner
        self.resources = resources
        self.leases = leases
    }

    /// Whether the daemon still holds the connection (false after a daemon death or `close`).
    public var isAlive: Bool { connection.isAlive }

    /// The descriptor to watch (readable or hung up = the daemon went away).
    public var fileDescriptor: Int32 { connection.fd }

    /// Releases everything and closes the connection.
    public func close() { connection.close() }

    /// Releases every lease one by one, waiting for the daemon to confirm each, so the resources are free
    /// when the call returns (closing alone frees them only once the daemon gets to the disconnect).
    public func releaseAll() {
        for lease in (try? currentLeases()) ?? leases {
            _ = try? connection.call(.release, LockParams(lockspace: lease.lockspace, resource: lease.resource))
        }
        leases.removeAll()
    }

    /// Releases one resource (e.g. on disk unplug).
    public func release(_ resource: LeaseResource) throws(VirtError) {
        do throws(LockCallError) {
            _ = try connection.call(.release, LockParams(lockspace: resource.lockspace, resource: resource.name))
            leases.removeAll { $0.lockspace == resource.lockspace && $0.resource == resource.name }
        } catch {
            throw error.virtError
        }
    }

    /// Takes one more resource on this session (e.g. on disk hot-plug).
    public func acquire(_ resource: LeaseResource) throws(VirtError) {
        do throws(LockCallError) {
            if !resource.lockspace.isEmpty {
                _ = try connection.call(.addLockspace, LockParams(lockspace: resource.lockspace))
            }
            let result = try connection.call(
                .acquire,
                LockParams(
                    lockspace: resource.lockspace, resource: resource.name, mode: resource.mode, label: resource.label))
            if let lease = result.lease { leases.append(lease) }
        } catch {
            throw error.virtError
        }
    }

    /// The leases the daemon currently records for this session.
    public func currentLeases() throws(VirtError) -> [LeaseRecord] {
        do throws(LockCallError) {
            return try connection.call(.list).leases ?? []
        } catch {
            throw error.virtError
        }
    }

    /// After the daemon went away: a new session for the same owner and resources through `client`
    /// (which starts a new daemon on demand), taken back with `reclaim`, which a fresh daemon allows while
    /// it still refuses newcomers. Throws, naming the holder, when another owner took a resource in between
    /// (then nothing is held).
    public func reestablish(using client: LeaseClient) throws(VirtError) -> LeaseSession {
        connection.close()
        let reclaimed = try client.reclaim(owner: owner, resources: resources)
        if let failure = resources.lazy.compactMap({ reclaimed.failures[$0] }).first {
            reclaimed.session.close()
            throw failure.virtError
        }
        return reclaimed.session
    }
}
