import KVM
import VirtBase

#if canImport(Glibc)
    import Glibc
#endif

/// The `supervise` mode (for people and scripts; the driver starts the supervisor directly the same way):
/// reads the supervisor configuration, starts the supervisor detached (double spawn, its own session, so
/// it outlives the caller and its terminal), waits until it reports the guest ready or failed, and
/// prints that `LaunchReport` as one JSON line. Exit status 0 when ready, 1 otherwise.
struct Launcher {
    let configPath: String

    func run() -> Int32 {
        do {
            let bytes = try readConfiguration()
            let configuration: SupervisorConfiguration
            do {
                configuration = try SupervisorConfiguration.decodeJSON(bytes)
            } catch {
                throw VirtError(.invalidArgument, .kvm, "supervisor configuration '\(configPath)': \(error)")
            }
            return try launch(configuration, bytes)
        } catch {
            emit(LaunchReport(supervisor: nil, hypervisor: nil, error: "\(error)"))
            return 1
        }
    }

    private func launch(_ configuration: SupervisorConfiguration, _ bytes: [UInt8]) throws(VirtError) -> Int32 {
        let config = try ChildProcess.pipe()
        let ready = try ChildProcess.pipe()
        var options = ChildProcess.Options()
        options.keep = [config.read, ready.write]
        options.detach = true
        let pid: Int32
        do {
            pid = try ChildProcess.spawn(
                "/proc/self/exe",
                ["virt-kvm", "supervisor", "--config-fd", "\(config.read)", "--ready-fd", "\(ready.write)"],
                options: options)
        } catch {
            close(config.read)
            close(config.write)
            close(ready.read)
            close(ready.write)
            throw error
        }
        close(config.read)
        close(ready.write)
        try? SmallFile.writeAll(config.write, bytes, what: "the configuration pipe")
        close(config.write)
        let line = try ChildProcess.readLine(ready.read, timeoutMilliseconds: nil)
        close(ready.read)
        guard let line, let report = try? LaunchReport.decodeJSON(Array(line.utf8)) else {
            throw VirtError(
                .operationFailed, .kvm,
                "the supervisor of domain '\(configuration.hypervisor.name)' (pid \(pid)) ended before the guest "
                    + "was ready; see '\(configuration.runFiles.logFile)'")
        }
        emit(report)
        return report.error == nil ? 0 : 1
    }

    private func readConfiguration() throws(VirtError) -> [UInt8] {
        if configPath == "-" {
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 16 * 1024)
            while true {
                let count = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
                if count < 0 {
                    if errno == EINTR { continue }
                    throw SmallFile.failure("cannot read the supervisor configuration from stdin")
                }
                if count == 0 { return bytes }
                bytes.append(contentsOf: chunk[0..<count])
            }
        }
        guard let bytes = try SmallFile.read(configPath) else {
            throw VirtError(.invalidArgument, .kvm, "supervisor configuration '\(configPath)' does not exist")
        }
        return bytes
    }

    private func emit(_ report: LaunchReport) {
        try? SmallFile.writeAll(1, report.jsonLine(), what: "stdout")
    }
}
