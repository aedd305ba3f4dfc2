import Foundation
import Glibc
import VirtBase

@testable import Host

/// An in-memory model of the kernel's cgroup file systems, strict where the kernel is: a new group gets its
/// control files, tasks live in one group of a hierarchy at a time, a busy group cannot be removed, a v1 cpuset
/// without CPUs takes no task, cgroup v2 only enables controllers the parent offers and moves single threads only
/// into threaded groups. Every write is logged, so tests can check the order of steps.
final class CGroupFilesModel: CGroupFiles, @unchecked Sendable {
    enum Layout { case v1, v2 }

    private let lock = NSLock()
    private var files: [String: String] = [:]
    private var directories: Set<String> = []
    private var version: Layout
    /// Every write, as `path = text`.
    private(set) var writes: [String] = []
    /// Paths whose writes fail with this errno.
    var failingWrites: [String: Int32] = [:]

    /// A host with the cpu and cpuset controllers at `root` (v2) or `root/cpu` and `root/cpuset` (v1).
    init(_ layout: Layout, root: String = "/cg", cpus: String = "0-3", mems: String = "0-1") {
        version = layout
        switch layout {
        case .v2:
            directories.insert(root)
            files[root + "/cgroup.controllers"] = "cpuset cpu io memory"
            files[root + "/cgroup.subtree_control"] = ""
            files[root + "/cgroup.procs"] = ""
            files[root + "/cgroup.threads"] = ""
            files[root + "/cpuset.cpus.effective"] = cpus
            files[root + "/cpuset.mems.effective"] = mems
        case .v1:
            directories.insert(root)
            for controller in ["cpu", "cpuset"] {
                let top = root + "/" + controller
                directories.insert(top)
                populateV1(top, controller: controller)
            }
            files[root + "/cpuset/cpuset.cpus"] = cpus
            files[root + "/cpuset/cpuset.mems"] = mems
            files[root + "/cpu/cpu.rt_runtime_us"] = "950000"
        }
    }

    private func populateV1(_ directory: String, controller: String) {
        files[directory + "/tasks"] = ""
        files[directory + "/cgroup.procs"] = ""
        if controller == "cpu" {
            files[directory + "/cpu.shares"] = "1024"
            files[directory + "/cpu.cfs_period_us"] = "100000"
            files[directory + "/cpu.cfs_quota_us"] = "-1"
            files[directory + "/cpu.rt_runtime_us"] = "0"
            files[directory + "/cpu.rt_period_us"] = "1000000"
        } else {
            files[directory + "/cpuset.cpus"] = ""
            files[directory + "/cpuset.mems"] = ""
        }
    }

    private func populateV2(_ directory: String, parent: String) {
        for name in ["cgroup.procs", "cgroup.threads", "cgroup.subtree_control"] { files[directory + "/" + name] = "" }
        files[directory + "/cgroup.type"] = "domain"
        let offered = files[parent + "/cgroup.subtree_control"] ?? ""
        files[directory + "/cgroup.controllers"] = offered
        if offered.contains("cpu") {
            files[directory + "/cpu.weight"] = "100"
            files[directory + "/cpu.max"] = "max 100000"
        }
        if offered.contains("cpuset") {
            files[directory + "/cpuset.cpus"] = ""
            files[directory + "/cpuset.mems"] = ""
            files[directory + "/cpuset.cpus.effective"] = files[parent + "/cpuset.cpus.effective"] ?? ""
            files[directory + "/cpuset.mems.effective"] = files[parent + "/cpuset.mems.effective"] ?? ""
        }
    }

    private func parent(_ path: String) -> String { String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)]) }
    private func name(_ path: String) -> String { String(path[path.index(after: path.lastIndex(of: "/")!)...]) }

    private func failure(_ what: String, _ code: Int32) -> VirtError {
        VirtError(.systemError, .host, "\(what): \(String(cString: strerror(code)))", errno: code)
    }

    // MARK: CGroupFiles

    func exists(_ path: String) -> Bool { lock.withLock { files[path] != nil || directories.contains(path) } }

    func read(_ path: String) throws(VirtError) -> String {
        guard let text = lock.withLock({ files[path] }) else { throw failure("cannot read '\(path)'", ENOENT) }
        return text
    }

    func write(_ path: String, _ text: String) throws(VirtError) {
        lock.lock()
        defer { lock.unlock() }
        writes.append("\(path) = \(text)")
        if let code = failingWrites[path] { throw failure("Unable to write to '\(path)'", code) }
        guard files[path] != nil else { throw failure("Unable to write to '\(path)'", ENOENT) }
        let directory = parent(path)
        switch name(path) {
        case "tasks", "cgroup.procs", "cgroup.threads":
            if version == .v1, files[directory + "/cpuset.cpus"] == "" {
                throw failure("Unable to write to '\(path)'", ENOSPC)
            }
            if version == .v2 && name(path) == "cgroup.threads" && files[directory + "/cgroup.type"] != "threaded" {
                throw failure("Unable to write to '\(path)'", EOPNOTSUPP)
            }
            // A task leaves the group it was in (of this hierarchy).
            let top = version == .v1 ? hierarchyTop(path) : ""
            for key in files.keys
            where key.hasPrefix(top) && (key.hasSuffix("/tasks") || key.hasSuffix("/cgroup.threads")) {
                files[key] = lines(files[key]!).filter { $0 != text }.joined(separator: "\n")
            }
            let threadsFile = directory + (version == .v1 ? "/tasks" : "/cgroup.threads")
            files[threadsFile] = (lines(files[threadsFile]!) + [text]).joined(separator: "\n")
        case "cgroup.subtree_control":
            var enabled = Set(files[path]!.split(separator: " ").map(String.init))
            let offered = Set((files[directory + "/cgroup.controllers"] ?? "").split(separator: " ").map(String.init))
            for token in text.split(separator: " ") where token.hasPrefix("+") {
                let controller = String(token.dropFirst())
                guard offered.contains(controller) else { throw failure("Unable to write to '\(path)'", ENOENT) }
                enabled.insert(controller)
            }
            files[path] = enabled.sorted().joined(separator: " ")
        case "cgroup.type":
            guard text == "threaded" else { throw failure("Unable to write to '\(path)'", EINVAL) }
            files[path] = text
        case "cpuset.cpus", "cpuset.mems":
            files[path] = text
            if version == .v2 {
                files[path + ".effective"] =
                    text.isEmpty ? (files[parent(directory) + "/" + name(path) + ".effective"] ?? "") : text
            }
        default:
            files[path] = text
        }
    }

    private func lines(_ text: String) -> [String] { text.split(separator: "\n").map(String.init) }

    private func hierarchyTop(_ path: String) -> String {
        directories.filter { path.hasPrefix($0 + "/") && files[$0 + "/tasks"] != nil }.min { $0.count < $1.count }
            ?? ""
    }

    func makeDirectory(_ path: String) throws(VirtError) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if directories.contains(path) { return false }
        let up = parent(path)
        guard directories.contains(up) else { throw failure("Unable to create cgroup '\(path)'", ENOENT) }
        directories.insert(path)
        if version == .v1 {
            populateV1(path, controller: files[up + "/cpu.shares"] != nil ? "cpu" : "cpuset")
        } else {
            populateV2(path, parent: up)
        }
        return true
    }

    func removeDirectory(_ path: String) throws(VirtError) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard directories.contains(path) else { return false }
        let busy =
            directories.contains { $0.hasPrefix(path + "/") }
            || !(files[path + "/tasks"] ?? "").isEmpty || !(files[path + "/cgroup.threads"] ?? "").isEmpty
        if busy { throw failure("Unable to remove cgroup '\(path)'", EBUSY) }
        directories.remove(path)
        for key in files.keys where key.hasPrefix(path + "/") { files.removeValue(forKey: key) }
        return true
    }

    func list(_ path: String) throws(VirtError) -> [String]? {
        lock.withLock {
            guard directories.contains(path) else { return nil }
            let children = directories.filter { parent($0) == path }.map(name)
            let own = files.keys.filter { parent($0) == path }.map(name)
            return (children + own).sorted()
        }
    }

    /// Every group directory below `path`.
    func groups(under path: String) -> [String] {
        lock.withLock { directories.filter { $0.hasPrefix(path + "/") }.sorted() }
    }

    /// The text of a file, for assertions.
    subscript(path: String) -> String? { lock.withLock { files[path] } }
}
