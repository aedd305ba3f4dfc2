import Glibc
import Locking
import Synchronization
import VirtBase

/// The owners holding connections to this daemon, journalled in `<run>/lockd/virtlockd-owners.journal`:
/// `+ PID STARTTIME OWNER-JSON` when a connection registers, `- PID STARTTIME` when it closes. It is written
/// only on register and disconnect, never per lease, so it costs the lock round trip nothing. A daemon
/// started after this one went away (killed, crashed, stopped) replays it: the owners whose processes
/// still run may come back with `reclaim`, and until they have, nobody else can acquire (`LeaseRecovery`).
final class OwnerJournal: Sendable {
    private struct State {
        var fd: Int32
        /// Open connections per process.
        var live: [PeerProcess: (count: Int, owner: LeaseOwner)] = [:]
        /// Lines written since the last compaction.
        var lines = 0
    }

    let path: String
    private let log: DaemonLog
    private let state: Mutex<State>

    /// Opens the journal for appending, starting from `entries` (one per connection: the owners still
    /// expected from the previous daemon, or the adopted connections after a re-exec), which it writes
    /// out afresh.
    init(path: String, entries: [PendingOwner], log: DaemonLog) {
        self.path = path
        self.log = log
        var initial = State(fd: -1)
        for entry in entries {
            initial.live[entry.peer, default: (0, entry.owner)].count += 1
        }
        state = Mutex(initial)
        state.withLock { compact(&$0) }
    }

    /// The owners the journal at `path` lists whose processes still run (a fresh start's grace period).
    static func pendingOwners(path: String, log: DaemonLog) -> [PendingOwner] {
        guard let bytes = Posix.readFile(path, limit: 64 << 20) else { return [] }
        var live: [PeerProcess: (count: Int, owner: LeaseOwner?)] = [:]
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            let fields = line.split(separator: UInt8(ascii: " "), maxSplits: 3)
            guard fields.count >= 3, let pid = Int32(String(decoding: fields[1], as: UTF8.self)),
                let start = UInt64(String(decoding: fields[2], as: UTF8.self))
            else { continue }
            let peer = PeerProcess(pid: pid, startTime: start)
            if fields[0].elementsEqual("+".utf8), fields.count == 4,
                let json = JSONValue.parse(Array(fields[3])), let owner = try? LeaseOwner(json: json, at: "")
            {
                live[peer, default: (0, nil)].count += 1
                live[peer]?.owner = owner
            } else if fields[0].elementsEqual("-".utf8) {
                live[peer, default: (0, nil)].count -= 1
            }
        }
        return live.compactMap { peer, entry in
            guard entry.count > 0, let owner = entry.owner, peer.isAlive else { return nil }
            return PendingOwner(peer: peer, owner: owner)
        }.sorted { ($0.owner.name, $0.peer.pid) < ($1.owner.name, $1.peer.pid) }
    }

    /// Records what the lock table did.
    func record(_ events: [LockTableEvent]) {
        guard !events.isEmpty else { return }
        state.withLock { state in
            for event in events {
                switch event {
                case .registered(let peer, let owner): add(&state, peer, owner)
                case .unregistered(let peer, _): remove(&state, peer)
                case .settled(let pending), .gone(let pending): remove(&state, pending.peer)
                case .expired(let pending): pending.forEach { remove(&state, $0.peer) }
                case .tookOver: continue
                }
            }
        }
    }

    private func add(_ state: inout State, _ peer: PeerProcess, _ owner: LeaseOwner) {
        state.live[peer, default: (0, owner)].count += 1
        state.live[peer]?.owner = owner
        append(&state, line(peer, owner))
    }

    private func remove(_ state: inout State, _ peer: PeerProcess) {
        guard let entry = state.live[peer] else { return }
        state.live[peer] = entry.count > 1 ? (entry.count - 1, entry.owner) : nil
        append(&state, Array("- \(peer.pid) \(peer.startTime)\n".utf8))
        if state.lines > 4 * state.live.count + 256 { compact(&state) }
    }

    private func line(_ peer: PeerProcess, _ owner: LeaseOwner) -> [UInt8] {
        var writer = JSONWriter()
        owner.write(to: &writer)
        return Array("+ \(peer.pid) \(peer.startTime) ".utf8) + writer.bytes + [UInt8(ascii: "\n")]
    }

    private func append(_ state: inout State, _ bytes: [UInt8]) {
        state.lines += 1
        guard state.fd >= 0 else { return }
        let written = bytes.withUnsafeBytes { write(state.fd, $0.baseAddress, $0.count) }
        if written != bytes.count {
            log.warning("cannot append to the owner journal '\(path)': \(Posix.describe(errno))")
        }
    }

    /// Rewrites the journal from the live set (atomically) and reopens it for appending.
    private func compact(_ state: inout State) {
        var bytes: [UInt8] = []
        for (peer, entry) in state.live {
            for _ in 0..<entry.count { bytes += line(peer, entry.owner) }
        }
        do {
            try Posix.writeFileAtomically(path, bytes, mode: 0o600)
        } catch {
            log.warning("cannot rewrite the owner journal: \(error)")
        }
        if state.fd >= 0 { close(state.fd) }
        state.fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        if state.fd < 0 { log.warning("cannot open the owner journal '\(path)': \(Posix.describe(errno))") }
        state.lines = state.live.values.reduce(0) { $0 + $1.count }
    }
}
