import Glibc
import VirtBase

/// Turns request payloads into table operations and replies. Decoding and encoding happen outside
/// the table's mutex (`parse`, `reply`); only `perform` needs the table.
public enum LockDispatch {
    /// A request that passed the envelope checks.
    public struct Call: Sendable {
        /// The request id.
        public var id: Int
        /// The method.
        public var method: LockProtocol.Method
        /// The parameters ({} when absent).
        public var params: LockParams
    }

    /// A checked request, or the error reply that answers a bad one.
    public enum Parsed: Sendable {
        /// A request to perform.
        case call(Call)
        /// The reply to send instead.
        case reject(LockReply)
    }

    /// Checks the envelope: JSON object, id, version, known method. The failure carries the request id
    /// when one could be read, so it can be answered.
    public static func parse(_ payload: [UInt8]) -> Parsed {
        let request: LockRequest
        do {
            request = try LockWire.decode(LockRequest.self, payload)
        } catch {
            return .reject(LockReply(id: nil, error: error))
        }
        guard let id = request.id else {
            return .reject(failure(nil, LockProtocol.ErrorCode.malformedFrame, "malformed frame: no request 'id'"))
        }
        guard let version = request.version else {
            return .reject(failure(id, LockProtocol.ErrorCode.malformedFrame, "malformed frame: no 'version'"))
        }
        guard version == LockProtocol.version else {
            return .reject(
                failure(
                    id, LockProtocol.ErrorCode.unsupportedVersion,
                    "protocol version \(version) is not supported; this daemon speaks version \(LockProtocol.version)"))
        }
        guard let name = request.method, let method = LockProtocol.Method(rawValue: name) else {
            let known = LockProtocol.Method.allCases.map(\.rawValue).joined(separator: ", ")
            return .reject(
                failure(
                    id, LockProtocol.ErrorCode.unknownMethod,
                    "unknown method '\(request.method ?? "")' (known: \(known))"))
        }
        return .call(Call(id: id, method: method, params: request.params ?? LockParams()))
    }

    /// Runs `call` for connection `client` against `table`.
    public static func perform(
        _ call: Call, client: UInt64, table: inout LockTable, status: (LockTable) -> LockDaemonStatus
    ) -> LockReply {
        do throws(LockWireError) {
            let params = call.params
            switch call.method {
            case .register:
                guard let owner = params.owner else { throw invalid("register needs 'owner' {uuid, name, pid}") }
                return LockReply(id: call.id, result: LockResult(owner: try table.register(client, owner)))
            case .addLockspace:
                guard let directory = params.lockspace, directory.hasPrefix("/"), !directory.contains("\0") else {
                    throw invalid("add_lockspace needs 'lockspace', an absolute directory path")
                }
                try createLockspace(directory)
                return LockReply(id: call.id, result: LockResult())
            case .acquire:
                let key = try key(params)
                let now = Posix.monotonicNanoseconds()
                if let pending = table.recoveryBlocker(now: now), let recovery = table.recovery {
                    let left = Int((recovery.deadlineNanoseconds - now + 999_999_999) / 1_000_000_000)
                    let label = params.label.flatMap { $0.isEmpty ? nil : $0 } ?? key.path
                    throw LockWireError(
                        code: LockProtocol.ErrorCode.leaseRecovery,
                        message: LockTable.recoveryMessage(label, waitingFor: pending, secondsLeft: left),
                        holder: pending.owner)
                }
                let lease = try table.acquire(client, key: key, mode: params.mode ?? .exclusive, label: params.label)
                return LockReply(id: call.id, result: LockResult(lease: lease))
            case .reclaim:
                guard let owner = params.owner else { throw invalid("reclaim needs 'owner' {uuid, name, pid}") }
                for claim in params.claims ?? [] { try LockTable.check(claim.key) }
                for lockspace in Set((params.claims ?? []).map(\.lockspace)) where !lockspace.isEmpty {
                    try createLockspace(lockspace)
                }
                let result = try table.reclaim(client, owner: owner, claims: params.claims ?? [])
                return LockReply(id: call.id, result: result)
            case .release:
                try table.release(client, key: try key(params))
                return LockReply(id: call.id, result: LockResult())
            case .list:
                return LockReply(
                    id: call.id, result: LockResult(leases: try table.list(client, all: params.all ?? false)))
            case .status:
                return LockReply(id: call.id, result: LockResult(status: status(table)))
            }
        } catch {
            return LockReply(id: call.id, error: error)
        }
    }

    /// The framed reply. A reply past the frame limit (a `list` of tens of thousands of leases) becomes
    /// an error reply that says so.
    public static func frame(_ reply: LockReply) -> [UInt8] {
        if let bytes = try? LockWire.encode(reply) { return bytes }
        let count = reply.result?.leases?.count
        let fallback = LockReply(
            id: reply.id,
            error: LockWireError(
                code: LockProtocol.ErrorCode.systemError,
                message: count.map {
                    "the list of \($0) leases does not fit one 1 MiB frame; list one owner's leases instead"
                }
                    ?? "the reply does not fit one 1 MiB frame"))
        return (try? LockWire.encode(fallback)) ?? []
    }

    /// An error reply.
    public static func failure(_ id: Int?, _ code: String, _ message: String) -> LockReply {
        LockReply(id: id, error: LockWireError(code: code, message: message))
    }

    private static func key(_ params: LockParams) throws(LockWireError) -> LeaseKey {
        guard let resource = params.resource else { throw invalid("missing 'resource'") }
        return LeaseKey(lockspace: params.lockspace ?? "", resource: resource)
    }

    private static func invalid(_ message: String) -> LockWireError {
        LockWireError(code: LockProtocol.ErrorCode.invalidParams, message: message)
    }

    private static func createLockspace(_ directory: String) throws(LockWireError) {
        do {
            try Posix.makeDirectories(directory, mode: 0o700)
        } catch {
            throw LockWireError(code: LockProtocol.ErrorCode.systemError, message: error.description)
        }
        var info = stat()
        guard stat(directory, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw invalid("lockspace '\(directory)' is not a directory")
        }
    }
}
