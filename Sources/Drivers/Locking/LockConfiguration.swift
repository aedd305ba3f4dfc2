import Glibc
import VirtBase

/// Reads a `.conf` file; nil when it does not exist (defaults apply), an error when it cannot be read.
func loadConfFile(_ path: String) throws(VirtError) -> ConfFile? {
    guard let bytes = Posix.readFile(path, limit: 1 << 20) else {
        if errno == ENOENT { return nil }
        throw Posix.failure("cannot read the configuration file '\(path)'")
    }
    return try ConfFile(parsing: String(decoding: bytes, as: UTF8.self), name: path)
}

/// `virtlockd.conf`: the lock daemon's own settings.
public struct VirtlockdConfig: Sendable, Equatable {
    /// The settings this file may hold.
    public static let schema: [String: ConfFile.Kind] = [
        "log_level": .integer, "log_outputs": .string, "max_clients": .integer, "host_name": .string,
        "reclaim_timeout": .integer,
    ]
    /// How long a freshly started daemon waits for the owners of its predecessor to take their leases back.
    public static let defaultReclaimTimeout = 5
    /// libvirt's default `max_clients`.
    public static let defaultMaxClients = 1024
    /// libvirt's default log level (3 = warnings).
    public static let defaultLogLevel = 3

    /// 1 debug, 2 info, 3 warning, 4 error.
    public var logLevel = defaultLogLevel
    /// libvirt-style outputs, e.g. `3:stderr 1:file:/var/log/virtlockd.log 2:syslog:virtlockd`.
    public var logOutputs: [LogOutput] = []
    /// Concurrent client connections accepted.
    public var maxClients = defaultMaxClients
    /// The name written into indirect lease files; the kernel's host name when not set.
    public var hostName = Posix.hostName()
    /// Seconds a fresh daemon refuses plain acquires while owners of the daemon before it (which went
    /// away) may still come back with `reclaim` (ends earlier once they all have or are gone).
    public var reclaimTimeout = defaultReclaimTimeout

    /// One log destination.
    public struct LogOutput: Sendable, Equatable {
        /// Messages at this level or more severe go here.
        public var level: Int
        /// Where they go.
        public var destination: Destination
        /// An output.
        public init(level: Int, destination: Destination) {
            self.level = level
            self.destination = destination
        }

        /// Where log lines go.
        public enum Destination: Sendable, Equatable {
            case stderr
            case file(String)
            case syslog(String)
        }
    }

    /// The defaults.
    public init() {}

    /// Reads `path`; a missing file means the defaults.
    public static func load(path: String) throws(VirtError) -> VirtlockdConfig {
        var config = VirtlockdConfig()
        guard let file = try loadConfFile(path) else { return config }
        try file.validate(against: schema)
        if let level = try file.integer("log_level") {
            guard (1...4).contains(level) else {
                throw file.problem("log_level", "'log_level' must be 1 (debug) to 4 (error), not \(level)")
            }
            config.logLevel = Int(level)
        }
        if let outputs = try file.string("log_outputs") {
            config.logOutputs = try parseOutputs(outputs, file: file)
        }
        if let clients = try file.integer("max_clients") {
            guard clients >= 1 && clients <= 1_000_000 else {
                throw file.problem("max_clients", "'max_clients' must be between 1 and 1000000, not \(clients)")
            }
            config.maxClients = Int(clients)
        }
        if let seconds = try file.integer("reclaim_timeout") {
            guard seconds >= 0 && seconds <= 600 else {
                throw file.problem(
                    "reclaim_timeout", "'reclaim_timeout' must be between 0 and 600 seconds, not \(seconds)")
            }
            config.reclaimTimeout = Int(seconds)
        }
        if let host = try file.string("host_name") {
            guard !host.isEmpty, host.utf8.count <= 255, !host.contains(where: { $0 == "\n" || $0 == "\"" }) else {
                throw file.problem("host_name", "'host_name' must be a non-empty name of at most 255 bytes on one line")
            }
            config.hostName = host
        }
        return config
    }

    private static func parseOutputs(_ text: String, file: ConfFile) throws(VirtError) -> [LogOutput] {
        var outputs: [LogOutput] = []
        for item in text.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
            let parts = item.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            guard parts.count >= 2, let level = Int(parts[0]), (1...4).contains(level) else {
                throw file.problem(
                    "log_outputs",
                    "log output '\(item)' must look like LEVEL:stderr, LEVEL:file:PATH or LEVEL:syslog:NAME with LEVEL 1-4"
                )
            }
            switch (parts[1], parts.count) {
            case ("stderr", 2): outputs.append(LogOutput(level: level, destination: .stderr))
            case ("file", 3) where parts[2].hasPrefix("/"):
                outputs.append(LogOutput(level: level, destination: .file(parts[2])))
            case ("syslog", 3) where !parts[2].isEmpty:
                outputs.append(LogOutput(level: level, destination: .syslog(parts[2])))
            default:
                throw file.problem(
                    "log_outputs",
                    "log output '\(item)' is not supported: use stderr, file:/ABSOLUTE/PATH or syslog:NAME")
            }
        }
        return outputs
    }
}

/// `lockd.conf`: how the driver turns disks into leases.
public struct LockdConfig: Sendable, Equatable {
    /// The settings this file may hold.
    public static let schema: [String: ConfFile.Kind] = [
        "auto_disk_leases": .boolean, "require_lease_for_disks": .boolean, "file_lockspace_dir": .string,
    ]

    /// Lease every disk automatically (default on).
    public var autoDiskLeases = true
    /// Refuse a domain with writable exclusive disks but no leases (default: the opposite of
    /// `autoDiskLeases`).
    public var requireLeaseForDisks = false
    /// The indirect lockspace directory; nil = the direct lockspace (lock the disk files themselves).
    public var fileLockspaceDir: String?

    /// The defaults.
    public init() {}

    /// Reads `path`; a missing file means the defaults.
    public static func load(path: String) throws(VirtError) -> LockdConfig {
        var config = LockdConfig()
        guard let file = try loadConfFile(path) else { return config }
        try file.validate(against: schema)
        config.autoDiskLeases = try file.boolean("auto_disk_leases") ?? true
        config.requireLeaseForDisks = try file.boolean("require_lease_for_disks") ?? !config.autoDiskLeases
        if let directory = try file.string("file_lockspace_dir"), !directory.isEmpty {
            guard directory.hasPrefix("/") else {
                throw file.problem(
                    "file_lockspace_dir", "'file_lockspace_dir' must be an absolute path, not '\(directory)'")
            }
            config.fileLockspaceDir = directory
        }
        return config
    }
}

/// The `lock_manager` key of `kvm.conf`.
public enum LockManagerKind: String, Sendable, Equatable {
    /// Leases through virtlockd (the default: disks are protected out of the box).
    case lockd
    /// No leases.
    case nop

    /// The kvm.conf settings this module owns, for the owner of kvm.conf's schema to merge.
    public static let kvmConfSchema: [String: ConfFile.Kind] = ["lock_manager": .string]

    /// Reads `lock_manager` from an already parsed kvm.conf (other keys belong to the driver).
    public static func from(kvmConf file: ConfFile?) throws(VirtError) -> LockManagerKind {
        guard let file, let name = try file.string("lock_manager") else { return .lockd }
        guard let kind = LockManagerKind(rawValue: name) else {
            throw file.problem("lock_manager", "lock_manager must be \"lockd\" or \"nop\", not \"\(name)\"")
        }
        return kind
    }

    /// Reads `lock_manager` from the kvm.conf at `path` (defaults when missing).
    public static func load(kvmConfPath path: String) throws(VirtError) -> LockManagerKind {
        try from(kvmConf: loadConfFile(path))
    }
}

extension ConfFile {
    /// An error at the line of `key`, in the file:line form of the other configuration errors.
    func problem(_ key: String, _ message: String) -> VirtError {
        VirtError(.configUnsupported, .config, "\(name):\(entry(key)?.line ?? 0): \(message)")
    }
}
