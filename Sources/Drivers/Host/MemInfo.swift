import VirtBase

/// The fields of `/proc/meminfo` or of a node's `/sys/devices/system/node/nodeN/meminfo`, in file order.
///
/// Lines read `Key:   value kB` (or a bare count, as `HugePages_Total:  0`); node files prefix each line with
/// `Node N `, which is dropped. Values are kept as the file gives them (KiB for `kB` lines).
public struct MemInfo: Sendable, Equatable, Codable {
    /// One line: the key without its colon and the number.
    public struct Field: Sendable, Equatable, Codable {
        /// The key, e.g. `MemTotal`.
        public var key: String
        /// The value: KiB for lines ending in `kB`, else a count.
        public var value: UInt64
    }

    /// Every line, in file order.
    public var fields: [Field]

    /// Parses `text`, read from `path` (named in errors).
    public init(parsing text: String, path: String) throws(VirtError) {
        fields = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            var words = rawLine.split(separator: " ", omittingEmptySubsequences: true)
            if words.first == "Node" {
                guard words.count >= 2, UInt64(words[1]) != nil else {
                    throw Self.malformed(path, index, rawLine)
                }
                words.removeFirst(2)
            }
            guard words.count == 2 || (words.count == 3 && words[2] == "kB"),
                  words[0].count > 1, words[0].hasSuffix(":"),
                  let value = UInt64(words[1])
            else { throw Self.malformed(path, index, rawLine) }
            fields.append(Field(key: String(words[0].dropLast()), value: value))
        }
    }

    private static func malformed(_ path: String, _ index: Int, _ line: Substring) -> VirtError {
        VirtError(.internalError, .host,
                  "cannot parse '\(path)' line \(index + 1) '\(line)': expected 'Key: number kB'")
    }

    /// The value of `key`, nil when absent.
    public subscript(key: String) -> UInt64? {
        fields.first { $0.key == key }?.value
    }

    /// The value of `key`, or an error naming the file when the kernel did not write it.
    func require(_ key: String, path: String) throws(VirtError) -> UInt64 {
        guard let value = self[key] else {
            throw VirtError(.internalError, .host, "'\(path)' has no '\(key):' line")
        }
        return value
    }
}
