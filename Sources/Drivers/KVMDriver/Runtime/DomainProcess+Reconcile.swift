import KVM
import VirtBase

#if canImport(Glibc)
    import Glibc
#endif

extension DomainProcess {
    /// Whether a domain still runs, as the next management call must decide it.
    public enum Liveness: Equatable, Sendable {
        /// The supervisor runs; the value carries the current hypervisor (it changes after a restart).
        case running(DomainProcess)
        /// The domain ended: the supervisor's status file, or `crashed` when the processes vanished without
        /// one. The run files are already removed.
        case ended(DomainExitStatus)
    }

    /// How long `liveness()` lets a supervisor whose hypervisor died finish writing its status file.
    static let supervisorWrapUpMilliseconds = 1_000

    /// Folds status files and vanished processes into one answer: running, or ended with how (consuming
    /// the status file and cleaning the run files). Never talks to the monitor, so it cannot hang.
    public func liveness() -> Liveness {
        if supervisor.isAlive() {
            if let current = DomainProcess.recordedHypervisor(runFiles, supervisor: supervisor) {
                var refreshed = self
                refreshed.hypervisor = current
                return .running(refreshed)
            }
            // The hypervisor is gone: the supervisor is restarting it or about to write the status file.
            _ = DomainProcess.waitForExit(supervisor, milliseconds: DomainProcess.supervisorWrapUpMilliseconds)
            if supervisor.isAlive() {
                var refreshed = self
                if let current = DomainProcess.recordedHypervisor(runFiles, supervisor: supervisor) {
                    refreshed.hypervisor = current
                }
                return .running(refreshed)
            }
        }
        // Without its supervisor a hypervisor dies by its parent-death signal; make sure of it, and wait until the
        // kernel has torn it down (its guest RAM and /dev/kvm) before the domain counts as ended.
        if hypervisor.isAlive() {
            kill(hypervisor.pid, SIGKILL)
            _ = DomainProcess.waitForExit(hypervisor, milliseconds: DomainProcess.supervisorWrapUpMilliseconds)
        }
        let status =
            DomainProcess.consumeStatus(runFiles)
            ?? DomainExitStatus(
                reason: .crashed,
                detail: "the processes of domain '\(runFiles.name)' (supervisor \(supervisor.pid), hypervisor "
                    + "\(hypervisor.pid)) vanished without recording how the guest ended",
                epochSeconds: Int(time(nil)))
        DomainProcess.cleanRunFiles(runFiles)
        return .ended(status)
    }

    /// Stops the domain: asks the hypervisor to quit, and kills hypervisor and supervisor if they are not
    /// gone within `graceMilliseconds` (2 s by default). Returns how the domain ended and leaves no run file.
    @discardableResult
    public func destroy(graceMilliseconds: Int = 2_000) -> DomainExitStatus {
        let deadline = DomainProcess.monotonicMilliseconds() + graceMilliseconds
        if supervisor.isAlive() {
            var quick = self
            quick.monitorTimeoutMilliseconds = max(1, graceMilliseconds / 2)
            try? quick.quit()
            let left = max(0, deadline - DomainProcess.monotonicMilliseconds())
            if !DomainProcess.waitForExit(supervisor, milliseconds: left) {
                for process in [
                    DomainProcess.recordedHypervisor(runFiles, supervisor: supervisor), hypervisor, supervisor,
                ] {
                    if let process, process.isAlive() { kill(process.pid, SIGKILL) }
                }
                _ = DomainProcess.waitForExit(supervisor, milliseconds: graceMilliseconds)
            }
        } else if hypervisor.isAlive() {
            kill(hypervisor.pid, SIGKILL)
        }
        let status =
            DomainProcess.consumeStatus(runFiles)
            ?? DomainExitStatus(
                reason: .destroyed, detail: "domain '\(runFiles.name)' was killed", epochSeconds: Int(time(nil)))
        DomainProcess.cleanRunFiles(runFiles)
        // A domain destroyed from outside is `destroyed`, whatever the hypervisor said on its way out.
        if status.reason == .crashed || status.reason == .destroyed {
            var destroyed = status
            destroyed.reason = .destroyed
            return destroyed
        }
        return status
    }

    /// Reads and removes `<run>/<name>.status`; nil when there is none (or it is unreadable, which is
    /// reported as its detail rather than lost).
    public static func consumeStatus(_ files: RunFiles) -> DomainExitStatus? {
        guard let bytes = try? SmallFile.read(files.statusFile) else { return nil }
        SmallFile.remove(files.statusFile)
        do {
            return try FrameCodec.decode(DomainExitStatus.self, from: bytes)
        } catch {
            return DomainExitStatus(
                reason: .crashed, detail: "the status file '\(files.statusFile)' is unreadable: \(error)",
                epochSeconds: Int(time(nil)))
        }
    }

    /// Restores file labels a dead supervisor left applied, then removes the domain's pid files, status file,
    /// labels file and monitor socket — unless a live supervisor holds
    /// the domain's pid-file lock (then the files are its own, and nothing is touched). The removal happens
    /// under that lock, so a supervisor starting at the same moment never loses its files. Returns whether
    /// the files were removed.
    @discardableResult
    public static func cleanRunFiles(_ files: RunFiles) -> Bool {
        guard SmallFile.exists(files.runDirectory) else { return true }
        guard let lock = lockForCleanUp(files) else { return false }
        defer { close(lock) }
        restoreAbandonedLabels(files)
        files.all.forEach(SmallFile.remove)
        return true
    }

    /// Takes the domain's pid-file lock for a clean-up. A supervisor killed a moment ago may still hold it while
    /// the kernel tears it down: as long as the pid file names no live supervisor, this waits for the lock
    /// (1 s at most). A live supervisor's lock is never waited for: its files are its own.
    static func lockForCleanUp(_ files: RunFiles) -> Int32? {
        let deadline = monotonicMilliseconds() + 1_000
        while true {
            if let fd = try? PIDFileLock.acquire(files.supervisorPIDFile, create: true) { return fd }
            if recordedSupervisor(files) != nil || monotonicMilliseconds() >= deadline { return nil }
            usleep(5_000)
        }
    }

    /// The supervisor named by `<name>.supervisor.pid`, if that pid is a running `virt-kvm supervisor`
    /// (a stale pid file whose pid was reused by another program names nothing).
    static func recordedSupervisor(_ files: RunFiles) -> ProcessIdentity? {
        recordedProcess(files.supervisorPIDFile, mode: "supervisor")
    }

    /// The hypervisor named by `<name>.pid`, if that pid is a running `virt-kvm hypervisor` whose parent is
    /// `supervisor` (when given).
    static func recordedHypervisor(_ files: RunFiles, supervisor: ProcessIdentity? = nil) -> ProcessIdentity? {
        guard let hypervisor = recordedProcess(files.hypervisorPIDFile, mode: "hypervisor") else { return nil }
        if let supervisor, hypervisor.parentPID() != supervisor.pid { return nil }
        return hypervisor
    }

    private static func recordedProcess(_ path: String, mode: String) -> ProcessIdentity? {
        guard let text = try? SmallFile.readText(path, limit: 64),
            let pid = Int32(text.split(separator: "\n").first ?? ""),
            let process = ProcessIdentity.of(pid),
            let arguments = process.arguments(), arguments.count > 1, arguments[1] == mode
        else { return nil }
        return process
    }

    /// Polls until `process` is gone or `milliseconds` pass; true when it is gone.
    static func waitForExit(_ process: ProcessIdentity, milliseconds: Int) -> Bool {
        let deadline = monotonicMilliseconds() + milliseconds
        while process.isAlive() {
            if monotonicMilliseconds() >= deadline { return false }
            usleep(pollMicroseconds)
        }
        return true
    }

    /// The polling interval while waiting for a process to end.
    static let pollMicroseconds: UInt32 = 5_000

    static func monotonicMilliseconds() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return now.tv_sec * 1_000 + now.tv_nsec / 1_000_000
    }
}
