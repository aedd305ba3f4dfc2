import Glibc
import VirtBase

/// The values `<cputune>` and `<numatune>` put into a domain's cgroups, and where threads go. cgroup v1 and v2
/// spell them differently; libvirt's names are kept in messages (`cpu.shares`, `cfs_quota_us`).
extension DomainCGroup {
    /// libvirt's ranges of the CPU values (`VIR_CGROUP_CPU_*`).
    public enum Limits {
        /// `<period>`: 1 ms to 1 s.
        public static let period: ClosedRange<UInt64> = 1_000...1_000_000
        /// `<quota>`: 1 ms up to the kernel's limit; any negative value means unlimited.
        public static let quota: ClosedRange<Int64> = 1_000...17_592_186_044_415
        /// `<shares>` on cgroup v1 (`cpu.shares`).
        public static let sharesV1: ClosedRange<UInt64> = 2...262_144
        /// `<shares>` on cgroup v2, written to `cpu.weight` unchanged, as libvirt does.
        public static let weightV2: ClosedRange<UInt64> = 1...10_000
    }

    /// The file of `scope` in the hierarchy of `controller`, or a clear error when the host lacks the controller.
    func file(_ controller: CGroupController, _ scope: Scope, _ name: String) throws(VirtError) -> String {
        guard let directory = directory(controller, scope) else {
            throw VirtError(
                .operationInvalid, .host,
                "cgroup \(controller.rawValue) controller is not mounted (\(host.summary)); it is needed for "
                    + "\(controller == .cpu ? "CPU shares, period and quota" : "cpuset CPUs and memory nodes")")
        }
        return directory + "/" + name
    }

    // MARK: CPU weight

    /// Writes the domain's relative CPU weight: `cpu.shares` (v1) or `cpu.weight` (v2, the value as given, in
    /// libvirt's range 1–10000).
    public func setShares(_ shares: UInt64) throws(VirtError) {
        if host.version == .v2 {
            guard Limits.weightV2.contains(shares) else {
                throw VirtError(
                    .invalidArgument, .host,
                    "shares '\(shares)' must be in range [\(Limits.weightV2.lowerBound), \(Limits.weightV2.upperBound)]"
                )
            }
            try files.write(try file(.cpu, .domain, "cpu.weight"), String(shares))
        } else {
            try files.write(try file(.cpu, .domain, "cpu.shares"), String(shares))
        }
    }

    /// The domain's CPU weight as the kernel holds it.
    public func shares() throws(VirtError) -> UInt64 {
        let name = host.version == .v2 ? "cpu.weight" : "cpu.shares"
        let path = try file(.cpu, .domain, name)
        guard let value = UInt64(try files.read(path).trimmingSpaces) else {
            throw VirtError(.internalError, .host, "'\(path)' does not hold a number")
        }
        return value
    }

    // MARK: CPU bandwidth

    /// CFS bandwidth of one group: `period` µs, of which the group may use `quota` µs (negative: unlimited).
    public struct Bandwidth: Sendable, Equatable {
        public var period: UInt64
        public var quota: Int64
        public init(period: UInt64, quota: Int64) {
            self.period = period
            self.quota = quota
        }
    }

    /// Sets the period and/or quota of `scope` (`cpu.cfs_period_us`/`cpu.cfs_quota_us` in v1, `cpu.max` in v2).
    /// A nil value keeps what the group has; a quota that the kernel refuses after the period changed puts the old
    /// period back.
    public func setBandwidth(period: UInt64?, quota: Int64?, for scope: Scope) throws(VirtError) {
        if let period, !Limits.period.contains(period) {
            throw VirtError(
                .invalidArgument, .host,
                "cfs_period '\(period)' must be in range (\(Limits.period.lowerBound), \(Limits.period.upperBound))")
        }
        if let quota, quota >= 0, !Limits.quota.contains(quota) {
            throw VirtError(
                .invalidArgument, .host,
                "cfs_quota '\(quota)' must be in range (\(Limits.quota.lowerBound), \(Limits.quota.upperBound))")
        }
        if host.version == .v2 {
            let path = try file(.cpu, scope, "cpu.max")
            let current = try bandwidth(for: scope)
            let newQuota = quota ?? current.quota
            let newPeriod = period ?? current.period
            try files.write(path, (newQuota < 0 ? "max" : String(newQuota)) + " " + String(newPeriod))
            return
        }
        let periodFile = try file(.cpu, scope, "cpu.cfs_period_us")
        let quotaFile = try file(.cpu, scope, "cpu.cfs_quota_us")
        let old = try bandwidth(for: scope)
        if let period { try files.write(periodFile, String(period)) }
        if let quota {
            do {
                try files.write(quotaFile, String(quota < 0 ? -1 : quota))
            } catch {
                if period != nil { try? files.write(periodFile, String(old.period)) }
                throw error
            }
        }
    }

    /// The period and quota of `scope` (quota -1 when unlimited).
    public func bandwidth(for scope: Scope) throws(VirtError) -> Bandwidth {
        if host.version == .v2 {
            let path = try file(.cpu, scope, "cpu.max")
            let fields = try files.read(path).split(whereSeparator: { $0 == " " || $0 == "\n" })
            guard fields.count == 2, let period = UInt64(fields[1]) else {
                throw VirtError(.internalError, .host, "'\(path)' does not hold 'quota period'")
            }
            if fields[0] == "max" { return Bandwidth(period: period, quota: -1) }
            guard let quota = Int64(fields[0]) else {
                throw VirtError(.internalError, .host, "'\(path)' does not hold 'quota period'")
            }
            return Bandwidth(period: period, quota: quota)
        }
        let periodPath = try file(.cpu, scope, "cpu.cfs_period_us")
        let quotaPath = try file(.cpu, scope, "cpu.cfs_quota_us")
        guard let period = UInt64(try files.read(periodPath).trimmingSpaces) else {
            throw VirtError(.internalError, .host, "'\(periodPath)' does not hold a number")
        }
        guard let quota = Int64(try files.read(quotaPath).trimmingSpaces) else {
            throw VirtError(.internalError, .host, "'\(quotaPath)' does not hold a number")
        }
        return Bandwidth(period: period, quota: quota)
    }

    // MARK: cpusets

    /// Restricts `scope` to host CPUs `cpus` (`cpuset.cpus`); nil gives it all the CPUs of the domain group.
    public func setCPUs(_ cpus: CPUSet?, for scope: Scope) throws(VirtError) {
        let path = try file(.cpuset, scope, "cpuset.cpus")
        if let cpus {
            try files.write(path, cpus.description)
        } else if host.version == .v2 {
            try files.write(path, "")
        } else {
            try files.write(path, try files.read(try file(.cpuset, .domain, "cpuset.cpus")).trimmingSpaces)
        }
    }

    /// The host CPUs of `scope` (`cpuset.cpus`; in v2 `cpuset.cpus.effective` when the group sets none).
    public func cpus(for scope: Scope) throws(VirtError) -> CPUSet {
        try cpusetValue(scope, "cpus")
    }

    /// Restricts the domain and all its groups to host memory nodes `nodes` (`cpuset.mems`), the confinement
    /// `<numatune mode='restrictive'>` means. Children must stay within their parent, so the domain group is
    /// widened to both sets first, then the children are set, then the domain group is narrowed. Pages already
    /// allocated are not moved. A failure puts back what was changed (best effort) before it is reported, so a
    /// running domain is not left half confined.
    public func setMems(_ nodes: CPUSet) throws(VirtError) {
        let domainFile = try file(.cpuset, .domain, "cpuset.mems")
        let current = try cpusetValue(.domain, "mems")
        try files.write(domainFile, current.union(nodes).description)
        var changed: [String] = []
        do {
            for scope in scopes where scope != .domain {
                let child = try file(.cpuset, scope, "cpuset.mems")
                try files.write(child, nodes.description)
                changed.append(child)
            }
            try files.write(domainFile, nodes.description)
        } catch {
            for child in changed { try? files.write(child, current.description) }
            try? files.write(domainFile, current.description)
            throw error
        }
    }

    /// The memory nodes of `scope` (`cpuset.mems`, or the effective ones in v2 when the group sets none).
    public func mems(for scope: Scope) throws(VirtError) -> CPUSet {
        try cpusetValue(scope, "mems")
    }

    private func cpusetValue(_ scope: Scope, _ kind: String) throws(VirtError) -> CPUSet {
        var path = try file(.cpuset, scope, "cpuset.\(kind)")
        var text = try files.read(path).trimmingSpaces
        if text.isEmpty && host.version == .v2 {
            path = try file(.cpuset, scope, "cpuset.\(kind).effective")
            text = try files.read(path).trimmingSpaces
        }
        if text.isEmpty { return CPUSet() }
        do {
            return try CPUSet(parsing: text)
        } catch {
            throw VirtError(.internalError, .host, "cannot parse '\(path)': \(error.message)")
        }
    }

    // MARK: Tasks

    /// Moves every thread of process `pid` into `scope` in every hierarchy (`cgroup.procs`).
    public func attachProcess(_ pid: Int32, to scope: Scope) throws(VirtError) {
        for directory in directories(scope) {
            try files.write(directory + "/cgroup.procs", String(pid))
        }
    }

    /// Moves thread `tid` into `scope` in every hierarchy (`tasks` in v1, `cgroup.threads` in v2).
    public func attachThread(_ tid: Int32, to scope: Scope) throws(VirtError) {
        for directory in directories(scope) {
            try files.write(directory + (host.version == .v1 ? "/tasks" : "/cgroup.threads"), String(tid))
        }
    }

    /// The threads in `scope`, from the first hierarchy that has the group.
    public func threads(in scope: Scope) throws(VirtError) -> [Int32] {
        guard let directory = directories(scope).first else { return [] }
        return try tasks(at: directory)
    }

    // MARK: Real-time runtime

    /// Whether the kernel groups real-time tasks (`CONFIG_RT_GROUP_SCHED`, cgroup v1 only): then a thread can only
    /// take a real-time policy in a cpu cgroup with `cpu.rt_runtime_us` above 0, which new groups lack.
    public var groupsRealTimeTasks: Bool {
        guard host.version == .v1, let top = host.mounts[.cpu] else { return false }
        return files.exists(top + "/cpu.rt_runtime_us")
    }

    /// Grants real-time runtime down the tree to the vCPU groups `vcpus`, so their threads may run `SCHED_FIFO` or
    /// `SCHED_RR` where the kernel groups real-time tasks. The kernel only lets a group's children hold together
    /// what the group holds; each level takes what its parent has left over, and the vCPUs share the domain's part
    /// equally. A domain that finds nothing left gets a clear error naming the group.
    public func grantRealTimeRuntime(toVCPUs vcpus: [Int]) throws(VirtError) {
        guard groupsRealTimeTasks, !vcpus.isEmpty, let top = host.mounts[.cpu] else { return }
        let partitionDirectory = top + "/" + partition
        let domainDirectory = top + "/" + relativePath(.domain)
        // The partition may hold all that the top's other groups leave.
        let partitionMay = try freeRuntime(of: top, excluding: partitionDirectory)
        if try runtime(partitionDirectory) < partitionMay {
            try files.write(partitionDirectory + "/cpu.rt_runtime_us", String(partitionMay))
        }
        let domainShare = try freeRuntime(of: partitionDirectory, excluding: domainDirectory)
        let perVCPU = domainShare / Int64(vcpus.count)
        guard perVCPU > 0 else {
            throw VirtError(
                .operationFailed, .host,
                "no real-time runtime is left in cgroup '\(partitionDirectory)' (cpu.rt_runtime_us) for "
                    + "\(vcpus.count) real-time vCPU(s): other domains hold it; stop them or lower their "
                    + "<vcpusched>")
        }
        try files.write(domainDirectory + "/cpu.rt_runtime_us", String(perVCPU * Int64(vcpus.count)))
        for index in vcpus {
            try files.write(try file(.cpu, .vcpu(index), "cpu.rt_runtime_us"), String(perVCPU))
        }
    }

    private func runtime(_ directory: String) throws(VirtError) -> Int64 {
        let path = directory + "/cpu.rt_runtime_us"
        guard let value = Int64(try files.read(path).trimmingSpaces) else {
            throw VirtError(.internalError, .host, "'\(path)' does not hold a number")
        }
        return value
    }

    /// What `directory` holds minus what its children other than `excluded` hold (a parent of -1, unlimited,
    /// counts as its period).
    private func freeRuntime(of directory: String, excluding excluded: String) throws(VirtError) -> Int64 {
        var total = try runtime(directory)
        if total < 0, let period = Int64(try files.read(directory + "/cpu.rt_period_us").trimmingSpaces) {
            total = period
        }
        for name in try files.list(directory) ?? [] {
            let child = directory + "/" + name
            guard child != excluded, files.exists(child + "/cpu.rt_runtime_us") else { continue }
            total -= max(0, try runtime(child))
        }
        return max(0, total)
    }
}
