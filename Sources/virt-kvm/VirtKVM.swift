import KVM
import VirtBase

#if canImport(Glibc)
    import Glibc
#endif

/// Dispatches `virt-kvm`'s modes (see `Command`).
enum VirtKVM {
    static func main(_ arguments: [String]) -> Int32 {
        // Peers that vanish must not kill us: socket sends use MSG_NOSIGNAL, pipes rely on this.
        signal(SIGPIPE, SIG_IGN)
        let command: Command
        do {
            command = try Command.parse(arguments)
        } catch {
            printError(error.description)
            return 2
        }
        switch command {
        case .help:
            try? SmallFile.writeAll(1, Array((Command.usage + "\n").utf8), what: "stdout")
            return 0
        case .supervise(let path):
            return Launcher(configPath: path).run()
        case .supervisor(let configFD, let readyFD):
            return runSupervisor(configFD: configFD, readyFD: readyFD)
        case .hypervisor(let arguments):
            return HypervisorProcess(arguments: arguments).run()
        }
    }

    private static func runSupervisor(configFD: Int32, readyFD: Int32) -> Int32 {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(configFD, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        close(configFD)
        // No configuration at all: the start that launched this supervisor ahead of it was abandoned.
        if bytes.isEmpty { return 0 }
        let configuration: SupervisorConfiguration
        do {
            configuration = try SupervisorConfiguration.decodeJSON(bytes)
        } catch {
            printError("virt-kvm supervisor: unreadable configuration on descriptor \(configFD): \(error)")
            return 1
        }
        return Supervisor(configuration: configuration, readyFD: readyFD).run()
    }
}
