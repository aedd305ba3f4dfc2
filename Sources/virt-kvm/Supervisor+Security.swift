import KVM
import Security
import VirtBase

#if canImport(Glibc)
    import Glibc
#endif

/// The supervisor's part of sVirt: relabel the domain's files before the first hypervisor starts and restore them
/// after the last one ended. `<run>/<name>.labels` holds the plan while labels are applied, so that a supervisor
/// killed in between leaves reconciliation enough to restore them (`DomainProcess.cleanRunFiles`).
struct SupervisorSecurity {
    /// The plan the driver resolved; nil when it sent none.
    let plan: HypervisorSecurityPlan?
    /// The domain's run files.
    let files: RunFiles
    /// The domain's name, for messages.
    let name: String
    /// Writes a line to the domain's log.
    let log: (String) -> Void

    /// Logs the labels and the identity the hypervisor gets, and says when the process label is not enforced.
    func describe() {
        guard let plan else {
            log("security: no plan from the driver; the hypervisor keeps the supervisor's identity")
            return
        }
        for label in plan.labels.labels {
            guard label.type != .none, let process = label.label else {
                log("security: \(label.model) label type none")
                continue
            }
            let image = label.relabel ? label.imageLabel.map { ", image label '\($0)'" } ?? "" : ", no relabelling"
            log("security: \(label.model) label '\(process)' (\(label.enforcement.rawValue))\(image)")
            if label.model == "selinux" && label.enforcement == .notEnforced {
                log(
                    "security: the SELinux process label is not enforced: SELinux is disabled on this host, so only "
                        + "the files are labelled")
            }
        }
        if let identity = plan.credentials.identity {
            log("security: the hypervisor runs as uid \(identity.uid), gid \(identity.gid)")
        } else {
            log("security: the hypervisor runs as the supervisor's user (uid \(getuid()))")
        }
    }

    /// Relabels every file of the plan (after the leases, before any hypervisor runs). On failure nothing stays
    /// labelled and the error names the domain.
    func labelFiles() throws(VirtError) {
        guard let plan, plan.fileLabelCount > 0 else { return }
        do {
            try SmallFile.writeAtomically(files.labelsFile, plan.jsonLine())
        } catch {
            throw VirtError(
                .operationFailed, .security,
                "cannot start domain '\(name)': cannot record its file labels in '\(files.labelsFile)': \(error)")
        }
        let started = Self.monotonicNanoseconds()
        do {
            try plan.labelFiles()
        } catch {
            SmallFile.remove(files.labelsFile)
            throw VirtError(
                error.code, .security, "cannot start domain '\(name)': \(error.message)", errno: error.errno)
        }
        let elapsed = Double(Self.monotonicNanoseconds() - started) / 1_000_000
        log("security: relabelled \(plan.fileLabelCount) file label(s) in \(Self.milliseconds(elapsed)) ms")
    }

    /// Restores what `labelFiles` changed (once the domain is over, whatever ended it); logs every problem.
    func restoreFiles() {
        guard let plan, SmallFile.exists(files.labelsFile) else { return }
        let problems = plan.restoreFiles()
        for problem in problems { log("security: cannot restore a file label: \(problem.message)") }
        SmallFile.remove(files.labelsFile)
        log("security: restored the file labels" + (problems.isEmpty ? "" : " (\(problems.count) problem(s))"))
    }

    static func monotonicNanoseconds() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return now.tv_sec * 1_000_000_000 + now.tv_nsec
    }

    /// Three decimals.
    static func milliseconds(_ value: Double) -> String {
        let thousandths = Int((value * 1000).rounded())
        let fraction = String(thousandths % 1000)
        return "\(thousandths / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}
