import KVM
import VirtCore

/// Turns a domain definition into the hypervisor's plain configuration, refusing what the embedded
/// hypervisor cannot do with an error that names the element and what to write instead.
///
/// Descriptors are not opened here: the supervisor opens the files it hands down.
struct HypervisorConfigurationResolver {
    /// The domain being started.
    let definition: DomainDefinition

    func unsupported(_ message: String) -> VirtError {
        VirtError(.configUnsupported, .kvm, "cannot start domain '\(definition.name)': \(message)")
    }

    /// Resolves the whole configuration.
    func resolve() throws -> HypervisorConfiguration {
        guard definition.type == .kvm else {
            throw unsupported(
                "domain type '\(definition.type.rawValue)' is not handled by the kvm:// driver; "
                    + "use <domain type='kvm'>")
        }
        guard definition.os.type == "hvm" else {
            throw unsupported("OS type '\(definition.os.type)' is not supported; use <type>hvm</type>")
        }
        if !definition.devices.interfaces.isEmpty {
            throw unsupported(
                "network interfaces are not supported yet by the embedded hypervisor; remove the "
                    + "<interface> elements (\(definition.devices.interfaces.count)) to start it")
        }
        guard let kernel = definition.os.kernel else {
            throw unsupported(
                "it has no <kernel>; the embedded hypervisor boots by direct kernel boot: add "
                    + "<os><kernel>/path/to/vmlinux</kernel></os> (an ELF with a PVH note, or a bzImage)")
        }
        return HypervisorConfiguration(
            name: definition.name,
            uuid: definition.uuid.uuidString.lowercased(),
            memoryBytes: definition.memoryKiB * 1024,
            vcpus: definition.vcpu.currentCount,
            topology: topology(),
            cpuFeatures: cpuFeatures(),
            kernel: FileSource(path: kernel),
            initrd: definition.os.initrd.map { FileSource(path: $0) },
            cmdline: definition.os.cmdline ?? "",
            disks: try disks(),
            serial: try serial(),
            memoryBacking: try memoryBacking(),
            memoryCells: try memoryCells(),
            placement: try placement())
    }

    private func topology() -> HypervisorConfiguration.Topology? {
        guard let topology = definition.cpu?.topology else { return nil }
        return .init(sockets: topology.sockets, dies: topology.dies, cores: topology.cores, threads: topology.threads)
    }

    private func cpuFeatures() -> [HypervisorConfiguration.CPUFeature] {
        (definition.cpu?.features ?? []).compactMap { feature in
            switch feature.policy {
            case .disable, .forbid: .init(name: feature.name, policy: .disable)
            case .require, .force: .init(name: feature.name, policy: .require)
            case .optional: nil
            }
        }
    }

    private func disks() throws -> [DiskConfiguration] {
        try definition.devices.disks.map { disk in
            if let bus = disk.bus, bus != "virtio" {
                throw unsupported(
                    "disk '\(disk.target)' uses bus '\(bus)'; the embedded hypervisor offers virtio disks only: "
                        + "use <target dev='vd…' bus='virtio'/>")
            }
            guard let source = disk.source else {
                throw unsupported("disk '\(disk.target)' has no source; empty drives are not supported")
            }
            if let format = disk.driver?.type, format != "raw" {
                throw unsupported(
                    "disk '\(disk.target)' has format '\(format)'; only raw images are supported: "
                        + "convert it with 'qemu-img convert -O raw' or use <driver type='raw'/>")
            }
            return DiskConfiguration(
                source: FileSource(path: source), readonly: !disk.isWritable, serial: disk.serial,
                target: disk.target)
        }
    }

    private func serial() throws -> SerialConfiguration {
        let serials = definition.devices.serials
        guard serials.count <= 1 else {
            throw unsupported(
                "it has \(serials.count) <serial> devices; the embedded hypervisor has one UART (COM1): keep one")
        }
        // A lone <console type='serial'> describes the same COM1 port, as libvirt pairs them.
        guard let port = serials.first ?? definition.devices.consoles.first else { return .init(kind: .none) }
        if let number = port.targetPort, number != 0 {
            throw unsupported("serial port \(number) does not exist; the embedded hypervisor has COM1 (port 0) only")
        }
        let log = port.logFile.map { FileSource(path: $0) }
        switch port.type {
        case .pty:
            return .init(kind: .pty, logFile: log)
        case .file:
            guard let path = port.sourcePath else {
                throw unsupported("<serial type='file'> needs <source path='/path/to/file'/>")
            }
            return .init(kind: .file, source: FileSource(path: path), logFile: log)
        case .unix:
            guard let path = port.sourcePath else {
                throw unsupported("<serial type='unix'> needs <source mode='bind' path='/path/to/socket'/>")
            }
            return .init(kind: .unix, source: FileSource(path: path), logFile: log)
        }
    }
}
