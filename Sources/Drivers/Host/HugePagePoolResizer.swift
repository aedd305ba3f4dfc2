import Glibc
import VirtBase

/// Resizes huge page pools for `virsh allocpages`: writes `nr_hugepages` of one node's pool (or the host-wide
/// pool), then reads it back, since the kernel may give fewer pages than asked for.
public struct HugePagePoolResizer: Sendable {
    /// The outcome of one resize.
    public struct Result: Sendable, Equatable, Codable {
        /// The node, nil for the host-wide pool.
        public var node: Int?
        /// The page size in KiB.
        public var sizeKiB: UInt64
        /// `nr_hugepages` before.
        public var previous: UInt64
        /// `nr_hugepages` after (equal to the request; a shortfall is an error).
        public var current: UInt64
    }

    /// The file system the pools live in.
    public let fileSystem: HostFileSystem
    /// The base page size in KiB, whose "pool" cannot be resized.
    public let systemPageSizeKiB: UInt64

    /// A resizer for the host under `root`.
    public init(root: String = "/", systemPageSizeKiB: UInt64? = nil) {
        fileSystem = HostFileSystem(root: root)
        self.systemPageSizeKiB = systemPageSizeKiB ?? UInt64(sysconf(Int32(_SC_PAGESIZE)) / 1024)
    }

    /// The pool size asked for: `count` itself, or with `add` the current size plus `count`.
    public static func target(current: UInt64, count: UInt64, add: Bool) throws(VirtError) -> UInt64 {
        guard add else { return count }
        let (sum, overflow) = current.addingReportingOverflow(count)
        guard !overflow else {
            throw VirtError(.overflow, .host, "\(current) + \(count) pages does not fit in 64 bits")
        }
        return sum
    }

    /// Sets the pool of `sizeKiB` pages on `node` (nil: the host-wide pool in `/sys/kernel/mm/hugepages`) to
    /// `count` pages, or grows it by `count` with `add`; returns the sizes before and after.
    public func resize(sizeKiB: UInt64, count: UInt64, node: Int?, add: Bool = false) throws(VirtError) -> Result {
        guard sizeKiB != systemPageSizeKiB else {
            throw VirtError(.operationUnsupported, .host, "system pages pool can't be modified")
        }
        let (path, directory) = try poolFile(sizeKiB: sizeKiB, node: node)
        let previous = try fileSystem.readNumber(path)
        let wanted = try Self.target(current: previous, count: count, add: add)
        guard wanted != previous else {
            return Result(node: node, sizeKiB: sizeKiB, previous: previous, current: previous)
        }
        do {
            try fileSystem.write(path, "\(wanted)")
        } catch {
            throw explain(error, directory: directory, sizeKiB: sizeKiB, node: node)
        }
        let current = try fileSystem.readNumber(path)
        guard current == wanted else {
            throw VirtError(.operationFailed, .host,
                            "Unable to allocate \(wanted) pages of \(sizeKiB) KiB\(location(node)). Allocated only "
                                + "\(current): the free memory there is too small or too fragmented; free some, or "
                                + "reserve the pages at boot (hugepages= on the kernel command line)")
        }
        return Result(node: node, sizeKiB: sizeKiB, previous: previous, current: current)
    }

    /// `allocpages --all`: resizes the pool on every node of `topology` (the host-wide pool without NUMA). Nodes
    /// without memory have no pools and are skipped, where libvirt would fail the whole command.
    public func resizeAll(sizeKiB: UInt64, count: UInt64, add: Bool = false,
                          in topology: HostTopology) throws(VirtError) -> [Result] {
        guard topology.hasNUMA else { return [try resize(sizeKiB: sizeKiB, count: count, node: nil, add: add)] }
        var results: [Result] = []
        for node in topology.nodes where !(node.memoryKiB == 0 && node.hugePages.isEmpty) {
            results.append(try resize(sizeKiB: sizeKiB, count: count, node: node.id, add: add))
        }
        return results
    }

    /// The current `nr_hugepages` of a pool.
    public func poolSize(sizeKiB: UInt64, node: Int?) throws(VirtError) -> UInt64 {
        try fileSystem.readNumber(try poolFile(sizeKiB: sizeKiB, node: node).path)
    }

    /// The `nr_hugepages` file of a pool, or libvirt's errors, with the sizes the place does offer.
    private func poolFile(sizeKiB: UInt64, node: Int?) throws(VirtError) -> (path: String, directory: String) {
        var directory = HostPaths.hostHugePages
        if let node {
            guard node >= 0 else {
                throw VirtError(.invalidArgument, .host, "NUMA cell number must be non-negative, not \(node)")
            }
            let hasNUMA = fileSystem.isDirectory(HostPaths.nodeDirectory)
            if hasNUMA {
                guard fileSystem.isDirectory(HostPaths.node(node)) else {
                    throw VirtError(.operationFailed, .host, "NUMA node \(node) is not available")
                }
                directory = HostPaths.nodeHugePages(node)
            } else if node != 0 {
                throw VirtError(.internalError, .host, "start cell \(node) out of range (0-0)")
            }
        }
        let path = "\(HostPaths.pool(directory, sizeKiB: sizeKiB))/nr_hugepages"
        guard fileSystem.exists(path) else {
            throw VirtError(.operationFailed, .host,
                            "page size \(sizeKiB) is not available\(node.map { " on node \($0)" } ?? ""); "
                                + "\(try supportedSizes(directory))")
        }
        return (path, directory)
    }

    private func supportedSizes(_ directory: String) throws(VirtError) -> String {
        let sizes = try HostTopology.readPools(fileSystem, directory: directory).map { "\($0.sizeKiB)" }
        return sizes.isEmpty
            ? "there are no huge page pools there"
            : "supported huge page sizes: \(sizes.joined(separator: ", ")) KiB"
    }

    private func location(_ node: Int?) -> String {
        node.map { " on node \($0)" } ?? ""
    }

    /// Adds the remedy to the kernel's refusal.
    func explain(_ error: VirtError, directory: String, sizeKiB: UInt64, node: Int?) -> VirtError {
        var explained = error
        switch error.errno {
        case EACCES, EPERM:
            explained.message += "; resizing huge page pools needs root"
        case EINVAL:
            let sizes = (try? supportedSizes(directory)) ?? ""
            explained.message += "; the kernel refused \(sizeKiB) KiB pages\(location(node))"
                + (sizes.isEmpty ? "" : "; \(sizes)")
        default:
            break
        }
        return explained
    }
}
