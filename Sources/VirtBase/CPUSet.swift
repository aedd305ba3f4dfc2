/// A set of CPU (or NUMA node) numbers in libvirt's list syntax: `"0-3,^2,8-11"`.
///
/// Items are evaluated left to right: `N` and `N-M` add, `^N` removes, so `0-15,^8` is not `^8,0-15`.
/// The same type serves `<vcpu cpuset>`, `<vcpupin>`, `<emulatorpin>`, `nodeset` and the host probes.
public struct CPUSet: Sendable, Hashable, Codable, CustomStringConvertible, Sequence {
    /// The highest number a list may name, as libvirt's `VIR_DOMAIN_CPUMASK_LEN` (1024 × 8 bits).
    public static let defaultLimit = 8192

    private var words: [UInt64]

    /// The empty set.
    public init() { words = [] }

    /// A set holding exactly `members`; each must be in `0..<limit`.
    public init<S: Sequence>(_ members: S) where S.Element == Int {
        words = []
        for member in members { insert(member) }
    }

    /// Parses libvirt's list syntax. Throws `invalid argument: Failed to parse bitmap '...'` as libvirt does,
    /// followed by what was wrong.
    public init(parsing text: String, limit: Int = CPUSet.defaultLimit) throws(VirtError) {
        self.init()
        func fail(_ why: String) -> VirtError {
            VirtError(.invalidArgument, .domain, "Failed to parse bitmap '\(text)': \(why)")
        }
        let trimmed = text.trimmingSpaces
        guard !trimmed.isEmpty else { throw fail("the list is empty") }
        for rawItem in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            let item = Substring(String(rawItem).trimmingSpaces)
            guard !item.isEmpty else { throw fail("an item between commas is empty") }
            if item.first == "^" {
                guard let n = Self.number(item.dropFirst()) else { throw fail("'\(item)' is not '^' and a number") }
                guard n < limit else { throw fail("\(n) is beyond the limit of \(limit - 1)") }
                remove(n)
                continue
            }
            let bounds = item.split(separator: "-", omittingEmptySubsequences: false)
            switch bounds.count {
            case 1:
                guard let n = Self.number(bounds[0]) else { throw fail("'\(item)' is not a number") }
                guard n < limit else { throw fail("\(n) is beyond the limit of \(limit - 1)") }
                insert(n)
            case 2:
                guard let low = Self.number(bounds[0]), let high = Self.number(bounds[1]) else {
                    throw fail("'\(item)' is not a range of two numbers")
                }
                guard low <= high else { throw fail("the range '\(item)' runs backwards") }
                guard high < limit else { throw fail("\(high) is beyond the limit of \(limit - 1)") }
                for n in low...high { insert(n) }
            default:
                throw fail("'\(item)' is not a number or a range")
            }
        }
    }

    private static func number(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.count <= 7, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(text)
    }

    /// Adds `member` (non-negative).
    public mutating func insert(_ member: Int) {
        precondition(member >= 0, "CPU numbers are non-negative")
        let word = member / 64
        if word >= words.count { words.append(contentsOf: repeatElement(0, count: word - words.count + 1)) }
        words[word] |= 1 << UInt64(member % 64)
    }

    /// Removes `member` if present.
    public mutating func remove(_ member: Int) {
        let word = member / 64
        guard member >= 0, word < words.count else { return }
        words[word] &= ~(1 << UInt64(member % 64))
        while let last = words.last, last == 0 { words.removeLast() }
    }

    /// Whether `member` is in the set.
    public func contains(_ member: Int) -> Bool {
        let word = member / 64
        guard member >= 0, word < words.count else { return false }
        return words[word] & (1 << UInt64(member % 64)) != 0
    }

    /// How many members the set has.
    public var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }
    /// Whether the set has no members.
    public var isEmpty: Bool { words.allSatisfy { $0 == 0 } }
    /// The largest member, or nil when empty.
    public var max: Int? { members.last }
    /// The members in ascending order.
    public var members: [Int] {
        var result: [Int] = []
        for (index, word) in words.enumerated() where word != 0 {
            for bit in 0..<64 where word & (1 << UInt64(bit)) != 0 { result.append(index * 64 + bit) }
        }
        return result
    }

    public func makeIterator() -> IndexingIterator<[Int]> { members.makeIterator() }

    /// Members of both sets.
    public func intersection(_ other: CPUSet) -> CPUSet { CPUSet(members.filter { other.contains($0) }) }
    /// Members of either set.
    public func union(_ other: CPUSet) -> CPUSet { CPUSet(members + other.members) }
    /// Members of this set that `other` lacks.
    public func subtracting(_ other: CPUSet) -> CPUSet { CPUSet(members.filter { !other.contains($0) }) }
    /// Whether every member is also in `other`.
    public func isSubset(of other: CPUSet) -> Bool { members.allSatisfy { other.contains($0) } }

    /// libvirt's canonical list form: ascending ranges, `"0-3,8-11"`; empty for the empty set.
    public var description: String {
        var parts: [String] = []
        var runStart: Int?
        var previous = -2
        for member in members {
            if member != previous + 1 {
                if let start = runStart { parts.append(start == previous ? "\(start)" : "\(start)-\(previous)") }
                runStart = member
            }
            previous = member
        }
        if let start = runStart { parts.append(start == previous ? "\(start)" : "\(start)-\(previous)") }
        return parts.joined(separator: ",")
    }

    /// virsh's map form over `total` CPUs: `y` for a member, `-` otherwise (`vcpuinfo`, `nodecpumap`).
    public func map(total: Int) -> String {
        String((0..<Swift.max(total, 0)).map { contains($0) ? "y" : "-" })
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        if text.isEmpty {
            self.init()
        } else {
            self = try CPUSet(parsing: text)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs and newlines (no Foundation needed).
    public var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
