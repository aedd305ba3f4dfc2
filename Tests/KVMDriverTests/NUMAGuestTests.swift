import Foundation
import Glibc
import KVMDriver
import Testing
import VirtBase
import VirtCore
import VirtTestSupport

/// Guest NUMA cells, memnode, huge pages and automatic placement on a running ticks guest, read back from the
/// kernel through `/proc` of its hypervisor process (this host has one node: node 0). Needs /dev/kvm and gcc;
/// the huge page tests also need root, and take the shared pool lock for their whole run.
@Suite(
    "kvm:// driver: NUMA cells, huge pages and automatic placement on a running guest", .serialized,
    .enabled(if: TickGuest.available))
struct NUMAGuestTests {
    static func document(_ name: String, memoryMiB: UInt64, vcpu: String = "<vcpu>2</vcpu>", _ tuning: String)
        -> String
    {
        """
        <domain type='kvm'>
          <name>\(name)</name>
          <memory unit='MiB'>\(memoryMiB)</memory>
          \(vcpu)
          \(tuning)
          <os><type>hvm</type><kernel>\(TickGuest.image.path ?? "")</kernel><cmdline>delay=300000</cmdline></os>
          <devices><serial type='file'><source path='/dev/null'/><target port='0'/></serial></devices>
        </domain>
        """
    }

    /// The `numa_maps` lines of the hypervisor's mappings of exactly `bytes` (cells are told apart by size).
    static func numaMapsLines(_ pid: Int32, size bytes: UInt64) throws -> [String] {
        let maps = try Self.readProcFile("/proc/\(pid)/maps").split(separator: "\n")
        let starts = Set(
            maps.compactMap { line -> UInt64? in
                let range = line.split(separator: " ").first?.split(separator: "-") ?? []
                guard range.count == 2, let start = UInt64(range[0], radix: 16), let end = UInt64(range[1], radix: 16),
                    end - start == bytes
                else { return nil }
                return start
            })
        let numa = try Self.readProcFile("/proc/\(pid)/numa_maps").split(separator: "\n")
        return numa.filter { starts.contains(UInt64($0.split(separator: " ")[0], radix: 16) ?? 0) }.map(String.init)
    }

    /// The `numa_maps` line of the memfd of guest cell `cell` of domain `name` (a shared or memfd cell).
    static func cellLine(_ pid: Int32, domain name: String, cell: Int) throws -> String? {
        let numa = try Self.readProcFile("/proc/\(pid)/numa_maps").split(separator: "\n")
        return numa.first { $0.contains("/memfd:guest-ram-\(name)-cell\(cell)\\040") }.map(String.init)
    }

    /// The whole of a `/proc` file, whose size `stat` reports as 0 (read until end of file).
    static func readProcFile(_ path: String) throws -> String {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        return String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
    }

    /// The policy word (second field) of a `numa_maps` line.
    static func policy(_ line: String?) -> String? { line?.split(separator: " ").dropFirst().first.map(String.init) }

    @Test("two cells with their own memnode: each cell's mapping carries its own policy")
    func cellsWithMemnodes() throws {
        let root = try EmbedRoot()
        defer { root.remove() }
        let connection = try Connection.open(root.uri, factories: [KVMDriverFactory()])
        let uuid = try connection.defineXML(
            Self.document(
                "cells", memoryMiB: 32,
                """
                <cpu><numa><cell id='0' cpus='0' memory='12' unit='MiB'/><cell id='1' cpus='1' memory='20' unit='MiB'/></numa>
                </cpu>
                <numatune><memory mode='strict' nodeset='0'/><memnode cellid='1' mode='interleave' nodeset='0'/></numatune>
                """)
        ).domain.uuid
        try connection.start(uuid)
        defer { try? connection.destroy(uuid) }
        let pid = try PlacementGuestTests.hypervisorPID(root, "cells")
        let cell0 = try Self.numaMapsLines(pid, size: 12 << 20)
        let cell1 = try Self.numaMapsLines(pid, size: 20 << 20)
        print("numa_maps of the two cells:\n\((cell0 + cell1).joined(separator: "\n"))")
        #expect(cell0.map(Self.policy) == ["bind:0"], "\(cell0)")
        #expect(cell1.map(Self.policy) == ["interleave:0"], "\(cell1)")
        try connection.destroy(uuid)
    }

    @Test(
        "2 MiB shared pages for cell 1 (page nodeset), locked: the pool drops while it runs, is whole after destroy",
        .enabled(if: HugePageLease.canResize(2048), "needs root and a 2 MiB huge page pool"))
    func hugePagesForOneCell() throws {
        let lease = try HugePageLease(sizeKiB: 2048, adding: 1)
        defer { lease.release() }
        try #require(lease.granted == 1, "the kernel gave \(lease.granted) of 1 page of 2 MiB")
        let root = try EmbedRoot()
        defer { root.remove() }
        let connection = try Connection.open(root.uri, factories: [KVMDriverFactory()])
        let uuid = try connection.defineXML(
            Self.document(
                "huge", memoryMiB: 8,
                """
                <cpu><numa><cell id='0' cpus='0' memory='6' unit='MiB'/>
                <cell id='1' cpus='1' memory='2' unit='MiB' memAccess='shared'/></numa></cpu>
                <memoryBacking><hugepages><page size='2' unit='M' nodeset='1'/></hugepages><locked/></memoryBacking>
                <numatune><memnode cellid='1' mode='strict' nodeset='0'/></numatune>
                """)
        ).domain.uuid
        let freeBefore = HugePageLease.free(2048)
        try connection.start(uuid)
        defer { try? connection.destroy(uuid) }
        #expect(HugePageLease.free(2048) == freeBefore - 1, "the page was taken at start, before the guest touched it")
        let pid = try PlacementGuestTests.hypervisorPID(root, "huge")
        let huge = try Self.cellLine(pid, domain: "huge", cell: 1)
        let small = try Self.numaMapsLines(pid, size: 6 << 20)
        print("numa_maps:\n\(small.joined(separator: "\n"))\n\(huge ?? "missing")")
        #expect(Self.policy(huge) == "bind:0", "\(huge ?? "nil")")
        #expect(huge?.contains(" huge ") == true && huge?.contains("kernelpagesize_kB=2048") == true)
        #expect(huge?.contains("N0=1") == true, "\(huge ?? "nil")")
        #expect(small.count == 1 && small[0].contains("kernelpagesize_kB=4"), "\(small)")
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let locked =
            status.split(separator: "\n").first { $0.hasPrefix("VmLck:") }
            .flatMap { UInt64($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
        // Huge pages are never swapped and not counted as locked: VmLck holds the 6 MiB of ordinary pages.
        #expect(locked >= 6 * 1024, "VmLck \(locked) kB covers cell 0's 6 MiB")
        try connection.destroy(uuid)
        #expect(eventually(within: 3) { HugePageLease.free(2048) == freeBefore }, "the pages went back to the pool")
    }

    @Test(
        "a start without the free huge pages fails before the guest runs, naming node, size, needed and free",
        .enabled(if: HugePageLease.canResize(2048), "needs root and a 2 MiB huge page pool"))
    func hugePageShortage() throws {
        let lease = try HugePageLease(sizeKiB: 2048, adding: 2)
        defer { lease.release() }
        let free = HugePageLease.free(2048)
        let root = try EmbedRoot()
        defer { root.remove() }
        let connection = try Connection.open(root.uri, factories: [KVMDriverFactory()])
        let uuid = try connection.defineXML(
            Self.document(
                "short", memoryMiB: 16,
                """
                <memoryBacking><hugepages/></memoryBacking><numatune><memory mode='strict' nodeset='0'/></numatune>
                """)
        ).domain.uuid
        let error = PlacementGuestTests.startError(connection, uuid)
        print("start without enough huge pages: \(error)")
        #expect(
            error == "operation failed: cannot start domain 'short': guest RAM needs 8 free 2048 KiB huge pages "
                + "on host NUMA node 0, but only \(free) are free; add pages with 'virtsh allocpages 2048 \(8 - free) "
                + "--cellno 0 --add'")
        #expect(try connection.summary(uuid).state.state == .shutoff)
        #expect(!FileManager.default.fileExists(atPath: root.path + "/run/short.pid"))
        #expect(HugePageLease.free(2048) == free)
    }

    @Test(
        "1 GiB pages when this host can allocate one: the cell's numa_maps line shows 1048576 KiB pages",
        .enabled(if: HugePageLease.canResize(1_048_576), "needs root and a 1 GiB huge page pool"))
    func gigabytePage() throws {
        let lease = try HugePageLease(sizeKiB: 1_048_576, adding: 1)
        defer { lease.release() }
        guard lease.granted == 1 else {
            print("SKIPPED gigabytePage: the kernel could not allocate a 1 GiB page (no contiguous free GiB)")
            return
        }
        let root = try EmbedRoot()
        defer { root.remove() }
        let connection = try Connection.open(root.uri, factories: [KVMDriverFactory()])
        let uuid = try connection.defineXML(
            Self.document(
                "gig", memoryMiB: 1024,
                """
                <cpu><numa><cell id='0' cpus='0-1' memory='1' unit='GiB'/></numa></cpu>
                <memoryBacking><hugepages><page size='1' unit='G'/></hugepages></memoryBacking>
                <numatune><memory mode='strict' nodeset='0'/></numatune>
                """)
        ).domain.uuid
        try connection.start(uuid)
        defer { try? connection.destroy(uuid) }
        #expect(HugePageLease.free(1_048_576) == 0)
        let lines = try Self.numaMapsLines(try PlacementGuestTests.hypervisorPID(root, "gig"), size: 1 << 30)
        print("numa_maps of the 1 GiB cell: \(lines)")
        #expect(lines.count == 1)
        let line = lines.first
        #expect(Self.policy(line) == "bind:0" && line?.contains("kernelpagesize_kB=1048576") == true, "\(line ?? "")")
        try connection.destroy(uuid)
        #expect(eventually(within: 3) { HugePageLease.free(1_048_576) == 1 })
    }

    @Test("<vcpu placement='auto'>: node 0 chosen, vCPUs and emulator on its CPUs, RAM bound, nodeset in the live XML")
    func automaticPlacement() throws {
        let root = try EmbedRoot()
        defer { root.remove() }
        let connection = try Connection.open(root.uri, factories: [KVMDriverFactory()])
        let uuid = try connection.defineXML(
            Self.document("auto", memoryMiB: 16, vcpu: "<vcpu placement='auto'>2</vcpu>", "")
        ).domain.uuid
        try connection.start(uuid)
        defer { try? connection.destroy(uuid) }
        let live = try connection.domainXML(uuid)
        #expect(live.contains("<vcpu placement='auto'>2</vcpu>"), "\(live)")
        #expect(live.contains("<memory mode='strict' placement='auto' nodeset='0'/>"), "\(live)")
        #expect(try connection.domainXML(uuid, inactive: true).contains("<memory mode='strict' placement='auto'/>"))
        let nodeCPUs = try String(contentsOfFile: "/sys/devices/system/node/node0/cpulist", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let pid = try PlacementGuestTests.hypervisorPID(root, "auto")
        let threads = try PlacementGuestTests.threadCPUs(pid)
        print("threads with placement='auto': \(threads)")
        #expect(threads.count >= 3 && threads.allSatisfy { $0.cpus == nodeCPUs }, "\(threads) vs \(nodeCPUs)")
        let ram = try Self.numaMapsLines(pid, size: 16 << 20)
        #expect(ram.map(Self.policy) == ["bind:0"], "\(ram)")
        try connection.destroy(uuid)
    }

    @Test("<memoryBacking> nosharepages, locked and access shared on the running hypervisor's RAM mapping")
    func backingFlags() throws {
        let root = try EmbedRoot()
        defer { root.remove() }
        let connection = try Connection.open(root.uri, factories: [KVMDriverFactory()])
        func smaps(_ name: String, _ backing: String) throws -> (
            flags: String, perms: String, locked: UInt64, memlock: String
        ) {
            let uuid = try connection.defineXML(Self.document(name, memoryMiB: 8, backing)).domain.uuid
            try connection.start(uuid)
            defer { try? connection.destroy(uuid) }
            let pid = try PlacementGuestTests.hypervisorPID(root, name)
            let text = try Self.readProcFile("/proc/\(pid)/smaps")
            let limits = try Self.readProcFile("/proc/\(pid)/limits").split(separator: "\n")
            let memlock = limits.first { $0.hasPrefix("Max locked memory") }?.split(separator: " ").dropFirst(3).first
            let lockLimit = String(memlock ?? "")
            // smaps: a header line "start-end perms ...", then fields, VmFlags last.
            var result: (String, String, UInt64, String)?
            var current: (size: UInt64, perms: String, locked: UInt64)?
            for line in text.split(separator: "\n") {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                if let range = fields.first?.split(separator: "-"), range.count == 2,
                    let start = UInt64(range[0], radix: 16), let end = UInt64(range[1], radix: 16)
                {
                    current = (end - start, String(fields[1]), 0)
                } else if line.hasPrefix("Locked:"), let kb = UInt64(fields[1]) {
                    current?.locked = kb
                } else if line.hasPrefix("VmFlags:"), let mapping = current, mapping.size == 8 << 20 {
                    result = (fields.dropFirst().joined(separator: " "), mapping.perms, mapping.locked, lockLimit)
                }
            }
            try connection.destroy(uuid)
            return try #require(result, "no 8 MiB mapping in smaps of \(name)")
        }
        let plain = try smaps("plain", "")
        let tuned = try smaps(
            "tuned", "<memoryBacking><nosharepages/><locked/><access mode='shared'/></memoryBacking>")
        print("VmFlags plain: \(plain.flags); tuned: \(tuned.flags)")
        #expect(plain.perms == "rw-p" && tuned.perms == "rw-s")
        if FileManager.default.fileExists(atPath: "/sys/kernel/mm/ksm") {
            #expect(plain.flags.split(separator: " ").contains("mg"), "mergeable by default: \(plain.flags)")
        }
        #expect(!tuned.flags.split(separator: " ").contains("mg"), "nosharepages: \(tuned.flags)")
        #expect(tuned.locked == 8 * 1024 && plain.locked == 0)
        // The supervisor lifts the memlock limit for the locked guest where it may (CAP_SYS_RESOURCE).
        let status = try Self.readProcFile("/proc/self/status").split(separator: "\n")
        let capabilities =
            status.first { $0.hasPrefix("CapEff:") }.flatMap {
                UInt64($0.dropFirst(7).trimmingCharacters(in: .whitespaces), radix: 16)
            } ?? 0
        let sysResource: UInt64 = 1 << 24  // CAP_SYS_RESOURCE, <linux/capability.h>
        let own = try Self.readProcFile("/proc/self/limits").split(separator: "\n")
            .first { $0.hasPrefix("Max locked memory") }?.split(separator: " ").dropFirst(3).first.map(String.init)
        #expect(plain.memlock == own)
        #expect(tuned.memlock == (capabilities & sysResource != 0 ? "unlimited" : own), "\(tuned.memlock)")
    }
}
