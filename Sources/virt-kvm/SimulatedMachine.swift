import CVirtShims
import KVM
import VirtBase

#if canImport(Glibc)
import Glibc
#endif

/// A guest without KVM, for exercising the process layer (supervisor, monitor, crash handling) where no
/// guest needs to run: it checks that its kernel can be opened (so start failures look like real ones),
/// keeps one real idle thread per vCPU (so thread ids are real), and reacts to the power button as a
/// Linux guest does by default on Ctrl+Alt+Del: it resets.
final class SimulatedMachine: GuestMachine, @unchecked Sendable {
    /// Counters the monitor's `statistics` returns for a simulated guest.
    struct Statistics: Codable, Sendable {
        var pauses = 0
        var resumes = 0
        var powerButtonPresses = 0
        var resets = 0
    }

    private enum Phase { case created, running, paused, ended(GuestExit) }

    private let configuration: HypervisorConfiguration
    private let lock = ConditionLock()
    private var phase = Phase.created
    private var counters = Statistics()
    private var threadIDs: [Int32] = []
    private var pendingPowerButton = false

    init(configuration: HypervisorConfiguration) {
        self.configuration = configuration
    }

    func start(paused: Bool) throws {
        let kernel = configuration.kernel
        let fd = kernel.fd ?? open(kernel.path, O_RDONLY | O_CLOEXEC)
        var info = stat()
        guard fd >= 0, fstat(fd, &info) == 0 else {
            throw SmallFile.failure("cannot open kernel '\(kernel.path)' of domain '\(configuration.name)'")
        }
        if kernel.fd == nil { close(fd) }
        for index in 0..<configuration.vcpus {
            try DetachedThread.start("vCPU \(index)") { [self] in idleVCPU() }
        }
        lock.wait { threadIDs.count == configuration.vcpus ? () : nil }
        try lock.withLock { () throws(VirtError) in
            guard case .created = phase else { throw VirtError(.operationInvalid, .kvm, "the guest already started") }
            phase = paused ? .paused : .running
        }
    }

    private func idleVCPU() {
        let tid = cvirt_self_tid()
        lock.withLock { threadIDs.append(tid) }
        lock.wait { () -> Void? in
            if case .ended = phase { return () }
            return nil
        }
    }

    func pause() throws {
        try lock.withLock { () throws(VirtError) in
            switch phase {
            case .running, .paused:
                phase = .paused
                counters.pauses += 1
            case .created, .ended: throw VirtError(.operationInvalid, .kvm, "the guest is not running")
            }
        }
    }

    func resume() throws {
        try lock.withLock { () throws(VirtError) in
            switch phase {
            case .running, .paused:
                phase = pendingPowerButton ? .ended(.reset) : .running
                counters.resumes += 1
            case .created, .ended: throw VirtError(.operationInvalid, .kvm, "the guest is not running")
            }
        }
    }

    func powerButton() {
        lock.withLock {
            counters.powerButtonPresses += 1
            // A paused guest sees the key press only when it runs again, like a real one.
            switch phase {
            case .running: phase = .ended(.reset)
            case .paused, .created: pendingPowerButton = true
            case .ended: break
            }
        }
    }

    func reset() {
        end(.reset)
        lock.withLock { counters.resets += 1 }
    }

    func stop() { end(.stopped) }

    private func end(_ exit: GuestExit) {
        lock.withLock {
            if case .ended = phase { return }
            phase = .ended(exit)
        }
    }

    func waitForExit() -> GuestExit {
        lock.wait {
            if case .ended(let exit) = phase { return exit }
            return nil
        }
    }

    var vcpuThreadIDs: [Int32] { lock.withLock { threadIDs } }

    func statistics() -> Statistics { lock.withLock { counters } }

    var serialPTYPath: String? { nil }
}
