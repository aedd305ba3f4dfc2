public import VirtBase

/// The changes live tuning makes to a definition, shared by every driver so that `vcpupin`, `emulatorpin` and
/// `numatune` change the XML exactly as libvirt does.
extension DomainDefinition {
    /// `<vcpupin vcpu='N' cpuset='…'/>`: replaces the vCPU's pin or adds one.
    public mutating func setVCPUPin(_ vcpu: Int, _ cpus: CPUSet) {
        var tune = cputune ?? CPUTune()
        tune.vcpupins.removeAll { $0.vcpu == vcpu }
        tune.vcpupins.append(VCPUPin(vcpu: vcpu, cpuset: cpus))
        tune.vcpupins.sort { $0.vcpu < $1.vcpu }
        cputune = tune
    }

    /// `<emulatorpin cpuset='…'/>`.
    public mutating func setEmulatorPin(_ cpus: CPUSet) {
        var tune = cputune ?? CPUTune()
        tune.emulatorpin = cpus
        cputune = tune
    }

    /// The host CPUs vCPU `vcpu` is pinned to by the definition: its `<vcpupin>`, else `<vcpu cpuset>`.
    public func pinnedCPUs(ofVCPU vcpu: Int) -> CPUSet? {
        cputune?.vcpupins.last(where: { $0.vcpu == vcpu })?.cpuset ?? self.vcpu.cpuset
    }

    /// The host CPUs the emulator threads are pinned to: `<emulatorpin>`, else `<vcpu cpuset>`.
    public var pinnedEmulatorCPUs: CPUSet? { cputune?.emulatorpin ?? vcpu.cpuset }
}

/// `<numatune><memory>` after a `numatune --mode/--nodeset` change, as libvirt's `virDomainNumatuneSet` makes it:
/// a first change defaults the mode to strict and needs a nodeset unless the placement is automatic.
public enum NUMATuneUpdate {
    private enum PlacementChoice { case unchanged, byDefault, fixed, automatic }

    /// The new `<numatune>`; `placementStatic` is whether `<vcpu>` placement is static. Nothing changes when
    /// neither a mode nor a nodeset is given.
    public static func apply(to tune: NUMATune?, mode: NUMATune.Mode?, nodeset: CPUSet?, placementStatic: Bool)
        throws(VirtError) -> NUMATune?
    {
        if mode == nil && nodeset == nil { return tune }
        var memory = tune?.memory ?? NUMATune.Memory()
        var placement = PlacementChoice.unchanged
        if tune?.memory == nil {
            memory.mode = mode ?? .strict
            placement = .byDefault
        } else if let mode {
            memory.mode = mode
        }
        if let nodeset {
            memory.nodeset = nodeset
            if placement == .unchanged { placement = .fixed }
        }
        if placement == .byDefault { placement = memory.nodeset != nil || placementStatic ? .fixed : .automatic }
        if placement == .fixed && memory.nodeset == nil {
            throw VirtError(
                .configUnsupported, .domain, "nodeset for NUMA memory tuning must be set if 'placement' is 'static'")
        }
        if placement == .automatic { memory.nodeset = nil }
        switch placement {
        case .fixed: memory.placement = .static
        case .automatic: memory.placement = .auto
        case .unchanged, .byDefault: break
        }
        var result = tune ?? NUMATune()
        result.memory = memory
        return result
    }
}
