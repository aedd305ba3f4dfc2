import Foundation

/// Where a `kvm://` URI keeps its files: configuration, the SQLite store, run files and logs
/// (the table in `docs/drivers.md`).
///
/// `kvm:///system` uses the system directories, `kvm:///session` the caller's XDG directories, and
/// `kvm:///embed?root=DIR` a private tree under an absolute `DIR`. Resolution is pure (environment and
/// home directory are parameters), so tests check every case without touching the real home.
public struct URIPaths: Sendable, Equatable {
    /// Which kind of URI the paths belong to.
    public enum Kind: Sendable, Equatable {
        case system
        case session
        case embed(root: String)
    }

    /// The URI kind.
    public var kind: Kind
    /// Configuration files (`kvm.conf`, `lockd.conf`).
    public var configDirectory: String
    /// The directory holding the store.
    public var storeDirectory: String
    /// The SQLite database file.
    public var storePath: String
    /// Pid, status and monitor files of running domains.
    public var runDirectory: String
    /// Per-domain logs.
    public var logDirectory: String
    /// The short directory for sockets whose path in `runDirectory` would pass the 107-byte Unix limit.
    public var socketDirectory: String
    /// The mode for directories this URI creates: 0755 for the system instance, 0700 for private trees.
    public var directoryMode: mode_t

    /// The URI in canonical form (`kvm:///system`, `kvm:///embed?root=/srv/vms`).
    public var canonicalURI: String {
        switch kind {
        case .system: "kvm:///system"
        case .session: "kvm:///session"
        case .embed(let root): "kvm:///embed?root=\(root)"
        }
    }

    /// The store's file name in every layout.
    public static let storeFileName = "swift-virt.db"
    /// The project's directory name under system and XDG directories.
    public static let directoryName = "swift-virt"
    /// What to tell someone who typed an unknown `kvm://` URI.
    public static let validURIs = "kvm:///system, kvm:///session or kvm:///embed?root=/absolute/dir"

    /// Resolves `uri` (a `kvm` URI) against `environment` (for `XDG_*` and `HOME`) and the caller's
    /// identity. Throws a clear error for remote hosts, unknown paths, unknown parameters and a relative
    /// or missing embed root.
    public static func resolve(
        _ uri: ConnectionURI, environment: [String: String] = URIPaths.environmentVariables(),
        isRoot: Bool = geteuid() == 0, homeDirectory: String? = nil
    ) throws -> URIPaths {
        func bad(_ why: String) -> VirtError { VirtError(.invalidArgument, .connection, "\(uri): \(why)") }
        guard uri.host.isEmpty else {
            throw bad("remote host '\(uri.host)' is not supported; use \(validURIs) on the host itself")
        }
        let path = uri.path.count > 1 && uri.path.hasSuffix("/") ? String(uri.path.dropLast()) : uri.path
        let allowedKeys: Set<String> = path == "/embed" ? ["root"] : []
        if let unknown = uri.query.first(where: { !allowedKeys.contains($0.key) }) {
            throw bad("unknown parameter '\(unknown.key)'" + (path == "/embed" ? "; the only one is 'root'" : ""))
        }
        let home = homeDirectory ?? environment["HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? passwdHome()
        switch path {
        case "/system":
            return system()
        case "/session":
            return session(environment: environment, home: home)
        case "/embed":
            guard let root = uri.queryValue("root"), !root.isEmpty else {
                throw bad("the embed URI needs a root directory: kvm:///embed?root=/absolute/dir")
            }
            guard root.hasPrefix("/") else {
                throw bad("the embed root '\(root)' must be an absolute path, like kvm:///embed?root=/srv/vms")
            }
            let normalized = normalize(root)
            guard normalized != "/" else { throw bad("the embed root cannot be '/'; give a directory of its own") }
            if normalized.split(separator: "/").contains("..") {
                throw bad("the embed root '\(root)' must not contain '..'")
            }
            return embed(root: normalized, environment: environment, isRoot: isRoot, home: home)
        default:
            throw bad("unknown path '\(uri.path)'; use \(validURIs)")
        }
    }

    private static func system() -> URIPaths {
        URIPaths(
            kind: .system, configDirectory: "/etc/\(directoryName)", storeDirectory: "/var/lib/\(directoryName)",
            storePath: "/var/lib/\(directoryName)/\(storeFileName)", runDirectory: "/run/\(directoryName)",
            logDirectory: "/var/log/\(directoryName)", socketDirectory: "/run/\(directoryName)/s",
            directoryMode: 0o755)
    }

    private static func session(environment: [String: String], home: String) -> URIPaths {
        let config = xdg("XDG_CONFIG_HOME", environment, fallback: home + "/.config") + "/" + directoryName
        let data = xdg("XDG_DATA_HOME", environment, fallback: home + "/.local/share") + "/" + directoryName
        let run = runtimeDirectory(environment: environment, home: home)
        return URIPaths(
            kind: .session, configDirectory: config, storeDirectory: data, storePath: data + "/" + storeFileName,
            runDirectory: run, logDirectory: data + "/log", socketDirectory: run + "/s", directoryMode: 0o700)
    }

    private static func embed(root: String, environment: [String: String], isRoot: Bool, home: String) -> URIPaths {
        // Socket paths under a deep root can pass the Unix limit; the short directory is the caller's own.
        let sockets = isRoot ? "/run/\(directoryName)/s" : runtimeDirectory(environment: environment, home: home) + "/s"
        return URIPaths(
            kind: .embed(root: root), configDirectory: root + "/etc", storeDirectory: root + "/lib",
            storePath: root + "/lib/" + storeFileName, runDirectory: root + "/run", logDirectory: root + "/log",
            socketDirectory: sockets, directoryMode: 0o700)
    }

    /// The variables `resolve` reads, from the process's environment (with `getenv`: `ProcessInfo`'s environment
    /// builds a dictionary of every variable, 0.3 ms on the way to every command here).
    public static func environmentVariables() -> [String: String] {
        var found: [String: String] = [:]
        for name in ["HOME", "XDG_RUNTIME_DIR", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME"] {
            if let value = getenv(name) { found[name] = String(cString: value) }
        }
        return found
    }

    /// `$XDG_RUNTIME_DIR/swift-virt`, else `~/.cache/swift-virt/run`.
    private static func runtimeDirectory(environment: [String: String], home: String) -> String {
        if let runtime = environment["XDG_RUNTIME_DIR"], runtime.hasPrefix("/") {
            return normalize(runtime) + "/" + directoryName
        }
        return xdg("XDG_CACHE_HOME", environment, fallback: home + "/.cache") + "/\(directoryName)/run"
    }

    /// An XDG base directory: the variable when it holds an absolute path (the spec says to ignore
    /// relative ones), else the fallback.
    private static func xdg(_ name: String, _ environment: [String: String], fallback: String) -> String {
        if let value = environment[name], value.hasPrefix("/") { return normalize(value) }
        return normalize(fallback)
    }

    /// Drops repeated and trailing slashes.
    private static func normalize(_ path: String) -> String {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        return "/" + parts.joined(separator: "/")
    }

    private static func passwdHome() -> String {
        if let entry = getpwuid(geteuid()), let dir = entry.pointee.pw_dir, let home = String(validatingCString: dir) {
            return home
        }
        return "/"
    }

    /// Creates the configuration, store, run and log directories (and missing parents) with
    /// `directoryMode`; existing directories are left as they are.
    public func createDirectories() throws {
        for directory in [configDirectory, storeDirectory, runDirectory, logDirectory] {
            try Self.makeDirectory(directory, mode: directoryMode)
        }
    }

    /// `mkdir -p` with `mode` for each component it creates.
    public static func makeDirectory(_ path: String, mode: mode_t) throws {
        var current = ""
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, mode) == 0 {
                // mkdir applies the umask; the mode is a decision, not a suggestion.
                chmod(current, mode)
                continue
            }
            let error = errno
            var info = stat()
            if error == EEXIST, stat(current, &info) == 0 {
                if (info.st_mode & S_IFMT) == S_IFDIR { continue }
                throw VirtError(
                    .systemError, .store,
                    "cannot create directory '\(path)': '\(current)' exists and is not a directory", errno: ENOTDIR)
            }
            let reason = SystemIdentity.describe(errno: error)
            let remedy =
                error == EACCES || error == EPERM
                ? "; kvm:///system needs root, other users can use kvm:///session" : ""
            throw VirtError(
                .systemError, .store, "cannot create directory '\(current)': \(reason)\(remedy)", errno: error)
        }
    }
}
