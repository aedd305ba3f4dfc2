/// libvirt's post-parse step: fill the defaults a definition gets when the document leaves them out, so that
/// the formatted XML (and every consumer of the model) sees complete values.
enum DomainPostParse {
    /// The architecture the kvm driver reports for guests on this host.
    static var hostArchitecture: String {
        #if arch(x86_64)
            "x86_64"
        #elseif arch(arm64)
            "aarch64"
        #else
            "unknown"
        #endif
    }

    /// The architecture libvirt fills in for `type`: `i686` for the test driver, else the host's.
    static func defaultArchitecture(for type: DomainType) -> String {
        type == .test ? "i686" : hostArchitecture
    }

    static func apply(_ definition: inout DomainDefinition, presence: DomainXMLParser.Presence) throws(VirtError) {
        try memory(&definition, presence: presence)
        placement(&definition)
        if definition.os.arch == nil { definition.os.arch = defaultArchitecture(for: definition.type) }
        let deviceBoot = definition.devices.disks.contains { $0.bootOrder != nil }
        if definition.os.bootDevices.isEmpty, definition.os.kernel == nil, !deviceBoot {
            definition.os.bootDevices = [.hd]
        }
        cpu(&definition)
        canonicalOrder(&definition)
        devices(&definition)
        for index in definition.seclabels.indices {
            var label = definition.seclabels[index]
            if label.type == nil { label.type = .dynamic }
            if label.relabel == nil { label.relabel = YesNo(label.type == .dynamic) }
            definition.seclabels[index] = label
        }
    }

    private static func memory(_ definition: inout DomainDefinition, presence: DomainXMLParser.Presence)
        throws(VirtError)
    {
        let cellTotal = definition.cpu?.numaCells.reduce(UInt64(0)) { $0 &+ $1.memoryKiB } ?? 0
        if !presence.memory || definition.memoryKiB == 0 {
            guard cellTotal > 0 else {
                throw VirtError(
                    .xmlError, .xml,
                    "Memory size must be specified via <memory> or in the <numa> configuration "
                        + "(add e.g. <memory unit='MiB'>512</memory>)")
            }
            definition.memoryKiB = cellTotal
        }
        // libvirt treats an absent or zero <currentMemory> as "all of it".
        if let current = presence.currentMemoryKiB, current != 0 {
            definition.currentMemoryKiB = current
        } else {
            definition.currentMemoryKiB = definition.memoryKiB
        }
    }

    private static func placement(_ definition: inout DomainDefinition) {
        if definition.vcpu.current == definition.vcpu.count { definition.vcpu.current = nil }
        // With automatic placement numad decides; libvirt ignores (and does not print) a cpuset.
        if definition.vcpu.placement == .auto { definition.vcpu.cpuset = nil }
        let numaPlacement = definition.numatune?.memory.flatMap { memory in
            memory.placement ?? (memory.nodeset != nil ? .static : nil)
        }
        if definition.vcpu.placement == nil {
            definition.vcpu.placement = numaPlacement ?? .static
        }
        if definition.vcpu.placement == .auto, definition.numatune?.memory == nil {
            var tune = definition.numatune ?? NUMATune()
            tune.memory = NUMATune.Memory(mode: .strict, nodeset: nil, placement: .auto)
            definition.numatune = tune
        }
        if var tune = definition.numatune, var memory = tune.memory {
            if memory.mode == nil { memory.mode = .strict }
            if memory.placement == nil {
                memory.placement = memory.nodeset != nil ? .static : definition.vcpu.placement
            }
            // The nodes of automatic placement are chosen at start: a nodeset with placement='auto' is kept only as
            // the live XML's record of that choice, and dropped when a definition is stored (`removingLiveValues`).
            tune.memory = memory
            definition.numatune = tune
        }
    }

    /// Puts lists libvirt keeps per vCPU / per cell into that order, and expands `<vcpusched vcpus='0-3'>` to one
    /// entry per vCPU, so the model equals what a re-parse of its formatted XML gives.
    private static func canonicalOrder(_ definition: inout DomainDefinition) {
        if var tune = definition.cputune {
            tune.vcpupins.sort { $0.vcpu < $1.vcpu }
            tune.iothreadpins.sort { $0.iothread < $1.iothread }
            var expanded: [VCPUSched] = []
            for sched in tune.vcpuscheds {
                for vcpu in (sched.vcpus ?? CPUSet(0..<definition.vcpu.count)).members {
                    expanded.append(
                        VCPUSched(vcpus: CPUSet([vcpu]), scheduler: sched.scheduler, priority: sched.priority))
                }
            }
            expanded.sort { ($0.vcpus?.max ?? 0) < ($1.vcpus?.max ?? 0) }
            tune.vcpuscheds = expanded
            definition.cputune = tune
        }
        definition.numatune?.memnodes.sort { $0.cellID < $1.cellID }
    }

    private static func cpu(_ definition: inout DomainDefinition) {
        guard var cpu = definition.cpu else { return }
        if var model = cpu.model {
            if cpu.mode == nil { cpu.mode = .custom }
            if cpu.mode == .custom {
                if cpu.match == nil { cpu.match = .exact }
                if model.fallback == nil { model.fallback = "allow" }
            }
            cpu.model = model
        }
        definition.cpu = cpu
    }

    /// The bus libvirt infers from a disk target's prefix when `<target bus>` is absent.
    static func inferredBus(for target: String) -> String? {
        let name = target.hasPrefix("ioemu:") ? String(target.dropFirst("ioemu:".count)) : target
        for (prefix, bus) in [
            ("xvd", "xen"), ("ubd", "uml"), ("vd", "virtio"), ("sd", "scsi"), ("hd", "ide"),
            ("fd", "fdc"),
        ]
        where name.hasPrefix(prefix) {
            return bus
        }
        return nil
    }

    /// A per-device label relabels unless it says otherwise.
    private static func defaultRelabel(_ label: DeviceSecurityLabel) -> DeviceSecurityLabel {
        var label = label
        if label.relabel == nil { label.relabel = .yes }
        return label
    }

    private static func devices(_ definition: inout DomainDefinition) {
        for index in definition.devices.disks.indices {
            if definition.devices.disks[index].bus == nil {
                definition.devices.disks[index].bus = inferredBus(for: definition.devices.disks[index].target)
            }
            definition.devices.disks[index].sourceSeclabels = definition.devices.disks[index].sourceSeclabels.map(
                defaultRelabel)
        }
        for index in definition.devices.serials.indices {
            definition.devices.serials[index].sourceSeclabels = definition.devices.serials[index].sourceSeclabels.map(
                defaultRelabel)
        }
        for index in definition.devices.consoles.indices {
            definition.devices.consoles[index].sourceSeclabels = definition.devices.consoles[index].sourceSeclabels
                .map(defaultRelabel)
        }
        for index in definition.devices.interfaces.indices where definition.devices.interfaces[index].mac == nil {
            definition.devices.interfaces[index].mac = MACAddress.generate()
        }
        var usedPorts = Set(definition.devices.serials.compactMap(\.targetPort))
        var next = 0
        for index in definition.devices.serials.indices where definition.devices.serials[index].targetPort == nil {
            while usedPorts.contains(next) { next += 1 }
            definition.devices.serials[index].targetPort = next
            usedPorts.insert(next)
        }
        for index in definition.devices.consoles.indices {
            if definition.devices.consoles[index].targetType == nil, definition.os.type == "hvm" {
                definition.devices.consoles[index].targetType = "serial"
            }
            if definition.devices.consoles[index].targetPort == nil {
                definition.devices.consoles[index].targetPort = index
            }
        }
    }
}
