import Glibc
import VirtBase

/// Where one URI root keeps the lock daemon's files (architecture page, "Files, URIs, configuration").
public struct LockdPaths: Sendable, Equatable {
    /// The configuration directory: `kvm.conf`, `lockd.conf`, `virtlockd.conf`.
    public var configDirectory: String
    /// The run directory; the daemon's files live in its `lockd/` subdirectory.
    public var runDirectory: String

    /// Paths from explicit directories.
    public init(configDirectory: String, runDirectory: String) {
        self.configDirectory = configDirectory
        self.runDirectory = runDirectory
    }

    /// `kvm:///system`: `/etc/swift-virt/`, `/run/swift-virt/`.
    public static let system = LockdPaths(configDirectory: "/etc/swift-virt", runDirectory: "/run/swift-virt")

    /// `kvm:///embed?root=DIR`: `DIR/etc/`, `DIR/run/`.
    public static func embed(root: String) -> LockdPaths {
        LockdPaths(configDirectory: root + "/etc", runDirectory: root + "/run")
    }

    /// `kvm:///session`: `$XDG_CONFIG_HOME/swift-virt/` (else `~/.config/swift-virt`) and
    /// `$XDG_RUNTIME_DIR/swift-virt/` (else `~/.cache/swift-virt/run`).
    public static func session(environment: [String: String]) -> LockdPaths {
        let home = environment["HOME"] ?? "/"
        let config = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.config"
        let run =
            environment["XDG_RUNTIME_DIR"].flatMap { $0.isEmpty ? nil : $0 + "/swift-virt" }
            ?? home + "/.cache/swift-virt/run"
        return LockdPaths(configDirectory: config + "/swift-virt", runDirectory: run)
    }

    /// The current process environment as a dictionary.
    public static func processEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        for text in ChildProcess.currentEnvironment() {
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
        }
        return result
    }

    /// The daemon's directory: `<run>/lockd`.
    public var lockdDirectory: String { runDirectory + "/lockd" }
    /// `<run>/lockd/virtlockd.sock`.
    public var socketPath: String { lockdDirectory + "/virtlockd.sock" }
    /// `<run>/lockd/virtlockd.pid`.
    public var pidFilePath: String { lockdDirectory + "/virtlockd.pid" }
    /// The state handed across a SIGUSR1 re-exec.
    public var restartStatePath: String { lockdDirectory + "/virtlockd-restart-exec.json" }
    /// The owners that hold connections, journalled so that a daemon started after this one went away
    /// knows whom to wait for (`LeaseRecovery`).
    public var ownerJournalPath: String { lockdDirectory + "/virtlockd-owners.journal" }
    /// `<config>/virtlockd.conf`.
    public var virtlockdConfPath: String { configDirectory + "/virtlockd.conf" }
    /// `<config>/lockd.conf`.
    public var lockdConfPath: String { configDirectory + "/lockd.conf" }
    /// `<config>/kvm.conf`.
    public var kvmConfPath: String { configDirectory + "/kvm.conf" }
}
