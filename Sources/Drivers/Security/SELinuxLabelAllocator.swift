import VirtBase

/// Hands out MCS category pairs for dynamic SELinux labels, as libvirt's `MCSFind` does: two distinct random
/// categories from the configured range, never a pair that is already reserved.
///
/// The allocator keeps no state: the caller passes the set of pairs its store holds for running domains and
/// records the new pair in the same transaction, so two starts racing through different processes cannot
/// both take one pair (the store's uniqueness decides, and the loser allocates again).
public struct SELinuxLabelAllocator: Sendable, Equatable {
    /// The categories pairs are drawn from.
    public let range: MCSCategoryRange

    /// Random draws tried before falling back to a scan of the free pairs (when the range is nearly full).
    static let randomAttempts = 64

    /// An allocator over `range`.
    public init(range: MCSCategoryRange = .default) {
        self.range = range
    }

    /// A pair from the range that is not in `reserved`.
    public func allocate(excluding reserved: Set<MCSCategoryPair>) throws(VirtError) -> MCSCategoryPair {
        var generator = SystemRandomNumberGenerator()
        return try allocate(excluding: reserved, using: &generator)
    }

    /// A pair from the range that is not in `reserved`, drawn with `generator`.
    public func allocate<G: RandomNumberGenerator>(
        excluding reserved: Set<MCSCategoryPair>, using generator: inout G
    ) throws(VirtError) -> MCSCategoryPair {
        let taken = reserved.filter { range.contains($0) }.count
        guard taken < range.pairCount else {
            throw VirtError(
                .operationFailed, .security,
                "no free MCS category pair: all \(range.pairCount) pairs of \(range) are reserved by running "
                    + "domains; widen security_mcs_range in kvm.conf")
        }
        for _ in 0..<Self.randomAttempts {
            let first = Int.random(in: range.lower...range.upper, using: &generator)
            let second = Int.random(in: range.lower...range.upper, using: &generator)
            // Equal categories would make a single-category level, which every pair containing it dominates.
            guard let pair = MCSCategoryPair(first, second), !reserved.contains(pair) else { continue }
            return pair
        }
        // Nearly full: pick uniformly among the free pairs, so a dense table still terminates.
        let freeIndex = Int.random(in: 0..<(range.pairCount - taken), using: &generator)
        var seen = 0
        for low in range.lower..<range.upper {
            for high in (low + 1)...range.upper {
                guard let pair = MCSCategoryPair(low, high), !reserved.contains(pair) else { continue }
                if seen == freeIndex { return pair }
                seen += 1
            }
        }
        throw VirtError.internal(
            "MCS allocator found no free pair although \(taken) of \(range.pairCount) are taken",
            .security)
    }
}
