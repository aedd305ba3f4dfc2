import VirtBase

/// Two distinct MCS categories, `cA,cB` with A < B: what makes one domain's label differ from another's.
///
/// A single category is never used: a one-category level would be dominated by every pair that contains it.
public struct MCSCategoryPair: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    /// The smaller category number.
    public let low: Int
    /// The larger category number.
    public let high: Int

    /// The pair of `first` and `second` in either order; nil when they are equal or negative.
    public init?(_ first: Int, _ second: Int) {
        guard first != second, first >= 0, second >= 0 else { return nil }
        low = min(first, second)
        high = max(first, second)
    }

    /// `c3,c17`.
    public var description: String { "c\(low),c\(high)" }

    /// The MCS level of a domain with this pair: `s0:c3,c17`.
    public var level: String { "s0:\(self)" }

    /// Parses the categories of an SELinux context or range (`system_u:system_r:svirt_t:s0:c3,c17`, `s0:c3,c17`,
    /// `c3,c17`); nil when it carries no pair of two single categories.
    public init?(parsing text: String) {
        let tail = text.split(separator: ":", omittingEmptySubsequences: false).last.map(String.init) ?? text
        let parts = tail.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == 2, let first = Self.category(parts[0]), let second = Self.category(parts[1]) else {
            return nil
        }
        self.init(first, second)
    }

    private static func category(_ text: Substring) -> Int? {
        guard text.first == "c", let number = Int(text.dropFirst()), number >= 0 else { return nil }
        return number
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.low, lhs.high) < (rhs.low, rhs.high)
    }
}

/// An inclusive range of MCS categories, `c0.c1023` in `kvm.conf`'s `security_mcs_range`.
public struct MCSCategoryRange: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The first category.
    public let lower: Int
    /// The last category (inclusive).
    public let upper: Int

    /// The largest category SELinux's default MCS policy defines (`c1023`).
    public static let policyMaximum = 1023
    /// libvirt's default range.
    public static let `default` = MCSCategoryRange(checkedLower: 0, upper: policyMaximum)

    private init(checkedLower: Int, upper: Int) {
        self.lower = checkedLower
        self.upper = upper
    }

    /// `c0.c1023`.
    public var description: String { "c\(lower).c\(upper)" }

    /// How many categories the range holds.
    public var count: Int { upper - lower + 1 }

    /// How many distinct pairs the range can hand out.
    public var pairCount: Int { count * (count - 1) / 2 }

    /// Whether both categories of `pair` lie in the range.
    public func contains(_ pair: MCSCategoryPair) -> Bool {
        pair.low >= lower && pair.high <= upper
    }

    /// Parses `cLOW.cHIGH`; the range must hold at least two categories and stay within c0...c1023.
    public init(parsing text: String) throws(VirtError) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        func category(_ part: Substring) -> Int? {
            guard part.first == "c", let number = Int(part.dropFirst()) else { return nil }
            return number
        }
        guard parts.count == 2, let lower = category(parts[0]), let upper = category(parts[1]) else {
            throw VirtError(
                .configUnsupported, .security,
                "MCS category range '\(text)' is not of the form cLOW.cHIGH (for example \"c0.c1023\")")
        }
        guard lower >= 0, upper <= Self.policyMaximum, lower < upper else {
            throw VirtError(
                .configUnsupported, .security,
                "MCS category range '\(text)' must hold at least two categories within c0.c\(Self.policyMaximum)")
        }
        self.init(checkedLower: lower, upper: upper)
    }
}
