import Glibc
import VirtBase

/// The cgroup controllers swift-virt drives.
public enum CGroupController: String, Sendable, Codable, CaseIterable {
    /// CPU weight and bandwidth (`cpu.shares`/`cpu.weight`, CFS period and quota, real-time runtime).
    case cpu
    /// CPUs and memory nodes (`cpuset.cpus`, `cpuset.mems`).
    case cpuset
}

/// Where the host's cgroup hierarchies are, found under a root directory (the real `/sys/fs/cgroup`, or a fixture
/// or temporary tree in tests): the unified hierarchy (cgroup v2) when the root itself is one with the cpu or
/// cpuset controller, else the v1 hierarchies mounted per controller (`<root>/cpu`, `<root>/cpu,cpuacct`,
/// `<root>/cpuset`), else a v2 hierarchy at `<root>/unified` that holds those controllers.
///
/// A hierarchy is recognised by its files, not by `statfs`, so a tree of plain files works as a fixture: a v2
/// directory has `cgroup.controllers`, a v1 one has `tasks`.
public struct CGroupHost: Sendable, Equatable, Codable {
    /// cgroup v1 (one hierarchy per controller) or v2 (one unified hierarchy).
    public enum Version: String, Sendable, Codable {
        case v1, v2
    }

    /// The directory searched (`/sys/fs/cgroup`).
    public let root: String
    /// The hierarchy's version.
    public let version: Version
    /// The top directory of each controller that is available: for v2 the unified hierarchy for all of them.
    public let mounts: [CGroupController: String]

    /// A layout given explicitly.
    public init(root: String, version: Version, mounts: [CGroupController: String]) {
        self.root = root
        self.version = version
        self.mounts = mounts
    }

    /// The layout under `root`, or nil when there the cpu and cpuset controllers are nowhere to be found (no
    /// cgroup file system, or one without those controllers).
    public static func detect(root: String = "/sys/fs/cgroup", files: any CGroupFiles = SystemCGroupFiles())
        -> CGroupHost?
    {
        let fs = files
        let root = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
        if let unified = unified(at: root, fs) { return unified }
        var mounts: [CGroupController: String] = [:]
        let entries = (try? fs.list(root)) ?? []
        for controller in CGroupController.allCases {
            // The exact name first (`cpu`), then a co-mounted hierarchy (`cpu,cpuacct`).
            let candidates =
                entries.filter { $0 == controller.rawValue }
                + entries.filter {
                    $0 != controller.rawValue && $0.split(separator: ",").contains { $0 == controller.rawValue }
                }
            for name in candidates where fs.exists(root + "/" + name + "/tasks") {
                mounts[controller] = root + "/" + name
                break
            }
        }
        if !mounts.isEmpty { return CGroupHost(root: root, version: .v1, mounts: mounts) }
        return unified(at: root + "/unified", fs)
    }

    /// A v2 hierarchy at `directory` that offers the cpu or cpuset controller.
    private static func unified(at directory: String, _ fs: any CGroupFiles) -> CGroupHost? {
        guard fs.exists(directory + "/cgroup.controllers"), let text = try? fs.read(directory + "/cgroup.controllers")
        else { return nil }
        let offered = Set(text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
        var mounts: [CGroupController: String] = [:]
        for controller in CGroupController.allCases where offered.contains(controller.rawValue) {
            mounts[controller] = directory
        }
        return mounts.isEmpty ? nil : CGroupHost(root: directory, version: .v2, mounts: mounts)
    }

    /// Whether `controller` is available.
    public func has(_ controller: CGroupController) -> Bool { mounts[controller] != nil }

    /// The distinct hierarchy directories, each once (v2 has one; v1 has one per controller, or one for
    /// co-mounted controllers), with the controllers each holds.
    var hierarchies: [(directory: String, controllers: [CGroupController])] {
        var result: [(directory: String, controllers: [CGroupController])] = []
        for controller in CGroupController.allCases {
            guard let directory = mounts[controller] else { continue }
            if let index = result.firstIndex(where: { $0.directory == directory }) {
                result[index].controllers.append(controller)
            } else {
                result.append((directory, [controller]))
            }
        }
        return result
    }

    /// A description for messages: `cgroup v1 (cpu at /sys/fs/cgroup/cpu, cpuset at /sys/fs/cgroup/cpuset)`.
    public var summary: String {
        let parts = CGroupController.allCases.compactMap { controller in
            mounts[controller].map { "\(controller.rawValue) at \($0)" }
        }
        return "cgroup \(version.rawValue) (\(parts.joined(separator: ", ")))"
    }
}
