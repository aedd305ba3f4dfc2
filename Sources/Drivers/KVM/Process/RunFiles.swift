/// The files of one running domain, by the architecture page's names: `<run>/<name>.pid` (the hypervisor),
/// `<run>/<name>.supervisor.pid`, `<run>/<name>.status`, the monitor socket `<run>/<name>.monitor` (or a
/// short fallback path when that passes the Unix socket limit), and `<log>/<name>.log`.
public struct RunFiles: Codable, Sendable, Equatable {
    /// The domain's name.
    public var name: String
    /// The URI's run directory (`/run/swift-virt`, `DIR/run`, ...).
    public var runDirectory: String
    /// The URI's log directory.
    public var logDirectory: String
    /// The monitor socket's path, resolved once at start (and recorded by the driver).
    public var monitorSocket: String

    /// The longest path a Unix socket address holds on Linux (sun_path minus its NUL).
    public static let maximumSocketPathBytes = 107

    /// The run files of `name`; the monitor socket moves to `shortSocketDirectory/<uuid>.monitor` when
    /// `<run>/<name>.monitor` would pass the 107-byte limit.
    public init(name: String, uuid: String, runDirectory: String, logDirectory: String, shortSocketDirectory: String) {
        self.name = name
        self.runDirectory = runDirectory
        self.logDirectory = logDirectory
        let preferred = "\(runDirectory)/\(name).monitor"
        if preferred.utf8.count <= Self.maximumSocketPathBytes {
            monitorSocket = preferred
        } else {
            monitorSocket = "\(shortSocketDirectory)/\(uuid.lowercased().filter { $0 != "-" }).monitor"
        }
    }

    /// The hypervisor's pid file.
    public var hypervisorPIDFile: String { "\(runDirectory)/\(name).pid" }
    /// The supervisor's pid file (also its lock: the supervisor holds an exclusive flock on it).
    public var supervisorPIDFile: String { "\(runDirectory)/\(name).supervisor.pid" }
    /// How the domain ended, written by the supervisor, consumed by the driver.
    public var statusFile: String { "\(runDirectory)/\(name).status" }
    /// The supervisor's account of the domain's leases (`DomainLeaseStatus`), while it runs.
    public var leasesFile: String { "\(runDirectory)/\(name).leases" }
    /// The supervisor's and hypervisor's log (stdout and stderr), appended.
    public var logFile: String { "\(logDirectory)/\(name).log" }
    /// The security plan whose file labels are applied: written by the supervisor before it relabels, removed
    /// once it restored them. Found after the supervisor died, it tells reconciliation to restore them.
    public var labelsFile: String { "\(runDirectory)/\(name).labels" }

    /// Every file a running or ended domain may leave (the status file included).
    public var all: [String] { [hypervisorPIDFile, supervisorPIDFile, statusFile, monitorSocket, leasesFile, labelsFile] }
}
