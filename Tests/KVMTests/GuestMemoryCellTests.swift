import Foundation
import Glibc
import Host
import Testing
import VirtBase
import VirtTestSupport

@testable import KVM

/// Guest RAM made of NUMA cells: the guest-physical layout, one host mapping per cell with its own policy, page
/// size and sharing (read back from this process's `/proc/self/numa_maps` and `maps`), huge pages taken up front
/// and given back, and accesses across the border of two cells.
@Suite("guest memory: NUMA cells", .serialized)
struct GuestMemoryCellTests {
    static let mib: UInt64 = 1 << 20
    static let gib: UInt64 = 1 << 30

    /// The whole of a `/proc` file (read to end of file: `stat` says its size is 0).
    static func readProcFile(_ path: String) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? handle.close() }
        return String(decoding: (try? handle.readToEnd()) ?? Data(), as: UTF8.self)
    }

    /// The `numa_maps` line of the mapping that starts at `address` in process `pid`.
    static func numaMapsLine(_ address: UnsafeMutableRawPointer, pid: String = "self") -> String? {
        let start = UInt64(UInt(bitPattern: address))
        let text = Self.readProcFile("/proc/\(pid)/numa_maps")
        return text.split(separator: "\n").first { UInt64($0.split(separator: " ")[0], radix: 16) == start }
            .map(String.init)
    }

    /// The permissions (`rw-p`, `rw-s`) of the mapping that starts at `address` in this process.
    static func permissions(_ address: UnsafeMutableRawPointer) -> String? {
        let start = UInt64(UInt(bitPattern: address))
        let text = Self.readProcFile("/proc/self/maps")
        let line = text.split(separator: "\n").first {
            UInt64($0.split(separator: "-")[0], radix: 16) == start
        }
        return line.map { String($0.split(separator: " ")[1]) }
    }

    /// The permissions of the mapping that holds `address` in this process.
    static func permissions(containing address: UnsafeMutableRawPointer) -> String? {
        let target = UInt64(UInt(bitPattern: address))
        let text = Self.readProcFile("/proc/self/maps")
        let line = text.split(separator: "\n").first { line in
            let range = line.split(separator: " ")[0].split(separator: "-").compactMap { UInt64($0, radix: 16) }
            return range.count == 2 && target >= range[0] && target < range[1]
        }
        return line.map { String($0.split(separator: " ")[1]) }
    }

    static func anonymous(_ id: Int, _ size: UInt64, policy: GuestMemoryPolicy? = nil, shared: Bool = false)
        -> MemoryCellConfiguration
    {
        MemoryCellConfiguration(
            id: id, sizeBytes: size, backing: MemoryBackingConfiguration(shared: shared, mergeable: false),
            policy: policy)
    }

    static func huge(_ id: Int, _ size: UInt64, pageKiB: UInt64, policy: GuestMemoryPolicy? = nil)
        -> MemoryCellConfiguration
    {
        MemoryCellConfiguration(
            id: id, sizeBytes: size,
            backing: MemoryBackingConfiguration(source: .hugetlb, hugePageBytes: pageKiB << 10, mergeable: false),
            policy: policy)
    }

    @Test("layout: cells in order, each at a multiple of its page size; the 32-bit hole splits the cell across it")
    func layout() {
        let aligned = GuestMemory.layout([(512 * Self.mib, 4096), (Self.gib, Self.gib)])
        #expect(
            aligned == [
                .init(guestAddress: 0, size: 512 * Self.mib, hostOffset: 0, cell: 0),
                .init(guestAddress: Self.gib, size: Self.gib, hostOffset: Self.gib, cell: 1),
            ])
        let split = GuestMemory.layout([(2 * Self.gib, 4096), (2 * Self.gib, 2 * Self.mib)])
        #expect(
            split == [
                .init(guestAddress: 0, size: 2 * Self.gib, hostOffset: 0, cell: 0),
                .init(guestAddress: 2 * Self.gib, size: Self.gib, hostOffset: 2 * Self.gib, cell: 1),
                .init(guestAddress: 4 * Self.gib, size: Self.gib, hostOffset: 3 * Self.gib, cell: 1),
            ])
        let atTheHole = GuestMemory.layout([(3 * Self.gib, 4096), (Self.gib, 4096)])
        #expect(
            atTheHole == [
                .init(guestAddress: 0, size: 3 * Self.gib, hostOffset: 0, cell: 0),
                .init(guestAddress: 4 * Self.gib, size: Self.gib, hostOffset: 3 * Self.gib, cell: 1),
            ])
        // Cells side by side are one range of RAM in the guest's e820 map.
        let map = E820Entry.map(for: GuestMemory.layout([(16 * Self.mib, 4096), (8 * Self.mib, 4096)]))
        #expect(map.map(\.type) == [1, 2, 1])
        #expect(map[2].address == 0x100000 && map[2].address + map[2].size == 24 * Self.mib)
    }

    @Test("one mapping per cell with its own policy and sharing; accesses may cross from one cell to the next")
    func cellsHaveTheirOwnMappings() throws {
        let memory = try GuestMemory(
            cells: [
                Self.anonymous(0, 8 * Self.mib, policy: GuestMemoryPolicy(mode: .bind, nodes: CPUSet([0]))),
                Self.anonymous(
                    1, 4 * Self.mib, policy: GuestMemoryPolicy(mode: .interleave, nodes: CPUSet([0])),
                    shared: true),
                Self.anonymous(2, 4 * Self.mib),
            ], name: "cells")
        #expect(memory.size == 16 * Self.mib && memory.lowMemoryEnd == 16 * Self.mib)
        defer { withExtendedLifetime(memory) {} }
        let ranges = try (0..<3).map { try #require(memory.hostRange(ofCell: $0)) }
        #expect(ranges.map(\.length) == [8, 4, 4].map { Int($0 * Self.mib) })
        #expect(ranges[1].start == ranges[0].start + Int(8 * Self.mib), "cells touch in the host range too")
        // Touch a page of each so numa_maps has something to show.
        for cell in 0..<3 { ranges[cell].start.storeBytes(of: UInt8(1), as: UInt8.self) }
        let lines = ranges.map { Self.numaMapsLine($0.start) }
        print("numa_maps of three cells:\n" + lines.map { $0 ?? "missing" }.joined(separator: "\n"))
        #expect(lines[0]?.split(separator: " ")[1] == "bind:0", "\(lines[0] ?? "nil")")
        #expect(lines[1]?.split(separator: " ")[1] == "interleave:0", "\(lines[1] ?? "nil")")
        #expect(lines[2]?.split(separator: " ")[1] == "default", "\(lines[2] ?? "nil")")
        #expect(lines.allSatisfy { $0?.contains("kernelpagesize_kB=4") == true })
        #expect(Self.permissions(ranges[0].start) == "rw-p" && Self.permissions(ranges[1].start) == "rw-s")
        // An inaccessible guard page on each side: guest RAM never merges with its neighbours.
        #expect(Self.permissions(containing: ranges[0].start - 1) == "---p")
        #expect(Self.permissions(containing: ranges[2].start + ranges[2].length) == "---p")

        // Eight bytes on each side of the border of cells 0 and 1.
        let border = 8 * Self.mib
        try memory.write(Array(0..<16), at: border - 8, what: "test bytes")
        #expect(memory.load(UInt64.self, at: border) == UInt64(littleEndian: 0x0f0e_0d0c_0b0a_0908))
        #expect(ranges[1].start.load(as: UInt8.self) == 8)
        #expect(memory.pointer(16 * Self.mib - 4, length: 8) == nil, "the end of RAM stays the end")
    }

    @Test("allocation up front is spread over threads: <allocation threads>, else one per usable CPU, one per page")
    func populationThreads() throws {
        #expect(GuestMemory.populationThreads(pages: 100, asked: 3) == 3)
        #expect(GuestMemory.populationThreads(pages: 2, asked: 3) == 2)
        #expect(GuestMemory.populationThreads(pages: 1, asked: nil) == 1)
        let cpus = try ThreadAffinity.get().count
        #expect(GuestMemory.populationThreads(pages: 512, asked: nil) == min(cpus, GuestMemory.maxPopulationThreads))
        // Ordinary memory with <allocation mode='immediate' threads='3'>: every page is there before use.
        let memory = try GuestMemory(
            cells: [
                MemoryCellConfiguration(
                    id: nil, sizeBytes: 6 * Self.mib,
                    backing: MemoryBackingConfiguration(mergeable: false, preallocate: true, allocationThreads: 3))
            ], name: "prealloc")
        let line = Self.numaMapsLine(try #require(memory.hostRange(ofCell: 0)).start)
        withExtendedLifetime(memory) {}
        #expect(line?.contains("anon=1536") == true, "all 1536 pages of 4 KiB faulted in: \(line ?? "nil")")
    }

    @Test("a cell whose size is not a whole number of its pages is refused with the remedy")
    func wholePages() {
        #expect(throws: VirtError.self) {
            try GuestMemory(
                cells: [Self.anonymous(0, 4 * Self.mib), Self.huge(1, 3 * Self.mib, pageKiB: 2048)],
                name: "odd")
        }
    }

    @Test(
        "2 MiB pages: taken from the pool up front, bound to node 0, given back when the memory goes",
        .enabled(if: HugePageLease.canResize(2048), "needs root and a 2 MiB huge page pool"))
    func hugePagesUpFront() throws {
        let lease = try HugePageLease(sizeKiB: 2048, adding: 4)
        defer { lease.release() }
        try #require(lease.granted == 4, "the kernel gave \(lease.granted) of 4 pages of 2 MiB")
        let freeBefore = HugePageLease.free(2048)
        do {
            let memory = try GuestMemory(
                cells: [
                    Self.anonymous(0, 4 * Self.mib),
                    Self.huge(
                        1, 4 * Self.mib, pageKiB: 2048, policy: GuestMemoryPolicy(mode: .bind, nodes: CPUSet([0]))),
                ], name: "huge")
            try withExtendedLifetime(memory) {
                // Nothing touched the huge page cell: it was populated while being built.
                #expect(HugePageLease.free(2048) == freeBefore - 2)
                try #require(memory.hostRange(ofCell: 0)).start.storeBytes(of: UInt8(1), as: UInt8.self)
                let small = Self.numaMapsLine(try #require(memory.hostRange(ofCell: 0)).start)
                let large = Self.numaMapsLine(try #require(memory.hostRange(ofCell: 1)).start)
                print("numa_maps:\n\(small ?? "missing")\n\(large ?? "missing")")
                #expect(large?.split(separator: " ")[1] == "bind:0", "\(large ?? "nil")")
                #expect(large?.contains("huge") == true && large?.contains("kernelpagesize_kB=2048") == true)
                #expect(large?.contains("N0=2") == true, "both pages on node 0: \(large ?? "nil")")
                #expect(small?.contains("kernelpagesize_kB=4") == true, "\(small ?? "nil")")
            }
        }
        #expect(HugePageLease.free(2048) == freeBefore, "the pages went back to the pool")
    }

    @Test(
        "huge pages the pool does not have: the mapping fails and names the page size and the remedy",
        .enabled(if: HugePageLease.canResize(2048), "needs root and a 2 MiB huge page pool"))
    func hugePageShortage() throws {
        let lease = try HugePageLease(sizeKiB: 2048, adding: 0)
        defer { lease.release() }
        let pages = UInt64(HugePageLease.free(2048) + 1)
        do {
            _ = try GuestMemory(cells: [Self.huge(0, pages * 2 * Self.mib, pageKiB: 2048)], name: "short")
            Issue.record("mapping \(pages) pages succeeded with \(pages - 1) free")
        } catch let error as VirtError {
            print("shortage: \(error.message)")
            #expect(error.message.contains("guest NUMA cell 0 of 'short'"))
            #expect(
                error.message.contains("it needs \(pages) free 2048 KiB huge pages; free now: ")
                    && error.message.contains("virtsh allocpages 2048"))
        }
    }

    @Test(
        "1 GiB pages when the host can allocate one (it needs 1 GiB of contiguous free memory)",
        .enabled(if: HugePageLease.canResize(1_048_576), "needs root and a 1 GiB huge page pool"))
    func gigabytePages() throws {
        let lease = try HugePageLease(sizeKiB: 1_048_576, adding: 1)
        defer { lease.release() }
        guard lease.granted == 1 else {
            print("SKIPPED gigabytePages: the kernel could not allocate a 1 GiB page (no contiguous free GiB)")
            return
        }
        let freeBefore = HugePageLease.free(1_048_576)
        do {
            let memory = try GuestMemory(
                cells: [Self.anonymous(0, 64 * Self.mib), Self.huge(1, Self.gib, pageKiB: 1_048_576)], name: "gig")
            try withExtendedLifetime(memory) {
                let range = try #require(memory.hostRange(ofCell: 1))
                #expect(Int(bitPattern: range.start) % Int(Self.gib) == 0, "1 GiB pages need 1 GiB aligned addresses")
                #expect(
                    memory.regions.last == .init(guestAddress: Self.gib, size: Self.gib, hostOffset: Self.gib, cell: 1))
                #expect(HugePageLease.free(1_048_576) == freeBefore - 1)
                let line = Self.numaMapsLine(range.start)
                print("numa_maps of the 1 GiB cell: \(line ?? "missing")")
                #expect(line?.contains("kernelpagesize_kB=1048576") == true, "\(line ?? "nil")")
            }
        }
        #expect(HugePageLease.free(1_048_576) == freeBefore)
    }
}

/// A guest whose RAM is made of cells boots and sees one RAM range (its e820/PVH map merges them).
@Suite("guest memory: a guest on NUMA cells")
struct GuestOnCellsTests {
    // Needs /dev/kvm and gcc.
    @Test(
        "the hello guest boots from RAM of three cells: private, shared, private (one memory slot each)",
        .enabled(if: TestEnvironment.canRunGuests))
    func helloOnThreeCells() throws {
        let directory = TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let console = directory.appendingPathComponent("out.txt")
        var config = GuestRunner.configuration("hello", cmdline: "greeting=shapes", console: console, memoryMiB: 32)
        config.memoryCells = [
            GuestMemoryCellTests.anonymous(0, 3 << 19),  // 1.5 MiB: the kernel at 1 MiB may cross into cell 1
            GuestMemoryCellTests.anonymous(1, (16 << 20) - (3 << 19), shared: true),
            GuestMemoryCellTests.anonymous(2, 16 << 20),
        ]
        let (exit, vm) = try MachineShapeTests.runHello(config)
        #expect(exit == .poweroff(code: 0))
        #expect(try String(contentsOf: console, encoding: .utf8) == MachineShapeTests.helloOutput)
        #expect(vm.memory.regions.count == 3)
    }

    @Test("cells that do not add up to the memory size are refused", .enabled(if: TestEnvironment.hasKVM))
    func cellsMustAddUp() {
        var config = GuestRunner.configuration("hello", cmdline: "", console: URL(fileURLWithPath: "/dev/null"))
        config.memoryCells = [GuestMemoryCellTests.anonymous(0, 16 << 20)]
        #expect(throws: VirtError.self) { try VirtualMachine(configuration: config) }
    }
}
