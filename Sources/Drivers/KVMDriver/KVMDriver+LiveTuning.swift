import Foundation
import Host
import KVM
import VirtBase
import VirtCore

/// Live tuning of kvm:// domains, with libvirt's QEMU driver's rules and messages: `--live` changes the running
/// hypervisor (its threads' affinity, from outside, as libvirt does, and the domain's cgroups) and the live XML
/// `dumpxml` shows; `--config` changes the stored definition.
extension KVMDriver: TuningDriver {
    /// The fields `schedinfo` shows for a kvm:// domain, with their types.
    static let schedulerFields: [TypedParameter] = [
        TypedParameter("cpu_shares", .ullong(0)), TypedParameter("vcpu_period", .ullong(0)),
        TypedParameter("vcpu_quota", .llong(0)), TypedParameter("emulator_period", .ullong(0)),
        TypedParameter("emulator_quota", .llong(0)),
    ]

    /// Whether the driver may tune (libvirt's `driver->privileged`): cgroups and other processes' threads belong
    /// to root.
    private var privileged: Bool { getuid() == 0 }

    // MARK: Definitions

    /// The definitions `flags` chooses (libvirt's `virDomainObjGetDefs`): the live one, the persistent one, or both.
    private func definitions(_ uuid: UUID, _ flags: DomainAffect) throws -> (
        summary: DomainSummary, live: DomainDefinition?, config: DomainDefinition?
    ) {
        let summary = try lookup(.uuid(uuid))
        let affect = try flags.resolved(active: summary.id != nil, persistent: summary.persistent, domain: .kvm)
        return (
            summary, affect.contains(.live) ? try definition(uuid, live: true) : nil,
            affect.contains(.config) ? try definition(uuid, live: false) : nil
        )
    }

    /// The one definition `flags` chooses (`virDomainObjGetOneDef`); both flags at once is an error.
    private func oneDefinition(_ uuid: UUID, _ flags: DomainAffect) throws -> DomainDefinition {
        let summary = try lookup(.uuid(uuid))
        let affect = try flags.resolvedOne(active: summary.id != nil, persistent: summary.persistent, domain: .kvm)
        return try definition(uuid, live: affect.contains(.live))
    }

    private func saveLive(_ uuid: UUID, _ definition: DomainDefinition) throws {
        try store.updateLiveXML(uuid, DomainXML.format(definition))
    }

    private func onlineCPUs() throws -> CPUSet { try HostTopology.read(root: hostRoot).online }

    /// The running domain's cgroups when the supervisor made them, with `controller`.
    private func liveCGroup(_ name: String, vcpus: Int, _ controller: CGroupController) -> DomainCGroup? {
        guard let group = domainCGroup(name, vcpus: vcpus), group.host.has(controller),
            let directory = group.directory(controller, .domain), group.files.exists(directory)
        else { return nil }
        return group
    }

    // MARK: Pinning

    public func vcpuPinInfo(_ uuid: UUID, flags: DomainAffect) throws -> [CPUSet] {
        let definition = try oneDefinition(uuid, flags)
        let online = try onlineCPUs()
        return (0..<definition.vcpu.count).map { definition.pinnedCPUs(ofVCPU: $0) ?? online }
    }

    /// Without flags (`virDomainPinVcpu`) this pins the running domain, as libvirt's QEMU driver does.
    public func pinVCPU(_ uuid: UUID, vcpu: Int, cpus: CPUSet, flags: DomainAffect?) throws {
        let (summary, live, config) = try definitions(uuid, flags ?? .live)
        if let config, vcpu >= config.vcpu.count {
            throw VirtError(
                .invalidArgument, .kvm,
                "vcpu \(vcpu) is out of range of persistent cpu count \(config.vcpu.currentCount)")
        }
        guard !cpus.isEmpty else { throw VirtError(.invalidArgument, .kvm, "Empty cpu list for pinning") }
        if var live {
            guard vcpu < live.vcpu.count else {
                throw VirtError(
                    .invalidArgument, .kvm, "vcpu \(vcpu) is out of range of live cpu count \(live.vcpu.currentCount)")
            }
            guard vcpu < live.vcpu.currentCount else {
                throw VirtError(
                    .operationUnsupported, .kvm, "setting cpu pinning for inactive vcpu '\(vcpu)' is not supported")
            }
            try pinLive(uuid, name: summary.name, vcpus: live.vcpu.currentCount, vcpu: vcpu, cpus: cpus)
            live.setVCPUPin(vcpu, cpus)
            try saveLive(uuid, live)
        }
        if var config {
            config.setVCPUPin(vcpu, cpus)
            try define(config)
        }
    }

    public func emulatorPinInfo(_ uuid: UUID, flags: DomainAffect) throws -> CPUSet {
        try oneDefinition(uuid, flags).pinnedEmulatorCPUs ?? onlineCPUs()
    }

    public func pinEmulator(_ uuid: UUID, cpus: CPUSet, flags: DomainAffect) throws {
        let (summary, live, config) = try definitions(uuid, flags)
        guard !cpus.isEmpty else { throw VirtError(.invalidArgument, .kvm, "Empty cpu list for pinning") }
        if var live {
            try pinLive(uuid, name: summary.name, vcpus: live.vcpu.currentCount, vcpu: nil, cpus: cpus)
            live.setEmulatorPin(cpus)
            try saveLive(uuid, live)
        }
        if var config {
            config.setEmulatorPin(cpus)
            try define(config)
        }
    }

    /// Pins the running hypervisor's threads of vCPU `vcpu` (nil: every thread but the vCPUs) to `cpus`: the
    /// cgroup's cpuset first (cgroup v1 would refuse an affinity outside it), then each thread with
    /// `sched_setaffinity`. A refused affinity puts the cpuset back.
    private func pinLive(_ uuid: UUID, name: String, vcpus: Int, vcpu: Int?, cpus: CPUSet) throws {
        let what = vcpu.map { "vCPU \($0)" } ?? "the emulator threads"
        do {
            try HostTopology.read(root: hostRoot).validateCPUs(cpus, for: "pinning \(what) of domain '\(name)'")
        } catch {
            throw VirtError(.invalidArgument, .kvm, error.message)
        }
        let (_, process) = try runningProcess(uuid)
        let vcpuThreads = try process.vcpuThreadIDs()
        let threads: [Int32]
        if let vcpu {
            guard vcpu < vcpuThreads.count else {
                throw VirtError.internal("the hypervisor of domain '\(name)' reports no thread for vCPU \(vcpu)", .kvm)
            }
            threads = [vcpuThreads[vcpu]]
        } else {
            threads = try hypervisorThreads(process.hypervisor.pid).filter { !vcpuThreads.contains($0) }
        }
        let scope: DomainCGroup.Scope = vcpu.map { .vcpu($0) } ?? .emulator
        let group = liveCGroup(name, vcpus: vcpus, .cpuset)
        let previous = try group?.cpus(for: scope)
        try group?.setCPUs(cpus, for: scope)
        do {
            for tid in threads {
                do {
                    try ThreadAffinity.set(cpus, thread: tid)
                } catch  where error.errno == ESRCH {
                    continue  // a thread that ended meanwhile (a monitor connection's)
                }
            }
        } catch {
            if let previous { try? group?.setCPUs(previous, for: scope) }
            throw error
        }
    }

    /// The kernel thread ids of process `pid` (`/proc/PID/task`).
    private func hypervisorThreads(_ pid: Int32) throws -> [Int32] {
        guard let names = try HostFileSystem().list("/proc/\(pid)/task") else {
            throw VirtError(.operationInvalid, .kvm, "domain is not running: its hypervisor (pid \(pid)) is gone")
        }
        return names.compactMap { Int32($0) }
    }

    // MARK: NUMA

    public func numaParameters(_ uuid: UUID, flags: DomainAffect) throws -> (mode: Int, nodeset: String) {
        let memory = try oneDefinition(uuid, flags).numatune?.memory
        return (NUMATuneParameters.modeNumber(memory?.mode ?? .strict), memory?.nodeset?.description ?? "")
    }

    /// A running domain can only move between nodes in restrictive mode: its memory is confined by the cgroups'
    /// `cpuset.mems` alone, which change at once (pages already allocated stay where they are). Strict,
    /// preferred and interleave bind the guest RAM with `mbind` at start, which is not redone.
    public func setNumaParameters(_ uuid: UUID, _ parameters: NUMATuneParameters, flags: DomainAffect) throws {
        let (mode, nodeset) = try parameters.parsed(for: .kvm)
        let (summary, live, config) = try definitions(uuid, flags)
        if var live {
            guard privileged else {
                throw VirtError(.operationUnsupported, .kvm, "NUMA tuning is not available in session mode")
            }
            guard let group = liveCGroup(summary.name, vcpus: live.vcpu.currentCount, .cpuset) else {
                throw VirtError(.operationInvalid, .kvm, "cgroup cpuset controller is not mounted")
            }
            let configured = live.numatune?.memory.map { $0.mode ?? .strict }
            if let mode, mode != configured {
                throw VirtError(.operationInvalid, .kvm, "can't change numatune mode for running domain")
            }
            if let nodeset {
                guard configured == .restrictive else {
                    throw VirtError(
                        .operationInvalid, .kvm, "change of nodeset for running domain requires restrictive numa mode")
                }
                let nodes = try HostTopology.read(root: hostRoot).nodeIDs
                if let missing = nodeset.members.first(where: { !nodes.contains($0) }) {
                    throw VirtError(.invalidArgument, .kvm, "NUMA node \(missing) is unavailable")
                }
                try group.setMems(nodeset)
            }
            live.numatune = try NUMATuneUpdate.apply(
                to: live.numatune, mode: mode, nodeset: nodeset, placementStatic: live.vcpu.placement != .auto)
            try saveLive(uuid, live)
        }
        if var config {
            config.numatune = try NUMATuneUpdate.apply(
                to: config.numatune, mode: mode, nodeset: nodeset, placementStatic: config.vcpu.placement != .auto)
            try define(config)
        }
    }

    // MARK: Scheduler

    public func schedulerType(_ uuid: UUID) throws -> (name: String, parameters: Int) {
        guard privileged else {
            throw VirtError(.operationInvalid, .kvm, "CPU tuning is not available in session mode")
        }
        let summary = try lookup(.uuid(uuid))
        if summary.id != nil && liveCGroup(summary.name, vcpus: 0, .cpu) == nil {
            throw VirtError(.operationInvalid, .kvm, "cgroup CPU controller is not mounted")
        }
        return ("posix", Self.schedulerFields.count)
    }

    /// The persistent definition's values (0 for unset), or the running domain's, read from its cgroups: the
    /// domain group's weight, vCPU 0's and the emulator group's CFS period and quota.
    public func schedulerParameters(_ uuid: UUID, flags: DomainAffect?) throws -> [TypedParameter] {
        guard privileged else {
            throw VirtError(.operationInvalid, .kvm, "CPU tuning is not available in session mode")
        }
        let (summary, live, config) = try definitions(uuid, flags ?? .current)
        if let config {
            let tune = config.cputune
            return [
                TypedParameter("cpu_shares", .ullong(tune?.shares ?? 0)),
                TypedParameter("vcpu_period", .ullong(tune?.period ?? 0)),
                TypedParameter("vcpu_quota", .llong(tune?.quota ?? 0)),
                TypedParameter("emulator_period", .ullong(tune?.emulatorPeriod ?? 0)),
                TypedParameter("emulator_quota", .llong(tune?.emulatorQuota ?? 0)),
            ]
        }
        guard let live, let group = liveCGroup(summary.name, vcpus: live.vcpu.currentCount, .cpu) else {
            throw VirtError(.operationInvalid, .kvm, "cgroup CPU controller is not mounted")
        }
        let vcpu = try group.bandwidth(for: .vcpu(0))
        let emulator = try group.bandwidth(for: .emulator)
        return [
            TypedParameter("cpu_shares", .ullong(try group.shares())),
            TypedParameter("vcpu_period", .ullong(vcpu.period)), TypedParameter("vcpu_quota", .llong(vcpu.quota)),
            TypedParameter("emulator_period", .ullong(emulator.period)),
            TypedParameter("emulator_quota", .llong(emulator.quota)),
        ]
    }

    /// Writes the running domain's cgroups (a 0 period or quota leaves the live value alone, as libvirt) and/or the
    /// persistent `<cputune>` (where 0 removes the element). Every value is range-checked before anything changes.
    public func setSchedulerParameters(_ uuid: UUID, _ parameters: [TypedParameter], flags: DomainAffect?) throws {
        try TypedParameter.validate(parameters, allowed: Self.schedulerFields)
        guard privileged else {
            throw VirtError(.operationInvalid, .kvm, "CPU tuning is not available in session mode")
        }
        var values = SchedulerValues()
        for parameter in parameters { try values.take(parameter) }
        let (summary, live, config) = try definitions(uuid, flags ?? .current)
        if var live {
            let vcpus = live.vcpu.currentCount
            guard let group = liveCGroup(summary.name, vcpus: vcpus, .cpu) else {
                throw VirtError(.operationInvalid, .kvm, "cgroup CPU controller is not mounted")
            }
            var tune = live.cputune ?? CPUTune()
            if let shares = values.shares {
                try group.setShares(shares)
                tune.shares = try group.shares()
            }
            let vcpuPeriod = values.vcpuPeriod.flatMap { $0 == 0 ? nil : $0 }
            let vcpuQuota = values.vcpuQuota.flatMap { $0 == 0 ? nil : $0 }
            if vcpuPeriod != nil || vcpuQuota != nil {
                for index in 0..<vcpus {
                    try group.setBandwidth(period: vcpuPeriod, quota: vcpuQuota, for: .vcpu(index))
                }
                if let vcpuPeriod { tune.period = vcpuPeriod }
                if let vcpuQuota { tune.quota = vcpuQuota }
            }
            let emulatorPeriod = values.emulatorPeriod.flatMap { $0 == 0 ? nil : $0 }
            let emulatorQuota = values.emulatorQuota.flatMap { $0 == 0 ? nil : $0 }
            if emulatorPeriod != nil || emulatorQuota != nil {
                try group.setBandwidth(period: emulatorPeriod, quota: emulatorQuota, for: .emulator)
                if let emulatorPeriod { tune.emulatorPeriod = emulatorPeriod }
                if let emulatorQuota { tune.emulatorQuota = emulatorQuota }
            }
            live.cputune = tune
            try saveLive(uuid, live)
        }
        if var config {
            var tune = config.cputune ?? CPUTune()
            values.apply(to: &tune)
            config.cputune = tune
            try define(config)
        }
    }

    // MARK: vCPUs

    /// Each running vCPU's host CPU and CPU time (`/proc/PID/task/TID/stat`) and its affinity
    /// (`sched_getaffinity`), as libvirt's QEMU driver reports them.
    public func vcpuInfo(_ uuid: UUID) throws -> [VCPURuntimeInfo] {
        let summary = try lookup(.uuid(uuid))
        guard summary.id != nil else {
            throw VirtError(.operationInvalid, .kvm, "cannot retrieve vcpu information for inactive domain")
        }
        let (_, process) = try runningProcess(uuid)
        return try process.vcpuThreadIDs().enumerated().map { index, tid in
            let path = "/proc/\(process.hypervisor.pid)/task/\(tid)/stat"
            // Field 39 is the CPU the thread last ran on.
            guard let stat = ProcStat(path: path), let time = stat.cpuTimeNanoseconds, let cpu = stat.number(39)
            else { throw VirtError.internal("cannot read or parse '\(path)'", .kvm) }
            return VCPURuntimeInfo(
                number: index, state: .running, cpuTimeNs: time, cpu: Int(cpu),
                affinity: try ThreadAffinity.get(thread: tid))
        }
    }

    public func vcpuCount(_ uuid: UUID, flags: VCPUCountFlags) throws -> Int {
        if flags.contains(.guest) {
            throw VirtError(
                .operationUnsupported, .kvm,
                "the embedded hypervisor has no guest agent to ask how many vCPUs the guest has online")
        }
        let affect = DomainAffect(
            rawValue: flags.rawValue & (DomainAffect.live.rawValue | DomainAffect.config.rawValue))
        let definition = try oneDefinition(uuid, affect)
        return flags.contains(.maximum) ? definition.vcpu.count : definition.vcpu.currentCount
    }
}

/// The values of a `schedinfo --set`, range-checked as libvirt's QEMU driver does (0 means unset).
private struct SchedulerValues {
    var shares: UInt64?
    var vcpuPeriod: UInt64?
    var vcpuQuota: Int64?
    var emulatorPeriod: UInt64?
    var emulatorQuota: Int64?

    mutating func take(_ parameter: TypedParameter) throws(VirtError) {
        func outOfRange<T: Comparable>(_ range: ClosedRange<T>) -> VirtError {
            VirtError(
                .invalidArgument, .kvm,
                "value of '\(parameter.field)' is out of range [\(range.lowerBound), \(range.upperBound)]")
        }
        switch (parameter.field, parameter.value) {
        case ("cpu_shares", .ullong(let value)):
            if value != 0 && !DomainValidator.sharesRange.contains(value) {
                throw outOfRange(DomainValidator.sharesRange)
            }
            shares = value
        case ("vcpu_period", .ullong(let value)), ("emulator_period", .ullong(let value)):
            if value != 0 && !DomainValidator.periodRange.contains(value) {
                throw outOfRange(DomainValidator.periodRange)
            }
            if parameter.field == "vcpu_period" { vcpuPeriod = value } else { emulatorPeriod = value }
        case ("vcpu_quota", .llong(let value)), ("emulator_quota", .llong(let value)):
            if value > 0 && !DomainValidator.quotaRange.contains(value) { throw outOfRange(DomainValidator.quotaRange) }
            if parameter.field == "vcpu_quota" { vcpuQuota = value } else { emulatorQuota = value }
        default:
            throw VirtError(.invalidArgument, .kvm, "parameter '\(parameter.field)' not supported")
        }
    }

    /// Puts the values into a persistent `<cputune>`; 0 removes an element.
    func apply(to tune: inout CPUTune) {
        if let shares { tune.shares = shares == 0 ? nil : shares }
        if let vcpuPeriod { tune.period = vcpuPeriod == 0 ? nil : vcpuPeriod }
        if let vcpuQuota { tune.quota = vcpuQuota == 0 ? nil : vcpuQuota }
        if let emulatorPeriod { tune.emulatorPeriod = emulatorPeriod == 0 ? nil : emulatorPeriod }
        if let emulatorQuota { tune.emulatorQuota = emulatorQuota == 0 ? nil : emulatorQuota }
    }
}
