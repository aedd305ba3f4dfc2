import Foundation
import Host
import KVM
import VirtBase
import VirtCore

/// Running guests: start through the detached `virt-kvm` supervisor, control through its monitor, and
/// reconciliation that folds ended domains (status files, vanished processes) into the store.
extension KVMDriver {
    // MARK: Run files and processes

    /// Where the domain's run files live (the socket may move to the short directory).
    func runFiles(name: String, uuid: UUID) -> RunFiles {
        RunFiles(
            name: name, uuid: uuid.uuidString.lowercased(), runDirectory: paths.runDirectory,
            logDirectory: paths.logDirectory, shortSocketDirectory: paths.socketDirectory)
    }

    /// The processes recorded for an active domain, or nil when the record is incomplete.
    func process(of status: RuntimeStatus, name: String) -> DomainProcess? {
        guard let supervisorPID = status.supervisorPID, let supervisorStart = status.supervisorStartTime,
            let pid = status.pid, let pidStart = status.pidStartTime
        else { return nil }
        var files = runFiles(name: name, uuid: status.uuid)
        if let monitor = status.monitorPath { files.monitorSocket = monitor }
        return DomainProcess(
            runFiles: files, supervisor: ProcessIdentity(pid: supervisorPID, startTime: supervisorStart),
            hypervisor: ProcessIdentity(pid: pid, startTime: pidStart))
    }

    /// Folds every active domain whose processes ended (cleanly, by crash, or killed) into the store: the
    /// one path for clean exits and crashes alike. Never talks to a monitor, so it cannot hang.
    func reconcile() throws {
        for status in try store.activeStatuses() {
            guard let domain = try store.summary(.uuid(status.uuid)) else { continue }
            guard let process = process(of: status, name: domain.name) else {
                try store.markInactive(status.uuid, reason: .shutoffCrashed)
                removeLeftoverCGroups(domain.name, uuid: status.uuid)
                continue
            }
            switch process.liveness() {
            case .running(let current):
                if current.hypervisor != process.hypervisor {
                    try store.updateHypervisor(
                        status.uuid, pid: current.hypervisor.pid, startTime: current.hypervisor.startTime)
                }
                try foldLockFailurePause(status, name: domain.name)
            case .ended(let exit):
                try store.markInactive(status.uuid, reason: Self.stateReason(exit.reason))
                removeLeftoverCGroups(domain.name, uuid: status.uuid)
            }
        }
    }

    /// virsh's shut-off reason for how a domain ended.
    static func stateReason(_ reason: DomainExitStatus.ExitReason) -> DomainStateReason {
        switch reason {
        case .shutdown: .shutoffShutdown
        case .destroyed: .shutoffDestroyed
        case .crashed: .shutoffCrashed
        case .failed: .shutoffFailed
        }
    }

    /// The running domain's processes; `domain is not running` otherwise.
    func runningProcess(_ uuid: UUID) throws -> (DomainSummary, DomainProcess) {
        try reconcile()
        let domain = try store.require(.uuid(uuid))
        guard domain.id != nil, let status = try store.runtimeStatus(uuid) else {
            throw VirtError(.operationInvalid, .kvm, "domain is not running")
        }
        guard let process = process(of: status, name: domain.name) else {
            throw VirtError.internal("domain '\(domain.name)' is marked running without its process record", .kvm)
        }
        return (domain, process)
    }

    // MARK: Start

    /// Starts a defined domain: resolve its configuration, launch the supervisor, wait for the guest to be
    /// ready, record the processes and the live XML. A failed start leaves nothing running or recorded.
    func startDomain(_ uuid: UUID, flags: StartFlags, prepared: PrelaunchedSupervisor?) throws {
        // The supervisor process loads while the domain is resolved below (or since before the connection opened,
        // when the caller prepared the start); it waits for its configuration, and exits untouched if this start
        // fails first (or it is started afresh below if it could not be).
        var early = prepared
        defer { early?.cancel() }
        try reconcile()
        let domain = try store.require(.uuid(uuid))
        if domain.id != nil { throw VirtError(.operationInvalid, .kvm, "domain is already running") }
        if early == nil { early = try? DomainProcess.prelaunch() }
        let definition = try definition(uuid, live: false)
        let resolver = HypervisorConfigurationResolver(definition: definition)
        var hypervisor = try resolver.resolve()
        // Host checks, automatic placement and the free huge page check, before anything is launched.
        var automaticNodes: CPUSet?
        if resolver.needsHostTopology {
            automaticNodes = try resolver.applyHost(HostTopology.read(root: hostRoot), to: &hypervisor)
        }
        let kvmConf = try kvmConf()
        var configuration = SupervisorConfiguration(
            runFiles: runFiles(name: domain.name, uuid: uuid),
            onPoweroff: try exitAction(definition.onPoweroff, "on_poweroff", definition.name),
            onReboot: try exitAction(definition.onReboot, "on_reboot", definition.name),
            onCrash: try exitAction(definition.onCrash, "on_crash", definition.name),
            startPaused: flags.contains(.paused),
            monitorClientUIDs: [],
            hypervisor: hypervisor,
            leases: try leaseSettings(for: definition, kvmConf: kvmConf))
        configuration.tuning = try tuningConfiguration(resolver, name: domain.name, placement: hypervisor.placement)
        try truncateConsoleFiles(definition)
        // Labels last: from here on a failure must release the reservation (the supervisor restores files itself).
        let security = try reserveSecurityPlan(uuid, definition, kvmConf: kvmConf)
        configuration.security = security
        let process: DomainProcess
        let status: MonitorStatus?
        do {
            (process, status) = try DomainProcess.startReportingStatus(
                configuration, prelaunched: early)
        } catch {
            removeLeftoverCGroups(domain.name, uuid: uuid)
            try? store.releaseSecurityLabels(uuid)
            throw error
        }
        do {
            var live = definition
            if let nodes = automaticNodes { live.showAutomaticPlacement(nodes) }
            if let pty = status?.serialPTYPath { live.fillSerialPTY(pty) }
            live.applySecurityLabels(security.labels)
            try store.markActive(
                RuntimeStatus(
                    uuid: uuid, state: flags.contains(.paused) ? .pausedUser : .booted,
                    pid: process.hypervisor.pid, pidStartTime: process.hypervisor.startTime,
                    supervisorPID: process.supervisor.pid, supervisorStartTime: process.supervisor.startTime,
                    monitorPath: process.runFiles.monitorSocket, liveXML: DomainXML.format(live)))
        } catch {
            // Recording failed (a concurrent start recorded first): nothing may run unrecorded.
            _ = process.destroy()
            removeLeftoverCGroups(domain.name, uuid: uuid)
            try? store.releaseSecurityLabels(uuid)
            throw error
        }
    }

    /// A file console or `<log>` without `append='on'` starts empty, as libvirt's; the supervisor appends from
    /// then on, so a guest restarted by `on_reboot` keeps its earlier output.
    private func truncateConsoleFiles(_ definition: DomainDefinition) throws {
        let ports = definition.devices.serials + definition.devices.consoles
        var files: [String] = []
        for port in ports {
            if port.type == .file, port.sourceAppend != .on, let path = port.sourcePath { files.append(path) }
            if port.logAppend != .on, let log = port.logFile { files.append(log) }
        }
        for path in Set(files) {
            // Only regular files start empty: a console on /dev/null, a device or a FIFO is left as it is.
            var info = stat()
            guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { continue }
            guard truncate(path, 0) == 0 else {
                throw VirtError(
                    .systemError, .kvm,
                    "cannot start domain '\(definition.name)': cannot empty console file '\(path)': "
                        + String(cString: strerror(errno)) + "; fix its permissions or set append='on'",
                    errno: errno)
            }
        }
    }

    /// Maps libvirt's lifecycle actions onto what the supervisor can do, refusing the ones it cannot.
    private func exitAction(_ action: LifecycleAction, _ element: String, _ name: String) throws -> GuestExitAction {
        switch action {
        case .destroy: return .destroy
        case .restart: return .restart
        case .preserve, .renameRestart, .coredumpDestroy, .coredumpRestart:
            throw VirtError(
                .configUnsupported, .kvm,
                "cannot start domain '\(name)': <\(element)>\(action.rawValue)</\(element)> is not supported by "
                    + "the embedded hypervisor; use destroy or restart")
        }
    }

    // MARK: Control

    func shutdownDomain(_ uuid: UUID) throws {
        let (_, process) = try runningProcess(uuid)
        try process.shutdown()
    }

    func destroyDomain(_ uuid: UUID) throws {
        let (_, process) = try runningProcess(uuid)
        // A guest that ended on its own just before the destroy keeps the reason it ended with.
        try store.markInactive(uuid, reason: Self.stateReason(process.destroy().reason))
        removeLeftoverCGroups(process.runFiles.name, uuid: uuid)
    }

    func rebootDomain(_ uuid: UUID) throws {
        let (_, process) = try runningProcess(uuid)
        try process.powerButton()
    }

    func resetDomain(_ uuid: UUID) throws {
        let (_, process) = try runningProcess(uuid)
        try process.reset()
    }

    /// Pauses every vCPU; pausing a paused domain changes nothing (as libvirt's QEMU driver).
    func suspendDomain(_ uuid: UUID) throws {
        let (domain, process) = try runningProcess(uuid)
        if domain.state.state == .paused { return }
        _ = try process.pause()
        try store.setState(uuid, .pausedUser)
    }

    /// Resumes a paused domain; resuming a running one changes nothing.
    func resumeDomain(_ uuid: UUID) throws {
        let (domain, process) = try runningProcess(uuid)
        if domain.state.state != .paused { return }
        try checkLeasesBeforeResume(name: domain.name, uuid: uuid)
        _ = try process.resume()
        awaitLockFailurePauseCleared(name: domain.name, uuid: uuid)
        try store.setState(uuid, .unpaused)
    }

    /// CPU time of the running hypervisor process (user + system), in nanoseconds, from `/proc/PID/stat`.
    func cpuTimeNanoseconds(_ uuid: UUID) -> UInt64 {
        guard let status = try? store.runtimeStatus(uuid), let pid = status.pid else { return 0 }
        return ProcStat(path: "/proc/\(pid)/stat")?.cpuTimeNanoseconds ?? 0
    }
}

extension DomainDefinition {
    /// The live XML of a domain placed automatically shows the host nodes chosen for it, in
    /// `<numatune><memory placement='auto' nodeset='…'>`.
    mutating func showAutomaticPlacement(_ nodes: CPUSet) {
        guard var tune = numatune, var memory = tune.memory, memory.placement == .auto else { return }
        memory.nodeset = nodes
        tune.memory = memory
        numatune = tune
    }

    /// The live XML of a running domain shows the pty its serial port got, as libvirt does.
    mutating func fillSerialPTY(_ path: String) {
        for index in devices.serials.indices where devices.serials[index].type == .pty {
            devices.serials[index].sourcePath = path
        }
        for index in devices.consoles.indices where devices.consoles[index].type == .pty {
            devices.consoles[index].sourcePath = path
        }
    }
}
