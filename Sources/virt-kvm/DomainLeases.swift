import CVirtShims
import KVM
import Locking
import VirtBase

#if canImport(Glibc)
    import Glibc
#endif

/// The domain's leases, held by the supervisor's connection to virtlockd for the domain's whole life
/// (across hypervisor restarts) and dropped when the supervisor ends, however it ends (docs/locking.md).
///
/// A watcher thread (a dedicated OS thread, never the cooperative pool) waits on the connection: when the
/// daemon goes away it starts a new one on demand (the driver's path) and takes every lease back with one
/// `reclaim` call, normally within milliseconds. A lease that cannot be had back is recorded in
/// `<run>/<name>.leases` and the log, and `<on_lockfailure>` applies.
final class DomainLeases: @unchecked Sendable {
    /// What the supervisor's run loop must do because of a lost lease.
    enum Failure: Equatable {
        /// The guest was stopped (on_lockfailure poweroff): end the domain.
        case poweroff(String)
        /// The guest was stopped to be started again once the leases are back (on_lockfailure restart).
        case restart(String)
    }

    /// How long the supervisor keeps trying to reach a daemon and take its leases back, in milliseconds
    /// (the daemon's own grace period, `reclaim_timeout`, defaults to 5 s as well).
    static let reclaimWindowMilliseconds = 5_000
    /// How often lost leases are tried again while the guest is paused or runs on (pause, ignore).
    static let retryMilliseconds: Int32 = 1_000

    private struct State {
        var session: LeaseSession?
        var entries: [DomainLeaseStatus.Entry]
        var action: String?
        var paused = false
        var failure: Failure?
        var daemonPID: Int32?
    }

    private let settings: SupervisorLeases
    private let files: RunFiles
    private let domainName: String
    private let owner: LeaseOwner
    private let client: LeaseClient
    private let log: @Sendable (String) -> Void
    private let state: Guarded<State>
    private var watcher: pthread_t?
    private var wake: (read: Int32, write: Int32) = (-1, -1)

    private init(
        settings: SupervisorLeases, files: RunFiles, domainName: String, uuid: String,
        log: @escaping @Sendable (String) -> Void
    ) {
        self.settings = settings
        self.files = files
        self.domainName = domainName
        self.log = log
        owner = LeaseOwner(uuid: uuid, name: domainName, pid: getpid())
        client = LeaseClient(
            paths: LockdPaths(configDirectory: settings.configDirectory, runDirectory: settings.runDirectory),
            daemonExecutable: settings.daemonExecutable)
        state = Guarded(State(entries: settings.resources.map { DomainLeaseStatus.Entry(resource: $0, state: .held) }))
    }

    /// Takes every lease, all or none, before anything else of the domain happens; nil when there is nothing
    /// to lease. A refusal is a `resource busy` error naming the disk and its holder.
    static func take(_ configuration: SupervisorConfiguration, log: @escaping @Sendable (String) -> Void)
        throws(VirtError) -> DomainLeases?
    {
        guard let settings = configuration.leases, !settings.resources.isEmpty else { return nil }
        let leases = DomainLeases(
            settings: settings, files: configuration.runFiles, domainName: configuration.hypervisor.name,
            uuid: configuration.hypervisor.uuid, log: log)
        let session = try leases.client.acquire(owner: leases.owner, resources: leases.lockResources)
        let daemon = try? session.connection.call(.status).status?.pid
        leases.state.withLock {
            $0.session = session
            $0.daemonPID = daemon
        }
        leases.writeStatus()
        log("took \(leaseCount(settings.resources.count)) from the lock daemon (pid \(daemon.map(String.init) ?? "?"))")
        do {
            try leases.startWatching()
        } catch {
            leases.end()
            throw error
        }
        return leases
    }

    private var lockResources: [LeaseResource] { settings.resources.map(Self.lockResource) }

    private static func lockResource(_ resource: SupervisorLeases.Resource) -> LeaseResource {
        LeaseResource(
            lockspace: resource.lockspace, name: resource.resource, mode: resource.exclusive ? .exclusive : .shared,
            label: resource.label)
    }

    // MARK: The run loop's side

    /// Turns the run loop's decision into the lock-failure action when one caused the run to end.
    func adjust(_ decision: LifecyclePolicy.Decision) -> LifecyclePolicy.Decision {
        switch state.withLock({ $0.failure }) {
        case .poweroff(let detail): .end(.destroyed, detail)
        case .restart(let detail): .restart(detail)
        case nil: decision
        }
    }

    /// Before a fresh hypervisor starts after an on_lockfailure restart: takes every lease again, all or none.
    /// Returns why the domain must end instead (nil: go ahead; also when no lock-failure restart is pending).
    func prepareRestart() -> String? {
        guard case .restart = state.withLock({ $0.failure }) else { return nil }
        stopWatching()
        let old = state.withLock { state -> LeaseSession? in
            defer { state.session = nil }
            return state.session
        }
        old?.close()
        do {
            let session = try client.acquire(owner: owner, resources: lockResources)
            let daemon = try? session.connection.call(.status).status?.pid
            state.withLock { state in
                state.session = session
                state.daemonPID = daemon
                state.failure = nil
                state.action = nil
                for index in state.entries.indices {
                    state.entries[index].state = .held
                    state.entries[index].error = nil
                }
            }
            writeStatus()
            try startWatching()
            log("took the leases again for the restart (on_lockfailure is restart)")
            return nil
        } catch {
            let text = "the leases could not be taken again for the restart (on_lockfailure is restart): \(error)"
            log(text)
            return text
        }
    }

    /// Drops every lease (each released and confirmed, so the disks are free when the supervisor exits) and
    /// removes `<run>/<name>.leases`. Called once the hypervisor is gone and the status file is written.
    func end() {
        stopWatching()
        let session = state.withLock { state -> LeaseSession? in
            defer { state.session = nil }
            return state.session
        }
        if let session {
            session.releaseAll()
            session.close()
            log("released the leases")
        }
        SmallFile.remove(files.leasesFile)
    }

    // MARK: The watcher thread

    private func startWatching() throws(VirtError) {
        wake = try ChildProcess.pipe()
        let box = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        let rc = cvirt_thread_create(
            &thread,
            { context in
                let leases = Unmanaged<DomainLeases>.fromOpaque(context!).takeRetainedValue()
                _ = "lease-watch".withCString { cvirt_set_current_thread_name($0) }
                leases.watch()
                return nil
            }, box)
        guard rc == 0 else {
            Unmanaged<DomainLeases>.fromOpaque(box).release()
            close(wake.read)
            close(wake.write)
            wake = (-1, -1)
            throw VirtError(
                .systemError, .locking, "cannot start the lease watcher thread: \(String(cString: strerror(rc)))",
                errno: rc)
        }
        watcher = thread
    }

    private func stopWatching() {
        guard let thread = watcher else { return }
        var byte: UInt8 = 1
        _ = write(wake.write, &byte, 1)
        pthread_join(thread, nil)
        watcher = nil
        close(wake.read)
        close(wake.write)
        wake = (-1, -1)
    }

    /// Waits for the daemon to go away (its connection readable or hung up: it never speaks unasked) or
    /// for `stopWatching`; retries lost leases every second while the guest is paused or runs on, and
    /// notices when a guest paused for a lock failure has been resumed.
    private func watch() {
        var nextRetry: UInt64 = 0
        while true {
            let (fd, lost, paused, failed) = state.withLock { state in
                (
                    state.session?.fileDescriptor ?? -1, state.entries.contains { $0.state == .lost }, state.paused,
                    state.failure != nil
                )
            }
            if failed { return waitForStop() }
            var entries = [
                pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0),
                pollfd(fd: fd, events: Int16(POLLIN), revents: 0),
            ]
            let timeout: Int32 = paused ? Self.resumeCheckMilliseconds : lost ? Self.retryMilliseconds : -1
            let ready = poll(&entries, fd >= 0 ? 2 : 1, timeout)
            if ready < 0 && errno != EINTR { return waitForStop() }
            if entries[0].revents != 0 { return }
            if ready == 0 {
                if paused { noticeResume() }
                if lost && Posix.monotonicNanoseconds() >= nextRetry {
                    retryLost()
                    nextRetry = Posix.monotonicNanoseconds() + UInt64(Self.retryMilliseconds) * 1_000_000
                }
                continue
            }
            if fd >= 0 && entries[1].revents != 0 && !(state.withLock { $0.session?.isAlive ?? false }) {
                daemonWentAway()
            }
        }
    }

    /// How often the watcher asks the monitor whether a guest paused for a lock failure runs again.
    static let resumeCheckMilliseconds: Int32 = 100

    /// A guest paused for a lock failure that someone resumed (once its leases were back) is no longer
    /// reported as paused for it.
    private func noticeResume() {
        let monitor = FrameClient(
            path: files.monitorSocket, what: "the monitor of domain '\(domainName)'", domain: .kvm,
            timeoutMilliseconds: 1_000)
        defer { monitor.close() }
        let status = try? monitor.call(MonitorMethod.status.rawValue, WireEmpty(), returning: MonitorStatus.self)
        guard let status,
            status.state == .running
        else { return }
        state.withLock { $0.paused = false }
        writeStatus()
        log("the guest paused for a lock failure was resumed")
    }

    private func waitForStop() {
        var entry = pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0)
        while poll(&entry, 1, -1) < 0 && errno == EINTR {}
    }

    /// The daemon went away, and the kernel dropped its locks with it: take them back through a new daemon.
    private func daemonWentAway() {
        let started = Posix.monotonicNanoseconds()
        let (daemon, wanted) = state.withLock { state -> (Int32?, [SupervisorLeases.Resource]) in
            state.session?.close()
            state.session = nil
            var wanted: [SupervisorLeases.Resource] = []
            for index in state.entries.indices where state.entries[index].state != .lost {
                state.entries[index].state = .recovering
                wanted.append(state.entries[index].resource)
            }
            return (state.daemonPID, wanted)
        }
        writeStatus()
        log(
            "the lock daemon (pid \(daemon.map(String.init) ?? "?")) went away; taking \(leaseCount(wanted.count)) back "
                + "through a new daemon")
        let deadline = started + UInt64(Self.reclaimWindowMilliseconds) * 1_000_000
        var lastError: VirtError?
        while Posix.monotonicNanoseconds() < deadline {
            if stopRequested() { return }
            do {
                let reclaimed = try client.reclaim(owner: owner, resources: wanted.map(Self.lockResource))
                let newDaemon = try? reclaimed.session.connection.call(.status).status?.pid
                let lostNames = record(reclaimed, daemon: newDaemon)
                let elapsed = (Posix.monotonicNanoseconds() - started) / 1_000_000
                if lostNames.isEmpty {
                    log(
                        "took \(leaseCount(wanted.count)) back from the new lock daemon (pid "
                            + "\(newDaemon.map(String.init) ?? "?")) in \(elapsed) ms")
                } else {
                    applyLockFailure(lostNames)
                }
                return
            } catch {
                lastError = error
                usleep(20_000)
            }
        }
        let reason = lastError?.description ?? "no lock daemon could be reached"
        state.withLock { state in
            for index in state.entries.indices where state.entries[index].state == .recovering {
                state.entries[index].state = .lost
                state.entries[index].error = reason
            }
        }
        writeStatus()
        applyLockFailure(wanted.map { "\($0.label): \(reason)" })
    }

    /// Records what a reclaim got back; returns the lost leases, described.
    private func record(_ reclaimed: LeaseReclaim, daemon: Int32?) -> [String] {
        var lost: [String] = []
        state.withLock { state in
            state.session = reclaimed.session
            state.daemonPID = daemon
            for index in state.entries.indices {
                let resource = Self.lockResource(state.entries[index].resource)
                if let failure = reclaimed.failures[resource] {
                    state.entries[index].state = .lost
                    state.entries[index].error = failure.virtError.description
                    lost.append(failure.message)
                } else if state.entries[index].state == .recovering {
                    state.entries[index].state = .held
                    state.entries[index].error = nil
                }
            }
        }
        writeStatus()
        return lost
    }

    /// pause / ignore: tries the lost leases again, on the current connection or, when the daemon could not
    /// be reached, through a new one.
    private func retryLost() {
        let (session, lost) = state.withLock { state in
            (state.session, state.entries.filter { $0.state == .lost }.map(\.resource))
        }
        guard let session, session.isAlive else {
            guard let reclaimed = try? client.reclaim(owner: owner, resources: lost.map(Self.lockResource)) else {
                return
            }
            let daemon = try? reclaimed.session.connection.call(.status).status?.pid
            state.withLock { state in
                for index in state.entries.indices where state.entries[index].state == .lost {
                    state.entries[index].state = .recovering
                }
            }
            if record(reclaimed, daemon: daemon).isEmpty {
                setAction((state.withLock { $0.action } ?? "") + "; the leases are back")
                log("took the lost leases back")
            }
            return
        }
        var back: [SupervisorLeases.Resource] = []
        for resource in lost {
            if (try? session.acquire(Self.lockResource(resource))) != nil { back.append(resource) }
        }
        guard !back.isEmpty else { return }
        state.withLock { state in
            for index in state.entries.indices where back.contains(state.entries[index].resource) {
                state.entries[index].state = .held
                state.entries[index].error = nil
            }
            if !state.entries.contains(where: { $0.state != .held }) {
                state.action = (state.action ?? "") + "; the leases are back"
            }
        }
        writeStatus()
        log("took back \(back.map(\.label).joined(separator: ", "))")
    }

    /// `<on_lockfailure>`: poweroff, restart, pause or ignore.
    private func applyLockFailure(_ lost: [String]) {
        let action = settings.onLockFailure
        let what = "lease lost: \(lost.joined(separator: "; "))"
        log("\(what); on_lockfailure is \(action.rawValue)")
        switch action {
        case .ignore:
            setAction("ignored: the guest runs on without the lost leases")
        case .pause:
            if pauseGuest() {
                state.withLock { $0.paused = true }
                setAction("paused the guest until the leases are back and it is resumed")
            } else {
                log("cannot pause the guest; stopping it instead")
                powerOff("\(what); on_lockfailure is pause but the guest could not be paused, so it was stopped")
            }
        case .poweroff:
            powerOff("\(what); on_lockfailure is poweroff")
        case .restart:
            state.withLock { $0.failure = .restart("\(what); on_lockfailure is restart") }
            setAction("stopping the guest to start it again once the leases are back")
            if !callMonitor(.quit) {
                // A hypervisor that cannot be asked is ended the hard way; the run loop restarts it. The pid is
                // the one the supervisor spawned, never the pid file the confined hypervisor writes itself.
                let pid = cvirt_termination_target()
                if pid > 0 { kill(pid, SIGKILL) }
            }
        }
    }

    private func powerOff(_ detail: String) {
        state.withLock { $0.failure = .poweroff(detail) }
        setAction("stopped the guest")
        // The termination forwarder hands SIGTERM to the hypervisor, which stops the guest and reports.
        kill(getpid(), SIGTERM)
    }

    private func pauseGuest() -> Bool { callMonitor(.pause) }

    /// Calls the hypervisor's monitor; the answer itself is not needed (`WireEmpty` reads any object).
    private func callMonitor(_ method: MonitorMethod) -> Bool {
        let monitor = FrameClient(
            path: files.monitorSocket, what: "the monitor of domain '\(domainName)'", domain: .kvm,
            timeoutMilliseconds: 2_000)
        defer { monitor.close() }
        do {
            _ = try monitor.call(method.rawValue, WireEmpty(), returning: WireEmpty.self)
            return true
        } catch {
            log("monitor '\(method.rawValue)' failed: \(error)")
            return false
        }
    }

    private func setAction(_ text: String) {
        state.withLock { $0.action = text }
        writeStatus()
    }

    private func stopRequested() -> Bool {
        var entry = pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) > 0
    }

    /// Rewrites `<run>/<name>.leases`.
    private func writeStatus() {
        let status = state.withLock { state in
            DomainLeaseStatus(
                supervisorPID: getpid(), daemonPID: state.daemonPID, onLockFailure: settings.onLockFailure,
                action: state.action, pausedForLockFailure: state.paused, leases: state.entries,
                epochSeconds: Int(time(nil)))
        }
        do {
            try SmallFile.writeAtomically(files.leasesFile, status.jsonLine(), mode: 0o644)
        } catch {
            log("cannot write '\(files.leasesFile)': \(error)")
        }
    }
}

/// A value behind a pthread mutex, shared by the supervisor's main thread and the lease watcher (the
/// lease session inside is not Sendable, so Synchronization's Mutex does not fit).
private final class Guarded<Value>: @unchecked Sendable {
    private var value: Value
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init(_ value: Value) {
        self.value = value
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}

/// `1 lease`, `2 leases`.
private func leaseCount(_ count: Int) -> String { count == 1 ? "1 lease" : "\(count) leases" }
