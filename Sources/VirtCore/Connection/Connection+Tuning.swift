import Foundation
import VirtBase

/// Live tuning (`vcpupin`, `emulatorpin`, `numatune`, `schedinfo`, `vcpuinfo`, `vcpucount`): the driver's calls,
/// with the read-only check libvirt makes for the changing ones.
extension Connection {
    /// The driver's tuning calls, or libvirt's error for a driver without them.
    private func tuningDriver(_ api: String) throws -> any TuningDriver {
        guard let driver = driver as? any TuningDriver else {
            throw VirtError(.noSupport, .connection, api)
        }
        return driver
    }

    public func vcpuPinInfo(_ uuid: UUID, flags: DomainAffect) throws -> [CPUSet] {
        try tuningDriver("virDomainGetVcpuPinInfo").vcpuPinInfo(uuid, flags: flags)
    }

    /// `flags` nil is `virDomainPinVcpu`, the call without flags.
    public func pinVCPU(_ uuid: UUID, vcpu: Int, cpus: CPUSet, flags: DomainAffect?) throws {
        let api = flags == nil ? "virDomainPinVcpu" : "virDomainPinVcpuFlags"
        try requireWritable(api)
        try tuningDriver(api).pinVCPU(uuid, vcpu: vcpu, cpus: cpus, flags: flags)
    }

    public func emulatorPinInfo(_ uuid: UUID, flags: DomainAffect) throws -> CPUSet {
        try tuningDriver("virDomainGetEmulatorPinInfo").emulatorPinInfo(uuid, flags: flags)
    }

    public func pinEmulator(_ uuid: UUID, cpus: CPUSet, flags: DomainAffect) throws {
        try requireWritable("virDomainPinEmulator")
        try tuningDriver("virDomainPinEmulator").pinEmulator(uuid, cpus: cpus, flags: flags)
    }

    public func numaParameters(_ uuid: UUID, flags: DomainAffect) throws -> (mode: Int, nodeset: String) {
        try tuningDriver("virDomainGetNumaParameters").numaParameters(uuid, flags: flags)
    }

    public func setNumaParameters(_ uuid: UUID, _ parameters: NUMATuneParameters, flags: DomainAffect) throws {
        try requireWritable("virDomainSetNumaParameters")
        try tuningDriver("virDomainSetNumaParameters").setNumaParameters(uuid, parameters, flags: flags)
    }

    public func schedulerType(_ uuid: UUID) throws -> (name: String, parameters: Int) {
        try tuningDriver("virDomainGetSchedulerType").schedulerType(uuid)
    }

    /// `flags` nil is `virDomainGetSchedulerParameters`, the call without flags.
    public func schedulerParameters(_ uuid: UUID, flags: DomainAffect?) throws -> [TypedParameter] {
        let api = flags == nil ? "virDomainGetSchedulerParameters" : "virDomainGetSchedulerParametersFlags"
        return try tuningDriver(api).schedulerParameters(uuid, flags: flags)
    }

    /// `flags` nil is `virDomainSetSchedulerParameters`, the call without flags.
    public func setSchedulerParameters(_ uuid: UUID, _ parameters: [TypedParameter], flags: DomainAffect?) throws {
        let api = flags == nil ? "virDomainSetSchedulerParameters" : "virDomainSetSchedulerParametersFlags"
        try requireWritable(api)
        try tuningDriver(api).setSchedulerParameters(uuid, parameters, flags: flags)
    }

    public func vcpuInfo(_ uuid: UUID) throws -> [VCPURuntimeInfo] {
        try tuningDriver("virDomainGetVcpus").vcpuInfo(uuid)
    }

    public func vcpuCount(_ uuid: UUID, flags: VCPUCountFlags) throws -> Int {
        try tuningDriver("virDomainGetVcpusFlags").vcpuCount(uuid, flags: flags)
    }
}
