import Glibc
import VirtBase

/// One running domain's cgroups, in every hierarchy that has the cpu or cpuset controller:
/// `<partition>/<name>/` (the domain's CPU weight) with `emulator/` (every thread of the hypervisor but the vCPUs)
/// and `vcpuN/` (one per vCPU thread) beneath it — `machine/swift-virt-web1/vcpu0`.
///
/// cgroup v1 takes threads into `tasks`; cgroup v2 makes the children `threaded`, so the threads of one process can
/// sit in different groups, and enables the controllers down the tree in `cgroup.subtree_control`. Creation and
/// removal are idempotent, and a creation that fails half way removes what it made.
public struct DomainCGroup: Sendable {
    /// A group of the domain's tree.
    public enum Scope: Hashable, Sendable, CustomStringConvertible {
        /// `<partition>/<name>`: the domain as a whole.
        case domain
        /// `<partition>/<name>/emulator`.
        case emulator
        /// `<partition>/<name>/vcpuN`.
        case vcpu(Int)

        /// The directory name below the domain group (empty for the domain group itself).
        var component: String {
            switch self {
            case .domain: ""
            case .emulator: "emulator"
            case .vcpu(let index): "vcpu\(index)"
            }
        }

        /// `domain`, `emulator`, `vcpu0`.
        public var description: String { self == .domain ? "domain" : component }
    }

    /// The hierarchies.
    public let host: CGroupHost
    /// The partition all domains share (`machine`).
    public let partition: String
    /// The domain's own group (`swift-virt-web1`).
    public let name: String
    /// How many vCPU groups the tree has.
    public let vcpus: Int
    /// The file operations (the kernel's, or a model in tests).
    public let files: any CGroupFiles

    /// The tree of `name` under `partition`, with `vcpus` vCPU groups.
    public init(
        host: CGroupHost, partition: String = "machine", name: String, vcpus: Int,
        files: any CGroupFiles = SystemCGroupFiles()
    ) {
        self.host = host
        self.partition = partition
        self.name = name
        self.vcpus = vcpus
        self.files = files
    }

    /// The domain group and its children, in the order they are created.
    public var scopes: [Scope] { [.domain, .emulator] + (0..<vcpus).map { Scope.vcpu($0) } }

    /// `machine/swift-virt-web1/vcpu0`: the scope's path below a hierarchy's top.
    public func relativePath(_ scope: Scope) -> String {
        scope == .domain ? "\(partition)/\(name)" : "\(partition)/\(name)/\(scope.component)"
    }

    /// The scope's directory in the hierarchy of `controller`; nil when the host lacks the controller.
    public func directory(_ controller: CGroupController, _ scope: Scope) -> String? {
        host.mounts[controller].map { $0 + "/" + relativePath(scope) }
    }

    /// The scope's directory in each distinct hierarchy.
    func directories(_ scope: Scope) -> [String] {
        host.hierarchies.map { $0.directory + "/" + relativePath(scope) }
    }

    /// Whether the domain group exists in any hierarchy.
    public func exists() -> Bool {
        directories(.domain).contains { files.exists($0) }
    }

    // MARK: Creation

    /// Creates the partition (if missing), the domain group and its children in every hierarchy, and prepares
    /// them: cgroup v1 cpusets get their parent's CPUs and memory nodes (a v1 cpuset without them takes no task);
    /// cgroup v2 gets the controllers enabled down to the domain group and `threaded` children.
    ///
    /// A domain group left over from a crash that reconciliation never saw is removed first; one that still
    /// holds tasks is an error. On failure everything this call created is removed again.
    public func create() throws(VirtError) {
        if exists() {
            do {
                try remove(timeoutMilliseconds: 0)
            } catch {
                throw VirtError(
                    .operationFailed, .host,
                    "cgroup '\(relativePath(.domain))' already exists and cannot be removed (\(error.message)); is "
                        + "a domain of that name running under another connection URI?")
            }
        }
        // A concurrent domain end may remove an empty partition between our steps: try again from the top.
        var attempt = 0
        while true {
            attempt += 1
            do {
                try createOnce()
                return
            } catch {
                try? remove(timeoutMilliseconds: 0)
                if error.errno == ENOENT && attempt < 3 { continue }
                throw error
            }
        }
    }

    private func createOnce() throws(VirtError) {
        for (top, controllers) in host.hierarchies {
            let partitionDirectory = top + "/" + partition
            if host.version == .v2 { try enableControllers(in: top, controllers) }
            _ = try files.makeDirectory(partitionDirectory)
            if host.version == .v1 && controllers.contains(.cpuset) {
                try inheritCpuset(partitionDirectory, from: top)
            }
            if host.version == .v2 { try enableControllers(in: partitionDirectory, controllers) }
            let domainDirectory = top + "/" + relativePath(.domain)
            _ = try files.makeDirectory(domainDirectory)
            if host.version == .v1 && controllers.contains(.cpuset) {
                try inheritCpuset(domainDirectory, from: partitionDirectory)
            }
            // cpu and cpuset are threaded controllers: enabling them leaves the domain group able to become the
            // root of a threaded subtree, and its children get their control files from the start.
            if host.version == .v2 { try enableControllers(in: domainDirectory, controllers) }
            for scope in scopes where scope != .domain {
                let directory = top + "/" + relativePath(scope)
                _ = try files.makeDirectory(directory)
                if host.version == .v2 {
                    try files.write(directory + "/cgroup.type", "threaded")
                } else if controllers.contains(.cpuset) {
                    try inheritCpuset(directory, from: domainDirectory)
                }
            }
        }
    }

    /// cgroup v2: makes `controllers` available to the children of `directory` (`+cpu +cpuset` in
    /// `cgroup.subtree_control`), leaving the ones already enabled alone.
    private func enableControllers(in directory: String, _ controllers: [CGroupController]) throws(VirtError) {
        let file = directory + "/cgroup.subtree_control"
        let enabled = Set((try files.read(file)).split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
        let missing = controllers.filter { !enabled.contains($0.rawValue) }
        guard !missing.isEmpty else { return }
        try files.write(file, missing.map { "+" + $0.rawValue }.joined(separator: " "))
    }

    /// cgroup v1: a new cpuset starts with no CPUs and no memory nodes (unless the parent clones them) and then
    /// takes no task; it gets its parent's.
    private func inheritCpuset(_ directory: String, from parent: String) throws(VirtError) {
        for file in ["cpuset.cpus", "cpuset.mems"] {
            let own = try files.read(directory + "/" + file).trimmingSpaces
            guard own.isEmpty else { continue }
            try files.write(directory + "/" + file, try files.read(parent + "/" + file).trimmingSpaces)
        }
    }

    // MARK: Removal

    /// Removes the children and the domain group from every hierarchy, then the partition when no other domain
    /// uses it. The children are found by listing the domain group, so a tree made for another vCPU count goes
    /// too. Tasks that are still exiting (a killed hypervisor being torn down) keep a group busy: the removal
    /// retries for up to `timeoutMilliseconds`, then fails naming the group and the tasks left in it. Every
    /// hierarchy is tried even when one fails; the first failure is reported.
    public func remove(timeoutMilliseconds: Int = 2_000) throws(VirtError) {
        let deadline = Self.monotonicMilliseconds() + timeoutMilliseconds
        var firstFailure: VirtError?
        for (top, _) in host.hierarchies {
            do {
                try removeTree(top, deadline: deadline)
            } catch {
                if firstFailure == nil { firstFailure = error }
            }
        }
        if let firstFailure { throw firstFailure }
    }

    /// Removes the domain's groups from hierarchy `top`, then the partition when it is empty.
    private func removeTree(_ top: String, deadline: Int) throws(VirtError) {
        let domainDirectory = top + "/" + relativePath(.domain)
        let children = (try files.list(domainDirectory) ?? []).filter {
            files.exists(domainDirectory + "/" + $0 + "/cgroup.procs")
        }
        for directory in children.map({ domainDirectory + "/" + $0 }) + [domainDirectory] {
            while true {
                do {
                    _ = try removeGroup(directory)
                    break
                } catch {
                    guard error.errno == EBUSY, Self.monotonicMilliseconds() < deadline else {
                        let tasks = ((try? tasks(at: directory)) ?? []).map(String.init).joined(separator: " ")
                        throw VirtError(
                            error.code, .host,
                            error.message + (tasks.isEmpty ? "" : " (tasks still in it: \(tasks))"),
                            errno: error.errno)
                    }
                    usleep(5_000)
                }
            }
        }
        // Other domains may share the partition; an empty one goes, a busy one stays.
        _ = try? removeGroup(top + "/" + partition)
    }

    /// Removes one group directory.
    private func removeGroup(_ directory: String) throws(VirtError) -> Bool {
        try files.removeDirectory(directory)
    }

    /// The thread ids in the group at `directory` (`tasks` in v1, `cgroup.threads` in v2).
    func tasks(at directory: String) throws(VirtError) -> [Int32] {
        let file = directory + (host.version == .v1 ? "/tasks" : "/cgroup.threads")
        return try files.read(file).split(whereSeparator: { $0 == "\n" }).compactMap { Int32($0) }
    }

    static func monotonicMilliseconds() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return now.tv_sec * 1_000 + now.tv_nsec / 1_000_000
    }

    // MARK: Names

    /// The longest group name used as is; longer domain names are shortened and made unique with a hash (a
    /// directory name holds at most 255 bytes).
    static let longestName = 200

    /// The domain's group name: `swift-virt-<name>`, plus `-<qualifier>` when given (a connection other than
    /// `kvm:///system` qualifies its domains, so that two stores' domains of one name never share a group).
    public static func groupName(domain: String, qualifier: String? = nil) -> String {
        var name = "swift-virt-" + domain
        if let qualifier, !qualifier.isEmpty { name += "-" + qualifier }
        guard name.utf8.count > longestName else { return name }
        let hash = CGroupHash.hex(name)
        var prefix = ""
        for character in name {
            if prefix.utf8.count + character.utf8.count > longestName - 17 { break }
            prefix.append(character)
        }
        return prefix + "-" + hash
    }
}

extension DomainCGroup {
    /// A short stable qualifier for the groups of one connection's domains (`1f3a9c0e`), from a path that names
    /// the connection (its store).
    public static func qualifier(for path: String) -> String { String(CGroupHash.hex(path).prefix(8)) }
}

/// A short stable hash for group names (FNV-1a, 64 bits, as 16 hex digits).
enum CGroupHash {
    static func hex(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let digits = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
