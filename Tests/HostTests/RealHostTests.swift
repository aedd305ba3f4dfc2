import Foundation
import Glibc
import Testing
import VirtBase
@testable import Host

/// The real host: read `/` and check it against what the kernel reports by other routes.
@Suite("This host", .serialized)
struct RealHostTests {
    private func procMeminfo(_ key: String) throws -> UInt64 {
        let text = try HostFileSystem().read("/proc/meminfo")
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix(key + ":") })
        return try #require(UInt64(line.split(separator: " ")[1]))
    }

    @Test func readsAndAgreesWithNprocAndMeminfo() throws {
        let host = try HostTopology.read()
        #expect(host.online.count == sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        #expect(host.present.count >= host.online.count)
        #expect(host.systemPageSizeKiB == UInt64(sysconf(Int32(_SC_PAGESIZE)) / 1024))
        #expect(host.hostMemory["MemTotal"] == (try procMeminfo("MemTotal")))
        #expect(!host.nodes.isEmpty)
        // Every online CPU belongs to exactly one node and has a topology.
        for id in host.online.members {
            #expect(host.nodes.filter { $0.cpus.contains(id) }.count == 1, "cpu\(id)")
            #expect(host.cpu(id)?.topology != nil, "cpu\(id)")
        }
        // Nodes' memory never exceeds the host's (on this VM the node reports less than /proc/meminfo).
        #expect(host.memoryKiB > 0)
        #expect(host.memoryKiB <= (try procMeminfo("MemTotal")))
        var name = utsname()
        uname(&name)
        let machine = withUnsafeBytes(of: name.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        #expect(host.arch == machine)
        print("host: \(host.nodes.count) node(s), CPUs \(host.online), \(host.memoryKiB) KiB in nodes, "
            + "pools \(host.hostHugePages.map(\.sizeKiB))")
    }

    @Test func nodeinfoAndReportsOnThisHost() throws {
        let host = try HostTopology.read()
        let info = try NodeInfo(host)
        #expect(info.cpus == sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        #expect(info.nodes * info.sockets * info.cores * info.threads == host.present.count)
        #expect(info.memoryKiB == host.memoryKiB)
        #expect(info.virshText.split(separator: "\n").count == (info.mhz == 0 ? 7 : 8))
        let map = NodeCPUMap(host)
        #expect(map.online == info.cpus)
        let xml = host.capabilitiesTopologyXML()
        #expect(xml.contains("<cells num='\(host.nodes.count)'>"))
        #expect(FreeMemory(host).totalKiB <= (try procMeminfo("MemTotal")))
        #expect(try host.memoryStats().fields.map(\.name) == ["total", "free", "buffers", "cached"])
        #expect(try host.memoryStats(cell: 0).fields.first?.name == "total")
        for size in host.pageSizesKiB {
            _ = try host.freePages(cell: 0, sizeKiB: size)
        }
    }

    static let isRoot = geteuid() == 0
    static let has2MiBPool = FileManager.default.fileExists(
        atPath: "/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages")

    /// Resizing a pool needs root and a 2 MiB pool on node 0 (both exist on the project's test machine).
    @Test(.enabled(if: isRoot && has2MiBPool, "needs root and /sys/devices/system/node/node0 2 MiB pool"))
    func allocpagesRoundTrip() throws {
        // Changes are relative (+2, then -2), and made under the lock file every test that resizes a pool of this
        // host takes (KVMTests' hugetlb guest too), so exact before/after counts hold.
        let lock = open("/tmp/swift-virt-tests-hugepages.lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard lock >= 0, flock(lock, LOCK_EX) == 0 else { throw VirtError(.systemError, .host, "cannot lock the pool") }
        defer { close(lock) }
        let resizer = HugePagePoolResizer()
        let before = try resizer.poolSize(sizeKiB: 2048, node: 0)
        var added = false
        defer {
            // Always give the pages back, whatever happened above.
            if added {
                do {
                    let now = try resizer.poolSize(sizeKiB: 2048, node: 0)
                    _ = try resizer.resize(sizeKiB: 2048, count: now >= 2 ? now - 2 : 0, node: 0)
                } catch {
                    Issue.record("could not give back the 2 MiB pages added to node 0: \(error)")
                }
            }
        }
        let grown = try resizer.resize(sizeKiB: 2048, count: 2, node: 0, add: true)
        added = true
        #expect(grown.previous == before)
        #expect(grown.current == before + 2)
        let host = try HostTopology.read()
        #expect(host.node(0)?.pool(sizeKiB: 2048)?.total == grown.current)
        #expect(host.hostHugePages.first { $0.sizeKiB == 2048 }.map { $0.total >= 2 } == true)
        #expect(try host.freePages(cell: 0, sizeKiB: 2048) >= 2)
        let shrunk = try resizer.resize(sizeKiB: 2048, count: grown.current - 2, node: 0)
        added = false
        #expect(shrunk.current == before)
        #expect(try HostTopology.read().node(0)?.pool(sizeKiB: 2048)?.total == before)
    }
}
