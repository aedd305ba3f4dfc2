import Glibc
import KVM
import VirtBase

@testable import KVMDriver

/// A temporary run/log directory tree and simulated-machine configurations for process tests; removes
/// the tree (and kills any process it started that is still around) when the test ends.
final class DomainProcessFixture {
    let root: String
    let kernel: String
    private var started: [DomainProcess] = []

    init() throws {
        var template = Array("/tmp/virt-proc-test-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw VirtError(.systemError, .kvm, "mkdtemp failed") }
        root = String(cString: made)
        kernel = root + "/kernel"
        try SmallFile.writeAtomically(kernel, Array("not a real kernel".utf8))
    }

    deinit {
        for process in started where process.supervisor.isAlive() {
            process.destroy()
        }
        removeTree(root)
    }

    /// The `virt-kvm` built beside the test bundle.
    var executable: String {
        get throws { try DomainProcess.locateExecutable() }
    }

    /// A simulated domain's supervisor configuration.
    func configuration(
        name: String = "guest1", runDirectory: String? = nil, onPoweroff: GuestExitAction = .destroy,
        onReboot: GuestExitAction = .restart, onCrash: GuestExitAction = .destroy, cmdline: String = "",
        paused: Bool = false, kernel: String? = nil, vcpus: Int = 2, disks: [DiskConfiguration] = []
    ) -> SupervisorConfiguration {
        let files = RunFiles(
            name: name, uuid: "c7a5fdbd-cdaf-9455-926a-d65c16db1809", runDirectory: runDirectory ?? root + "/run",
            logDirectory: root + "/log", shortSocketDirectory: root + "/s")
        let guest = HypervisorConfiguration(
            name: name, uuid: "c7a5fdbd-cdaf-9455-926a-d65c16db1809", memoryBytes: 64 << 20, vcpus: vcpus,
            kernel: FileSource(path: kernel ?? self.kernel), cmdline: cmdline, disks: disks)
        return SupervisorConfiguration(
            runFiles: files, onPoweroff: onPoweroff, onReboot: onReboot, onCrash: onCrash, startPaused: paused,
            machine: .simulated, hypervisor: guest)
    }

    /// Starts a domain and remembers it for clean-up.
    func start(_ configuration: SupervisorConfiguration) throws(VirtError) -> DomainProcess {
        let process = try DomainProcess.start(configuration, executable: try DomainProcess.locateExecutable())
        started.append(process)
        return process
    }

    /// Polls `liveness()` until the domain ended; nil if it still runs after `seconds` (a bound, not a
    /// timing assertion: the supervisor normally reacts within milliseconds).
    func waitForEnd(_ process: DomainProcess, seconds: Int = 20) -> DomainExitStatus? {
        for _ in 0..<(seconds * 100) {
            if case .ended(let status) = process.liveness() { return status }
            usleep(10_000)
        }
        return nil
    }

    /// Polls until the supervisor replaced the hypervisor `previous` with a live one.
    func waitForRestart(_ process: DomainProcess, replacing previous: ProcessIdentity, seconds: Int = 20)
        -> DomainProcess?
    {
        for _ in 0..<(seconds * 100) {
            if case .running(let current) = process.liveness(), current.hypervisor != previous,
                current.hypervisor.isAlive(), (try? current.status()) != nil
            {
                return current
            }
            usleep(10_000)
        }
        return nil
    }

    /// The paths the process `pid` holds open, by descriptor number, with their open flags (octal text).
    func openFiles(_ pid: Int32) -> [String: String] {
        var files: [String: String] = [:]
        for fd in entries("/proc/\(pid)/fd") {
            var buffer = [CChar](repeating: 0, count: 4096)
            let length = readlink("/proc/\(pid)/fd/\(fd)", &buffer, buffer.count - 1)
            guard length > 0 else { continue }
            let path = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let info = (try? SmallFile.readText("/proc/\(pid)/fdinfo/\(fd)")) ?? nil
            let flags = info?.split(separator: "\n").first { $0.hasPrefix("flags:") }?.split(separator: "\t").last
            files[path] = flags.map(String.init) ?? ""
        }
        return files
    }

    /// The names in `directory` (empty when it does not exist).
    func entries(_ directory: String) -> [String] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    private func removeTree(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if info.st_mode & S_IFMT == S_IFDIR {
            for name in entries(path) { removeTree(path + "/" + name) }
            rmdir(path)
        } else {
            unlink(path)
        }
    }
}
