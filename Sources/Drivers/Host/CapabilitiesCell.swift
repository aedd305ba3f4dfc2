import VirtBase

/// One `<cell>` of the host `<topology>` in libvirt's capabilities XML.
public struct CapabilitiesCell: Sendable, Equatable, Codable {
    /// A `<pages unit='KiB' size='N'>count</pages>` line: how many pages of a size the cell holds.
    public struct Pages: Sendable, Equatable, Codable {
        /// The page size in KiB.
        public var sizeKiB: UInt64
        /// Pages of that size: the pool size for huge pages; for the system page, the cell's memory outside the
        /// huge page pools divided by the page size (libvirt's "must do the subtraction ourselves").
        public var count: UInt64
    }

    /// A `<cpu>` line: the id, and where the CPU has a topology, its socket, die, core and thread siblings.
    public struct CPU: Sendable, Equatable, Codable {
        /// The CPU number.
        public var id: Int
        /// The topology; nil prints `<cpu id='N'/>` alone.
        public var topology: HostCPU.Topology?
    }

    /// The node id.
    public var id: Int
    /// `MemTotal` in KiB; 0 leaves `<memory>` out, as libvirt does for memoryless nodes.
    public var memoryKiB: UInt64
    /// Page counts by ascending size.
    public var pages: [Pages]
    /// Distances to every node (empty: no `<distances>`).
    public var distances: [NUMANode.Distance]
    /// The cell's CPUs by ascending id.
    public var cpus: [CPU]

    /// The cell for `node` of `topology`.
    public init(node: NUMANode, in topology: HostTopology) {
        id = node.id
        memoryKiB = node.memoryKiB
        let hugeKiB = node.hugePages.reduce(UInt64(0)) { $0 + $1.totalKiB }
        let systemPages = node.memoryKiB > hugeKiB ? (node.memoryKiB - hugeKiB) / topology.systemPageSizeKiB : 0
        pages = ([Pages(sizeKiB: topology.systemPageSizeKiB, count: systemPages)]
            + node.hugePages.map { Pages(sizeKiB: $0.sizeKiB, count: $0.total) }).sorted { $0.sizeKiB < $1.sizeKiB }
        distances = node.distances
        cpus = node.cpus.members.map { CPU(id: $0, topology: topology.cpu($0)?.topology) }
    }

    /// The `<cell>` element at `indent` spaces, libvirt's layout, each line ending in a newline.
    public func xml(indent: Int) -> String {
        let pad = String(repeating: " ", count: indent)
        var out = "\(pad)<cell id='\(id)'>\n"
        if memoryKiB != 0 { out += "\(pad)  <memory unit='KiB'>\(memoryKiB)</memory>\n" }
        for page in pages { out += "\(pad)  <pages unit='KiB' size='\(page.sizeKiB)'>\(page.count)</pages>\n" }
        if !distances.isEmpty {
            out += "\(pad)  <distances>\n"
            for distance in distances {
                out += "\(pad)    <sibling id='\(distance.node)' value='\(distance.value)'/>\n"
            }
            out += "\(pad)  </distances>\n"
        }
        if cpus.isEmpty {
            out += "\(pad)  <cpus num='0'/>\n"
        } else {
            out += "\(pad)  <cpus num='\(cpus.count)'>\n"
            for cpu in cpus {
                out += "\(pad)    <cpu id='\(cpu.id)'"
                if let place = cpu.topology {
                    out += " socket_id='\(place.socket)' die_id='\(place.die)' core_id='\(place.core)'"
                        + " siblings='\(place.siblings)'"
                }
                out += "/>\n"
            }
            out += "\(pad)  </cpus>\n"
        }
        return out + "\(pad)</cell>\n"
    }
}

extension HostTopology {
    /// The capabilities cells, one per node.
    public var capabilitiesCells: [CapabilitiesCell] {
        nodes.map { CapabilitiesCell(node: $0, in: self) }
    }

    /// The host `<topology>` element of `virsh capabilities` at `indent` spaces (4 inside `<capabilities><host>`).
    public func capabilitiesTopologyXML(indent: Int = 4) -> String {
        let pad = String(repeating: " ", count: indent)
        let cells = capabilitiesCells
        return "\(pad)<topology>\n\(pad)  <cells num='\(cells.count)'>\n"
            + cells.map { $0.xml(indent: indent + 4) }.joined()
            + "\(pad)  </cells>\n\(pad)</topology>\n"
    }

    /// The `<pages unit='KiB' size='N'/>` lines of the host `<cpu>` element at `indent` spaces.
    public func capabilitiesPageSizesXML(indent: Int = 6) -> String {
        let pad = String(repeating: " ", count: indent)
        return pageSizesKiB.map { "\(pad)<pages unit='KiB' size='\($0)'/>\n" }.joined()
    }
}
