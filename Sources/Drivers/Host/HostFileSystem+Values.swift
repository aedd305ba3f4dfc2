import Glibc
import VirtBase

/// Typed reads of single-value sysfs attributes; every error names the file and what was wrong with it.
extension HostFileSystem {
    /// A non-negative decimal number on one line (`nr_hugepages`, `core_id`).
    func readNumber(_ path: String) throws(VirtError) -> UInt64 {
        let text = try read(path).trimmingSpaces
        guard let value = UInt64(text) else {
            throw VirtError(.internalError, .host, "cannot parse '\(resolve(path))': '\(text)' is not a number")
        }
        return value
    }

    /// A decimal number that may be negative (`physical_package_id` is `-1` where firmware gives no socket).
    func readSignedNumber(_ path: String) throws(VirtError) -> Int {
        let text = try read(path).trimmingSpaces
        guard let value = Int(text) else {
            throw VirtError(.internalError, .host, "cannot parse '\(resolve(path))': '\(text)' is not a number")
        }
        return value
    }

    /// A CPU or node list (`0-3,8-11`); an empty file is the empty set (a node without CPUs).
    func readList(_ path: String) throws(VirtError) -> CPUSet {
        let text = try read(path).trimmingSpaces
        if text.isEmpty { return CPUSet() }
        do {
            return try CPUSet(parsing: text)
        } catch {
            throw VirtError(.internalError, .host, "cannot parse '\(resolve(path))': \(error.message)")
        }
    }

    /// A list that may be absent (nil then).
    func readListIfPresent(_ path: String) throws(VirtError) -> CPUSet? {
        guard exists(path) else { return nil }
        return try readList(path)
    }

    /// A meminfo-style file.
    func readMemInfo(_ path: String) throws(VirtError) -> MemInfo {
        try MemInfo(parsing: try read(path), path: resolve(path))
    }

    /// The numeric suffixes of the entries of `directory` named `prefix` + number (`node0`, `cpu12`), ascending.
    func numberedEntries(_ directory: String, prefix: String) throws(VirtError) -> [Int] {
        guard let names = try list(directory) else { return [] }
        return names.compactMap { name -> Int? in
            guard name.hasPrefix(prefix) else { return nil }
            let digits = name.dropFirst(prefix.count)
            guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            return Int(digits)
        }.sorted()
    }
}
