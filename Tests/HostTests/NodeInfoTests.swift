import Testing
import VirtBase
@testable import Host

@Suite("nodeinfo by libvirt's rules")
struct NodeInfoTests {
    @Test(arguments: [
        (Fixture.oneNode, NodeInfo(model: "x86_64", cpus: 4, mhz: 2400, nodes: 1, sockets: 1, cores: 2, threads: 2,
                                   memoryKiB: 8_388_608)),
        (Fixture.twoNode, NodeInfo(model: "x86_64", cpus: 16, mhz: 2100, nodes: 2, sockets: 1, cores: 4, threads: 2,
                                   memoryKiB: 33_554_432)),
        // CPU 5 is offline: 15 CPUs, but 4 nodes x 1 socket x 4 cores x 1 thread = 15 + 1 offline holds.
        (Fixture.fourNode, NodeInfo(model: "x86_64", cpus: 15, mhz: 3000, nodes: 4, sockets: 1, cores: 4,
                                    threads: 1, memoryKiB: 16_777_216)),
        // A CPU-less node makes 8 x 1 x 2 x 2 = 32 differ from 27 + 1: libvirt's flat fallback.
        (Fixture.eightNode, NodeInfo(model: "x86_64", cpus: 27, mhz: 1900, nodes: 1, sockets: 1, cores: 28,
                                     threads: 1, memoryKiB: 20_971_520)),
        (Fixture.noNUMA, NodeInfo(model: "aarch64", cpus: 2, mhz: 0, nodes: 1, sockets: 1, cores: 2, threads: 1,
                                  memoryKiB: 4_194_304)),
    ])
    func fixture(_ fixture: Fixture, expected: NodeInfo) throws {
        #expect(try NodeInfo(fixture.topology()) == expected)
    }

    @Test func textMatchesVirshCapture() {
        // virsh -c test:///default nodeinfo (virsh-captures/test-outputs.txt)
        let info = NodeInfo(model: "i686", cpus: 16, mhz: 1400, nodes: 2, sockets: 2, cores: 2, threads: 2,
                            memoryKiB: 3_145_728)
        #expect(info.virshText == """
            CPU model:           i686
            CPU(s):              16
            CPU frequency:       1400 MHz
            CPU socket(s):       2
            Core(s) per socket:  2
            Thread(s) per core:  2
            NUMA cell(s):        2
            Memory size:         3145728 KiB

            """)
    }

    @Test func unknownClockLeavesTheFrequencyLineOut() throws {
        let text = try NodeInfo(Fixture.noNUMA.topology()).virshText
        #expect(!text.contains("CPU frequency"))
        #expect(text.hasPrefix("CPU model:           aarch64\nCPU(s):              2\nCPU socket(s):"))
    }

    @Test func unevenNodesWithoutCPUlessNodesStillFallBack() throws {
        // Two nodes with different core counts: 2 x 1 x 4 x 1 = 8 but only 6 CPUs exist.
        var host = try Fixture.twoNode.topology()
        host.nodes[1].cpus = CPUSet([4, 5])
        host.online = host.nodes[0].cpus.union(host.nodes[1].cpus)
        host.present = host.online
        host.cpus = host.cpus.map { cpu in
            var single = cpu
            single.topology?.siblings = CPUSet([cpu.id])
            return single
        }
        let info = try NodeInfo(host)
        #expect(info.cpus == 10)
        #expect((info.nodes, info.sockets, info.cores, info.threads) == (1, 1, 10, 1))
    }

    @Test func noOnlineCPUIsAnError() throws {
        var host = try Fixture.oneNode.topology()
        host.online = CPUSet()
        #expect(throws: VirtError(.internalError, .host, "no CPUs found")) { try NodeInfo(host) }
    }
}
