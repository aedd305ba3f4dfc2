import KVM
import VirtBase

#if canImport(Glibc)
    import Glibc
#endif

/// Answers the monitor socket's requests (`MonitorMethod`) against one machine. Lifecycle calls are
/// serialized by a lock, so a pause and a resume from two clients never interleave.
final class MonitorService: @unchecked Sendable {
    private let shared: SharedMachine
    private let vcpus: Int
    private let lock = ConditionLock()
    private var paused: Bool
    private var shutdownRequestedFlag = false

    init(machine: SharedMachine, vcpus: Int, paused: Bool) {
        self.shared = machine
        self.vcpus = vcpus
        self.paused = paused
    }

    /// Whether a `shutdown` request came before the guest's run ended.
    var shutdownRequested: Bool { lock.withLock { shutdownRequestedFlag } }

    /// The FrameServer handler.
    func handle(_ request: WireRequest, _ peer: PeerCredentials) -> FrameServer.Reply {
        guard let method = MonitorMethod(rawValue: request.method) else {
            let known = MonitorMethod.allCases.map(\.rawValue).joined(separator: ", ")
            return FrameServer.Reply(
                WireReply.frame(
                    id: request.id,
                    error: WireError(
                        code: WireError.unknownMethod,
                        message: "unknown monitor method '\(request.method)'; known methods: \(known)")))
        }
        do {
            return try answer(method, request)
        } catch let error as VirtError {
            return FrameServer.Reply(WireReply.frame(id: request.id, error: WireError(error)))
        } catch let error as WireError {
            return FrameServer.Reply(WireReply.frame(id: request.id, error: error))
        } catch {
            return FrameServer.Reply(
                WireReply.frame(id: request.id, error: WireError(VirtError.internal("\(error)", .kvm))))
        }
    }

    private func answer(_ method: MonitorMethod, _ request: WireRequest) throws -> FrameServer.Reply {
        _ = try request.params(WireEmpty.self)
        let machine = shared.machine
        switch method {
        case .status:
            return try FrameServer.Reply(WireReply.frame(id: request.id, result: status()))
        case .pause:
            try lock.withLock {
                try machine.pause()
                paused = true
            }
            return try FrameServer.Reply(WireReply.frame(id: request.id, result: status()))
        case .resume:
            try lock.withLock {
                try machine.resume()
                paused = false
            }
            return try FrameServer.Reply(WireReply.frame(id: request.id, result: status()))
        case .powerButton:
            return try afterReply(request) { $0.powerButton() }
        case .shutdown:
            lock.withLock { shutdownRequestedFlag = true }
            return try afterReply(request) { $0.powerButton() }
        case .reset:
            return try afterReply(request) { $0.reset() }
        case .quit:
            return try afterReply(request) { $0.stop() }
        case .vcpuThreads:
            let reply = MonitorVCPUThreads(threadIDs: machine.vcpuThreadIDs)
            return try FrameServer.Reply(WireReply.frame(id: request.id, result: reply))
        case .statistics:
            let statistics = machine.statistics()
            return try FrameServer.Reply(WireReply.frame(id: request.id, result: statistics))
        }
    }

    /// Replies `{}` first and then acts: the action may end the guest run, after which the process
    /// reports to its supervisor and exits, and the caller must still get its answer.
    private func afterReply(_ request: WireRequest, _ action: @escaping @Sendable (any GuestMachine) -> Void) throws
        -> FrameServer.Reply
    {
        let shared = self.shared
        return FrameServer.Reply(try WireReply.frame(id: request.id, result: WireEmpty())) { action(shared.machine) }
    }

    private func status() -> MonitorStatus {
        lock.withLock {
            MonitorStatus(
                state: paused ? .paused : .running, shutdownRequested: shutdownRequestedFlag, hypervisorPID: getpid(),
                serialPTYPath: shared.machine.serialPTYPath, vcpus: vcpus)
        }
    }
}
