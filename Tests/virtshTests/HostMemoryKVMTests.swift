import Foundation
import Glibc
import Testing

/// `freecell`, `freepages`, `allocpages`, `nodecpumap` and `nodememstats` on kvm://: the two-node fixture tree of
/// the Host tests (through `SWIFT_VIRT_HOST_ROOT`), and this host itself.
@Suite("virtsh host memory commands on kvm://", .serialized)
struct HostMemoryKVMTests {
    /// The two-node fixture tree: 16 CPUs, 12 GiB free on node 0 and 8 GiB on node 1, 2 MiB and 1 GiB pools.
    static let twoNodeRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("HostTests/Fixtures/two-node").path

    /// Runs virtsh on a fresh kvm:///embed root, reading the host from `hostRoot` (nil: this host).
    func run(_ arguments: [String], hostRoot: String? = twoNodeRoot) throws -> ProcessResult {
        let scratch = try Scratch()
        return try ProcessRunner.virtsh(
            ["-c", "kvm:///embed?root=\(scratch.url.path)"] + arguments,
            environment: ["SWIFT_VIRT_HOST_ROOT": hostRoot ?? ""])
    }

    func json(_ arguments: [String], hostRoot: String? = twoNodeRoot) throws -> [String: Any] {
        let result = try run(arguments + ["--json"], hostRoot: hostRoot)
        #expect(result.status == 0, "\(arguments): \(result)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }

    @Test("fixture: the text virsh prints")
    func fixtureText() throws {
        let expected: [([String], String)] = [
            (["freecell"], "Total: 20971520 KiB\n\n"),
            (
                ["freecell", "--all"],
                "    0:   12582912 KiB\n    1:    8388608 KiB\n--------------------\nTotal:   20971520 KiB\n\n"
            ),
            (["freecell", "1"], "1: 8388608 KiB\n\n"),
            (
                ["freepages", "--all"],
                "Node 0:\n4KiB: 3145728\n2048KiB: 500\n1048576KiB: 1\n\n"
                    + "Node 1:\n4KiB: 2097152\n2048KiB: 0\n1048576KiB: 4\n\n\n"
            ),
            (["freepages", "--all", "--pagesize", "1G"], "Node 0:\n1048576KiB: 1\n\nNode 1:\n1048576KiB: 4\n\n\n"),
            (["freepages", "1", "1048576"], "1048576KiB: 4\n\n"),
            (["freepages", "0", "4k"], "4KiB: 3145728\n\n"),
            (["freepages", "-1", "2M"], "2048KiB: 500\n\n"),
            (["nodecpumap"], "CPUs present:   16\nCPUs online:    16\nCPU map:        yyyyyyyyyyyyyyyy\n\n"),
            (["nodecpumap", "--pretty"], "CPUs present:   16\nCPUs online:    16\nCPU map:        0-15\n\n"),
            (
                ["nodememstats"],
                "total  :             33558528 KiB\nfree   :             20972544 KiB\n"
                    + "buffers:                65544 KiB\ncached :              1048704 KiB\n\n"
            ),
            (
                ["nodememstats", "--cell", "1"],
                "total  :             16777216 KiB\nfree   :              8388608 KiB\n\n"
            ),
            (
                ["nodememstats", "-1"],
                "total  :             33558528 KiB\nfree   :             20972544 KiB\n"
                    + "buffers:                65544 KiB\ncached :              1048704 KiB\n\n"
            ),
        ]
        for (arguments, text) in expected {
            let result = try run(arguments)
            #expect(result == ProcessResult(stdout: text, stderr: "", status: 0), "\(arguments)")
        }
    }

    @Test("fixture: cells out of range and page sizes the host lacks, in libvirt's words")
    func fixtureErrors() throws {
        let expected: [([String], String)] = [
            (["freecell", "2"], "error: internal error: start cell 2 out of range (0-1)\n"),
            (["freecell", "-1"], "error: startCell in virNodeGetCellsFreeMemory must be zero or greater\n"),
            (["freepages", "5", "2M"], "error: internal error: start cell 5 out of range (0-1)\n"),
            (
                ["freepages", "0", "3M"],
                "error: operation failed: page size 3072 is not available on node 0; supported page sizes: 4, 2048, "
                    + "1048576 KiB\n"
            ),
            (
                ["nodememstats", "7"],
                "error: Unable to get number of memory stats\nerror: internal error: start cell 7 out of range (0-1)\n"
            ),
            (
                ["allocpages", "4k", "1", "--cellno", "0"],
                "error: Operation not supported: system pages pool can't be modified\n"
            ),
            (
                ["-r", "allocpages", "2M", "1"],
                "error: operation forbidden: read only access prevents virNodeAllocPages\n"
            ),
        ]
        for (arguments, stderr) in expected {
            let result = try run(arguments)
            #expect(result.status == 1, "\(arguments)")
            #expect(result.stderr == stderr, "\(arguments)")
        }
    }

    @Test("--json documents: camelCase keys with units")
    func jsonShapes() throws {
        let all = try json(["freecell", "--all"])
        #expect(all["totalKiB"] as? Int == 20_971_520)
        let cells = try #require(all["cells"] as? [[String: Any]])
        #expect(cells.map { $0["cell"] as? Int } == [0, 1])
        #expect(cells.map { $0["freeKiB"] as? Int } == [12_582_912, 8_388_608])
        let one = try json(["freecell", "1"])
        #expect(one["totalKiB"] is NSNull)
        #expect((one["cells"] as? [[String: Any]])?.first?["freeKiB"] as? Int == 8_388_608)

        let pages = try json(["freepages", "--all"])
        let nodes = try #require(pages["cells"] as? [[String: Any]])
        #expect(nodes.map { $0["cell"] as? Int } == [0, 1])
        let node1 = try #require(nodes[1]["pages"] as? [[String: Any]])
        #expect(node1.map { $0["pageSizeKiB"] as? Int } == [4, 2048, 1_048_576])
        #expect(node1.map { $0["freePages"] as? Int } == [2_097_152, 0, 4])
        let host = try json(["freepages", "-1", "2M"])
        let hostCell = try #require((host["cells"] as? [[String: Any]])?.first)
        #expect(hostCell["cell"] is NSNull)
        #expect((hostCell["pages"] as? [[String: Any]])?.first?["freePages"] as? Int == 500)

        let map = try json(["nodecpumap"])
        #expect(map["cpusPresent"] as? Int == 16)
        #expect(map["cpusOnline"] as? Int == 16)
        #expect(map["onlineCPUs"] as? String == "0-15")
        #expect(map["map"] as? String == String(repeating: "y", count: 16))

        let stats = try json(["nodememstats", "--cell", "0"])
        #expect(stats["cell"] as? Int == 0)
        #expect(stats["totalKiB"] as? Int == 16_777_216)
        #expect(stats["buffersKiB"] is NSNull)
        #expect(stats["cachedKiB"] is NSNull)
        let hostStats = try json(["nodememstats"])
        #expect(Set(hostStats.keys) == ["cell", "totalKiB", "freeKiB", "buffersKiB", "cachedKiB"])
        #expect(hostStats["cell"] is NSNull)
        #expect(hostStats["cachedKiB"] as? Int == 1_048_704)
    }

    // MARK: This host

    private func sysfsNodes() throws -> [Int] {
        try FileManager.default.contentsOfDirectory(atPath: "/sys/devices/system/node")
            .filter { $0.hasPrefix("node") }.compactMap { Int($0.dropFirst(4)) }.sorted()
    }

    private func meminfo(_ key: String) throws -> Int {
        let text = try String(contentsOfFile: "/proc/meminfo", encoding: .utf8)
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix(key + ":") })
        return try #require(Int(line.split(separator: " ")[1]))
    }

    @Test("this host: cells, CPUs and memory as the kernel reports them")
    func thisHost() throws {
        let map = try json(["nodecpumap"], hostRoot: nil)
        #expect(map["cpusOnline"] as? Int == sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        #expect((map["map"] as? String)?.filter { $0 == "y" }.count == map["cpusOnline"] as? Int)

        let free = try json(["freecell", "--all"], hostRoot: nil)
        let cells = try #require(free["cells"] as? [[String: Any]])
        #expect(cells.compactMap { $0["cell"] as? Int } == (try sysfsNodes()))
        #expect(try #require(free["totalKiB"] as? Int) <= (try meminfo("MemTotal")))

        let pages = try json(["freepages", "--all"], hostRoot: nil)
        let first = try #require((pages["cells"] as? [[String: Any]])?.first?["pages"] as? [[String: Any]])
        let sizes = first.compactMap { $0["pageSizeKiB"] as? Int }
        let pools = try FileManager.default.contentsOfDirectory(atPath: "/sys/kernel/mm/hugepages")
            .compactMap { Int($0.dropFirst("hugepages-".count).dropLast("kB".count)) }
        #expect(Set(sizes) == Set([sysconf(Int32(_SC_PAGESIZE)) / 1024] + pools))

        let stats = try json(["nodememstats"], hostRoot: nil)
        #expect(stats["totalKiB"] as? Int == (try meminfo("MemTotal")))
        let text = try run(["nodememstats", "--cell", "0"], hostRoot: nil)
        #expect(text.stdout.hasPrefix("total  : "), "\(text)")
    }

    static let isRoot = geteuid() == 0
    static let node0Pool2M = "/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages"

    private func pool() throws -> Int {
        try #require(
            Int(
                try String(contentsOfFile: Self.node0Pool2M, encoding: .utf8).trimmingCharacters(
                    in: .whitespacesAndNewlines)))
    }

    /// Grows node 0's 2 MiB pool by 2 pages (one cell, then every cell), reads it back from sysfs, and sets it back.
    @Test(
        .enabled(
            if: isRoot && FileManager.default.fileExists(atPath: node0Pool2M),
            "needs root and a 2 MiB pool on node 0 (both exist on the project's test machine)"))
    func allocpagesRoundTrip() throws {
        // Every test that resizes a pool of this host takes this lock, so exact before/after counts hold.
        let lock = open("/tmp/swift-virt-tests-hugepages.lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard lock >= 0, flock(lock, LOCK_EX) == 0 else {
            Issue.record("cannot take /tmp/swift-virt-tests-hugepages.lock")
            return
        }
        defer { close(lock) }
        let before = try pool()
        defer {
            // Always give the pages back, whatever happened above.
            if (try? pool()) != before {
                let restored = try? run(["allocpages", "2M", "\(before)", "--cellno", "0"], hostRoot: nil)
                if restored?.status != 0 { Issue.record("could not restore node 0's 2 MiB pool to \(before)") }
            }
        }
        let grown = try json(["allocpages", "2M", "2", "--cellno", "0", "--add"], hostRoot: nil)
        let change = try #require((grown["pools"] as? [[String: Any]])?.first)
        #expect(change["cell"] as? Int == 0)
        #expect(change["pageSizeKiB"] as? Int == 2048)
        #expect(change["previousPages"] as? Int == before)
        #expect(change["pages"] as? Int == before + 2)
        #expect(try pool() == before + 2)
        let free = try run(["freepages", "0", "2M"], hostRoot: nil)
        #expect(try #require(Int(free.stdout.dropFirst("2048KiB: ".count).prefix { $0.isNumber })) >= 2)

        let set = try run(
            ["allocpages", "--pagesize", "2048", "--pagecount", "\(before)", "--cellno", "0"],
            hostRoot: nil)
        #expect(set == ProcessResult(stdout: "\n", stderr: "", status: 0))
        #expect(try pool() == before)

        let everyCell = try json(["allocpages", "2M", "1", "--all", "--add"], hostRoot: nil)
        #expect((everyCell["pools"] as? [[String: Any]])?.compactMap { $0["cell"] as? Int } == (try sysfsNodes()))
        #expect(try pool() == before + 1)
        #expect(try run(["allocpages", "2M", "\(before)", "--all"], hostRoot: nil).status == 0)
        #expect(try pool() == before)
    }
}
