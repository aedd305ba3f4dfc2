import Host
import KVM
import VirtBase

#if canImport(Glibc)
    import Glibc
#endif

/// The supervisor's part of `<cputune>`, `<numatune>` and `<vcpusched>`: the domain's cgroups and the vCPU
/// threads' scheduling policy, applied from outside the confined hypervisor.
///
/// - When the definition asks for cgroup values or vCPU policies (`placesBeforeRunning`): right after the first
///   hypervisor is spawned, while it loads and before it gets its configuration, the groups
///   `machine/<name>/{emulator,vcpuN}` are made and their values written (`makeGroups`, from `afterSpawn`). When they
///   cannot be made, the start fails (the hypervisor is killed before it ran anything).
/// - Otherwise the groups only account and confine what the hypervisor's own pinning already does: they are made
///   once the hypervisor has its configuration, while it builds the VM (`afterHandOff`), so that their `mkdir`s
///   (1–2 ms here) never hold back its start; still before its ready report is read. A host without usable groups
///   leaves the domain running without them, and the log says why; a value that cannot be written (a pinned vCPU's
///   CPUs) fails the start, and the hypervisor is killed.
/// - When vCPUs must not run a guest instruction before they are placed (limits, a policy): right after each spawn,
///   before the hypervisor reads its configuration (so before it has a second thread), the whole process goes into
///   `emulator/` (`afterSpawn`), and the hypervisor starts paused.
/// - Otherwise the groups only account and confine what the hypervisor's own pinning already does, and the move
///   waits until the guest runs: a cgroup v1 migration can wait for an RCU grace period (several ms) while it
///   holds back every fork and thread creation on the host, which would delay the guest's start. The hypervisor
///   goes into `emulator/` when it reports ready, still before the start returns. (KVM's kernel worker thread,
///   created with the VM, then stays in the supervisor's group: kernel threads are not moved with a process.)
/// - When the hypervisor reports ready: each vCPU thread goes into `vcpuN/` and gets its policy, then the emulator
///   group gets its CPUs (not earlier: a vCPU thread pins itself while still in `emulator/`, and a v1 cpuset refuses
///   CPUs outside it). When vCPUs must not run before that, the hypervisor was started paused and is resumed here
///   (`placeVCPUs`).
/// - When the domain ends, before the status file is written: the groups are removed (`remove`).
final class SupervisorTuning {
    let configuration: TuningConfiguration
    let domain: String
    let vcpus: Int
    let monitorSocket: String
    /// The groups, once made; nil when the host has none usable and the definition did not need them.
    private(set) var cgroup: DomainCGroup?
    /// Why the last run's placement failed; the supervisor ends the domain `failed` with it.
    private(set) var failure: String?
    /// Whether `makeGroups` ran (once, for the first hypervisor).
    private var groupsMade = false

    private init(configuration: TuningConfiguration, supervisor: SupervisorConfiguration) {
        self.configuration = configuration
        domain = supervisor.hypervisor.name
        vcpus = supervisor.hypervisor.vcpus
        monitorSocket = supervisor.runFiles.monitorSocket
    }

    /// The domain's tuning, groups not made yet; nil when the configuration has no tuning.
    static func planned(_ supervisor: SupervisorConfiguration) -> SupervisorTuning? {
        guard let configuration = supervisor.tuning else { return nil }
        return SupervisorTuning(configuration: configuration, supervisor: supervisor)
    }

    /// Right after each spawn: makes the groups the first time (their `mkdir`s and values overlap the
    /// hypervisor's exec), then places the hypervisor when its vCPUs must be placed before they run. Throws (after
    /// removing what it made) when the definition needs cgroups that cannot be had.
    func afterSpawn(_ pid: Int32) throws(VirtError) {
        guard startsPaused else { return }
        try makeGroupsOnce()
        try placeHypervisor(pid)
    }

    /// Once the hypervisor has its configuration: makes the groups the first time when nothing had to be placed
    /// before the guest runs.
    func afterHandOff(_ pid: Int32) throws(VirtError) {
        if !startsPaused { try makeGroupsOnce() }
    }

    private func makeGroupsOnce() throws(VirtError) {
        guard !groupsMade else { return }
        groupsMade = true
        try makeGroups()
    }

    /// Whether the hypervisor must start paused: vCPUs with limits or a policy run no guest instruction before
    /// they are placed.
    var startsPaused: Bool { configuration.placesBeforeRunning }

    private func makeGroups() throws(VirtError) {
        guard let host = CGroupHost.detect(root: configuration.cgroupRoot) else {
            try unavailable("no cgroup hierarchy with the cpu or cpuset controller under '\(configuration.cgroupRoot)'")
            return
        }
        let group = configuration.cgroup(host: host, vcpus: vcpus)
        do {
            try group.create()
        } catch {
            try unavailable("cannot create its cgroups: \(error.message)")
            return
        }
        do {
            try write(group)
        } catch {
            try? group.remove(timeoutMilliseconds: 0)
            throw VirtError(error.code, .kvm, "cannot start domain '\(domain)': \(error.message)", errno: error.errno)
        }
        cgroup = group
        Supervisor.log("cgroups '\(group.relativePath(.domain))' ready (\(host.summary))")
    }

    /// A host without usable cgroups: an error when the definition needs them, a log line otherwise.
    private func unavailable(_ why: String) throws(VirtError) {
        if configuration.required {
            throw VirtError(
                .operationFailed, .kvm,
                "cannot start domain '\(domain)': its <cputune>/<numatune> values need cgroups, but the supervisor has "
                    + "\(why)")
        }
        Supervisor.log("running without cgroups: \(why)")
    }

    /// Writes every value the definition gives into the fresh groups.
    private func write(_ group: DomainCGroup) throws(VirtError) {
        if let shares = configuration.shares { try group.setShares(shares) }
        if configuration.vcpuPeriod != nil || configuration.vcpuQuota != nil {
            for index in 0..<vcpus {
                try group.setBandwidth(
                    period: configuration.vcpuPeriod, quota: configuration.vcpuQuota, for: .vcpu(index))
            }
        }
        if configuration.emulatorPeriod != nil || configuration.emulatorQuota != nil {
            try group.setBandwidth(
                period: configuration.emulatorPeriod, quota: configuration.emulatorQuota, for: .emulator)
        }
        if group.host.has(.cpuset) {
            if let mems = configuration.mems { try group.setMems(mems) }
            for index in 0..<vcpus where configuration.cpus(forVCPU: index) != nil {
                try group.setCPUs(configuration.cpus(forVCPU: index), for: .vcpu(index))
            }
        }
        let realTime = (0..<vcpus).filter { configuration.schedule(forVCPU: $0)?.policy.isRealTime == true }
        if group.host.has(.cpu) { try group.grantRealTimeRuntime(toVCPUs: realTime) }
    }

    /// Puts the hypervisor, all its threads, into `emulator/`.
    private func placeHypervisor(_ pid: Int32) throws(VirtError) {
        guard let cgroup else { return }
        do {
            // A restarted run starts again with all of the domain's CPUs in `emulator/` (see the type's notes).
            if cgroup.host.has(.cpuset) && configuration.emulatorCPUs != nil { try cgroup.setCPUs(nil, for: .emulator) }
            try cgroup.attachProcess(pid, to: .emulator)
        } catch {
            throw VirtError(
                error.code, .kvm, "cannot place the hypervisor of domain '\(domain)' in its cgroup: \(error.message)",
                errno: error.errno)
        }
    }

    /// Places the vCPU threads of the hypervisor that just reported ready, sets their policies, confines the
    /// emulator group, and resumes the vCPUs when the supervisor (not the user) paused them. Returns false, with
    /// `failure` set and the hypervisor killed, when that fails: the run must not go on half placed.
    /// `threads` are the vCPU thread ids from the hypervisor's ready report. A hypervisor (or vCPU thread) that is
    /// already gone is no failure: a short guest may end before it is placed, and an ended guest needs no groups.
    func placeVCPUs(hypervisor pid: Int32, threads: [Int32], resume: Bool) -> Bool {
        do {
            if !startsPaused { try placeHypervisor(pid) }
            try placeVCPUs(threads: threads, resume: resume)
            return true
        } catch where error.errno == ESRCH {
            Supervisor.log("the hypervisor's guest ended before all its threads were placed: \(error.description)")
            return true
        } catch {
            failure = error.description
            Supervisor.log("placing the vCPUs failed: \(error.description); stopping the hypervisor")
            kill(pid, SIGKILL)
            return false
        }
    }

    private func placeVCPUs(threads: [Int32], resume: Bool) throws(VirtError) {
        let needsThreads = cgroup != nil || configuration.vcpuSchedules.contains { $0 != nil }
        if needsThreads {
            guard threads.count == vcpus else {
                throw VirtError(
                    .internalError, .kvm,
                    "the hypervisor of domain '\(domain)' reported \(threads.count) vCPU threads for \(vcpus) vCPUs")
            }
            for (index, tid) in threads.enumerated() {
                if let cgroup {
                    do {
                        try cgroup.attachThread(tid, to: .vcpu(index))
                    } catch {
                        throw VirtError(
                            error.code, .kvm,
                            "cannot move vCPU \(index) (thread \(tid)) of domain '\(domain)' into "
                                + "its cgroup: \(error.message)", errno: error.errno)
                    }
                }
                if let schedule = configuration.schedule(forVCPU: index) {
                    do {
                        try ThreadScheduler.set(schedule, thread: tid)
                    } catch {
                        throw VirtError(
                            error.code, .kvm, "<vcpusched> of vCPU \(index) of domain '\(domain)': \(error.message)",
                            errno: error.errno)
                    }
                }
            }
            if let cgroup, cgroup.host.has(.cpuset), let emulator = configuration.emulatorCPUs {
                try cgroup.setCPUs(emulator, for: .emulator)
            }
        }
        if resume {
            let monitor = FrameClient(
                path: monitorSocket, what: "the monitor of domain '\(domain)'", domain: .kvm,
                timeoutMilliseconds: 5_000)
            defer { monitor.close() }
            _ = try monitor.call(MonitorMethod.resume.rawValue, WireEmpty(), returning: MonitorStatus.self)
        }
    }

    /// Removes the groups (the hypervisor has been reaped, so they are empty). Failures are logged: the next
    /// management call's reconciliation tries again.
    func remove() {
        guard let cgroup else { return }
        do {
            try cgroup.remove()
            self.cgroup = nil
        } catch {
            Supervisor.log("cannot remove the cgroups of domain '\(domain)': \(error.description)")
        }
    }
}
