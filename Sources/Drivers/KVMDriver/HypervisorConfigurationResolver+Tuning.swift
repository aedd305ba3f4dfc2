import Foundation
import Host
import KVM
import VirtBase
import VirtCore

/// `<cputune>` shares, period and quota, `<vcpusched>` and `<numatune>` memory nodes → the supervisor's
/// `TuningConfiguration`, and the check, before anything is launched, that the host's cgroups can take them.
extension HypervisorConfigurationResolver {
    /// What the supervisor applies: the domain's cgroups (always, when the host has them), their values, the vCPU
    /// policies. `placement` is the hypervisor's own pinning, mirrored into the cpusets.
    func tuning(groupName: String, cgroupRoot: String, placement: PlacementConfiguration) throws
        -> TuningConfiguration
    {
        let tune = definition.cputune
        let vcpus = definition.vcpu.currentCount
        var schedules: [ThreadSchedule?] = Array(repeating: nil, count: vcpus)
        for sched in tune?.vcpuscheds ?? [] {
            let schedule = try threadSchedule(sched)
            for index in (sched.vcpus ?? CPUSet(0..<definition.vcpu.count)).members where index < vcpus {
                schedules[index] = schedule
            }
        }
        return TuningConfiguration(
            cgroupRoot: cgroupRoot, groupName: groupName, required: !cgroupNeeds.isEmpty, shares: tune?.shares,
            vcpuPeriod: tune?.period, vcpuQuota: tune?.quota, emulatorPeriod: tune?.emulatorPeriod,
            emulatorQuota: tune?.emulatorQuota,
            vcpuCPUs: (0..<vcpus).map { placement.cpus(forVCPU: $0) }, emulatorCPUs: placement.emulatorCPUs,
            mems: memoryNodes(),
            vcpuSchedules: schedules.allSatisfy { $0 == nil } ? [] : schedules)
    }

    private func threadSchedule(_ sched: VCPUSched) throws -> ThreadSchedule {
        switch sched.scheduler {
        case .batch: return ThreadSchedule(policy: .batch)
        case .idle: return ThreadSchedule(policy: .idle)
        case .fifo, .rr:
            guard let priority = sched.priority else {
                throw unsupported("<vcpusched scheduler='\(sched.scheduler.rawValue)'> needs a priority (1-99)")
            }
            return ThreadSchedule(policy: sched.scheduler == .fifo ? .fifo : .rr, priority: priority)
        }
    }

    /// `cpuset.mems` of the domain: the nodeset of a strict or restrictive `<numatune><memory>`, with every
    /// `<memnode>` nodeset added (a guest cell bound elsewhere must still be allowed its nodes). Restrictive relies
    /// on it alone (the guest RAM keeps the default policy), as libvirt means it. Preferred and interleave
    /// confine nothing; neither does a nodeset chosen at start (`placement='auto'`).
    private func memoryNodes() -> CPUSet? {
        guard let numatune = definition.numatune, let memory = numatune.memory else { return nil }
        switch memory.mode ?? .strict {
        case .strict, .restrictive:
            guard let nodes = memory.nodeset else { return nil }
            return numatune.memnodes.reduce(nodes) { $0.union($1.nodeset) }
        case .preferred, .interleave: return nil
        }
    }

    /// The elements that only cgroups can honour, with the controller each needs, in document order.
    var cgroupNeeds: [(element: String, controller: CGroupController)] {
        var needs: [(element: String, controller: CGroupController)] = []
        if let tune = definition.cputune {
            if tune.shares != nil { needs.append(("<cputune><shares>", .cpu)) }
            if tune.period != nil { needs.append(("<cputune><period>", .cpu)) }
            if tune.quota != nil { needs.append(("<cputune><quota>", .cpu)) }
            if tune.emulatorPeriod != nil { needs.append(("<cputune><emulator_period>", .cpu)) }
            if tune.emulatorQuota != nil { needs.append(("<cputune><emulator_quota>", .cpu)) }
        }
        if definition.numatune?.memory?.mode == .restrictive {
            needs.append(("<numatune><memory mode='restrictive'>", .cpuset))
        }
        return needs
    }

    /// Fails before launch when the definition needs cgroups the host does not offer or the caller cannot write
    /// (a `kvm:///session` user, a read-only cgroup file system), naming the element and the remedy.
    func validateCGroups(root: String) throws {
        let needs = cgroupNeeds
        guard let first = needs.first else { return }
        guard let host = CGroupHost.detect(root: root) else {
            throw unsupported(
                "\(first.element) needs the cgroup \(first.controller.rawValue) controller, and there is no cgroup "
                    + "hierarchy with it under '\(root)'; mount one or remove \(first.element)")
        }
        for need in needs {
            guard let top = host.mounts[need.controller] else {
                throw unsupported(
                    "\(need.element) needs the cgroup \(need.controller.rawValue) controller, which is not available "
                        + "(\(host.summary)); remove \(need.element)")
            }
            guard access(top, W_OK) == 0 else {
                throw VirtError(
                    .operationInvalid, .kvm,
                    "cannot start domain '\(definition.name)': \(need.element) needs the cgroup "
                        + "\(need.controller.rawValue) controller, and '\(top)' is not writable by uid \(getuid()) "
                        + "(\(String(cString: strerror(errno)))); use kvm:///system as root, or remove \(need.element)")
            }
        }
    }
}
