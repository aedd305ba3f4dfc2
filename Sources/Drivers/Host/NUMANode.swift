import VirtBase

/// One host NUMA node, from `/sys/devices/system/node/nodeN/`.
public struct NUMANode: Sendable, Equatable, Codable {
    /// The distance from this node to another, from the node's `distance` file.
    public struct Distance: Sendable, Equatable, Codable {
        /// The other node's id.
        public var node: Int
        /// The relative distance (10 is local, as ACPI SLIT defines it).
        public var value: Int

        /// A distance to `node`.
        public init(node: Int, value: Int) {
            self.node = node
            self.value = value
        }
    }

    /// The node number.
    public var id: Int
    /// The CPUs of the node (`cpulist`); empty for a memory-only node.
    public var cpus: CPUSet
    /// `MemTotal` of the node's `meminfo`, KiB; 0 for a node without memory. Huge page pools are included.
    public var memoryKiB: UInt64
    /// `MemFree` of the node's `meminfo`, KiB (huge page pools are not free memory).
    public var freeKiB: UInt64
    /// Distances to every node, in node order (empty where the kernel gives none).
    public var distances: [Distance]
    /// The node's huge page pools, by ascending size; empty for a node without memory.
    public var hugePages: [HugePagePool]

    /// A node with the given facts.
    public init(id: Int, cpus: CPUSet, memoryKiB: UInt64, freeKiB: UInt64, distances: [Distance],
                hugePages: [HugePagePool]) {
        self.id = id
        self.cpus = cpus
        self.memoryKiB = memoryKiB
        self.freeKiB = freeKiB
        self.distances = distances
        self.hugePages = hugePages
    }

    /// The pool of `sizeKiB` pages, nil when the node has none of that size.
    public func pool(sizeKiB: UInt64) -> HugePagePool? {
        hugePages.first { $0.sizeKiB == sizeKiB }
    }

    /// The distance to `node`, nil when the kernel gave none.
    public func distance(to node: Int) -> Int? {
        distances.first { $0.node == node }?.value
    }
}
