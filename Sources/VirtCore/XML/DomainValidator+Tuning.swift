/// vCPU, `<cputune>`, `<cpu>` topology and NUMA, `<numatune>` and huge page rules.
extension DomainValidator {
    /// cgroup CFS period bounds, µs (libvirt's `VIR_CGROUP_CPU_PERIOD_MIN/MAX`).
    public static let periodRange: ClosedRange<UInt64> = 1000...1_000_000
    /// cgroup CFS quota bounds, µs (`VIR_CGROUP_CPU_QUOTA_MIN/MAX`); negative means unlimited.
    public static let quotaRange: ClosedRange<Int64> = 1000...17_592_186_044_415
    /// cgroup v1 `cpu.shares` bounds, libvirt's documented range.
    public static let sharesRange: ClosedRange<UInt64> = 2...262_144
    /// Real-time priorities for fifo and rr (Linux `sched_get_priority_min/max`).
    public static let realtimePriorityRange: ClosedRange<Int> = 1...99

    static func vcpus(_ definition: DomainDefinition) throws(VirtError) {
        let vcpu = definition.vcpu
        if let current = vcpu.current, current > vcpu.count {
            throw unsupported(
                "maximum vCPU count must not be less than current vCPU count (current='\(current)' but <vcpu> is "
                    + "\(vcpu.count))")
        }
    }

    private static func vcpuRange(_ count: Int) -> String { count == 1 ? "0" : "0-\(count - 1)" }

    static func cputune(_ definition: DomainDefinition) throws(VirtError) {
        guard let tune = definition.cputune else { return }
        let count = definition.vcpu.count
        for pin in tune.vcpupins where pin.vcpu >= count {
            throw unsupported(
                "vcpupin for vCPU \(pin.vcpu) is out of range: the domain has \(count) vCPUs (\(vcpuRange(count))); "
                    + "libvirt ignores it with a warning, swift-virt rejects it")
        }
        if let shares = tune.shares, !sharesRange.contains(shares) {
            throw unsupported(
                "Value of cputune 'shares' must be in range [\(sharesRange.lowerBound), \(sharesRange.upperBound)] "
                    + "(got \(shares))")
        }
        for (name, value) in [("period", tune.period), ("emulator_period", tune.emulatorPeriod)] {
            if let value, !periodRange.contains(value) {
                throw unsupported(
                    "Value of cputune '\(name)' must be in range [\(periodRange.lowerBound), "
                        + "\(periodRange.upperBound)] (got \(value))")
            }
        }
        for (name, value) in [("quota", tune.quota), ("emulator_quota", tune.emulatorQuota)] {
            if let value, value > 0, !quotaRange.contains(value) {
                throw unsupported(
                    "Value of cputune '\(name)' must be in range [\(quotaRange.lowerBound), "
                        + "\(quotaRange.upperBound)] (got \(value); a negative quota means unlimited)")
            }
        }
        let iothreads = definition.iothreads ?? 0
        for pin in tune.iothreadpins where pin.iothread < 1 || pin.iothread > iothreads {
            throw unsupported(
                "iothreadpin for iothread \(pin.iothread) has no such iothread: the domain has \(iothreads) "
                    + "(<iothreads>\(iothreads)</iothreads>, numbered from 1)")
        }
        var scheduled = CPUSet()
        for sched in tune.vcpuscheds {
            let vcpus = sched.vcpus ?? CPUSet(0..<count)
            if let outside = vcpus.members.first(where: { $0 >= count }) {
                throw unsupported(
                    "vcpusched names vCPU \(outside) but the domain has \(count) vCPUs (\(vcpuRange(count)))")
            }
            if let twice = vcpus.members.first(where: { scheduled.contains($0) }) {
                throw unsupported("vCPU \(twice) is referenced by more than one <vcpusched>")
            }
            scheduled = scheduled.union(vcpus)
            switch sched.scheduler {
            case .fifo, .rr:
                guard let priority = sched.priority else {
                    throw unsupported("scheduler '\(sched.scheduler.rawValue)' needs a 'priority' (1-99)")
                }
                if !realtimePriorityRange.contains(priority) {
                    throw unsupported(
                        "vcpusched priority \(priority) is outside the real-time range [1, 99]")
                }
            case .batch, .idle:
                if sched.priority != nil {
                    throw unsupported("scheduler '\(sched.scheduler.rawValue)' takes no 'priority'")
                }
            }
        }
    }

    static func cpu(_ definition: DomainDefinition) throws(VirtError) {
        guard let cpu = definition.cpu else { return }
        let count = definition.vcpu.count
        if let topology = cpu.topology, topology.vcpuCount != count {
            throw unsupported(
                "CPU topology doesn't match maximum vcpu count: sockets \(topology.sockets) x dies \(topology.dies) "
                    + "x cores \(topology.cores) x threads \(topology.threads) = \(topology.vcpuCount) but <vcpu> is "
                    + "\(count) (libvirt's test driver accepts this; swift-virt requires them to match)")
        }
        var features = Set<String>()
        for feature in cpu.features where !features.insert(feature.name).inserted {
            throw unsupported("CPU feature '\(feature.name)' specified more than once")
        }
        let cells = cpu.numaCells
        guard !cells.isEmpty else { return }
        for (index, cell) in cells.enumerated() where cell.id != index {
            throw xml(
                "guest NUMA cell ids must be 0, 1, 2, ... in document order: cell \(index) has id='\(cell.id)'")
        }
        for (i, cell) in cells.enumerated() {
            guard let cpus = cell.cpus else { continue }
            if let outside = cpus.members.first(where: { $0 >= count }) {
                throw unsupported(
                    "NUMA cell \(i) names vCPU \(outside) but the domain has \(count) vCPUs (\(vcpuRange(count)))")
            }
            for j in 0..<i {
                if let other = cells[j].cpus, !cpus.intersection(other).isEmpty {
                    throw unsupported(
                        "NUMA cells \(i) and \(j) have overlapping vCPU ids (vCPUs \(cpus.intersection(other)))")
                }
            }
        }
        let covered = cells.compactMap(\.cpus).reduce(CPUSet()) { $0.union($1) }
        let missing = CPUSet(0..<count).subtracting(covered)
        if !missing.isEmpty {
            throw unsupported(
                "vCPUs \(missing) are in no guest NUMA cell; the cells must cover every vCPU "
                    + "(\(vcpuRange(count))) exactly once (libvirt accepts this; swift-virt rejects it)")
        }
        let total = cells.reduce(UInt64(0)) { $0 &+ $1.memoryKiB }
        if total != definition.memoryKiB {
            throw unsupported(
                "guest NUMA cells add up to \(total) KiB but <memory> is \(definition.memoryKiB) KiB; they must "
                    + "be equal (libvirt keeps the larger <memory>, swift-virt rejects the mismatch)")
        }
        for cell in cells {
            var siblings = Set<Int>()
            for distance in cell.distances {
                guard distance.id < cells.count else {
                    throw xml("NUMA cell \(cell.id) has a distance to cell \(distance.id), which does not exist")
                }
                guard siblings.insert(distance.id).inserted else {
                    throw xml("NUMA cell \(cell.id) lists the distance to cell \(distance.id) twice")
                }
                if distance.id == cell.id, distance.value != 10 {
                    throw xml("NUMA cell \(cell.id): the local distance must be 10 (got \(distance.value))")
                }
            }
        }
    }

    static func numatune(_ definition: DomainDefinition) throws(VirtError) {
        guard let tune = definition.numatune else { return }
        let cellCount = definition.cpu?.numaCells.count ?? 0
        if let memory = tune.memory, memory.placement == .static, memory.nodeset == nil {
            throw xml("nodeset for NUMA memory tuning must be set if 'placement' is 'static'")
        }
        var seen = Set<Int>()
        for node in tune.memnodes {
            guard node.cellID < cellCount else {
                throw xml(
                    "Argument 'cellid' in memnode element must correspond to existing guest's NUMA cell (cellid="
                        + "'\(node.cellID)', but the guest has \(cellCount == 0 ? "no NUMA cells" : "cells \(vcpuRange(cellCount))"))"
                )
            }
            guard seen.insert(node.cellID).inserted else {
                throw xml("Multiple memnode elements with cellid \(node.cellID)")
            }
            if tune.memory?.placement == .auto {
                throw unsupported("Per-node binding is not compatible with automatic NUMA placement.")
            }
            if tune.memory?.mode == .restrictive, node.mode != .restrictive {
                throw xml(
                    "'restrictive' mode is required in memnode element when mode is 'restrictive' in memory element")
            }
        }
    }

    static func hugepages(_ definition: DomainDefinition) throws(VirtError) {
        guard let backing = definition.memoryBacking, let pages = backing.hugepages else { return }
        let cellCount = max(definition.cpu?.numaCells.count ?? 0, 1)
        var defaultPages = 0
        var used = CPUSet()
        for page in pages {
            guard page.sizeKiB & (page.sizeKiB - 1) == 0 else {
                throw unsupported(
                    "hugepage size \(page.sizeKiB) KiB is not a power of two (use e.g. 2048 KiB or 1048576 KiB)")
            }
            guard let nodes = page.nodeset else {
                defaultPages += 1
                if defaultPages > 1 { throw xml("two master hugepages detected (at most one <page> without nodeset)") }
                continue
            }
            if let missing = nodes.members.first(where: { $0 >= cellCount }) {
                throw VirtError(
                    .xmlDetail, .xml,
                    "hugepages: node \(missing) not found (the guest has NUMA cells \(vcpuRange(cellCount)))")
            }
            if let twice = nodes.members.first(where: { used.contains($0) }) {
                throw xml("hugepages: node \(twice) is given more than one page size")
            }
            used = used.union(nodes)
        }
        if definition.type == .kvm || definition.type == .qemu, backing.source == .anonymous {
            throw unsupported("hugepages are not allowed with anonymous memory source")
        }
    }
}
