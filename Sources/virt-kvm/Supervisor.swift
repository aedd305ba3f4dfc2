import CVirtShims
import KVM
import VirtBase

#if canImport(Glibc)
    import Glibc
#endif

/// The supervisor mode: detached (its own session, output to the domain's log), it holds the domain's
/// supervisor pid file (locked) and monitor socket, starts the hypervisor, restarts it when a lifecycle
/// action says so, and when the guest is gone for good writes `<run>/<name>.status` and exits.
final class Supervisor {
    private let configuration: SupervisorConfiguration
    private var readyFD: Int32?
    /// The domain's disk leases, held for its whole life (nil: nothing to lease).
    private var leases: DomainLeases?
    /// cgroups and vCPU policies (`Supervisor+Tuning`).
    private var tuning: SupervisorTuning?
    private var files: RunFiles { configuration.runFiles }
    private var name: String { configuration.hypervisor.name }

    init(configuration: SupervisorConfiguration, readyFD: Int32) {
        self.configuration = configuration
        self.readyFD = readyFD
    }

    /// Supervises the domain until it ends; returns the process exit status.
    func run() -> Int32 {
        let lockFD: Int32
        let listener: UnixSocketListener
        do throws(VirtError) {
            try redirectOutput()
            log("starting domain '\(name)'")
            guard cvirt_install_termination_forwarder() == 0 else {
                throw SmallFile.failure("cannot install the termination signal handlers")
            }
            lockFD = try lockPIDFile()
            if let note = Self.liftMemoryLockLimit(for: configuration.hypervisor) { log(note) }
        } catch {
            finishLaunch(error: error.description)
            return 1
        }
        do throws(VirtError) {
            // Leases first: a refused start touches no disk another domain uses (Supervisor+Leases order).
            leases = try DomainLeases.take(configuration) { Supervisor.log($0) }
        } catch {
            log("cannot take the leases: \(error)")
            return abandonStart(error, lockFD: lockFD, security: nil)
        }
        SmallFile.remove(files.statusFile)
        // Then the file labels: a refused lease never relabels a disk.
        let security = SupervisorSecurity(plan: configuration.security, files: files, name: name, log: log)
        security.describe()
        do {
            try security.labelFiles()
        } catch {
            log(error.description)
            return abandonStart(error, lockFD: lockFD, security: security)
        }
        // Then the monitor socket; the cgroups are made once the hypervisor is spawned (`SupervisorTuning.afterSpawn`,
        // or `afterHandOff` when nothing must be placed before the guest runs).
        do throws(VirtError) {
            tuning = SupervisorTuning.planned(configuration)
            let socketDirectory = String(
                files.monitorSocket[..<(files.monitorSocket.lastIndex(of: "/") ?? files.monitorSocket.startIndex)])
            if !socketDirectory.isEmpty && socketDirectory != files.runDirectory {
                try SmallFile.makeDirectories(socketDirectory, mode: 0o700)
            }
            listener = try UnixSocketListener(path: files.monitorSocket)
        } catch {
            log(error.description)
            return abandonStart(error, lockFD: lockFD, security: security)
        }
        let status = superviseRuns(listener)
        tuning?.remove()
        writeStatus(status)
        security.restoreFiles()
        if readyFD != nil { finishLaunch(error: status.detail) }
        // Leases go last, once the status is written (and labels restored).
        leases?.end()
        listener.close()
        SmallFile.remove(files.hypervisorPIDFile)
        SmallFile.remove(files.supervisorPIDFile)
        close(lockFD)
        log("domain '\(name)' ended: shut off (\(status.reason.rawValue)): \(status.detail)")
        return 0
    }

    /// Unwinds a start that failed once the pid file was locked: the cgroups go, the status file records why
    /// (once files may have been relabelled), the labels are restored, the launcher is told, the leases are
    /// dropped and the pid file is given up. Returns the process exit status.
    private func abandonStart(_ error: VirtError, lockFD: Int32, security: SupervisorSecurity?) -> Int32 {
        tuning?.remove()
        if let security {
            writeStatus(DomainExitStatus(reason: .failed, detail: error.description, epochSeconds: now()))
            security.restoreFiles()
            finishLaunch(error: error.description)
        } else {
            finishLaunch(error: error.message, errorCode: error.code)
        }
        leases?.end()
        SmallFile.remove(files.supervisorPIDFile)
        close(lockFD)
        return 1
    }

    /// Runs hypervisors until one run ends the domain; returns how it ended.
    private func superviseRuns(_ listener: UnixSocketListener) -> DomainExitStatus {
        var restarts = 0
        while true {
            let first = restarts == 0
            let userPaused = first && configuration.startPaused
            let run = HypervisorRun(
                configuration: configuration, files: files, monitorFD: listener.descriptor,
                paused: userPaused || tuning?.startsPaused == true, afterSpawn: tuning?.afterSpawn,
                afterHandOff: tuning?.afterHandOff)
            let outcome = run.execute { hypervisor, vcpuThreads in
                log("hypervisor \(hypervisor.map { String($0.pid) } ?? "?") is ready")
                if let tuning, let pid = hypervisor?.pid,
                    !tuning.placeVCPUs(
                        hypervisor: pid, threads: vcpuThreads, resume: tuning.startsPaused && !userPaused)
                {
                    return
                }
                if first { finishLaunch(hypervisor: hypervisor) }
            }
            if let failure = tuning?.failure {
                return DomainExitStatus(reason: .failed, detail: failure, restarts: restarts, epochSeconds: now())
            }
            SmallFile.remove(files.hypervisorPIDFile)
            var decision = LifecyclePolicy(configuration: configuration).decide(outcome)
            if let leases { decision = leases.adjust(decision) }
            switch decision {
            case .restart(let why):
                if let failure = leases?.prepareRestart() {
                    return DomainExitStatus(
                        reason: .failed, detail: failure, hypervisorExit: outcome.termination?.description,
                        restarts: restarts, epochSeconds: now())
                }
                restarts += 1
                log("restarting the hypervisor (\(why)); restart \(restarts)")
            case .end(let reason, let detail):
                return DomainExitStatus(
                    reason: reason, detail: detail, guestExit: outcome.guestExit,
                    hypervisorExit: outcome.termination?.description, restarts: restarts, epochSeconds: now())
            }
        }
    }

    /// Tells `virt-kvm supervise` (and so the driver) that the domain is ready, or why it is not.
    private func finishLaunch(
        hypervisor: ProcessIdentity? = nil, error: String? = nil, errorCode: VirtError.Code? = nil
    ) {
        guard let fd = readyFD else { return }
        readyFD = nil
        let report = LaunchReport(
            supervisor: ProcessIdentity.of(getpid()), hypervisor: hypervisor,
            error: error, errorCode: errorCode?.rawValue)
        try? SmallFile.writeAll(fd, report.jsonLine(), what: "ready pipe")
        close(fd)
    }

    /// stdin from /dev/null, stdout and stderr appended to `<log>/<name>.log`.
    private func redirectOutput() throws(VirtError) {
        try SmallFile.makeDirectories(files.logDirectory, mode: 0o755)
        let log = open(files.logFile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard log >= 0 else { throw SmallFile.failure("cannot open log file '\(files.logFile)'") }
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        guard null >= 0 else { throw SmallFile.failure("cannot open /dev/null") }
        dup2(null, 0)
        dup2(log, 1)
        dup2(log, 2)
        close(null)
        close(log)
    }

    /// Creates and locks `<name>.supervisor.pid` (one supervisor per domain), and writes our pid into it.
    private func lockPIDFile() throws(VirtError) -> Int32 {
        try SmallFile.makeDirectories(files.runDirectory, mode: 0o755)
        let path = files.supervisorPIDFile
        guard let fd = try PIDFileLock.acquire(path, create: true) else {
            let other = (try? SmallFile.readText(path, limit: 64))?.split(separator: "\n").first ?? "?"
            throw VirtError(
                .operationInvalid, .kvm,
                "domain '\(name)' already has a supervisor (pid \(other)); the domain is already active")
        }
        do {
            try PIDFileLock.write(getpid(), to: fd, path: path)
        } catch {
            close(fd)
            throw error
        }
        return fd
    }

    private func writeStatus(_ status: DomainExitStatus) {
        do {
            try SmallFile.writeAtomically(files.statusFile, try FrameCodec.jsonLine(status))
        } catch {
            log("cannot write the status file: \(error)")
        }
    }

    private func log(_ message: String) {
        Supervisor.log(message)
    }

    /// One log line (thread-safe: one write per line, the lease watcher logs too).
    static func log(_ message: String) {
        printError("\(DomainExitStatus.iso8601(Int(time(nil)))) supervisor \(getpid()): \(message)")
    }

    private func now() -> Int { Int(time(nil)) }
}
