import CVirtShims
import Glibc
import Locking
import Synchronization
import VirtBase

/// virtlockd's server: one worker thread serves every connection from one level-triggered epoll set; the lock
/// table sits behind a mutex (the signal thread reads it too). A gate lets the SIGUSR1 re-exec wait for the
/// request in flight and hold new ones back, so the state it writes is exact.
final class LockServer: @unchecked Sendable {
    /// epoll token of the listening socket; clients use their id (ids start above it).
    private static let listenToken: UInt64 = 0
    /// Events taken per epoll_wait.
    private static let eventBatch: Int32 = 16
    /// How long the worker polls for the next request before it sleeps (`cvirt_epoll_spin`): a client's release
    /// usually follows its acquire within microseconds. It yields the CPU between polls, so the clients it waits
    /// for are not starved.
    private static let spinNanoseconds = 50_000

    let log: DaemonLog
    let config: VirtlockdConfig
    let paths: LockdPaths
    let listenFD: Int32
    let pidFileFD: Int32
    let pidFilePath: String
    let socketActivated: Bool
    let restarts: Int
    private let epollFD: Int32
    private let table: Mutex<LockTable>
    private let clients = Mutex<[UInt64: ClientConnection]>([:])
    private let nextID = Atomic<UInt64>(1)
    private let pausing = Atomic<Bool>(false)
    private let inFlight = Atomic<Int>(0)
    private let peerUIDAllowed: (uid_t) -> Bool
    /// Set once the journal is open (`openJournal`).
    private var journal: OwnerJournal?

    init(
        config: VirtlockdConfig, paths: LockdPaths, listenFD: Int32, pidFileFD: Int32, pidFilePath: String,
        socketActivated: Bool,
        restarts: Int, log: DaemonLog
    ) throws(VirtError) {
        self.config = config
        self.paths = paths
        self.listenFD = listenFD
        self.pidFileFD = pidFileFD
        self.pidFilePath = pidFilePath
        self.socketActivated = socketActivated
        self.restarts = restarts
        self.log = log
        var initial = LockTable(hostName: config.hostName)
        initial.orphanGraceNanoseconds = UInt64(config.reclaimTimeout) * 1_000_000_000
        table = Mutex(initial)
        let uid = geteuid()
        // A root daemon serves root only; an unprivileged daemon serves its own user only.
        peerUIDAllowed = { peer in peer == uid }
        epollFD = cvirt_epoll_create()
        guard epollFD >= 0 else { throw Posix.failure("cannot create the epoll set") }
        try Posix.setNonBlocking(listenFD, true)
        guard cvirt_epoll_control(epollFD, 0, listenFD, Self.listenToken) == 0 else {
            throw Posix.failure("cannot watch the listening socket")
        }
    }

    /// Opens the owner journal. A fresh daemon first replays the journal its predecessor left: the owners
    /// that still run get `reclaimTimeout` seconds to take their leases back before anyone else may acquire.
    func openJournal(fresh: Bool, reclaimTimeout: Int) {
        let path = paths.ownerJournalPath
        if fresh {
            let pending = OwnerJournal.pendingOwners(path: path, log: log)
            if !pending.isEmpty {
                let deadline = Posix.monotonicNanoseconds() + UInt64(reclaimTimeout) * 1_000_000_000
                table.withLock { $0.beginRecovery(LeaseRecovery(pending: pending, deadlineNanoseconds: deadline)) }
                let names = pending.map { "'\($0.owner.name)' (pid \($0.peer.pid))" }.joined(separator: ", ")
                log.warning(
                    "the previous daemon ended while \(pending.count) owners held connections: waiting up to "
                        + "\(reclaimTimeout) s for \(names) to take their leases back before anyone else may acquire")
            }
            journal = OwnerJournal(path: path, entries: pending, log: log)
        } else {
            let entries = table.withLock { table in
                table.clients.values.compactMap { client in
                    client.peer.flatMap { peer in client.owner.map { PendingOwner(peer: peer, owner: $0) } }
                } + (table.recovery?.pending ?? [])
            }
            journal = OwnerJournal(path: path, entries: entries, log: log)
        }
    }

    /// Journals and logs what the table did (call with the table unlocked).
    private func record(_ events: [LockTableEvent]) {
        guard !events.isEmpty else { return }
        journal?.record(events)
        for event in events {
            switch event {
            case .settled(let pending):
                log.info("domain '\(pending.owner.name)' (pid \(pending.peer.pid)) took its leases back")
            case .gone(let pending):
                log.info(
                    "domain '\(pending.owner.name)' (pid \(pending.peer.pid)) ended without taking its leases back")
            case .expired(let pending):
                let names = pending.map { "'\($0.owner.name)' (pid \($0.peer.pid))" }.joined(separator: ", ")
                log.warning("lease recovery period over; never came back: \(names)")
            case .tookOver(let holder, let label):
                log.warning(
                    "\(label): taken over from domain '\(holder.name)' on host '\(holder.host ?? "?")', whose lock daemon "
                        + "went away and which did not take it back")
            case .registered, .unregistered:
                continue
            }
        }
    }

    /// Connected clients.
    var clientCount: Int { clients.withLock { $0.count } }

    /// Whether the grace period after a fresh start is still running (the table ends it lazily).
    var isRecovering: Bool {
        let events = table.withLock { table -> [LockTableEvent] in
            _ = table.recoveryBlocker(now: Posix.monotonicNanoseconds())
            return table.drainEvents()
        }
        record(events)
        return table.withLock { $0.recovery != nil }
    }

    /// Whether this image adopted a previous image's state (re-exec).
    private(set) var adopted = false

    /// Re-adopts the connections of a previous image (re-exec).
    func adopt(_ state: RestartState) throws(VirtError) {
        adopted = true
        for saved in state.clients {
            let id = nextID.add(1, ordering: .relaxed).oldValue
            let client = ClientConnection(id: id, fd: saved.fd)
            saved.pending.withUnsafeBytes { client.splitter.append($0) }
            table.withLock { $0.adopt(id, saved.state) }
            clients.withLock { $0[id] = client }
            try Posix.setNonBlocking(saved.fd, true)
            guard cvirt_epoll_control(epollFD, 0, saved.fd, id) == 0 else {
                throw Posix.failure("cannot watch an adopted client connection")
            }
        }
        for fd in state.descriptors { try Posix.setCloseOnExec(fd, true) }
        table.withLock { $0.adopt(recovery: state.recovery) }
        let leases = table.withLock { $0.leaseCount }
        log.info("re-exec complete: adopted \(state.clients.count) clients holding \(leases) leases")
    }

    /// Starts the worker thread. One only: every request takes the lock table's mutex, so a second worker adds no
    /// parallelism, only contention on that mutex and more thread wake-ups (measured with benchmarks/bench-lock.sh
    /// on two CPUs: 16 clients made 31,000-35,000 pairs/s with one worker, 25,600-29,800 with two; docs/locking.md).
    /// The epoll set is level-triggered for that reason too: nothing to re-arm after each request.
    func startWorker() {
        DetachedThread.start { [self] in workerLoop() }
    }

    private func workerLoop() {
        var buffer = [UInt8](repeating: 0, count: 65536)
        var tokens = [UInt64](repeating: 0, count: Int(Self.eventBatch))
        var hangups = [Int32](repeating: 0, count: Int(Self.eventBatch))
        while true {
            var count = cvirt_epoll_spin(epollFD, &tokens, &hangups, Self.eventBatch, Self.spinNanoseconds)
            if count == 0 { count = cvirt_epoll_wait(epollFD, &tokens, &hangups, Self.eventBatch, -1) }
            if count < 0 {
                if errno == EINTR { continue }
                log.error("epoll_wait failed: \(Posix.describe(errno))")
                return
            }
            for index in 0..<Int(count) {
                enterGate()
                if tokens[index] == Self.listenToken {
                    acceptClients()
                } else {
                    serve(tokens[index], buffer: &buffer)
                }
                inFlight.subtract(1, ordering: .sequentiallyConsistent)
            }
        }
    }

    private func enterGate() {
        while true {
            inFlight.add(1, ordering: .sequentiallyConsistent)
            guard pausing.load(ordering: .sequentiallyConsistent) else { return }
            inFlight.subtract(1, ordering: .sequentiallyConsistent)
            while pausing.load(ordering: .sequentiallyConsistent) { usleep(1000) }
        }
    }

    private func acceptClients() {
        while true {
            let fd = cvirt_accept_nonblock(listenFD)
            if fd < 0 {
                if errno == EINTR { continue }
                if errno != EAGAIN { log.warning("accept failed: \(Posix.describe(errno))") }
                return
            }
            let id = nextID.add(1, ordering: .relaxed).oldValue
            let client = ClientConnection(id: id, fd: fd)
            guard let peer = try? UnixSocket.peerCredentials(fd), peerUIDAllowed(peer.uid) else {
                let uid = (try? UnixSocket.peerCredentials(fd).uid).map { String($0) } ?? "unknown"
                log.warning("Disallowing client \(id) with uid \(uid)")
                _ = client.send(
                    LockDispatch.frame(
                        LockDispatch.failure(
                            nil, LockProtocol.ErrorCode.permissionDenied,
                            "operation forbidden: this lock daemon (uid \(geteuid())) serves uid \(geteuid()) only, not uid \(uid)"
                        )))
                close(fd)
                continue
            }
            let admitted = clients.withLock { clients -> Bool in
                guard clients.count < config.maxClients else { return false }
                clients[id] = client
                return true
            }
            guard admitted else {
                log.warning("refusing client pid \(peer.pid): max_clients (\(config.maxClients)) reached")
                _ = client.send(
                    LockDispatch.frame(
                        LockDispatch.failure(
                            nil, LockProtocol.ErrorCode.tooManyClients,
                            "the lock daemon already serves max_clients = \(config.maxClients) connections")))
                close(fd)
                continue
            }
            table.withLock { $0.connect(id, peerPID: peer.pid) }
            log.debug("client \(id) connected (pid \(peer.pid), uid \(peer.uid))")
            guard cvirt_epoll_control(epollFD, 0, fd, id) == 0 else {
                log.error("cannot watch client \(id): \(Posix.describe(errno))")
                drop(client)
                continue
            }
        }
    }

    private func serve(_ id: UInt64, buffer: inout [UInt8]) {
        guard let client = clients.withLock({ $0[id] }) else { return }
        while true {
            let got = buffer.withUnsafeMutableBytes { recv(client.fd, $0.baseAddress, $0.count, 0) }
            if got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR) {
                drop(client)
                return
            }
            if got < 0 {
                if errno == EINTR { continue }
                break
            }
            buffer.withUnsafeBytes { client.splitter.append(UnsafeRawBufferPointer(rebasing: $0[0..<got])) }
            guard process(client) else {
                drop(client)
                return
            }
            if got < buffer.count { break }
        }
    }

    /// Answers every complete frame; false when the connection must close (malformed or oversized
    /// frame, unwritable socket).
    private func process(_ client: ClientConnection) -> Bool {
        while true {
            let payload: [UInt8]
            do {
                guard let next = try client.splitter.next() else { return true }
                payload = next
            } catch {
                log.warning("client \(client.id): \(error.message); closing the connection")
                _ = client.send(LockDispatch.frame(LockReply(id: nil, error: error)))
                return false
            }
            switch LockDispatch.parse(payload) {
            case .reject(let reply):
                guard client.send(LockDispatch.frame(reply)) else { return false }
                if reply.error?.code == LockProtocol.ErrorCode.malformedFrame {
                    log.warning("client \(client.id): \(reply.error?.message ?? ""); closing the connection")
                    return false
                }
            case .call(let call):
                let (reply, events) = table.withLock { table in
                    let reply = LockDispatch.perform(call, client: client.id, table: &table) { table in
                        self.status(table)
                    }
                    return (reply, table.drainEvents())
                }
                record(events)
                if let error = reply.error {
                    log.debug("client \(client.id) \(call.method.rawValue): \(error.message)")
                }
                guard client.send(LockDispatch.frame(reply)) else { return false }
            }
        }
    }

    private func status(_ table: LockTable) -> LockDaemonStatus {
        LockDaemonStatus(
            version: LockProtocol.version, pid: getpid(), host: config.hostName, clients: table.clients.count,
            owners: table.ownerCount, leases: table.leaseCount, restarts: restarts,
            recovering: table.recovery?.pending.count ?? 0)
    }

    /// Closes a client and ends its leases.
    private func drop(_ client: ClientConnection) {
        _ = cvirt_epoll_control(epollFD, 2, client.fd, 0)
        let (held, events) = table.withLock { table -> (Int, [LockTableEvent]) in
            let count = table.clients[client.id]?.leases.count ?? 0
            table.disconnect(client.id)
            return (count, table.drainEvents())
        }
        record(events)
        clients.withLock { _ = $0.removeValue(forKey: client.id) }
        close(client.fd)
        log.debug("client \(client.id) disconnected; released \(held) leases")
    }

    /// SIGUSR1: stop serving, hand everything to a new image of this executable, keep every lock.
    /// Returns only when the exec failed (then the daemon carries on).
    func reexec(arguments: [String]) {
        pausing.store(true, ordering: .sequentiallyConsistent)
        while inFlight.load(ordering: .sequentiallyConsistent) != 0 { usleep(100) }
        let connections = clients.withLock { Array($0.values) }
        let saved: [RestartState.Client] = table.withLock { table in
            var saved: [RestartState.Client] = []
            for client in connections {
                guard let state = table.clients[client.id] else { continue }
                saved.append(RestartState.Client(fd: client.fd, state: state, pending: client.splitter.pending))
            }
            return saved
        }
        let state = RestartState(
            magic: getpid(), listenFD: listenFD, pidFileFD: pidFileFD, socketActivated: socketActivated,
            restarts: restarts + 1, clients: saved, recovery: table.withLock { $0.recovery })
        do {
            for fd in state.descriptors { try Posix.setCloseOnExec(fd, false) }
            try state.write(to: paths.restartStatePath)
            log.info("re-executing with \(state.clients.count) clients and their leases")
            var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
            argv.append(nil)
            execve("/proc/self/exe", &argv, environ)
            let error = Posix.failure("cannot re-execute '/proc/self/exe'")
            for pointer in argv { free(pointer) }
            throw error
        } catch {
            log.error("re-exec failed, carrying on: \(error)")
            unlink(paths.restartStatePath)
            for fd in state.descriptors { try? Posix.setCloseOnExec(fd, true) }
            pausing.store(false, ordering: .sequentiallyConsistent)
        }
    }

    /// SIGTERM: stop; the kernel drops every lock as the descriptors close.
    func shutdown() {
        pausing.store(true, ordering: .sequentiallyConsistent)
        while inFlight.load(ordering: .sequentiallyConsistent) != 0 { usleep(100) }
        let (owners, leases) = table.withLock { ($0.ownerCount, $0.leaseCount) }
        if leases > 0 { log.warning("stopping with \(leases) leases of \(owners) owners: they are released") }
        if !socketActivated { unlink(paths.socketPath) }
        unlink(pidFilePath)
        log.info("virtlockd stopped")
    }
}
