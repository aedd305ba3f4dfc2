import FoundationEssentials
import Glibc
import Locking
import VirtBase

/// What a SIGUSR1 re-exec hands to the new image: every descriptor (listening socket, pid file, client
/// sockets, lock descriptors) stays open across execve, and this file says what each one is.
struct RestartState: Codable {
    /// One client connection.
    struct Client: Codable {
        var fd: Int32
        var state: LockTable.Client
        /// Bytes of an incomplete frame already read from the socket.
        var pending: [UInt8]
    }

    /// The pid of the process that wrote the file; the new image checks it is the same (execve keeps
    /// the pid), so a stale file from another process is never adopted.
    var magic: Int32
    var listenFD: Int32
    var pidFileFD: Int32
    /// Whether the socket came from systemd (then it is not unlinked at shutdown).
    var socketActivated: Bool
    var restarts: Int
    var clients: [Client]
    /// The grace period in progress, if any.
    var recovery: LeaseRecovery?

    /// Every descriptor the new image must inherit.
    var descriptors: [Int32] {
        var fds = [listenFD, pidFileFD]
        for client in clients {
            fds.append(client.fd)
            fds += client.state.leases.values.map(\.fd)
        }
        return fds
    }

    /// Writes the state (mode 0600) atomically.
    func write(to path: String) throws(VirtError) {
        let bytes: [UInt8]
        do {
            bytes = [UInt8](try JSONEncoder().encode(self))
        } catch {
            throw VirtError(.internalError, .locking, "cannot encode the re-exec state: \(error)")
        }
        try Posix.writeFileAtomically(path, bytes, mode: 0o600)
    }

    /// Reads and deletes the state at `path`; nil when there is none or it belongs to another process.
    static func take(from path: String, log: DaemonLog) -> RestartState? {
        guard let bytes = Posix.readFile(path, limit: 256 << 20) else { return nil }
        unlink(path)
        guard let state = try? JSONDecoder().decode(RestartState.self, from: Data(bytes)) else {
            log.warning("ignoring the unreadable re-exec state file '\(path)'")
            return nil
        }
        guard state.magic == getpid() else {
            log.warning("ignoring the re-exec state file '\(path)' written by pid \(state.magic), not this process")
            return nil
        }
        return state
    }
}
