import Testing
import VirtBase

@testable import Security

/// MCS category pairs, ranges and the allocator.
@Suite("MCS categories")
struct MCSAllocatorTests {
    @Test func pairsParseAndOrder() throws {
        #expect(MCSCategoryPair(17, 3)?.description == "c3,c17")
        #expect(MCSCategoryPair(5, 5) == nil)
        #expect(MCSCategoryPair(parsing: "system_u:system_r:svirt_t:s0:c34,c44") == MCSCategoryPair(34, 44))
        #expect(MCSCategoryPair(parsing: "s0:c9,c2") == MCSCategoryPair(2, 9))
        #expect(MCSCategoryPair(parsing: "system_u:object_r:svirt_image_t:s0") == nil)
        #expect(MCSCategoryPair(parsing: "s0:c1,c1") == nil)
        #expect(MCSCategoryPair(parsing: "s0:c0.c1023") == nil)
    }

    @Test func rangesParseStrictly() throws {
        let range = try MCSCategoryRange(parsing: "c10.c20")
        #expect(range.count == 11)
        #expect(range.pairCount == 55)
        #expect(try MCSCategoryRange(parsing: "c0.c1023") == .default)
        for bad in ["c5.c5", "c9.c2", "c0.c1024", "0.1023", "c0-c1023", "c0.", ""] {
            #expect(throws: VirtError.self, "\(bad)") { try MCSCategoryRange(parsing: bad) }
        }
    }

    @Test func twoDomainsGetDifferentDistinctPairs() throws {
        let allocator = SELinuxLabelAllocator()
        let first = try allocator.allocate(excluding: [])
        let second = try allocator.allocate(excluding: [first])
        #expect(first != second)
        #expect(first.low != first.high && second.low != second.high)
        #expect(allocator.range.contains(first) && allocator.range.contains(second))
    }

    /// 1,000 start/stop cycles over a small range kept nearly full: no pair in use is ever handed out.
    @Test func thousandCyclesNeverHandOutAPairInUse() throws {
        let allocator = SELinuxLabelAllocator(range: try MCSCategoryRange(parsing: "c0.c15"))  // 120 pairs
        var running: [MCSCategoryPair] = []
        var reserved = Set<MCSCategoryPair>()
        var generator = SystemRandomNumberGenerator()
        for cycle in 0..<1000 {
            let pair = try allocator.allocate(excluding: reserved, using: &generator)
            #expect(!reserved.contains(pair), "cycle \(cycle) reused \(pair)")
            #expect(allocator.range.contains(pair))
            reserved.insert(pair)
            running.append(pair)
            // Keep 100 of 120 pairs busy, stopping a random domain each cycle once there.
            if running.count > 100 {
                let stopped = running.remove(at: Int.random(in: 0..<running.count, using: &generator))
                reserved.remove(stopped)
            }
        }
        #expect(reserved.count == running.count)
    }

    @Test func aFullRangeIsAClearErrorAndTheLastFreePairIsFound() throws {
        let allocator = SELinuxLabelAllocator(range: try MCSCategoryRange(parsing: "c0.c3"))  // 6 pairs
        var all = Set<MCSCategoryPair>()
        for low in 0..<4 { for high in (low + 1)..<4 { all.insert(MCSCategoryPair(low, high)!) } }
        let last = MCSCategoryPair(1, 3)!
        #expect(try allocator.allocate(excluding: all.subtracting([last])) == last)
        let error = #expect(throws: VirtError.self) { try allocator.allocate(excluding: all) }
        #expect(error?.message.contains("all 6 pairs of c0.c3 are reserved") == true)
        #expect(error?.message.contains("security_mcs_range") == true)
    }

    @Test func contextsParseWithColonsInTheRange() throws {
        let context = try SELinuxContext(parsing: "system_u:system_r:svirt_t:s0-s0:c0.c1023")
        #expect(context.user == "system_u" && context.role == "system_r" && context.type == "svirt_t")
        #expect(context.range == "s0-s0:c0.c1023")
        #expect(context.with(range: "s0:c1,c2").description == "system_u:system_r:svirt_t:s0:c1,c2")
        #expect(SELinuxSecurityDriver.sensitivity(of: "s0-s0:c0.c1023") == "s0")
        for bad in ["svirt_t", "a::b:s0", "a:b", "a b:r:t:s0"] {
            #expect(throws: VirtError.self, "\(bad)") { try SELinuxContext(parsing: bad) }
        }
    }
}
