import KVM

/// Turns how a hypervisor run ended into the supervisor's next step, by the domain's lifecycle actions.
struct LifecyclePolicy {
    let configuration: SupervisorConfiguration

    enum Decision: Equatable {
        /// Start a fresh hypervisor; the text says why (for the log).
        case restart(String)
        /// The domain is shut off for this reason.
        case end(DomainExitStatus.ExitReason, String)
    }

    func decide(_ outcome: HypervisorRun.Outcome) -> Decision {
        guard outcome.ready else {
            return .end(.failed, outcome.error ?? "the hypervisor \(describe(outcome)) before the guest was ready")
        }
        if outcome.terminationRequested {
            return .end(.destroyed, "the supervisor was asked to terminate; the guest was stopped")
        }
        guard let exit = outcome.guestExit else {
            if let error = outcome.error { return .end(.crashed, error) }
            return .end(.crashed, "the hypervisor (pid \(outcome.pid)) \(describe(outcome)) while the guest ran")
        }
        switch exit {
        case .poweroff(let code):
            if outcome.shutdownRequested { return .end(.shutdown, "the guest shut down after a shutdown request") }
            if configuration.onPoweroff == .restart { return .restart("the guest powered off; on_poweroff is restart") }
            return .end(.shutdown, "the guest powered off (exit code \(code))")
        case .reset:
            if outcome.shutdownRequested { return .end(.shutdown, "the guest shut down after a shutdown request") }
            if configuration.onReboot == .restart { return .restart("the guest reset; on_reboot is restart") }
            return .end(.shutdown, "the guest reset and on_reboot is destroy")
        case .crashed(let reason):
            if configuration.onCrash == .restart {
                return .restart("the guest crashed (\(reason)); on_crash is restart")
            }
            return .end(.crashed, "the guest crashed: \(reason)")
        case .internalError(let reason):
            return .end(.crashed, "KVM could not run the guest: \(reason)")
        case .stopped:
            return .end(.destroyed, "the domain was stopped")
        }
    }

    private func describe(_ outcome: HypervisorRun.Outcome) -> String {
        if let call = outcome.seccompViolation {
            return "was killed by signal 31 (SIGSYS) from its seccomp filter: \(call) is not in the allow-list"
        }
        return outcome.termination?.description ?? "ended"
    }
}
