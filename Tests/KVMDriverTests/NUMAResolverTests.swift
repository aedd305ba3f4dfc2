import Foundation
import Host
import KVM
import Testing
import VirtBase
import VirtCore

@testable import KVMDriver

/// Guest NUMA cells, `<memnode>`, huge pages per cell, `placement='auto'` and the free huge page check: the XML →
/// hypervisor configuration mapping and the start-time checks against the host fixture trees (no guest runs).
@Suite("kvm:// driver: guest NUMA cells, memnode, huge pages and automatic placement")
struct NUMAResolverTests {
    static func definition(
        memory: String = "<memory unit='MiB'>1536</memory>", vcpu: String = "<vcpu>4</vcpu>", _ parts: String
    ) throws -> DomainDefinition {
        try DomainXML.parse(
            """
            <domain type='kvm'>
              <name>numa</name>
              \(memory)
              \(vcpu)
              \(parts)
              <os><type>hvm</type><kernel>/nonexistent/guest.elf</kernel></os>
            </domain>
            """
        ).definition
    }

    static func configuration(
        memory: String = "<memory unit='MiB'>1536</memory>", vcpu: String = "<vcpu>4</vcpu>", _ parts: String
    ) throws -> HypervisorConfiguration {
        try HypervisorConfigurationResolver(definition: definition(memory: memory, vcpu: vcpu, parts)).resolve()
    }

    /// Resolves and applies `host`; returns the configuration and the automatically chosen nodes.
    static func started(
        on fixture: String, memory: String = "<memory unit='MiB'>1536</memory>", vcpu: String = "<vcpu>4</vcpu>",
        _ parts: String
    ) throws -> (HypervisorConfiguration, CPUSet?) {
        let resolver = HypervisorConfigurationResolver(definition: try definition(memory: memory, vcpu: vcpu, parts))
        var configuration = try resolver.resolve()
        #expect(resolver.needsHostTopology)
        let host = try HostTopology.read(root: PlacementResolverTests.fixture(fixture))
        let chosen = try resolver.applyHost(host, to: &configuration)
        return (configuration, chosen)
    }

    /// The error text of a start on `fixture`, or "no error".
    static func startError(
        on fixture: String, memory: String = "<memory unit='MiB'>1536</memory>", vcpu: String = "<vcpu>4</vcpu>",
        _ parts: String
    ) -> String {
        do {
            _ = try started(on: fixture, memory: memory, vcpu: vcpu, parts)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    static let threeCells = """
        <cpu><numa>
          <cell id='0' cpus='0-1' memory='512' unit='MiB'/>
          <cell id='1' cpus='2' memory='512' unit='MiB' memAccess='shared'/>
          <cell id='2' cpus='3' memory='512' unit='MiB' discard='yes'/>
        </numa></cpu>
        """

    static let mib: UInt64 = 1 << 20

    @Test("each guest cell gets its own RAM: size, vCPUs, memAccess, and its memnode's policy, else <memory>'s")
    func cellsAndMemnodes() throws {
        let configuration = try Self.configuration(
            Self.threeCells + """
                <numatune>
                  <memory mode='strict' nodeset='0-1'/>
                  <memnode cellid='0' mode='preferred' nodeset='1'/>
                  <memnode cellid='2' mode='interleave' nodeset='0-1'/>
                </numatune>
                """)
        let cells = configuration.memoryCells
        #expect(cells.map(\.id) == [0, 1, 2])
        #expect(cells.map(\.sizeBytes) == [512 * Self.mib, 512 * Self.mib, 512 * Self.mib])
        #expect(cells.map(\.vcpus) == [CPUSet([0, 1]), CPUSet([2]), CPUSet([3])])
        #expect(
            cells.map(\.policy) == [
                GuestMemoryPolicy(mode: .preferred, nodes: CPUSet([1])),
                GuestMemoryPolicy(mode: .bind, nodes: CPUSet([0, 1])),
                GuestMemoryPolicy(mode: .interleave, nodes: CPUSet([0, 1])),
            ])
        #expect(cells.map(\.backing.shared) == [false, true, false])
        #expect(cells.allSatisfy { $0.backing.source == .anonymous && $0.backing.mergeable })
        #expect(configuration.placement.memoryPolicy == GuestMemoryPolicy(mode: .bind, nodes: CPUSet([0, 1])))
        #expect(configuration.resolvedMemoryCells == cells)
    }

    @Test("restrictive is the default policy (no mbind) for <memory> and every memnode; nothing asked, no policy")
    func restrictive() throws {
        let restrictive = try Self.configuration(
            Self.threeCells + """
                <numatune><memory mode='restrictive' nodeset='0'/><memnode cellid='1' mode='restrictive' nodeset='1'/>
                </numatune>
                """)
        #expect(restrictive.memoryCells.allSatisfy { $0.policy == nil })
        #expect(restrictive.placement.memoryPolicy == nil)
        #expect(try Self.configuration(Self.threeCells).memoryCells.allSatisfy { $0.policy == nil })
        let plain = try Self.configuration("")
        #expect(plain.memoryCells.isEmpty)
        #expect(plain.resolvedMemoryCells == [MemoryCellConfiguration(id: nil, sizeBytes: 1536 * Self.mib)])
    }

    @Test("huge page size per cell by <page nodeset> (guest cells), the <page> without nodeset for the rest")
    func hugePagesPerCell() throws {
        let cells = try Self.configuration(
            memory: "<memory unit='MiB'>2048</memory>",
            """
            <cpu><numa>
              <cell id='0' cpus='0-1' memory='512' unit='MiB'/>
              <cell id='1' cpus='2' memory='1024' unit='MiB' memAccess='shared'/>
              <cell id='2' cpus='3' memory='512' unit='MiB'/>
            </numa></cpu>
            <memoryBacking>
              <hugepages><page size='1' unit='G' nodeset='1'/><page size='2048' unit='KiB'/></hugepages>
              <nosharepages/><locked/><allocation mode='immediate'/>
            </memoryBacking>
            """
        ).memoryCells
        #expect(cells.map(\.backing.source) == [.hugetlb, .hugetlb, .hugetlb])
        #expect(cells.map(\.pageBytes) == [2 * Self.mib, 1 << 30, 2 * Self.mib])
        #expect(cells.map(\.backing.shared) == [false, true, false])
        #expect(cells.allSatisfy { $0.backing.locked && !$0.backing.mergeable && $0.backing.preallocate })

        // Only cell 0 named: the others keep ordinary memory; a 4 KiB <page> is ordinary memory too.
        let partial = try Self.configuration(
            Self.threeCells + """
                <memoryBacking><hugepages><page size='2' unit='M' nodeset='0'/><page size='4' unit='KiB' nodeset='1'/>
                </hugepages><source type='memfd'/></memoryBacking>
                """
        ).memoryCells
        #expect(partial.map(\.backing.source) == [.hugetlb, .memfd, .memfd])
        #expect(partial.map(\.pageBytes) == [2 * Self.mib, 4096, 4096])
        #expect(partial.allSatisfy { !$0.backing.preallocate && !$0.backing.locked })

        let all = try Self.configuration(Self.threeCells + "<memoryBacking><hugepages/></memoryBacking>").memoryCells
        #expect(all.allSatisfy { $0.backing.source == .hugetlb && $0.pageBytes == 2 * Self.mib })
        // Without cells, the page of nodeset '0' (the implicit cell) or the master page applies.
        let single = try Self.configuration(
            "<memoryBacking><hugepages><page size='2048' nodeset='0'/></hugepages></memoryBacking>")
        #expect(single.memoryCells.isEmpty)
        #expect(single.memoryBacking.source == .hugetlb && single.memoryBacking.hugePageBytes == 2 * Self.mib)
    }

    @Test("RAM that is not a whole number of its huge pages is refused, naming the cell or <memory>")
    func wholePages() {
        func error(_ memory: String, _ parts: String) -> String {
            do {
                _ = try Self.configuration(memory: memory, parts)
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        let cell = error(
            "<memory unit='MiB'>1124</memory>",
            """
            <cpu><numa><cell id='0' cpus='0-3' memory='1024' unit='MiB'/><cell id='1' memory='100' unit='MiB'/></numa>
            </cpu><memoryBacking><hugepages><page size='1' unit='G'/></hugepages></memoryBacking>
            """)
        #expect(
            cell == "unsupported configuration: cannot start domain 'numa': guest NUMA cell 1 of 102400 KiB is "
                + "not a whole number of its 1048576 KiB huge pages; make it a multiple of 1048576 KiB or give it "
                + "another page size in <memoryBacking><hugepages>")
        let whole = error(
            "<memory unit='MiB'>1536</memory>",
            "<memoryBacking><hugepages><page size='1' unit='G'/></hugepages></memoryBacking>")
        #expect(
            whole.contains("<memory> of 1572864 KiB is not a whole number of its 1048576 KiB huge pages"), "\(whole)")
    }

    @Test("start-time checks on the fixture trees: memnode nodesets beyond the host, page sizes the host lacks")
    func hostValidation() {
        let node = Self.startError(
            on: "two-node",
            Self.threeCells + "<numatune><memnode cellid='2' mode='strict' nodeset='1-2'/></numatune>")
        #expect(
            node == "unsupported configuration: cannot start domain 'numa': <numatune><memnode cellid='2' "
                + "nodeset='1-2'> names NUMA node(s) '2' that this host does not have (nodes: 0-1)")
        let size = Self.startError(
            on: "four-node",
            Self.threeCells
                + "<memoryBacking><hugepages><page size='16' unit='M' nodeset='2'/></hugepages></memoryBacking>")
        #expect(
            size == "unsupported configuration: cannot start domain 'numa': guest NUMA cell 2 (<hugepages><page "
                + "size='16384' unit='KiB'>) asks for 16384 KiB pages, which this host does not offer (huge page sizes: "
                + "2048, 1048576 KiB)")
        let cpu = Self.startError(
            on: "eight-node", Self.threeCells + "<cputune><vcpupin vcpu='3' cpuset='27'/></cputune>")
        #expect(cpu.contains("<vcpupin vcpu='3' cpuset='27'>") && cpu.contains("offline"), "\(cpu)")
    }

    static let twoGiBCells = """
        <cpu><numa>
          <cell id='0' cpus='0-1' memory='2' unit='GiB'/>
          <cell id='1' cpus='2-3' memory='2' unit='GiB'/>
        </numa></cpu>
        <memoryBacking><hugepages><page size='1' unit='G'/></hugepages></memoryBacking>
        """

    @Test("free huge pages: each cell on the nodes its policy binds it to, cells on shared nodes adding up")
    func freeHugePages() throws {
        let memory = "<memory unit='GiB'>4</memory>"
        // two-node: node 0 has 1 free 1 GiB page, node 1 has 4.
        let fits = try Self.started(
            on: "two-node", memory: memory,
            Self.twoGiBCells
                + "<numatune><memnode cellid='0' mode='strict' nodeset='1'/><memnode cellid='1' mode='strict' nodeset='1'/></numatune>"
        )
        #expect(fits.0.memoryCells.map(\.policy?.nodes) == [CPUSet([1]), CPUSet([1])])
        let short = Self.startError(
            on: "two-node", memory: memory,
            Self.twoGiBCells
                + "<numatune><memnode cellid='0' mode='strict' nodeset='1'/><memnode cellid='1' mode='strict' nodeset='0'/></numatune>"
        )
        #expect(
            short == "operation failed: cannot start domain 'numa': guest NUMA cell 1 needs 2 free 1048576 KiB "
                + "huge pages on host NUMA node 0, but only 1 are free; add pages with 'virtsh allocpages 1048576 1 "
                + "--cellno 0 --add'")
        // Both cells on node 1 want 2 + 3 = 5 pages of its 4.
        let together = Self.startError(
            on: "two-node", memory: "<memory unit='GiB'>5</memory>",
            """
            <cpu><numa><cell id='0' cpus='0-1' memory='2' unit='GiB'/><cell id='1' cpus='2-3' memory='3' unit='GiB'/>
            </numa></cpu><memoryBacking><hugepages><page size='1' unit='G'/></hugepages></memoryBacking>
            <numatune><memory mode='strict' nodeset='1'/></numatune>
            """)
        #expect(
            together.contains(
                "guest NUMA cells 0 and 1 need 5 free 1048576 KiB huge pages on host NUMA node 1, "
                    + "but only 4 are free"), "\(together)")
        // A cell on nodes 0-1 and one on node 1 inside them: 3 + 3 pages of the 5 free on both.
        let nested = Self.startError(
            on: "two-node", memory: "<memory unit='GiB'>6</memory>",
            """
            <cpu><numa><cell id='0' cpus='0-1' memory='3' unit='GiB'/><cell id='1' cpus='2-3' memory='3' unit='GiB'/>
            </numa></cpu><memoryBacking><hugepages><page size='1' unit='G'/></hugepages></memoryBacking>
            <numatune><memory mode='interleave' nodeset='0-1'/><memnode cellid='1' mode='strict' nodeset='1'/></numatune>
            """)
        #expect(
            nested.contains(
                "guest NUMA cells 0 and 1 need 6 free 1048576 KiB huge pages on host NUMA nodes 0-1 "
                    + "(free: node 0: 1, node 1: 4), but only 5 are free"), "\(nested)")
        // preferred may take pages anywhere: the whole host's 500 free 2 MiB pages are too few for 512.
        let preferred = Self.startError(
            on: "two-node", memory: "<memory unit='GiB'>1</memory>",
            "<memoryBacking><hugepages/></memoryBacking><numatune><memory mode='preferred' nodeset='1'/></numatune>")
        #expect(
            preferred == "operation failed: cannot start domain 'numa': guest RAM needs 512 free 2048 KiB huge "
                + "pages on this host, but only 500 are free; add pages with 'virtsh allocpages 2048 12 --add'")
        let strict = Self.startError(
            on: "two-node", memory: "<memory unit='MiB'>64</memory>",
            "<memoryBacking><hugepages/></memoryBacking><numatune><memory nodeset='1'/></numatune>")
        #expect(strict.contains("guest RAM needs 32 free 2048 KiB huge pages on host NUMA node 1, but only 0 are free"))
        let flat = Self.startError(
            on: "no-numa", memory: "<memory unit='MiB'>16</memory>", vcpu: "<vcpu>2</vcpu>",
            "<memoryBacking><hugepages/></memoryBacking>")
        #expect(
            flat.contains("guest RAM needs 8 free 2048 KiB huge pages on this host, but only 6 are free"), "\(flat)")
    }

    @Test("<vcpu placement='auto'>: vCPUs and emulator on the chosen nodes' online CPUs, RAM bound there (strict)")
    func automaticVCPUs() throws {
        let (two, chosen) = try Self.started(
            on: "two-node", memory: "<memory unit='GiB'>4</memory>", vcpu: "<vcpu placement='auto'>4</vcpu>", "")
        #expect(chosen == CPUSet([0]))
        let nodeZero = try CPUSet(parsing: "0-3,8-11")
        #expect(two.placement.vcpuCPUs == Array(repeating: nodeZero, count: 4))
        #expect(two.placement.emulatorCPUs == nodeZero)
        #expect(two.placement.memoryPolicy == GuestMemoryPolicy(mode: .bind, nodes: CPUSet([0])))

        // four-node: 129 pages of 2 MiB need nodes 0 and 1; CPU 5 (node 1) is offline and left out; a vcpupin
        // and the emulatorpin are kept.
        let (four, fourNodes) = try Self.started(
            on: "four-node", memory: "<memory unit='KiB'>264192</memory>", vcpu: "<vcpu placement='auto'>3</vcpu>",
            "<memoryBacking><hugepages/></memoryBacking>"
                + "<cputune><vcpupin vcpu='1' cpuset='12'/><emulatorpin cpuset='13'/></cputune>")
        #expect(fourNodes == CPUSet([0, 1]))
        let online = try CPUSet(parsing: "0-4,6-7")
        #expect(four.placement.vcpuCPUs == [online, CPUSet([12]), online])
        #expect(four.placement.emulatorCPUs == CPUSet([13]))
        #expect(four.placement.memoryPolicy == GuestMemoryPolicy(mode: .bind, nodes: CPUSet([0, 1])))
    }

    @Test("<numatune><memory placement='auto'>: the mode over the chosen nodes; preferred takes the first-ranked")
    func automaticMemory() throws {
        let memory = "<memory unit='GiB'>5</memory>"
        let vcpu = "<vcpu placement='static'>3</vcpu>"
        // eight-node: 5 GiB fits node 7 (4 GiB free, no CPUs) with node 5.
        let (interleave, nodes) = try Self.started(
            on: "eight-node", memory: memory, vcpu: vcpu,
            "<numatune><memory mode='interleave' placement='auto'/></numatune>")
        #expect(nodes == CPUSet([5, 7]))
        #expect(interleave.placement.memoryPolicy == GuestMemoryPolicy(mode: .interleave, nodes: CPUSet([5, 7])))
        #expect(interleave.placement.vcpuCPUs.isEmpty && interleave.placement.emulatorCPUs == nil)
        let (preferred, _) = try Self.started(
            on: "eight-node", memory: memory, vcpu: vcpu,
            "<numatune><memory mode='preferred' placement='auto'/></numatune>")
        #expect(preferred.placement.memoryPolicy == GuestMemoryPolicy(mode: .preferred, nodes: CPUSet([7])))
        // Guest cells all follow the automatic nodes (memnode cannot go with placement='auto').
        let (cells, cellNodes) = try Self.started(
            on: "two-node", memory: "<memory unit='GiB'>4</memory>", vcpu: "<vcpu placement='auto'>4</vcpu>",
            Self.twoGiBCells)
        #expect(cellNodes == CPUSet([1]))
        #expect(
            cells.memoryCells.map(\.policy)
                == Array(
                    repeating: GuestMemoryPolicy(mode: .bind, nodes: CPUSet([1])), count: 2))
        let tooBig = Self.startError(
            on: "eight-node", memory: "<memory unit='GiB'>40</memory>", vcpu: "<vcpu placement='auto'>2</vcpu>", "")
        #expect(
            tooBig.hasPrefix(
                "operation failed: cannot start domain 'numa': no set of host NUMA nodes holds "
                    + "41943040 KiB of memory, 2 CPUs: the host has"), "\(tooBig)")
    }

    @Test("the live XML shows the chosen nodes with placement='auto'; a stored definition drops them")
    func liveXML() throws {
        var live = try Self.definition(vcpu: "<vcpu placement='auto'>2</vcpu>", "")
        live.showAutomaticPlacement(CPUSet([0, 2]))
        let xml = DomainXML.format(live)
        #expect(xml.contains("<vcpu placement='auto'>2</vcpu>"), "\(xml)")
        #expect(xml.contains("<memory mode='strict' placement='auto' nodeset='0,2'/>"), "\(xml)")
        let reparsed = try DomainXML.parse(xml).definition
        #expect(reparsed.numatune?.memory?.nodeset == CPUSet([0, 2]), "the live XML reads back with its nodes")
        #expect(reparsed.removingLiveValues().numatune?.memory == NUMATune.Memory(mode: .strict, placement: .auto))
        var fixed = try Self.definition("<numatune><memory mode='strict' nodeset='1'/></numatune>")
        let before = fixed
        fixed.showAutomaticPlacement(CPUSet([0]))
        #expect(fixed == before, "a static nodeset is left alone")
    }

    /// docs/numa.md, worked example 2: a two-cell guest mapped onto the two nodes of the two-node fixture, cell 0
    /// on 2 MiB pages of node 0, cell 1 on a 1 GiB page of node 1. The doc's values come from this run.
    static let twoNodeExample = """
        <cputune>
          <vcpupin vcpu='0' cpuset='0'/>
          <vcpupin vcpu='1' cpuset='1'/>
          <vcpupin vcpu='2' cpuset='4'/>
          <vcpupin vcpu='3' cpuset='5'/>
          <emulatorpin cpuset='8-9,12-13'/>
        </cputune>
        <cpu>
          <numa>
            <cell id='0' cpus='0-1' memory='512' unit='MiB'/>
            <cell id='1' cpus='2-3' memory='1' unit='GiB'/>
          </numa>
        </cpu>
        <numatune>
          <memory mode='strict' nodeset='0-1'/>
          <memnode cellid='0' mode='strict' nodeset='0'/>
          <memnode cellid='1' mode='strict' nodeset='1'/>
        </numatune>
        <memoryBacking>
          <hugepages>
            <page size='2' unit='M' nodeset='0'/>
            <page size='1' unit='G' nodeset='1'/>
          </hugepages>
        </memoryBacking>
        """

    @Test("worked example 2 of docs/numa.md on the two-node fixture: cells, page sizes, layout, pins")
    func twoNodeWorkedExample() throws {
        let (configuration, chosen) = try Self.started(
            on: "two-node", memory: "<memory unit='MiB'>1536</memory>", vcpu: "<vcpu placement='static'>4</vcpu>",
            Self.twoNodeExample)
        #expect(chosen == nil)
        let cells = configuration.memoryCells
        print("example 2 cells: \(cells)")
        #expect(cells.map(\.policy) == [
            GuestMemoryPolicy(mode: .bind, nodes: CPUSet([0])), GuestMemoryPolicy(mode: .bind, nodes: CPUSet([1])),
        ])
        #expect(cells.map(\.pageBytes) == [2 * Self.mib, 1 << 30])
        #expect(configuration.placement.vcpuCPUs == [CPUSet([0]), CPUSet([1]), CPUSet([4]), CPUSet([5])])
        #expect(configuration.placement.emulatorCPUs == CPUSet([8, 9, 12, 13]))
        // Cell 1 starts at 1 GiB (a multiple of its page size), leaving 512 MiB-1 GiB unused.
        let layout = GuestMemory.layout(cells.map { ($0.sizeBytes, $0.pageBytes) })
        #expect(layout.map(\.guestAddress) == [0, 1 << 30] && layout.map(\.size) == [512 * Self.mib, 1 << 30])
        #expect(layout.map(\.cell) == [0, 1])
        // With cell 0 grown to 2 GiB of 1 GiB pages, node 0 (one free 1 GiB page) cannot hold it.
        let grown = Self.startError(
            on: "two-node", memory: "<memory unit='MiB'>3072</memory>", vcpu: "<vcpu placement='static'>4</vcpu>",
            Self.twoNodeExample.replacingOccurrences(of: "memory='512' unit='MiB'", with: "memory='2' unit='GiB'")
                .replacingOccurrences(of: "<page size='2' unit='M' nodeset='0'/>", with: "")
                .replacingOccurrences(of: "nodeset='1'/>", with: "nodeset='0-1'/>"))
        print("example 2 with cell 0 on 2 GiB of 1 GiB pages: \(grown)")
        #expect(grown == "operation failed: cannot start domain 'numa': guest NUMA cell 0 needs 2 free 1048576 "
            + "KiB huge pages on host NUMA node 0, but only 1 are free; add pages with 'virtsh allocpages 1048576 1 "
            + "--cellno 0 --add'")
    }
}
