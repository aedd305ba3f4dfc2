import CVirtShims
import Glibc
import VirtBase

/// The client side of virtlockd for the domain's supervisor and the driver: connects to the URI
/// root's daemon (starting one when none listens), and takes a domain's leases all or none.
public struct LeaseClient: Sendable {
    /// The URI root's directories.
    public var paths: LockdPaths
    /// The `virtlockd` to start when none listens; nil = never start one.
    public var daemonExecutable: String?
    /// How long to wait for a daemon to accept the connection, in milliseconds.
    public var connectTimeoutMs: Int
    /// How long `acquire` keeps retrying while a freshly started daemon waits for the owners of its
    /// predecessor to take their leases back (`lease-recovery`), in milliseconds; 0 fails at once.
    public var recoveryWaitMs: Int
    /// The idle timeout given to a daemon started on demand (`virtlockd --timeout`), in seconds.
    public static let onDemandIdleSeconds = 30

    /// A client for `paths`.
    public init(
        paths: LockdPaths, daemonExecutable: String? = LeaseClient.defaultDaemonExecutable(),
        connectTimeoutMs: Int = 5000, recoveryWaitMs: Int = 10_000
    ) {
        self.paths = paths
        self.daemonExecutable = daemonExecutable
        self.connectTimeoutMs = connectTimeoutMs
        self.recoveryWaitMs = recoveryWaitMs
    }

    /// `$SWIFT_VIRT_VIRTLOCKD`, else `virtlockd` beside the running executable, else the installed one.
    public static func defaultDaemonExecutable() -> String? {
        if let explicit = getenv("SWIFT_VIRT_VIRTLOCKD").map({ String(cString: $0) }), !explicit.isEmpty {
            return explicit
        }
        var candidates: [String] = []
        if let exe = try? Posix.canonicalPath("/proc/self/exe"), let slash = exe.lastIndex(of: "/") {
            candidates.append(String(exe[..<slash]) + "/virtlockd")
        }
        candidates += [
            "/usr/local/sbin/virtlockd", "/usr/sbin/virtlockd", "/usr/local/bin/virtlockd", "/usr/bin/virtlockd",
        ]
        return candidates.first { access($0, X_OK) == 0 }
    }

    /// A connection to the daemon, starting it when nobody listens on the socket.
    public func connect() throws(VirtError) -> LockConnection {
        do {
            return LockConnection(
                fd: try UnixSocket.connect(path: paths.socketPath, timeoutMs: 0, waitForListener: false))
        } catch let error where error.errno == ENOENT || error.errno == ECONNREFUSED {
            guard let daemonExecutable else {
                throw VirtError(
                    .operationFailed, .locking,
                    "no lock daemon listens on '\(paths.socketPath)' and none can be started (virtlockd not found): "
                        + "install virtlockd, set SWIFT_VIRT_VIRTLOCKD, or set lock_manager = \"nop\" in kvm.conf "
                        + "to run without disk leases")
            }
            try startDaemon(daemonExecutable)
            return LockConnection(
                fd: try UnixSocket.connect(path: paths.socketPath, timeoutMs: connectTimeoutMs, waitForListener: true))
        }
    }

    /// Makes sure a daemon listens for this URI root, starting one on demand (the one path the driver
    /// and the supervisors share).
    public func ensureDaemon() throws(VirtError) {
        try connect().close()
    }

    /// Registers `owner` on a new connection and takes every resource; on any refusal nothing is held
    /// (the connection is closed, which releases what was taken) and the error names the resource and,
    /// where known, its holder: `resource busy: disk '/srv/a.img' is leased by domain 'web2' (uuid …) on host 'b'`.
    /// While a freshly started daemon waits for its predecessor's owners (`lease-recovery`), the call waits
    /// up to `recoveryWaitMs` and tries again; a daemon that went away as it was reached (an idle on-demand
    /// daemon exiting) is replaced once.
    public func acquire(owner: LeaseOwner, resources: [LeaseResource]) throws(VirtError) -> LeaseSession {
        let deadline = Posix.monotonicNanoseconds() + UInt64(max(recoveryWaitMs, 0)) * 1_000_000
        var reconnected = false
        while true {
            do throws(AcquireFailure) {
                return try acquireOnce(owner: owner, resources: resources)
            } catch {
                switch error {
                case .daemonGone(let failure):
                    guard !reconnected else { throw failure }
                    reconnected = true
                case .refused(let failure, let code):
                    guard code == LockProtocol.ErrorCode.leaseRecovery, Posix.monotonicNanoseconds() < deadline else {
                        throw failure
                    }
                    usleep(50_000)
                }
            }
        }
    }

    private enum AcquireFailure: Error {
        /// The connection broke before anything was taken.
        case daemonGone(VirtError)
        /// The daemon refused, or the connection broke later.
        case refused(VirtError, code: String?)
    }

    private func acquireOnce(owner: LeaseOwner, resources: [LeaseResource]) throws(AcquireFailure) -> LeaseSession {
        let connection: LockConnection
        do {
            connection = try connect()
        } catch {
            throw .refused(error, code: nil)
        }
        var taken: [LeaseResource] = []
        do throws(LockCallError) {
            let recorded = try connection.call(.register, LockParams(owner: owner)).owner ?? owner
            var lockspaces: Set<String> = []
            var leases: [LeaseRecord] = []
            for resource in resources {
                if !resource.lockspace.isEmpty && lockspaces.insert(resource.lockspace).inserted {
                    _ = try connection.call(.addLockspace, LockParams(lockspace: resource.lockspace))
                }
                let result = try connection.call(
                    .acquire,
                    LockParams(
                        lockspace: resource.lockspace, resource: resource.name, mode: resource.mode,
                        label: resource.label))
                taken.append(resource)
                if let lease = result.lease { leases.append(lease) }
            }
            return LeaseSession(connection: connection, owner: recorded, resources: resources, leases: leases)
        } catch {
            // All or none: give back what this call took and wait for the daemon to confirm, so the resources
            // are free when the error reaches the caller (closing alone releases them only when the daemon gets
            // to the disconnect).
            for resource in taken.reversed() {
                _ = try? connection.call(.release, LockParams(lockspace: resource.lockspace, resource: resource.name))
            }
            connection.close()
            switch error {
            case .connection(let failure) where taken.isEmpty: throw .daemonGone(failure)
            case .daemon(let refusal): throw .refused(error.virtError, code: refusal.code)
            default: throw .refused(error.virtError, code: nil)
            }
        }
    }

    /// After the daemon that held `owner`'s leases went away: connects (starting a daemon on demand) and
    /// takes back every resource it can with one `reclaim` call. The session holds what was taken back;
    /// `failures` says, per resource, why the others could not be (the holder named when known).
    public func reclaim(owner: LeaseOwner, resources: [LeaseResource]) throws(VirtError) -> LeaseReclaim {
        let connection = try connect()
        do throws(LockCallError) {
            let result = try connection.call(.reclaim, LockParams(owner: owner, claims: resources))
            var failures: [LeaseResource: LockWireError] = [:]
            for failure in result.failures ?? [] {
                if let resource = resources.first(where: {
                    $0.lockspace == failure.lockspace && $0.name == failure.resource
                }) {
                    failures[resource] = failure.error
                }
            }
            let session = LeaseSession(
                connection: connection, owner: result.owner ?? owner, resources: resources,
                leases: result.leases ?? [])
            return LeaseReclaim(session: session, failures: failures)
        } catch {
            connection.close()
            throw error.virtError
        }
    }

    /// The daemon's status (starts no daemon).
    public func status() throws(VirtError) -> LockDaemonStatus {
        let connection = LockConnection(
            fd: try UnixSocket.connect(path: paths.socketPath, timeoutMs: 0, waitForListener: false))
        do throws(LockCallError) {
            guard let status = try connection.call(.status).status else {
                throw .connection(VirtError(.internalError, .rpc, "the lock daemon's status reply carries no status"))
            }
            return status
        } catch {
            throw error.virtError
        }
    }

    /// Every lease the daemon holds, of every owner (starts no daemon).
    public func allLeases() throws(VirtError) -> [LeaseRecord] {
        let connection = LockConnection(
            fd: try UnixSocket.connect(path: paths.socketPath, timeoutMs: 0, waitForListener: false))
        do throws(LockCallError) {
            return try connection.call(.list, LockParams(all: true)).leases ?? []
        } catch {
            throw error.virtError
        }
    }

    /// Starts `virtlockd --daemon` for this URI root and waits until it is ready (or another daemon
    /// won the race to start).
    private func startDaemon(_ executable: String) throws(VirtError) {
        let arguments = [
            executable, "--daemon", "--config-dir", paths.configDirectory, "--run-dir", paths.runDirectory,
            "--timeout", String(Self.onDemandIdleSeconds),
        ]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        defer { for pointer in argv { free(pointer) } }
        let pid = cvirt_spawn_session(executable, &argv, environ)
        guard pid > 0 else { throw Posix.failure("cannot start the lock daemon '\(executable)'") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = status & 0x7f == 0
        let code = (status >> 8) & 0xff
        guard exited && code == 0 else {
            throw VirtError(
                .operationFailed, .locking,
                "the lock daemon '\(executable)' failed to start (exit status \(code)); "
                    + "see its log or run it with --verbose in the foreground")
        }
    }
}

/// What `LeaseClient.reclaim` got back.
public struct LeaseReclaim {
    /// The new session, holding every resource that was taken back.
    public var session: LeaseSession
    /// The resources that could not be taken back, with the daemon's reason.
    public var failures: [LeaseResource: LockWireError]
}
