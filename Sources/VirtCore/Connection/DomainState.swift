/// A domain's state, as libvirt's `virDomainState`, with virsh's words for it.
public enum DomainState: Int, Sendable, CaseIterable, Codable {
    case noState = 0, running = 1, blocked = 2, paused = 3, shutdown = 4, shutoff = 5, crashed = 6, pmSuspended = 7

    /// virsh's word: `running`, `shut off`, `paused`, ...
    public var displayName: String {
        switch self {
        case .noState: "no state"
        case .running: "running"
        case .blocked: "idle"
        case .paused: "paused"
        case .shutdown: "in shutdown"
        case .shutoff: "shut off"
        case .crashed: "crashed"
        case .pmSuspended: "pmsuspended"
        }
    }

    /// Whether the domain has processes (and an id).
    public var isActive: Bool { self != .shutoff && self != .crashed && self != .noState }
}

/// Why a domain is in its state: libvirt's per-state reason numbers, with virsh's words for them.
public struct DomainStateReason: Sendable, Equatable, Codable {
    /// The state the reason belongs to.
    public var state: DomainState
    /// libvirt's reason number within that state (0 = unknown).
    public var code: Int

    public init(_ state: DomainState, _ code: Int = 0) {
        self.state = state
        self.code = code
    }

    /// `running` reasons.
    public static let booted = DomainStateReason(.running, 1)
    public static let unpaused = DomainStateReason(.running, 5)
    /// `paused` reasons.
    public static let pausedUser = DomainStateReason(.paused, 1)
    public static let pausedIOError = DomainStateReason(.paused, 5)
    public static let pausedShuttingDown = DomainStateReason(.paused, 8)
    public static let pausedCrashed = DomainStateReason(.paused, 10)
    public static let pausedStartingUp = DomainStateReason(.paused, 11)
    /// `shut off` reasons.
    public static let shutoffUnknown = DomainStateReason(.shutoff, 0)
    public static let shutoffShutdown = DomainStateReason(.shutoff, 1)
    public static let shutoffDestroyed = DomainStateReason(.shutoff, 2)
    public static let shutoffCrashed = DomainStateReason(.shutoff, 3)
    public static let shutoffFailed = DomainStateReason(.shutoff, 6)
    public static let shutoffDaemon = DomainStateReason(.shutoff, 8)
    /// `in shutdown` reason.
    public static let shutdownUser = DomainStateReason(.shutdown, 1)
    /// `crashed` reason.
    public static let crashedPanicked = DomainStateReason(.crashed, 1)

    private static let words: [DomainState: [String]] = [
        .noState: ["unknown"],
        .running: [
            "unknown", "booted", "migrated", "restored", "from snapshot", "unpaused", "migration canceled",
            "save canceled", "event wakeup", "crashed", "post-copy", "post-copy failed",
        ],
        .blocked: ["unknown"],
        .paused: [
            "unknown", "user", "migrating", "saving", "dumping", "I/O error", "watchdog", "from snapshot",
            "shutting down", "creating snapshot", "crashed", "starting up", "post-copy", "post-copy failed",
        ],
        .shutdown: ["unknown", "user"],
        .shutoff: [
            "unknown", "shutdown", "destroyed", "crashed", "migrated", "saved", "failed", "from snapshot", "daemon",
        ],
        .crashed: ["unknown", "panicked"],
        .pmSuspended: ["unknown"],
    ]

    /// virsh's word for the reason: `booted`, `destroyed`, `user`, ...
    public var displayName: String {
        let list = Self.words[state] ?? ["unknown"]
        return code >= 0 && code < list.count ? list[code] : "unknown"
    }

    /// `domstate --reason` form: `shut off (destroyed)`.
    public var stateAndReason: String { "\(state.displayName) (\(displayName))" }
}
