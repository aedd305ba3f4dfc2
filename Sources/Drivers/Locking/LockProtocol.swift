import VirtBase

/// The lock daemon's versioned wire protocol (version 1): the methods, their parameters and results.
///
/// Every request is `{"version":1,"id":N,"method":"…","params":{…}}` and every reply
/// `{"id":N,"result":{…}}` or `{"id":N,"error":{"code":"…","message":"…"}}` (docs/locking.md has
/// example frames). Parameters and results are single "superset" objects whose members are optional,
/// so one JSON pass decodes any request or reply.
public enum LockProtocol {
    /// The protocol version this build speaks.
    public static let version = 1

    /// The methods a client may call.
    public enum Method: String, Codable, Sendable, CaseIterable {
        /// Names the owner (the domain) of everything this connection will hold. Must come first.
        case register
        /// Creates (0700) or checks an indirect lockspace directory.
        case addLockspace = "add_lockspace"
        /// Takes one resource, shared or exclusive.
        case acquire
        /// Gives one resource back.
        case release
        /// Lists the leases of this connection, or with `all` of every owner.
        case list
        /// The daemon's identity and counters.
        case status
        /// After the daemon that held them went away: registers the owner and takes back every lease it
        /// names, keeping those it can and reporting the others (not all or none). Allowed while the
        /// daemon waits for previous owners to come back (`lease-recovery`), which plain acquires are not.
        case reclaim
    }

    /// Error codes carried in `error.code`.
    public enum ErrorCode {
        /// The frame is not a JSON request (or not an object of the expected shape).
        public static let malformedFrame = "malformed-frame"
        /// The length prefix passes the 1 MiB limit.
        public static let frameTooLarge = "frame-too-large"
        /// No such method.
        public static let unknownMethod = "unknown-method"
        /// The request's version is not ours.
        public static let unsupportedVersion = "unsupported-version"
        /// A parameter is missing or wrong.
        public static let invalidParams = "invalid-params"
        /// The peer's uid may not use this daemon.
        public static let permissionDenied = "permission-denied"
        /// `register` has not been called on this connection.
        public static let notRegistered = "not-registered"
        /// Someone else holds the resource.
        public static let resourceBusy = "resource-busy"
        /// The daemon already serves `max_clients` connections.
        public static let tooManyClients = "too-many-clients"
        /// A system call failed (the message names it).
        public static let systemError = "system-error"
        /// The daemon was started while owners of an earlier daemon may still take their leases back;
        /// acquires wait until they have (or the grace period ends). Retry shortly.
        public static let leaseRecovery = "lease-recovery"
    }
}

/// How a resource is held.
public enum LeaseMode: String, Codable, Sendable, Equatable {
    /// A read lock: any number of shared holders (`<shareable/>` disks).
    case shared
    /// A write lock: one holder (writable disks, `<lease>` keys).
    case exclusive
}

/// Who holds leases: a domain, named by uuid and name, and the process that keeps the connection.
public struct LeaseOwner: Codable, Sendable, Equatable {
    /// The domain's uuid.
    public var uuid: String
    /// The domain's name.
    public var name: String
    /// The pid of the process holding the connection (the domain's supervisor).
    public var pid: Int32
    /// The host the owner runs on; the daemon fills in its own host name when absent.
    public var host: String?

    /// An owner.
    public init(uuid: String, name: String, pid: Int32, host: String? = nil) {
        self.uuid = uuid
        self.name = name
        self.pid = pid
        self.host = host
    }
}

/// One lease as the daemon reports it.
public struct LeaseRecord: Codable, Sendable, Equatable {
    /// The lockspace directory, empty for the direct lockspace.
    public var lockspace: String
    /// The resource name: the disk path (direct) or the lease file's name in the lockspace.
    public var resource: String
    /// What people call it, e.g. `disk '/srv/a.img'`.
    public var label: String
    /// Shared or exclusive.
    public var mode: LeaseMode
    /// Who holds it.
    public var owner: LeaseOwner
}

/// The daemon's answer to `status`.
public struct LockDaemonStatus: Codable, Sendable, Equatable {
    /// The protocol version.
    public var version: Int
    /// The daemon's pid.
    public var pid: Int32
    /// The daemon's host name (from virtlockd.conf, else the hostname).
    public var host: String
    /// Connected clients.
    public var clients: Int
    /// Registered owners.
    public var owners: Int
    /// Leases held.
    public var leases: Int
    /// How many times the daemon re-executed itself (SIGUSR1) since it was started.
    public var restarts: Int
    /// Owners of an earlier daemon that may still take their leases back (0 outside the grace period).
    public var recovering: Int

    /// A status.
    public init(
        version: Int, pid: Int32, host: String, clients: Int, owners: Int, leases: Int, restarts: Int,
        recovering: Int = 0
    ) {
        self.version = version
        self.pid = pid
        self.host = host
        self.clients = clients
        self.owners = owners
        self.leases = leases
        self.restarts = restarts
        self.recovering = recovering
    }
}

/// The `params` object of any request; each method reads the members it needs.
public struct LockParams: Codable, Sendable, Equatable {
    /// `register`: the owner.
    public var owner: LeaseOwner?
    /// `add_lockspace`, `acquire`, `release`: the lockspace directory ("" = direct).
    public var lockspace: String?
    /// `acquire`, `release`: the resource name.
    public var resource: String?
    /// `acquire`: how to hold it (exclusive when absent).
    public var mode: LeaseMode?
    /// `acquire`: what to call the resource in messages and listings.
    public var label: String?
    /// `list`: every owner's leases instead of this connection's.
    public var all: Bool?
    /// `reclaim`: the leases to take back.
    public var claims: [LeaseResource]?

    /// Parameters; unset members are omitted on the wire.
    public init(
        owner: LeaseOwner? = nil, lockspace: String? = nil, resource: String? = nil, mode: LeaseMode? = nil,
        label: String? = nil, all: Bool? = nil, claims: [LeaseResource]? = nil
    ) {
        self.owner = owner
        self.lockspace = lockspace
        self.resource = resource
        self.mode = mode
        self.label = label
        self.all = all
        self.claims = claims
    }
}

/// The `result` object of any reply.
public struct LockResult: Codable, Sendable, Equatable {
    /// `register`: the owner as recorded (host filled in).
    public var owner: LeaseOwner?
    /// `acquire`: the lease taken.
    public var lease: LeaseRecord?
    /// `list`: the leases.
    public var leases: [LeaseRecord]?
    /// `status`.
    public var status: LockDaemonStatus?
    /// `reclaim`: the leases that could not be taken back, each with its reason.
    public var failures: [LeaseClaimFailure]?

    /// A result; unset members are omitted on the wire.
    public init(
        owner: LeaseOwner? = nil, lease: LeaseRecord? = nil, leases: [LeaseRecord]? = nil,
        status: LockDaemonStatus? = nil, failures: [LeaseClaimFailure]? = nil
    ) {
        self.owner = owner
        self.lease = lease
        self.leases = leases
        self.status = status
        self.failures = failures
    }
}

/// A lease `reclaim` could not take back.
public struct LeaseClaimFailure: Codable, Sendable, Equatable {
    /// The lockspace directory, empty for the direct lockspace.
    public var lockspace: String
    /// The resource name.
    public var resource: String
    /// Why (`resource-busy` with the holder when someone else took it in between).
    public var error: LockWireError

    /// A failure.
    public init(lockspace: String, resource: String, error: LockWireError) {
        self.lockspace = lockspace
        self.resource = resource
        self.error = error
    }
}

/// The `error` object of a failed reply. `holder` names who holds a busy resource, when known.
public struct LockWireError: Codable, Sendable, Equatable, Error {
    /// One of `LockProtocol.ErrorCode`.
    public var code: String
    /// For people.
    public var message: String
    /// The holder of a busy resource, when it could be named.
    public var holder: LeaseOwner?

    /// An error.
    public init(code: String, message: String, holder: LeaseOwner? = nil) {
        self.code = code
        self.message = message
        self.holder = holder
    }

    /// The same failure as a `VirtError` of the locking domain.
    public var virtError: VirtError {
        let mapped: VirtError.Code =
            switch code {
            case LockProtocol.ErrorCode.resourceBusy, LockProtocol.ErrorCode.leaseRecovery: .resourceBusy
            case LockProtocol.ErrorCode.permissionDenied: .operationDenied
            case LockProtocol.ErrorCode.invalidParams: .invalidArgument
            case LockProtocol.ErrorCode.systemError: .systemError
            case LockProtocol.ErrorCode.notRegistered: .operationInvalid
            default: .operationFailed
            }
        return VirtError(mapped, .locking, message)
    }
}

/// A request envelope.
public struct LockRequest: Codable, Sendable, Equatable {
    /// The protocol version (1).
    public var version: Int?
    /// The request id echoed in the reply.
    public var id: Int?
    /// The method's name as sent (unknown names are answered with `unknown-method`).
    public var method: String?
    /// The parameters.
    public var params: LockParams?

    /// A request of this build's version.
    public init(id: Int, method: LockProtocol.Method, params: LockParams = LockParams()) {
        version = LockProtocol.version
        self.id = id
        self.method = method.rawValue
        self.params = params
    }
}

/// A reply envelope.
public struct LockReply: Codable, Sendable, Equatable {
    /// The id of the request answered; nil when it could not be read.
    public var id: Int?
    /// The result on success.
    public var result: LockResult?
    /// The error on failure.
    public var error: LockWireError?

    /// A reply.
    public init(id: Int?, result: LockResult? = nil, error: LockWireError? = nil) {
        self.id = id
        self.result = result
        self.error = error
    }

    private enum CodingKeys: String, CodingKey { case id, result, error }

    /// Encodes `id` even when nil (JSON null), as the architecture page's envelope requires.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encodeIfPresent(result, forKey: .result)
        try container.encodeIfPresent(error, forKey: .error)
    }
}
