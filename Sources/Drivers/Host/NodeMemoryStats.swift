import VirtBase

/// What `virsh nodememstats [--cell N]` shows: `total`, `free`, `buffers`, `cached` in KiB, in the order and
/// with the fields the meminfo file has (a node's meminfo has no `Buffers:` or `Cached:`, so a cell shows two).
public struct NodeMemoryStats: Sendable, Equatable, Codable {
    /// One line: libvirt's field name and the value in KiB.
    public struct Field: Sendable, Equatable, Codable {
        /// `total`, `free`, `buffers` or `cached`.
        public var name: String
        /// KiB.
        public var valueKiB: UInt64
    }

    /// The fields in file order.
    public var fields: [Field]

    /// meminfo keys and libvirt's names for them (`virHostMemGetStatsLinux`).
    static let names: [(key: String, name: String)] = [
        ("MemTotal", "total"), ("MemFree", "free"), ("Buffers", "buffers"), ("Cached", "cached"),
    ]

    /// The stats of `meminfo`, read from `path` (named in the error when none of the fields is there).
    init(_ meminfo: MemInfo, path: String) throws(VirtError) {
        fields = meminfo.fields.compactMap { field in
            Self.names.first { $0.key == field.key }.map { Field(name: $0.name, valueKiB: field.value) }
        }
        guard !fields.isEmpty else {
            throw VirtError(.internalError, .host, "no available memory line found in '\(path)'")
        }
    }

    /// The text virsh prints (`%-7s: %20llu KiB` lines), ending in a newline.
    public var virshText: String {
        fields.map {
            VirshText.leftJustified($0.name, 7) + ": " + VirshText.rightJustified("\($0.valueKiB)", 20) + " KiB\n"
        }.joined()
    }
}

extension HostTopology {
    /// Memory stats of the host (`cell` nil: `/proc/meminfo`) or of one node (its `meminfo`), read now.
    public func memoryStats(cell: Int? = nil) throws(VirtError) -> NodeMemoryStats {
        let fs = HostFileSystem(root: root)
        guard let cell else {
            return try NodeMemoryStats(try fs.readMemInfo(HostPaths.meminfo), path: fs.resolve(HostPaths.meminfo))
        }
        try checkCell(cell)
        guard hasNUMA else {
            return try NodeMemoryStats(try fs.readMemInfo(HostPaths.meminfo), path: fs.resolve(HostPaths.meminfo))
        }
        let path = "\(HostPaths.node(cell))/meminfo"
        return try NodeMemoryStats(try fs.readMemInfo(path), path: fs.resolve(path))
    }

    /// Throws libvirt's errors for a cell number the host does not have.
    func checkCell(_ cell: Int) throws(VirtError) {
        guard cell >= 0 else {
            throw VirtError(.invalidArgument, .host, "NUMA cell number must be non-negative, not \(cell)")
        }
        let last = nodes.map(\.id).max() ?? 0
        guard cell <= last else {
            throw VirtError(.internalError, .host, "start cell \(cell) out of range (0-\(last))")
        }
        guard node(cell) != nil else {
            throw VirtError(.operationFailed, .host, "NUMA node \(cell) is not available")
        }
    }
}
