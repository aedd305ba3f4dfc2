import KVM
import Security
import VirtBase

#if canImport(Glibc)
    import Glibc
#endif

extension DomainProcess {
    /// Restores the file labels a dead supervisor left applied: `<run>/<name>.labels` exists from the moment the
    /// supervisor starts relabelling until it has restored the labels, so finding it with no supervisor alive
    /// (a crash, `kill -9`, a start abandoned half-way) means the restore is still owed. Only files that still
    /// carry a remembered label are touched (`onlyRemembered`). What happened goes to the domain's log.
    /// Called with the supervisor's pid-file lock held, so no supervisor is restoring at the same time.
    static func restoreAbandonedLabels(_ files: RunFiles) {
        guard let bytes = try? SmallFile.read(files.labelsFile) else { return }
        let plan: HypervisorSecurityPlan
        do {
            plan = try HypervisorSecurityPlan.decodeJSON(bytes)
        } catch {
            appendLog(files, "cannot read '\(files.labelsFile)' to restore the domain's file labels: \(error)")
            return
        }
        let problems = plan.restoreFiles(onlyRemembered: true)
        for problem in problems { appendLog(files, "cannot restore a file label: \(problem.message)") }
        appendLog(
            files,
            "restored the file labels the domain's supervisor left applied"
                + (problems.isEmpty ? "" : " (\(problems.count) problem(s))"))
    }

    /// Appends a line from the management process to the domain's log (best effort).
    static func appendLog(_ files: RunFiles, _ message: String) {
        let fd = open(files.logFile, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let line = "\(DomainExitStatus.iso8601(Int(time(nil)))) reconciliation \(getpid()): security: \(message)\n"
        try? SmallFile.writeAll(fd, Array(line.utf8), what: "the domain's log")
    }
}
