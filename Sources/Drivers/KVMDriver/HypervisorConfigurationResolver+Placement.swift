import Host
import KVM
import VirtBase
import VirtCore

/// `<cputune>` pinning, `<vcpu cpuset>` and `<numatune>` → `PlacementConfiguration`, and their check against the
/// host's CPUs and NUMA nodes at start.
extension HypervisorConfigurationResolver {
    /// The pinning and memory policy the hypervisor applies (what cannot be applied yet is refused here).
    /// `placement='auto'` leaves the automatic parts empty here; `placeAutomatically` fills them from the host.
    func placement() throws -> PlacementConfiguration {
        let pins = definition.cputune?.vcpupins ?? []
        for pin in pins where pin.vcpu < 0 || pin.vcpu >= definition.vcpu.count {
            throw unsupported(
                "<vcpupin vcpu='\(pin.vcpu)'> names a vCPU the domain does not have (vCPUs: 0-\(definition.vcpu.count - 1))")
        }
        let vcpuCPUs: [CPUSet?] = (0..<definition.vcpu.currentCount).map { index in
            pins.last(where: { $0.vcpu == index })?.cpuset ?? definition.vcpu.cpuset
        }
        let policy = try wholeMemoryPolicy()
        try refuseUnappliedTuning()
        return PlacementConfiguration(
            vcpuCPUs: vcpuCPUs.allSatisfy { $0 == nil } ? [] : vcpuCPUs,
            emulatorCPUs: definition.cputune?.emulatorpin ?? definition.vcpu.cpuset,
            memoryPolicy: policy)
    }

    /// Tuning the hypervisor cannot apply yet is refused, never silently dropped. (CPU shares, period, quota and
    /// `<vcpusched>` are the supervisor's: `HypervisorConfigurationResolver+Tuning`.)
    private func refuseUnappliedTuning() throws {
        if let pin = definition.cputune?.iothreadpins.first {
            throw unsupported(
                "<iothreadpin iothread='\(pin.iothread)'> is not supported: the embedded hypervisor serves disks "
                    + "on its vCPU threads and has no I/O threads")
        }
        if let iothreads = definition.iothreads, iothreads > 0 {
            throw unsupported(
                "<iothreads>\(iothreads)</iothreads> is not supported: the embedded hypervisor serves disks on its "
                    + "vCPU threads and has no I/O threads; remove <iothreads>")
        }
    }

    /// Checks every CPU list and nodeset the definition gives against `host`: CPUs must exist and be online,
    /// nodes must exist. Errors name the element and the CPUs or nodes at fault.
    func validatePlacement(against host: HostTopology) throws {
        do {
            if let cpuset = definition.vcpu.cpuset { try host.validateCPUs(cpuset, for: "<vcpu cpuset='\(cpuset)'>") }
            for pin in definition.cputune?.vcpupins ?? [] {
                try host.validateCPUs(pin.cpuset, for: "<vcpupin vcpu='\(pin.vcpu)' cpuset='\(pin.cpuset)'>")
            }
            if let emulator = definition.cputune?.emulatorpin {
                try host.validateCPUs(emulator, for: "<emulatorpin cpuset='\(emulator)'>")
            }
            if let nodes = definition.numatune?.memory?.nodeset {
                try host.validateNodeset(nodes, for: "<numatune><memory nodeset='\(nodes)'>")
            }
        } catch {
            throw VirtError(error.code, .kvm, "cannot start domain '\(definition.name)': \(error.message)")
        }
    }

    /// True when the definition asks for any pinning or memory policy (the host is only read then).
    var asksForPlacement: Bool {
        definition.vcpu.cpuset != nil || definition.cputune?.vcpupins.isEmpty == false
            || definition.cputune?.emulatorpin != nil || definition.numatune?.memory?.nodeset != nil
    }
}
