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
///
/// Its kernel command line scripts the simulated guest, for the cases a test must provoke:
/// `simulated.power-button=reset|poweroff|crash` (what the guest does on the power button; `reset` by
/// default) and `simulated.start=hang` (the machine never finishes starting).
final class SimulatedMachine: GuestMachine, @unchecked Sendable {
    /// Counters the monitor's `statistics` returns for a simulated guest.
    struct Statistics: Codable, Sendable {
        var pauses = 0
        var resumes = 0
        var powerButtonPresses = 0
        var resets = 0
    }

    private enum Phase { case created, running, paused, ended(GuestExit) }

    /// The guest's answer to the power button, from `simulated.power-button=`.
    private let powerButtonExit: GuestExit
    /// `simulated.start=hang`.
    private let hangOnStart: Bool

    private let configuration: HypervisorConfiguration
    private let lock = ConditionLock()
    private var phase = Phase.created
    private var counters = Statistics()
    private var threadIDs: [Int32] = []
    private var pendingPowerButton = false

    init(configuration: HypervisorConfiguration) throws(VirtError) {
        self.configuration = configuration
        var options: [Substring: Substring] = [:]
        for word in configuration.cmdline.split(separator: " ") where word.hasPrefix("simulated.") {
            let parts = word.split(separator: "=", maxSplits: 1)
            options[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        switch options["simulated.power-button"] ?? "reset" {
        case "reset": powerButtonExit = .reset
        case "poweroff": powerButtonExit = .poweroff(code: 0)
        case "crash": powerButtonExit = .crashed(reason: "simulated triple fault")
        case let other:
            throw VirtError(
                .invalidArgument, .kvm, "simulated.power-button='\(other)' is not one of reset, poweroff, crash")
        }
        hangOnStart = options["simulated.start"] == "hang"
    }

    func start(paused: Bool) throws {
        let kernel = configuration.kernel
        let fd = kernel.fd ?? open(kernel.path, O_RDONLY | O_CLOEXEC)
        var info = stat()
        guard fd >= 0, fstat(fd, &info) == 0 else {
            throw SmallFile.failure("cannot open kernel '\(kernel.path)' of domain '\(configuration.name)'")
        }
        if kernel.fd == nil { close(fd) }
        if hangOnStart {
            lock.wait { () -> Void? in nil }
        }
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
        let tid = cvirt_gettid()
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
                phase = pendingPowerButton ? .ended(powerButtonExit) : .running
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
            case .running: phase = .ended(powerButtonExit)
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
