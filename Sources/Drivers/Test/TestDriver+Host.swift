import VirtBase
import VirtCore

/// Host memory and CPU answers of libvirt 9.0's test driver, which `virsh -c test:///default` shows.
extension TestDriver {
    /// `freecell`: libvirt's test cells hold `(i + 1) × 2048 × 1024` in a field that `virNodeGetCellsFreeMemory`
    /// reports as bytes, so virsh shows 2048 and 4096 KiB; the host figure is the node memory (3 GiB in KiB)
    /// reported as bytes, so 3072 KiB.
    public func nodeFreeMemory(cells: NodeCellSelection) throws -> NodeFreeMemory {
        let all = (0..<TestDefaults.cellCount).map {
            NodeFreeMemory.Cell(id: $0, freeKiB: TestDefaults.cellFreeKiB($0))
        }
        let host = TestDefaults.nodeInfo.memoryKiB / TestDefaults.bytesPerKiB
        switch cells {
        case .host:
            return NodeFreeMemory(cells: [], hostFreeKiB: host)
        case .all:
            return NodeFreeMemory(cells: all, hostFreeKiB: host)
        case .cell(let cell):
            guard cell >= 0, cell < TestDefaults.cellCount else {
                throw VirtError(.invalidArgument, .test, "Range exceeds available cells")
            }
            return NodeFreeMemory(cells: [all[cell]], hostFreeKiB: host)
        }
    }

    /// `freepages`: libvirt's test driver ignores the cell and the sizes and fills the counts of each call
    /// with the series 19, 45, 97, 201, … (`x = 2x + 7` from 6); virsh makes one call per cell.
    public func nodeFreePages(sizesKiB: [UInt64]?, cells: NodeCellSelection) throws -> [NodePageCounts] {
        let sizes = sizesKiB ?? TestDefaults.capabilities().host.cpu.pageSizesKiB
        func counts(_ cell: Int?) -> NodePageCounts {
            var value = TestDefaults.freePagesSeed
            return NodePageCounts(
                cell: cell,
                counts: sizes.map { size in
                    value = value &* 2 &+ TestDefaults.freePagesStep
                    return NodePageCounts.Count(sizeKiB: size, free: value)
                })
        }
        switch cells {
        case .host: return [counts(nil)]
        case .cell(let cell): return [counts(cell)]
        case .all: return (0..<TestDefaults.cellCount).map { counts($0) }
        }
    }

    /// `allocpages`: libvirt's test driver has no `virNodeAllocPages`.
    public func allocPages(sizeKiB: UInt64, count: UInt64, cells: NodeCellSelection, add: Bool) throws
        -> [NodePagePoolChange]
    {
        throw VirtError(.noSupport, .test, "virNodeAllocPages")
    }

    /// `nodecpumap`: 8 CPUs, of which 0, 2 and 4 are online.
    public func nodeCPUMap() throws -> NodeCPUMapInfo {
        NodeCPUMapInfo(
            present: TestDefaults.cpuMapPresent, online: TestDefaults.cpuMapOnline.count,
            map: TestDefaults.cpuMapOnline)
    }

    /// `nodememstats`: libvirt's test driver has no `virNodeGetMemoryStats`.
    public func nodeMemoryStats(cell: Int?) throws -> NodeMemoryStatistics {
        throw VirtError(.noSupport, .test, "virNodeGetMemoryStats")
    }
}

extension TestDefaults {
    /// KiB per byte-count unit, for the fields libvirt's test driver reports as bytes that virsh divides by 1024.
    static let bytesPerKiB: UInt64 = 1024
    /// Free memory of test cell `cell` in KiB as virsh shows it (`(cell + 1) × 2048`).
    static func cellFreeKiB(_ cell: Int) -> UInt64 { UInt64(cell + 1) * 2048 * 1024 / bytesPerKiB }
    /// The start value and increment of the test driver's free page series (`x = 2x + 7` from 6).
    static let freePagesSeed: UInt64 = 6
    static let freePagesStep: UInt64 = 7
    /// The test host's CPU map: 8 CPUs, `0,2,4` online.
    static let cpuMapPresent = 8
    static let cpuMapOnline = CPUSet([0, 2, 4])
}
