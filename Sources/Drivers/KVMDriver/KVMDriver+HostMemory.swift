import Host
import VirtBase
import VirtCore

/// `freecell`, `freepages`, `allocpages`, `nodecpumap` and `nodememstats` for kvm://, read from (and, for
/// `allocpages`, written to) the host's sysfs and procfs under `hostRoot` by the Host module.
extension KVMDriver {
    public func nodeFreeMemory(cells: NodeCellSelection) throws -> NodeFreeMemory {
        let topology = try HostTopology.read(root: hostRoot)
        let free = FreeMemory(topology)
        let chosen: [NodeFreeMemory.Cell]
        switch cells {
        case .host:
            chosen = []
        case .all:
            chosen = free.cells.map { NodeFreeMemory.Cell(id: $0.node, freeKiB: $0.freeKiB) }
        case .cell(let cell):
            chosen = [NodeFreeMemory.Cell(id: cell, freeKiB: try free.freeKiB(cell: cell, in: topology))]
        }
        return NodeFreeMemory(cells: chosen, hostFreeKiB: free.totalKiB)
    }

    public func nodeFreePages(sizesKiB: [UInt64]?, cells: NodeCellSelection) throws -> [NodePageCounts] {
        let topology = try HostTopology.read(root: hostRoot)
        let reports: [FreePages]
        switch cells {
        case .host:
            reports = [try topology.freePages(cell: nil, sizesKiB: sizesKiB)]
        case .cell(let cell):
            reports = [try topology.freePages(cell: cell, sizesKiB: sizesKiB)]
        case .all:
            if let sizesKiB, sizesKiB.count > 1 {
                var all: [FreePages] = []
                for node in topology.nodes { all.append(try topology.freePages(cell: node.id, sizesKiB: sizesKiB)) }
                reports = all
            } else {
                reports = topology.freePagesReport(sizeKiB: sizesKiB?.first)
            }
        }
        return reports.map { report in
            NodePageCounts(cell: report.node, counts: report.counts.map { .init(sizeKiB: $0.sizeKiB, free: $0.free) })
        }
    }

    public func allocPages(sizeKiB: UInt64, count: UInt64, cells: NodeCellSelection, add: Bool) throws
        -> [NodePagePoolChange]
    {
        let topology = try HostTopology.read(root: hostRoot)
        let resizer = HugePagePoolResizer(root: hostRoot, systemPageSizeKiB: topology.systemPageSizeKiB)
        let results: [HugePagePoolResizer.Result]
        switch cells {
        case .host: results = [try resizer.resize(sizeKiB: sizeKiB, count: count, node: nil, add: add)]
        case .cell(let cell): results = [try resizer.resize(sizeKiB: sizeKiB, count: count, node: cell, add: add)]
        case .all: results = try resizer.resizeAll(sizeKiB: sizeKiB, count: count, add: add, in: topology)
        }
        return results.map {
            NodePagePoolChange(cell: $0.node, sizeKiB: $0.sizeKiB, previousPages: $0.previous, pages: $0.current)
        }
    }

    public func nodeCPUMap() throws -> NodeCPUMapInfo {
        let map = Host.NodeCPUMap(try HostTopology.read(root: hostRoot))
        return NodeCPUMapInfo(present: map.present, online: map.online, map: map.map)
    }

    public func nodeMemoryStats(cell: Int?) throws -> NodeMemoryStatistics {
        let stats = try HostTopology.read(root: hostRoot).memoryStats(cell: cell)
        return NodeMemoryStatistics(fields: stats.fields.map { .init(name: $0.name, valueKiB: $0.valueKiB) })
    }
}
