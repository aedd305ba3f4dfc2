import Testing
import VirtBase
@testable import Host

@Suite("Reading the host topology from fixture trees")
struct TopologyReadingTests {
    @Test func oneNode() throws {
        let host = try Fixture.oneNode.topology()
        #expect(host.hasNUMA)
        #expect(host.nodes.map(\.id) == [0])
        #expect(host.nodes[0].cpus == CPUSet(0...3))
        #expect(host.nodes[0].memoryKiB == 8_388_608)
        #expect(host.nodes[0].freeKiB == 6_291_456)
        #expect(host.nodes[0].distances == [NUMANode.Distance(node: 0, value: 10)])
        #expect(host.nodes[0].hugePages == [HugePagePool(sizeKiB: 2048, total: 64, free: 60),
                                            HugePagePool(sizeKiB: 1_048_576, total: 1, free: 1)])
        #expect(host.present == CPUSet(0...3))
        #expect(host.online == CPUSet(0...3))
        #expect(host.possible == CPUSet(0...7))
        #expect(host.cpu(2)?.topology == HostCPU.Topology(socket: 0, die: 0, core: 0, siblings: CPUSet([0, 2])))
        #expect(host.cpu(3)?.topology?.siblings == CPUSet([1, 3]))
        #expect(host.arch == "x86_64")
        #expect(host.cpuModelName == "Fixture CPU @ 2.40GHz")
        #expect(host.cpuMHz == 2400)
        #expect(host.pageSizesKiB == [4, 2048, 1_048_576])
        #expect(host.hostMemory["MemTotal"] == 8_388_608)
    }

    @Test func twoNodesWithSMTSiblingsAcrossTheNumbering() throws {
        let host = try Fixture.twoNode.topology()
        #expect(host.nodes.map(\.cpus) == [try CPUSet(parsing: "0-3,8-11"), try CPUSet(parsing: "4-7,12-15")])
        #expect(host.node(1)?.distance(to: 0) == 21)
        #expect(host.node(0)?.distance(to: 0) == 10)
        #expect(host.cpu(9)?.topology == HostCPU.Topology(socket: 0, die: 0, core: 1, siblings: CPUSet([1, 9])))
        #expect(host.cpu(12)?.topology?.socket == 1)
        #expect(host.cpu(12)?.node == 1)
        #expect(host.node(1)?.pool(sizeKiB: 1_048_576) == HugePagePool(sizeKiB: 1_048_576, total: 4, free: 4))
        #expect(host.hostHugePages == [HugePagePool(sizeKiB: 2048, total: 512, free: 500),
                                       HugePagePool(sizeKiB: 1_048_576, total: 6, free: 5)])
        #expect(host.memoryKiB == 33_554_432, "nodes' MemTotal, not /proc/meminfo's")
        #expect(host.hostMemory["MemTotal"] == 33_558_528)
        #expect(host.cpus(ofNodes: CPUSet([1])) == (try CPUSet(parsing: "4-7,12-15")))
        #expect(host.nodes(ofCPUs: CPUSet([3, 4])) == CPUSet([0, 1]))
    }

    @Test func fourNodesWithAnOfflineCPUAndAsymmetricDistances() throws {
        let host = try Fixture.fourNode.topology()
        #expect(host.present == CPUSet(0...15))
        #expect(host.online == CPUSet(0...15).subtracting(CPUSet([5])))
        let offline = try #require(host.cpu(5))
        #expect(!offline.online)
        #expect(offline.topology == nil)
        #expect(offline.node == nil)
        #expect(host.node(1)?.cpus == CPUSet([4, 6, 7]))
        #expect(host.node(3)?.distance(to: 0) == 24)
        #expect(host.node(0)?.distance(to: 3) == 22)
        #expect(host.cpu(6)?.topology?.die == 1)
        #expect(host.node(3)?.pool(sizeKiB: 2048)?.surplus == 2)
        #expect(host.cpuMHz == 3000)
    }

    @Test func eightNodesWithMemorylessAndCPUlessNodes() throws {
        let host = try Fixture.eightNode.topology()
        #expect(host.nodes.count == 8)
        let memoryless = try #require(host.node(6))
        #expect(memoryless.memoryKiB == 0)
        #expect(memoryless.hugePages.isEmpty)
        #expect(memoryless.cpus == CPUSet([24, 25, 26]))
        let cpuless = try #require(host.node(7))
        #expect(cpuless.cpus.isEmpty)
        #expect(cpuless.memoryKiB == 8_388_608)
        #expect(cpuless.distance(to: 0) == 40)
        #expect(host.possible == CPUSet(0...31))
        #expect(host.cpu(26)?.topology?.siblings == CPUSet([26]))
        #expect(host.cpu(27)?.topology == nil)
        #expect(host.node(7)?.pool(sizeKiB: 1_048_576) == HugePagePool(sizeKiB: 1_048_576, total: 4, free: 2))
    }

    @Test func noNUMAIsOneNodeWithEveryOnlineCPUAndAllMemory() throws {
        let host = try Fixture.noNUMA.topology()
        #expect(!host.hasNUMA)
        #expect(host.nodes.count == 1)
        #expect(host.nodes[0].id == 0)
        #expect(host.nodes[0].cpus == CPUSet([0, 1]))
        #expect(host.nodes[0].memoryKiB == 4_194_304)
        #expect(host.nodes[0].freeKiB == 3_145_728)
        #expect(host.nodes[0].distances.isEmpty)
        #expect(host.nodes[0].hugePages == host.hostHugePages)
        #expect(host.online == CPUSet([0, 1]), "from the per-CPU online files")
        #expect(host.arch == "aarch64")
        #expect(host.cpuMHz == 0)
        #expect(host.cpuModelName == nil)
    }

    @Test(arguments: Fixture.allCases)
    func everyPresentCPUIsDescribedAndEveryOnlineCPUHasATopology(_ fixture: Fixture) throws {
        let host = try fixture.topology()
        #expect(CPUSet(host.cpus.map(\.id)) == host.present)
        for cpu in host.cpus {
            #expect(cpu.online == host.online.contains(cpu.id))
            if cpu.online { #expect(cpu.topology != nil, "cpu\(cpu.id)") }
            if let place = cpu.topology { #expect(place.siblings.contains(cpu.id)) }
        }
        for node in host.nodes where host.hasNUMA {
            #expect(node.distances.map(\.node) == host.nodes.map(\.id))
            #expect(node.distance(to: node.id) == 10)
        }
    }

    @Test func aRootWithTrailingSlashesReadsTheSameTree() throws {
        let plain = try Fixture.twoNode.topology()
        let slashed = try HostTopology.read(root: Fixture.twoNode.root + "//", systemPageSizeKiB: 4)
        #expect(slashed == plain)
    }
}
