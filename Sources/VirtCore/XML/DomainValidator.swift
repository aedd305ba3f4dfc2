/// Semantic validation of a defaulted definition: the rules libvirt enforces, plus the stricter ones
/// swift-virt adds where libvirt only warns or silently adjusts (each message says so).
public enum DomainValidator {
    /// The longest domain name accepted, in UTF-8 bytes (a file-name component on most filesystems).
    public static let maxNameBytes = 255

    /// Throws the first rule `definition` breaks.
    public static func validate(_ definition: DomainDefinition) throws(VirtError) {
        try identity(definition)
        try memory(definition)
        try vcpus(definition)
        try cputune(definition)
        try cpu(definition)
        try numatune(definition)
        try hugepages(definition)
        try lifecycle(definition)
        try os(definition)
        try devices(definition)
        try securityLabels(definition)
    }

    static func xml(_ message: String) -> VirtError { VirtError(.xmlError, .xml, message) }
    static func unsupported(_ message: String) -> VirtError { VirtError(.configUnsupported, .xml, message) }

    private static func identity(_ definition: DomainDefinition) throws(VirtError) {
        let name = definition.name
        if name.contains("/") { throw xml("name \(name) cannot contain '/'") }
        if name.contains(where: { $0 == "\n" || $0 == "\r" }) {
            throw xml("name '\(name.split(whereSeparator: \.isNewline).first ?? "")...' cannot contain a newline")
        }
        if name.utf8.count > maxNameBytes {
            throw xml(
                "name '\(name.prefix(32))...' is \(name.utf8.count) bytes long; the limit is \(maxNameBytes) bytes")
        }
        if let title = definition.title, title.contains(where: \.isNewline) {
            throw xml("Domain title can't contain newlines")
        }
    }

    private static func memory(_ definition: DomainDefinition) throws(VirtError) {
        if definition.currentMemoryKiB > definition.memoryKiB {
            throw unsupported(
                "currentMemory \(definition.currentMemoryKiB) KiB is larger than memory \(definition.memoryKiB) KiB; "
                    + "libvirt silently lowers it, swift-virt requires currentMemory <= memory")
        }
        if let max = definition.maxMemory {
            if max.slots < 1 {
                throw unsupported("both maximum memory size and memory slot count must be specified (slots >= 1)")
            }
            if max.kib < definition.memoryKiB {
                throw unsupported(
                    "maximum memory size must be equal or greater than the actual memory size (maxMemory "
                        + "\(max.kib) KiB < memory \(definition.memoryKiB) KiB)")
            }
        }
    }

    private static func lifecycle(_ definition: DomainDefinition) throws(VirtError) {
        for (name, action) in [("on_poweroff", definition.onPoweroff), ("on_reboot", definition.onReboot)]
        where action == .coredumpDestroy || action == .coredumpRestart {
            throw unsupported("unknown \(name) action: \(action.rawValue) (coredump actions are only for on_crash)")
        }
        guard definition.type == .kvm || definition.type == .qemu else { return }
        if definition.onPoweroff == .restart, definition.onReboot == .destroy {
            throw unsupported("Setting on_poweroff=restart and on_reboot=destroy isn't supported by the kvm driver")
        }
        for (name, action) in [
            ("on_poweroff", definition.onPoweroff), ("on_reboot", definition.onReboot),
            ("on_crash", definition.onCrash),
        ] where action == .renameRestart {
            throw unsupported("\(name) action 'rename-restart' is only supported by the libxl driver, not kvm")
        }
    }

    private static func os(_ definition: DomainDefinition) throws(VirtError) {
        for (what, path) in [
            ("<kernel>", definition.os.kernel), ("<initrd>", definition.os.initrd),
            ("<emulator>", definition.devices.emulator),
        ] {
            if let path, !path.hasPrefix("/") { throw xml("\(what) '\(path)' must be an absolute path") }
        }
        if definition.os.initrd != nil, definition.os.kernel == nil {
            throw xml("<initrd> needs a <kernel> (direct kernel boot)")
        }
        let bootOrders = definition.devices.disks.compactMap(\.bootOrder)
        if !bootOrders.isEmpty, !definition.os.bootDevices.isEmpty {
            throw xml("per-device boot elements cannot be used together with os/boot elements")
        }
        var seen = Set<Int>()
        for order in bootOrders where !seen.insert(order).inserted {
            throw xml("boot order '\(order)' used for more than one device")
        }
    }

    private static func devices(_ definition: DomainDefinition) throws(VirtError) {
        let disks = definition.devices.disks
        for (i, disk) in disks.enumerated() {
            for other in disks[(i + 1)...] where other.target == disk.target {
                throw xml(
                    "target '\(disk.target)' duplicated for disk sources '\(disk.source ?? "<null>")' and "
                        + "'\(other.source ?? "<null>")'")
            }
            if let source = disk.source, !source.hasPrefix("/") {
                throw xml("disk '\(disk.target)' source '\(source)' must be an absolute path")
            }
            if disk.device == .cdrom, disk.bus == "virtio" {
                throw unsupported("disk '\(disk.target)': a cdrom cannot use bus 'virtio'")
            }
        }
        for (kind, list) in [("serial", definition.devices.serials), ("console", definition.devices.consoles)] {
            var ports = Set<Int>()
            for device in list {
                if let port = device.targetPort, !ports.insert(port).inserted {
                    throw xml("\(kind) target port \(port) is used by more than one <\(kind)>")
                }
                if let path = device.sourcePath, !path.hasPrefix("/") {
                    throw xml("\(kind) source path '\(path)' must be an absolute path")
                }
            }
        }
        for lease in definition.devices.leases where !lease.path.hasPrefix("/") {
            throw xml("lease '\(lease.key)' target path '\(lease.path)' must be an absolute path")
        }
    }

    /// The security models swift-virt knows (`none` is the model of libvirt's nop driver, as live XML shows it).
    static let securityModels: Set<String> = ["selinux", "dac", "apparmor", "none"]

    private static func securityLabels(_ definition: DomainDefinition) throws(VirtError) {
        var models = Set<String>()
        for label in definition.seclabels {
            if let model = label.model {
                guard securityModels.contains(model) else {
                    throw xml("unknown security model '\(model)'; expected selinux, dac, apparmor or none")
                }
                guard models.insert(model).inserted else {
                    throw xml("seclabel for model \(model) is already provided")
                }
            } else if definition.seclabels.count > 1 {
                throw xml("missing security model when using multiple labels")
            }
            switch label.type ?? .dynamic {
            case .static:
                if label.label == nil { throw xml("security label is missing (type='static' needs a <label>)") }
                if label.baseLabel != nil { throw xml("<baselabel> is only allowed with type='dynamic'") }
            case .none:
                if label.relabel == .yes {
                    throw unsupported("resource relabeling is not compatible with 'none' label type")
                }
                if label.label != nil || label.baseLabel != nil {
                    throw xml("a seclabel of type 'none' cannot have a <label> or <baselabel>")
                }
            case .dynamic:
                if label.relabel == .no {
                    throw unsupported("dynamic label type must use resource relabeling (remove relabel='no')")
                }
            }
        }
        let deviceLabels =
            definition.devices.disks.flatMap(\.sourceSeclabels)
            + definition.devices.serials.flatMap(\.sourceSeclabels)
            + definition.devices.consoles.flatMap(\.sourceSeclabels)
        for label in deviceLabels {
            if let model = label.model, !securityModels.contains(model) {
                throw xml("unknown security model '\(model)' in a device <seclabel>")
            }
        }
    }
}
