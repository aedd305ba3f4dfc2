import CVirtShims
import KVM
import Security
import VirtBase

#if canImport(Glibc)
    import Glibc
#endif

/// The hypervisor mode: builds the machine from the configuration on its descriptor, writes its pid,
/// serves the monitor on the inherited listening socket, runs the guest, and reports to the supervisor.
struct HypervisorProcess {
    let arguments: HypervisorArguments

    /// How long an exiting hypervisor lets in-flight monitor replies finish.
    static let replyGraceMilliseconds = 1_000

    /// Runs until the guest run ends; returns the exit status.
    func run() -> Int32 {
        // Before any thread exists, so every thread inherits the mask and only the waiter below sees them.
        _ = cvirt_block_termination_signals()
        do {
            try writePID()
            let configuration = try readConfiguration()
            // Everything the confined process needs to know about itself is asked before the filter is on.
            var allowed = Set(configuration.monitorClientUIDs)
            allowed.formUnion([0, getuid()])
            let machine = try MachineFactory.make(configuration)
            // Built from inherited descriptors: confine before any vCPU thread exists, let alone runs.
            try HypervisorConfinement.apply(rules: configuration.security?.seccompRules ?? SeccompAllowList.hypervisor)
            try machine.start(paused: arguments.paused)
            let shared = SharedMachine(machine: machine)
            let service = MonitorService(
                machine: shared, vcpus: configuration.hypervisor.vcpus, paused: arguments.paused)
            let server = FrameServer(
                listener: UnixSocketListener(adopting: arguments.monitorFD), allowedUIDs: allowed,
                handler: service.handle)
            try DetachedThread.start("the monitor") { server.serve() }
            try DetachedThread.start("termination signals") {
                let signal = cvirt_wait_termination_signal()
                printError("virt-kvm hypervisor \(getpid()): signal \(signal) received; stopping the guest")
                shared.machine.stop()
            }
            report(
                HypervisorReport(
                    event: .ready, serialPTYPath: machine.serialPTYPath, vcpuThreadIDs: machine.vcpuThreadIDs))
            let exit = machine.waitForExit()
            // Answer requests that raced with the guest's end before the process goes away.
            server.stop()
            _ = server.waitUntilIdle(timeoutMilliseconds: Self.replyGraceMilliseconds)
            report(HypervisorReport(event: .exit, guestExit: exit, shutdownRequested: service.shutdownRequested))
            return 0
        } catch {
            let message = (error as? VirtError)?.description ?? "\(error)"
            printError("virt-kvm hypervisor: \(message)")
            report(HypervisorReport(event: .error, message: message))
            return 1
        }
    }

    private func writePID() throws(VirtError) {
        defer { close(arguments.pidFD) }
        try SmallFile.writeAll(arguments.pidFD, Array("\(getpid())\n".utf8), what: "the hypervisor's pid file")
    }

    private func readConfiguration() throws(VirtError) -> SupervisorConfiguration {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        defer { close(arguments.configFD) }
        while true {
            let count = chunk.withUnsafeMutableBytes { read(arguments.configFD, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw SmallFile.failure("cannot read the configuration from descriptor \(arguments.configFD)")
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        do {
            return try SupervisorConfiguration.decodeJSON(bytes)
        } catch {
            throw VirtError(.internalError, .kvm, "the supervisor handed down an unreadable configuration: \(error)")
        }
    }

    private func report(_ report: HypervisorReport) {
        try? SmallFile.writeAll(arguments.reportFD, report.line(), what: "the report pipe")
    }
}

/// Writes a line to stderr (the domain's log once the supervisor redirected it).
func printError(_ line: String) {
    try? SmallFile.writeAll(2, Array((line + "\n").utf8), what: "stderr")
}
