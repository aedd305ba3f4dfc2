import Synchronization

/// Counters a running VM keeps: exits by reason, unknown device accesses, and per-vCPU CPU time.
public struct VMStatistics: Codable, Sendable, Equatable {
    /// KVM exits by reason name (`io`, `mmio`, `hlt`, `shutdown`, `system-event`, `fail-entry`,
    /// `internal-error`, `intr`, `other`), summed over all vCPUs.
    public var exitsByReason: [String: UInt64]
    /// CPU time each vCPU thread has used, in nanoseconds, by vCPU index.
    public var vcpuCPUTimeNs: [UInt64]
    /// Port reads and writes no device claimed (ignored).
    public var unknownPortAccesses: UInt64
    /// MMIO reads and writes no device claimed (ignored).
    public var unknownMMIOAccesses: UInt64

    /// Builds a statistics value.
    public init(
        exitsByReason: [String: UInt64] = [:], vcpuCPUTimeNs: [UInt64] = [], unknownPortAccesses: UInt64 = 0,
        unknownMMIOAccesses: UInt64 = 0
    ) {
        self.exitsByReason = exitsByReason
        self.vcpuCPUTimeNs = vcpuCPUTimeNs
        self.unknownPortAccesses = unknownPortAccesses
        self.unknownMMIOAccesses = unknownMMIOAccesses
    }
}

/// Exit reasons the statistics distinguish.
enum ExitReason: Int, CaseIterable {
    case io, mmio, hlt, shutdown, systemEvent, failEntry, internalError, intr, other

    /// The name used in `VMStatistics.exitsByReason`.
    var name: String {
        switch self {
        case .io: "io"
        case .mmio: "mmio"
        case .hlt: "hlt"
        case .shutdown: "shutdown"
        case .systemEvent: "system-event"
        case .failEntry: "fail-entry"
        case .internalError: "internal-error"
        case .intr: "intr"
        case .other: "other"
        }
    }
}

/// Lock-free counters updated by vCPU threads and read by `statistics()`.
final class ExitCounters: Sendable {
    private let io = Atomic<UInt64>(0)
    private let mmio = Atomic<UInt64>(0)
    private let rare = Mutex<[Int: UInt64]>([:])
    let unknownPorts = Atomic<UInt64>(0)
    let unknownMMIO = Atomic<UInt64>(0)

    /// Counts one exit.
    func count(_ reason: ExitReason) {
        switch reason {
        case .io: io.add(1, ordering: .relaxed)
        case .mmio: mmio.add(1, ordering: .relaxed)
        default: rare.withLock { $0[reason.rawValue, default: 0] += 1 }
        }
    }

    /// A snapshot by reason name (reasons never seen are left out).
    func snapshot() -> [String: UInt64] {
        var result: [String: UInt64] = [:]
        let ioCount = io.load(ordering: .relaxed)
        let mmioCount = mmio.load(ordering: .relaxed)
        if ioCount > 0 { result[ExitReason.io.name] = ioCount }
        if mmioCount > 0 { result[ExitReason.mmio.name] = mmioCount }
        rare.withLock { counts in
            for (raw, n) in counts { if let r = ExitReason(rawValue: raw) { result[r.name] = n } }
        }
        return result
    }
}
