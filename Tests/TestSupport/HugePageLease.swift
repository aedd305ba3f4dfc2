import Foundation
import Glibc
import Testing

/// Grows this host's pool of one huge page size for a test and gives the pages back. Every test that resizes a
/// pool takes `/tmp/swift-virt-tests-hugepages.lock` for its whole run, so the counts it reads are its own and
/// the pool returns to exactly its earlier size.
public final class HugePageLease {
    public let sizeKiB: UInt64
    /// `nr_hugepages` before the test.
    public let before: Int
    /// The pages the kernel actually added (it may give fewer, e.g. no free 1 GiB of contiguous memory).
    public private(set) var granted = 0
    private let lock: Int32

    /// The host-wide pool's `nr_hugepages` for `sizeKiB`.
    public static func poolPath(_ sizeKiB: UInt64) -> String { "/sys/kernel/mm/hugepages/hugepages-\(sizeKiB)kB/nr_hugepages" }

    /// Whether this process may resize the pool (root, and the pool exists).
    public static func canResize(_ sizeKiB: UInt64) -> Bool {
        geteuid() == 0 && FileManager.default.isWritableFile(atPath: poolPath(sizeKiB))
    }

    public static func read(_ path: String) -> Int {
        Int((try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "")
            ?? 0
    }

    /// Free pages of `sizeKiB` host-wide.
    public static func free(_ sizeKiB: UInt64) -> Int {
        read("/sys/kernel/mm/hugepages/hugepages-\(sizeKiB)kB/free_hugepages")
    }

    /// Takes the lock and asks the kernel for `count` more pages of `sizeKiB` (0 only takes the lock).
    public init(sizeKiB: UInt64, adding count: Int) throws {
        self.sizeKiB = sizeKiB
        lock = open("/tmp/swift-virt-tests-hugepages.lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard lock >= 0, flock(lock, LOCK_EX) == 0 else {
            if lock >= 0 { close(lock) }
            throw CocoaError(.fileLocking)
        }
        before = Self.read(Self.poolPath(sizeKiB))
        if count > 0 {
            try? "\(before + count)\n".write(toFile: Self.poolPath(sizeKiB), atomically: false, encoding: .utf8)
            granted = Self.read(Self.poolPath(sizeKiB)) - before
        }
    }

    /// Puts the pool back to its size before the test (pages still mapped are retried for a while) and releases
    /// the lock; records an issue when it cannot.
    public func release() {
        var restored = Self.read(Self.poolPath(sizeKiB)) == before
        for _ in 0..<100 where !restored {
            try? "\(before)\n".write(toFile: Self.poolPath(sizeKiB), atomically: false, encoding: .utf8)
            restored = Self.read(Self.poolPath(sizeKiB)) == before
            if !restored { usleep(50_000) }
        }
        if !restored { Issue.record("the \(sizeKiB) KiB huge page pool is not back to \(before) pages") }
        close(lock)
    }
}
