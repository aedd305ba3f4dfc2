#if canImport(Glibc)
    import Glibc
#endif

/// How a domain ended, as the supervisor records it in `<run>/<name>.status` (JSON) when its hypervisor
/// exits for good, and as the driver folds it into the store.
public struct DomainExitStatus: Codable, Sendable, Equatable {
    /// Why the domain is shut off (libvirt's shut-off reasons).
    public var reason: ExitReason
    /// A sentence for people: what happened, with the hypervisor's error text or signal.
    public var detail: String
    /// The guest's own exit, when the hypervisor reported one.
    public var guestExit: GuestExit?
    /// The hypervisor's wait status rendered (`exited with status 0`, `killed by signal 9`), when known.
    public var hypervisorExit: String?
    /// How many times the supervisor restarted the hypervisor (on_reboot/on_poweroff/on_crash = restart).
    public var restarts: Int
    /// When the status was written: seconds since the Unix epoch.
    public var epochSeconds: Int
    /// The same instant as an ISO 8601 UTC string.
    public var time: String
    /// The final state; always `shut off` (the name kept for readers of the file).
    public var state: String

    /// A status stamped with `epochSeconds`.
    public init(
        reason: ExitReason, detail: String, guestExit: GuestExit? = nil, hypervisorExit: String? = nil,
        restarts: Int = 0, epochSeconds: Int
    ) {
        self.reason = reason
        self.detail = detail
        self.guestExit = guestExit
        self.hypervisorExit = hypervisorExit
        self.restarts = restarts
        self.epochSeconds = epochSeconds
        self.time = Self.iso8601(epochSeconds)
        self.state = "shut off"
    }

    /// `shut off` reasons, spelled as virsh prints them.
    public enum ExitReason: String, Codable, Sendable {
        /// The guest powered off or reset with a destroy action, or after a shutdown request.
        case shutdown
        /// Stopped from outside (monitor quit, destroy).
        case destroyed
        /// The guest crashed, KVM failed, or the hypervisor process died.
        case crashed
        /// The hypervisor could not start the guest.
        case failed
    }

    /// `1970-01-01T00:00:00Z` form (UTC), through the C library's `gmtime_r` and `strftime`.
    public static func iso8601(_ epochSeconds: Int) -> String {
        var seconds = time_t(epochSeconds)
        var parts = tm()
        guard gmtime_r(&seconds, &parts) != nil else { return "\(epochSeconds)" }
        var buffer = [CChar](repeating: 0, count: 32)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%SZ", &parts)
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
