import CVirtShims
import KVM
import VirtBase

#if canImport(Glibc)
    import Glibc
#endif

/// The supervisor opens every file the guest uses and hands the descriptors down, so the hypervisor never
/// needs to reach a path (and, once it runs as another user, never needs the permission to).
/// Opened afresh for each hypervisor run, so a restart gets files at offset 0 and the run's own flags.
struct DescriptorHandOff {
    /// The configuration with `fd` set on every file source the supervisor opened.
    private(set) var configuration: HypervisorConfiguration
    /// The descriptors to keep across exec (and to close in the supervisor once the child runs).
    private(set) var descriptors: [Int32] = []

    /// The KVM device the supervisor opens for a `kvm` machine.
    static let kvmDevicePath = "/dev/kvm"

    /// Opens kernel, initrd, disks and the serial port's files, and the KVM device when `openKVM` is set.
    /// On failure nothing stays open.
    init(_ configuration: HypervisorConfiguration, openKVM: Bool) throws(VirtError) {
        self.configuration = configuration
        do {
            let name = configuration.name
            if openKVM && configuration.kvmDevice == nil {
                // Where the device cannot be opened the hypervisor tries itself, and its error explains
                // what is missing (module, permissions, nested virtualization).
                let fd = Glibc.open(Self.kvmDevicePath, O_RDWR | O_CLOEXEC)
                if fd >= 0 {
                    descriptors.append(fd)
                    self.configuration.kvmDevice = FileSource(path: Self.kvmDevicePath, fd: fd)
                }
            }
            self.configuration.kernel = try open(configuration.kernel, O_RDONLY, "kernel", name)
            if let initrd = configuration.initrd {
                self.configuration.initrd = try open(initrd, O_RDONLY, "initrd", name)
            }
            for index in configuration.disks.indices {
                let disk = configuration.disks[index]
                self.configuration.disks[index].source = try open(
                    disk.source, disk.readonly ? O_RDONLY : O_RDWR, "disk '\(disk.target)'", name)
            }
            if configuration.serial.kind == .pty && configuration.serial.source?.fd == nil {
                self.configuration.serial.source = try allocatePTY(name)
            }
            if configuration.serial.kind == .file, let source = configuration.serial.source {
                self.configuration.serial.source = try open(source, O_WRONLY | O_APPEND | O_CREAT, "serial file", name)
            }
            if let log = configuration.serial.logFile {
                self.configuration.serial.logFile = try open(log, O_WRONLY | O_APPEND | O_CREAT, "serial log", name)
            }
        } catch {
            closeAll()
            throw error
        }
    }

    /// Closes the supervisor's copies (the hypervisor has its own after exec).
    func closeAll() {
        descriptors.forEach { _ = close($0) }
    }

    /// A fresh pty for the serial console, its master handed down: the confined hypervisor may not open
    /// `/dev/ptmx` (nor the slave's path when it waits for a console to drain at the guest's end).
    private mutating func allocatePTY(_ domain: String) throws(VirtError) -> FileSource {
        var path = [CChar](repeating: 0, count: 256)
        let fd = cvirt_open_pty(&path, path.count)
        guard fd >= 0 else {
            throw SmallFile.failure(
                "cannot allocate a pty for the serial console of domain '\(domain)' (is /dev/pts mounted?)")
        }
        descriptors.append(fd)
        let slave = String(decoding: path.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return FileSource(path: slave, fd: fd)
    }

    private mutating func open(_ source: FileSource, _ flags: Int32, _ what: String, _ domain: String)
        throws(VirtError) -> FileSource
    {
        // A descriptor the driver already passed is the caller's business: keep it as it is.
        if source.fd != nil { return source }
        let fd = Glibc.open(source.path, flags | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SmallFile.failure("cannot open \(what) '\(source.path)' of domain '\(domain)'") }
        descriptors.append(fd)
        return FileSource(path: source.path, fd: fd)
    }
}
