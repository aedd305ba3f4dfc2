import KVM
import VirtBase

#if canImport(Glibc)
    import Glibc
#endif

extension DomainProcess {
    /// How long a hypervisor whose monitor did not answer the first `status` may take to exit on its own.
    static let monitorSilenceGraceMilliseconds = 2_000

    /// How long `start` waits for the guest to be ready by default.
    public static let defaultStartTimeoutMilliseconds = 30_000

    /// Starts the domain's supervisor (`virt-kvm supervisor`, detached: its own session, not the caller's
    /// child, it outlives the caller), and returns once the hypervisor reports the guest ready and the monitor answers.
    /// On failure the error carries the hypervisor's own text, and nothing is left running or on disk
    /// (the log file excepted). A domain whose supervisor still runs is refused as already active.
    public static func start(
        _ configuration: SupervisorConfiguration, executable: String? = nil,
        timeoutMilliseconds: Int = defaultStartTimeoutMilliseconds
    ) throws(VirtError) -> DomainProcess {
        try startReportingStatus(configuration, executable: executable, timeoutMilliseconds: timeoutMilliseconds)
            .process
    }

    /// `start`, also returning the monitor's first `status` answer (which `start` asks for anyway), so a
    /// caller that needs the serial pty saves a second monitor round trip. The status is nil when the guest
    /// ended right after it became ready.
    /// With `prelaunched`, the supervisor started ahead of its configuration (`prelaunch`) takes this one; it is
    /// cancelled when the start fails before that.
    public static func startReportingStatus(
        _ configuration: SupervisorConfiguration, executable: String? = nil,
        prelaunched: PrelaunchedSupervisor? = nil,
        timeoutMilliseconds: Int = defaultStartTimeoutMilliseconds
    ) throws(VirtError) -> (process: DomainProcess, status: MonitorStatus?) {
        let files = configuration.runFiles
        let name = configuration.hypervisor.name
        // The supervisor's pid-file lock, not the pid, says whether one runs. Stale files of an earlier run
        // are the new supervisor's to replace, under that lock.
        if PIDFileLock.isHeld(files.supervisorPIDFile) {
            prelaunched?.cancel()
            let pid = recordedSupervisor(files).map { " (pid \($0.pid))" } ?? ""
            throw VirtError(
                .operationInvalid, .kvm, "Domain is already active: domain '\(name)' has a supervisor\(pid)")
        }
        do throws(VirtError) {
            try SmallFile.makeDirectories(files.runDirectory, mode: 0o755)
        } catch {
            prelaunched?.cancel()
            throw error
        }
        let supervisor: PrelaunchedSupervisor
        if let prelaunched, prelaunched.isUsable {
            supervisor = prelaunched
        } else {
            prelaunched?.cancel()
            supervisor = try prelaunch(executable: executable)
        }
        let report: LaunchReport
        // `launch` abandons its own supervisor when it fails.
        report = try launch(supervisor, configuration, timeoutMilliseconds: timeoutMilliseconds)
        guard report.error == nil, let supervisor = report.supervisor, let hypervisor = report.hypervisor else {
            abandon(files, supervisor: report.supervisor)
            // A refused lease keeps its own code (`resource busy: disk '…' is leased by domain '…'`).
            if let code = report.errorCode.flatMap(VirtError.Code.init(rawValue:)), let error = report.error {
                throw VirtError(code, .locking, error)
            }
            throw VirtError(
                .operationFailed, .kvm,
                "domain '\(name)' did not start: \(report.error ?? "the supervisor did not name its processes")")
        }
        let process = DomainProcess(runFiles: files, supervisor: supervisor, hypervisor: hypervisor)
        do {
            return (process, try process.status())
        } catch {
            // A guest may end right after it became ready (a short guest that powers off): the start
            // succeeded, and the next `liveness()` tells how it ended. Only a hypervisor that lives on
            // without answering is a failed start.
            if waitForExit(hypervisor, milliseconds: monitorSilenceGraceMilliseconds) { return (process, nil) }
            _ = process.destroy()
            throw VirtError(
                .operationFailed, .kvm, "domain '\(name)' started but its monitor does not answer: \(error)")
        }
    }

    /// `virt-kvm` beside the running executable (virtsh and the test runner live in the same build
    /// directory), or `$SWIFT_VIRT_KVM` when set.
    public static func locateExecutable() throws(VirtError) -> String {
        if let override = getenv("SWIFT_VIRT_KVM") { return String(cString: override) }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        if length > 0 {
            let own = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if let slash = own.lastIndex(of: "/") {
                let candidate = String(own[..<slash]) + "/virt-kvm"
                if access(candidate, X_OK) == 0 { return candidate }
            }
        }
        throw VirtError(
            .operationFailed, .kvm,
            "cannot find the virt-kvm executable beside this program; install it there or set SWIFT_VIRT_KVM")
    }

    /// Starts `virt-kvm supervisor` detached (double spawn: its own session, not our child) before its
    /// configuration exists: the process loads while the caller resolves the domain, then waits on its
    /// configuration pipe. `startReportingStatus` hands it the configuration; `cancel` (or dropping it) closes
    /// the pipe unused, and the supervisor exits without touching anything.
    public static func prelaunch(executable: String? = nil) throws(VirtError) -> PrelaunchedSupervisor {
        let path: String
        if let executable { path = executable } else { path = try locateExecutable() }
        let config = try ChildProcess.pipe()
        let ready: (read: Int32, write: Int32)
        do {
            ready = try ChildProcess.pipe()
        } catch {
            [config.read, config.write].forEach { _ = close($0) }
            throw error
        }
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        var options = ChildProcess.Options()
        options.keep = [config.read, ready.write]
        options.detach = true
        options.stdin = null
        options.stdout = null
        options.stderr = null
        let pid: Int32
        do {
            pid = try ChildProcess.spawn(
                path, [path, "supervisor", "--config-fd", "\(config.read)", "--ready-fd", "\(ready.write)"],
                options: options)
        } catch {
            [config.read, config.write, ready.read, ready.write, null].forEach { _ = close($0) }
            throw error
        }
        [config.read, ready.write, null].forEach { _ = close($0) }
        return PrelaunchedSupervisor(pid: pid, configWrite: config.write, readyRead: ready.read)
    }

    /// Hands the supervisor its configuration on its pipe, and reads its one-line `LaunchReport` from the
    /// other, with a deadline.
    private static func launch(
        _ launched: PrelaunchedSupervisor, _ configuration: SupervisorConfiguration, timeoutMilliseconds: Int
    ) throws(VirtError) -> LaunchReport {
        let files = configuration.runFiles
        // Hand-written JSON: Codable's first use in this process would cost about 1 ms (`JSONCodable`).
        let bytes = configuration.jsonLine()
        let (pid, supervisor, ready) = launched.handOver(bytes)
        let line: String?
        do {
            line = try ChildProcess.readLine(ready, timeoutMilliseconds: timeoutMilliseconds)
        } catch {
            close(ready)
            abandon(files, supervisor: supervisor)
            throw VirtError(
                .operationTimeout, .kvm,
                "domain '\(configuration.hypervisor.name)' was not ready within \(timeoutMilliseconds) ms; "
                    + "see '\(files.logFile)'")
        }
        close(ready)
        guard let line, let report = try? LaunchReport.decodeJSON(Array(line.utf8)) else {
            abandon(files, supervisor: supervisor)
            throw VirtError(
                .operationFailed, .kvm,
                "the supervisor of domain '\(configuration.hypervisor.name)' (pid \(pid)) ended without a "
                    + "report; see '\(files.logFile)'")
        }
        return report
    }

    /// After a failed start: make sure the supervisor this start launched (when it is known) and its
    /// hypervisor are gone, then remove the run files — unless another, live supervisor owns them
    /// (`cleanRunFiles` checks its lock).
    private static func abandon(_ files: RunFiles, supervisor: ProcessIdentity?) {
        if let ours = supervisor, ours.isAlive() {
            // Only a hypervisor that is this supervisor's child: never another domain start's.
            if let hypervisor = recordedHypervisor(files, supervisor: ours) {
                kill(hypervisor.pid, SIGKILL)
            }
            kill(ours.pid, SIGKILL)
            _ = waitForExit(ours, milliseconds: 2_000)
        }
        cleanRunFiles(files)
    }
}

/// A supervisor started before its configuration (`DomainProcess.prelaunch`): it waits on its configuration
/// pipe. Handed over by `DomainProcess.startReportingStatus`; otherwise `cancel` (or the end of its life) closes
/// the pipe and waits until the supervisor exits, having done nothing.
public final class PrelaunchedSupervisor {
    /// The supervisor's pid.
    public let pid: Int32
    private var configWrite: Int32
    private var readyRead: Int32
    /// Named while it is certainly ours: it waits for its configuration.
    private let identity: ProcessIdentity?

    /// How long `cancel` waits for the unused supervisor to exit.
    static let cancelWaitMilliseconds = 2_000

    init(pid: Int32, configWrite: Int32, readyRead: Int32) {
        self.pid = pid
        self.configWrite = configWrite
        self.readyRead = readyRead
        identity = ProcessIdentity.of(pid)
    }

    deinit { cancel() }

    /// Still waiting for a configuration (neither handed over nor cancelled, and its process lives).
    var isUsable: Bool { configWrite >= 0 && identity?.isAlive() == true }

    /// Writes the configuration and closes the pipe; returns the pid, its identity and the ready pipe's read end
    /// (the caller's to close from now on).
    func handOver(_ bytes: [UInt8]) -> (pid: Int32, identity: ProcessIdentity?, ready: Int32) {
        // A write error means the supervisor died: its report (or the lack of one) on the ready pipe says so.
        try? SmallFile.writeAll(configWrite, bytes, what: "the supervisor's configuration pipe")
        close(configWrite)
        configWrite = -1
        let ready = readyRead
        readyRead = -1
        return (pid, identity, ready)
    }

    /// Gives the supervisor an empty configuration (it exits at once, touching nothing) and waits, up to
    /// `cancelWaitMilliseconds`, until it is exiting: its end of the ready pipe closes as it exits.
    public func cancel() {
        guard configWrite >= 0 else { return }
        close(configWrite)
        configWrite = -1
        _ = try? ChildProcess.readLine(readyRead, timeoutMilliseconds: Self.cancelWaitMilliseconds)
        close(readyRead)
        readyRead = -1
    }
}
