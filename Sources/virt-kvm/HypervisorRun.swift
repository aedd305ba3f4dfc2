import CVirtShims
import KVM
import VirtBase

#if canImport(Glibc)
    import Glibc
#endif

/// One hypervisor process from its spawn to reaping: the supervisor starts it with its descriptors, reads its
/// reports until the pipe closes, and waits for it.
struct HypervisorRun {
    let configuration: SupervisorConfiguration
    let files: RunFiles
    let monitorFD: Int32
    let paused: Bool
    /// Runs right after the spawn, before the hypervisor gets its configuration (the supervisor makes the domain's
    /// cgroups and places it there, when its vCPUs must not run before); an error kills the child and fails the run.
    var afterSpawn: ((Int32) throws(VirtError) -> Void)? = nil
    /// Runs once the hypervisor has its configuration, while it builds the VM and before its reports are read (the
    /// supervisor makes the cgroups that need not exist before the guest runs); an error kills the child and fails
    /// the run.
    var afterHandOff: ((Int32) throws(VirtError) -> Void)? = nil

    /// How one run ended.
    struct Outcome {
        /// The hypervisor said `ready`.
        var ready = false
        /// Its `exit` report.
        var guestExit: GuestExit?
        /// Whether a shutdown request was pending at exit.
        var shutdownRequested = false
        /// Its `error` report, or why it could not be started.
        var error: String?
        /// How the process ended; nil when it never started.
        var termination: ChildProcess.Termination?
        /// Its pid.
        var pid: Int32 = 0
        /// The supervisor was asked to terminate (SIGTERM, SIGINT, SIGHUP) during the run.
        var terminationRequested = false
        /// The seccomp filter killed the hypervisor: the call, in words (`system call 234 (tgkill)`, or
        /// `an unknown system call` when the kernel log does not tell).
        var seccompViolation: String?
    }

    /// Starts the hypervisor and follows it to its end; `onReady` runs once it reports ready, with its vCPU
    /// thread ids.
    func execute(onReady: (ProcessIdentity?, [Int32]) -> Void) -> Outcome {
        var outcome = Outcome()
        let pid: Int32
        let reportRead: Int32
        do {
            let handOff = try DescriptorHandOff(configuration.hypervisor, openKVM: configuration.machine == .kvm)
            defer { handOff.closeAll() }
            var runConfiguration = configuration
            runConfiguration.hypervisor = handOff.configuration
            let configurationBytes = runConfiguration.jsonLine()
            let config = try ChildProcess.pipe()
            let report = try ChildProcess.pipe()
            let pidFD = open(files.hypervisorPIDFile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard pidFD >= 0 else { throw SmallFile.failure("cannot create pid file '\(files.hypervisorPIDFile)'") }
            var arguments = [
                "virt-kvm", "hypervisor", "--config-fd", "\(config.read)", "--monitor-fd", "\(monitorFD)",
                "--report-fd", "\(report.write)", "--pid-fd", "\(pidFD)",
            ]
            if paused { arguments.append("--paused") }
            let keep = [config.read, report.write, monitorFD, pidFD] + handOff.descriptors
            defer {
                close(config.read)
                close(report.write)
                close(pidFD)
            }
            do {
                pid = try spawnConfined(arguments, keep: keep)
            } catch {
                close(config.write)
                close(report.read)
                throw error
            }
            // A step that fails once the child exists ends it and closes the pipe ends still open.
            func ending(_ child: Int32, closing descriptors: [Int32], _ step: ((Int32) throws(VirtError) -> Void)?)
                throws(VirtError)
            {
                do {
                    try step?(child)
                } catch {
                    kill(child, SIGKILL)
                    _ = try? ChildProcess.wait(child)
                    descriptors.forEach { _ = close($0) }
                    throw error
                }
            }
            try ending(pid, closing: [config.write, report.read], afterSpawn)
            // The hypervisor reads its configuration first; a write error means it died, which the
            // report pipe and waitpid tell below.
            try? SmallFile.writeAll(config.write, configurationBytes, what: "the configuration pipe")
            close(config.write)
            try ending(pid, closing: [report.read], afterHandOff)
            reportRead = report.read
        } catch {
            outcome.error = "\(error)"
            return outcome
        }
        outcome.pid = pid
        // Named now, while it is certainly alive or an unreaped zombie: a guest may end at once.
        let identity = ProcessIdentity.ofChild(pid)
        // A termination request reaches the hypervisor as SIGTERM: it stops the guest and reports.
        cvirt_set_termination_target(pid)
        defer { cvirt_set_termination_target(0) }
        while let line = try? ChildProcess.readLine(reportRead, timeoutMilliseconds: nil) {
            guard let report = HypervisorReport.parse(line) else { continue }
            switch report.event {
            case .ready:
                outcome.ready = true
                onReady(identity, report.vcpuThreadIDs ?? [])
            case .exit:
                outcome.guestExit = report.guestExit
                outcome.shutdownRequested = report.shutdownRequested ?? false
            case .error:
                outcome.error = report.message
            }
        }
        close(reportRead)
        outcome.termination = try? ChildProcess.wait(pid)
        outcome.seccompViolation = seccompViolation(outcome.termination, pid: pid, startTime: identity?.startTime)
        outcome.terminationRequested = cvirt_termination_requested() != 0
        return outcome
    }
}
