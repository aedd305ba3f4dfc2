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
    public static func startReportingStatus(
        _ configuration: SupervisorConfiguration, executable: String? = nil,
        timeoutMilliseconds: Int = defaultStartTimeoutMilliseconds
    ) throws(VirtError) -> (process: DomainProcess, status: MonitorStatus?) {
        let files = configuration.runFiles
        let name = configuration.hypervisor.name
        // The supervisor's pid-file lock, not the pid, says whether one runs. Stale files of an earlier run
        // are the new supervisor's to replace, under that lock.
        if PIDFileLock.isHeld(files.supervisorPIDFile) {
            let pid = recordedSupervisor(files).map { " (pid \($0.pid))" } ?? ""
            throw VirtError(
                .operationInvalid, .kvm, "Domain is already active: domain '\(name)' has a supervisor\(pid)")
        }
        try SmallFile.makeDirectories(files.runDirectory, mode: 0o755)
        let path: String
        if let executable { path = executable } else { path = try locateExecutable() }
        let report: LaunchReport
        // `launch` abandons its own supervisor when it fails.
        report = try launch(path, configuration, timeoutMilliseconds: timeoutMilliseconds)
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

    /// Starts `virt-kvm supervisor` detached (double fork: its own session, not our child), hands it the
    /// configuration on a pipe, and reads its one-line `LaunchReport` from another, with a deadline.
    private static func launch(_ executable: String, _ configuration: SupervisorConfiguration, timeoutMilliseconds: Int)
        throws(VirtError) -> LaunchReport
    {
        let files = configuration.runFiles
        let bytes: [UInt8]
        do {
            bytes = try FrameCodec.jsonLine(configuration)
        } catch {
            throw VirtError(.internalError, .kvm, "cannot encode the supervisor configuration: \(error)")
        }
        let config = try ChildProcess.pipe()
        let ready = try ChildProcess.pipe()
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
                executable,
                [executable, "supervisor", "--config-fd", "\(config.read)", "--ready-fd", "\(ready.write)"],
                options: options)
        } catch {
            [config.read, config.write, ready.read, ready.write, null].forEach { _ = close($0) }
            throw error
        }
        [config.read, ready.write, null].forEach { _ = close($0) }
        let supervisor = ProcessIdentity.of(pid)
        try? SmallFile.writeAll(config.write, bytes, what: "the supervisor's configuration pipe")
        close(config.write)
        let line: String?
        do {
            line = try ChildProcess.readLine(ready.read, timeoutMilliseconds: timeoutMilliseconds)
        } catch {
            close(ready.read)
            abandon(files, supervisor: supervisor)
            throw VirtError(
                .operationTimeout, .kvm,
                "domain '\(configuration.hypervisor.name)' was not ready within \(timeoutMilliseconds) ms; "
                    + "see '\(files.logFile)'")
        }
        close(ready.read)
        guard let line, let report = try? FrameCodec.decode(LaunchReport.self, from: Array(line.utf8)) else {
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
