import Foundation
import VirtBase
import VirtCore

/// libvirt 9.0's test driver answers to `vcpupin`, `emulatorpin`, `numatune`, `schedinfo`, `vcpuinfo` and
/// `vcpucount`, quirks included (its scheduler always reports weight 50; pinning a vCPU takes no flags).
extension TestDriver: TuningDriver {
    /// The test host's CPUs as the driver counts them (`VIR_NODEINFO_MAXCPUS`: 16).
    private var hostCPUs: CPUSet { CPUSet(0..<TestDefaults.nodeInfo.cpus) }

    /// libvirt's `virCheckFlags` refusal.
    private func unsupportedFlags(_ flags: UInt32, _ function: String) -> VirtError {
        VirtError(.usage, .test, "unsupported flags (0x\(String(flags, radix: 16))) in function \(function)")
    }

    /// Which definition `flags` picks, as libvirt's `virDomainObjGetOneDefState`: `(index, live)`.
    private func oneDefinition(_ uuid: UUID, _ flags: DomainAffect) throws -> (Int, Bool) {
        let position = try index(.uuid(uuid))
        let domain = domains[position]
        let affect = try flags.resolvedOne(active: domain.isActive, persistent: domain.persistent, domain: .test)
        return (position, affect.contains(.live))
    }

    private func read(_ position: Int, live: Bool) -> DomainDefinition {
        live ? domains[position].definition : domains[position].persistentDefinition
    }

    /// Changes the chosen definition. A running domain's persistent definition is its own copy (libvirt's
    /// `newDef`), so live changes never reach `dumpxml --inactive` and are gone after the next stop.
    private func change(_ position: Int, live: Bool, _ body: (inout DomainDefinition) throws -> Void) rethrows {
        if domains[position].isActive && domains[position].pendingDefinition == nil {
            domains[position].pendingDefinition = domains[position].definition
        }
        if live || !domains[position].isActive {
            try body(&domains[position].definition)
        } else {
            try body(&domains[position].pendingDefinition!)
        }
    }

    // MARK: Pinning

    public func vcpuPinInfo(_ uuid: UUID, flags: DomainAffect) throws -> [CPUSet] {
        let (position, live) = try oneDefinition(uuid, flags)
        let definition = read(position, live: live)
        return (0..<definition.vcpu.count).map { definition.pinnedCPUs(ofVCPU: $0) ?? hostCPUs }
    }

    /// `testDomainPinVcpuFlags` takes no flags at all and only pins a running domain's online vCPUs.
    public func pinVCPU(_ uuid: UUID, vcpu: Int, cpus: CPUSet, flags: DomainAffect?) throws {
        if let flags, !flags.isEmpty { throw unsupportedFlags(flags.rawValue, "testDomainPinVcpuFlags") }
        let position = try index(.uuid(uuid))
        guard domains[position].isActive else {
            throw VirtError(.operationInvalid, .test, "cannot pin vcpus on an inactive domain")
        }
        guard vcpu < domains[position].definition.vcpu.currentCount else {
            throw VirtError(.invalidArgument, .test, "requested vcpu '\(vcpu)' is not present in the domain")
        }
        change(position, live: true) { definition in
            definition.setVCPUPin(vcpu, cpus)
        }
    }

    public func emulatorPinInfo(_ uuid: UUID, flags: DomainAffect) throws -> CPUSet {
        let (position, live) = try oneDefinition(uuid, flags)
        let definition = read(position, live: live)
        return definition.pinnedEmulatorCPUs ?? hostCPUs
    }

    public func pinEmulator(_ uuid: UUID, cpus: CPUSet, flags: DomainAffect) throws {
        let (position, live) = try oneDefinition(uuid, flags)
        guard !cpus.isEmpty else { throw VirtError(.invalidArgument, .test, "Empty cpu list for pinning") }
        change(position, live: live) { $0.setEmulatorPin(cpus) }
    }

    // MARK: NUMA

    public func numaParameters(_ uuid: UUID, flags: DomainAffect) throws -> (mode: Int, nodeset: String) {
        let (position, live) = try oneDefinition(uuid, flags)
        let memory = read(position, live: live).numatune?.memory
        return (NUMATuneParameters.modeNumber(memory?.mode ?? .strict), memory?.nodeset?.description ?? "")
    }

    public func setNumaParameters(_ uuid: UUID, _ parameters: NUMATuneParameters, flags: DomainAffect) throws {
        let position = try index(.uuid(uuid))
        let (_, live) = try oneDefinition(uuid, flags)
        let (mode, nodeset) = try parameters.parsed(for: .test)
        let current = read(position, live: live)
        if live, let mode, let configured = current.numatune?.memory?.mode, configured != mode {
            throw VirtError(.operationInvalid, .test, "can't change numatune mode for running domain")
        }
        let updated = try NUMATuneUpdate.apply(
            to: current.numatune, mode: mode, nodeset: nodeset, placementStatic: current.vcpu.placement != .auto)
        change(position, live: live) { $0.numatune = updated }
    }

    // MARK: Scheduler

    public func schedulerType(_ uuid: UUID) throws -> (name: String, parameters: Int) {
        _ = try index(.uuid(uuid))
        return ("fair", 1)
    }

    /// libvirt's test scheduler takes no flags (the public API adds `VIR_TYPED_PARAM_STRING_OKAY`, 0x4) and always
    /// reports weight 50.
    public func schedulerParameters(_ uuid: UUID, flags: DomainAffect?) throws -> [TypedParameter] {
        if let flags { throw unsupportedFlags(flags.rawValue | 4, "testDomainGetSchedulerParametersFlags") }
        _ = try index(.uuid(uuid))
        return [TypedParameter("weight", .uint(50))]
    }

    /// Accepts a weight and keeps nothing, as libvirt's test driver.
    public func setSchedulerParameters(_ uuid: UUID, _ parameters: [TypedParameter], flags: DomainAffect?) throws {
        if let flags, !flags.isEmpty {
            throw unsupportedFlags(flags.rawValue, "testDomainSetSchedulerParametersFlags")
        }
        try TypedParameter.validate(parameters, allowed: [TypedParameter("weight", .uint(0))])
        _ = try index(.uuid(uuid))
    }

    // MARK: vCPUs

    /// Every online vCPU runs on the last CPU of its set; the CPU time is a fake that grows with the clock
    /// (the real time in µs, read as ns ÷ 10), as libvirt's test driver reports.
    public func vcpuInfo(_ uuid: UUID) throws -> [VCPURuntimeInfo] {
        let domain = domains[try index(.uuid(uuid))]
        guard domain.isActive else {
            throw VirtError(.operationInvalid, .test, "cannot list vcpus for an inactive domain")
        }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let microseconds = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
        let definition = domain.definition
        return (0..<definition.vcpu.currentCount).map { vcpu in
            let cpus = definition.pinnedCPUs(ofVCPU: vcpu) ?? hostCPUs
            return VCPURuntimeInfo(
                number: vcpu, state: .running, cpuTimeNs: microseconds / 10, cpu: cpus.max ?? 0, affinity: cpus)
        }
    }

    public func vcpuCount(_ uuid: UUID, flags: VCPUCountFlags) throws -> Int {
        let known: VCPUCountFlags = [.live, .config, .maximum]
        guard flags.isSubset(of: known) else { throw unsupportedFlags(flags.rawValue, "testDomainGetVcpusFlags") }
        let affect = DomainAffect(
            rawValue: flags.rawValue & (DomainAffect.live.rawValue | DomainAffect.config.rawValue))
        let (position, live) = try oneDefinition(uuid, affect)
        let definition = read(position, live: live)
        return flags.contains(.maximum) ? definition.vcpu.count : definition.vcpu.currentCount
    }
}
