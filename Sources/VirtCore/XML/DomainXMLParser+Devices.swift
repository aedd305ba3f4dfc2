/// `<devices>`: emulator, disks, leases, interfaces, serials and consoles.
extension DomainXMLParser {
    /// `<interface type>` values libvirt's schema knows (only a few are usable here).
    static let interfaceTypes: Set<String> = [
        "network", "bridge", "direct", "user", "ethernet", "vhostuser", "hostdev", "vdpa", "mcast", "server",
        "client", "udp", "null", "vds", "internal",
    ]
    /// Host interface names that are generated at start, not configuration (libvirt's `VIR_NET_GENERATED_*`).
    static let generatedInterfacePrefixes = ["vnet", "macvtap", "macvlan"]
    /// `<driver cache>` values.
    static let diskCacheModes: Set<String> = [
        "default", "none", "writeback", "writethrough", "directsync", "unsafe",
    ]
    /// `<target bus>` values for disks.
    static let diskBuses: Set<String> = ["ide", "fdc", "scsi", "virtio", "xen", "usb", "sata", "sd"]

    mutating func parseDevices(_ element: XMLElement) throws(VirtError) -> Devices {
        try reader.checkAttributes(element, [])
        try reader.checkNoText(element)
        var devices = Devices()
        var seenEmulator = false
        for child in element.children {
            if child.hasNamespace {
                try reader.unknownElement(child)
                continue
            }
            switch child.name {
            case "emulator":
                if seenEmulator {
                    try reader.reject("duplicate element <emulator> (only one is allowed)", child)
                    continue
                }
                seenEmulator = true
                try reader.checkEmptyAttributes(child)
                devices.emulator = child.text.trimmingSpaces
            case "disk": devices.disks.append(try parseDisk(child))
            case "lease": devices.leases.append(try parseLease(child))
            case "interface": devices.interfaces.append(try parseInterface(child))
            case "serial": devices.serials.append(try parseCharDevice(child))
            case "console": devices.consoles.append(try parseCharDevice(child))
            default: try reader.unknownElement(child)
            }
        }
        return devices
    }

    private mutating func parseDisk(_ element: XMLElement) throws(VirtError) -> Disk {
        try reader.checkAttributes(element, ["type", "device"])
        try reader.checkNoText(element)
        let type = try reader.optionalEnum(Disk.DiskType.self, element, "type") ?? .file
        let device = try reader.optionalEnum(Disk.DiskDevice.self, element, "device") ?? .disk
        var disk = Disk(type: type, device: device, source: nil, target: "")
        var seen: [String] = []
        var sawTarget = false
        for child in element.children {
            let known = ["driver", "source", "target", "readonly", "shareable", "serial", "boot"]
            guard !child.hasNamespace, known.contains(child.name) else {
                try reader.unknownElement(child)
                continue
            }
            guard try reader.first(child, seen: &seen) else { continue }
            switch child.name {
            case "driver":
                try reader.checkEmpty(child, attributes: ["name", "type", "cache"])
                if let cache = child.attribute("cache"), !Self.diskCacheModes.contains(cache) {
                    throw reader.xmlError(
                        "unknown disk cache mode '\(cache)'; expected default, none, writeback, writethrough, "
                            + "directsync or unsafe", child)
                }
                disk.driver = Disk.Driver(
                    name: child.attribute("name"), type: child.attribute("type"), cache: child.attribute("cache"))
            case "source":
                let attribute = type == .file ? "file" : "dev"
                try reader.checkAttributes(child, [attribute])
                try reader.checkNoText(child)
                disk.source = child.attribute(attribute)
                for grandchild in child.children {
                    guard grandchild.name == "seclabel", !grandchild.hasNamespace else {
                        try reader.unknownElement(grandchild)
                        continue
                    }
                    disk.sourceSeclabels.append(try parseDeviceSecurityLabel(grandchild))
                }
            case "target":
                try reader.checkEmpty(child, attributes: ["dev", "bus"])
                disk.target = try reader.required(child, "dev")
                guard Self.isDiskTarget(disk.target) else {
                    throw reader.xmlError(
                        "invalid disk target '\(disk.target)': expected a name such as vda, sda, hdc or xvdb", child)
                }
                if let bus = child.attribute("bus") {
                    guard Self.diskBuses.contains(bus) else {
                        throw reader.xmlError(
                            "unknown disk bus '\(bus)'; expected ide, fdc, scsi, virtio, xen, usb, sata or sd", child)
                    }
                    disk.bus = bus
                }
                sawTarget = true
            case "readonly":
                try reader.checkEmpty(child)
                disk.readonly = true
            case "shareable":
                try reader.checkEmpty(child)
                disk.shareable = true
            case "serial":
                try reader.checkEmptyAttributes(child)
                let serial = child.text
                guard !serial.isEmpty, serial.allSatisfy(Self.isSerialCharacter) else {
                    throw reader.xmlError(
                        "invalid disk serial '\(serial)': use letters, digits, space and _ . + -", child)
                }
                disk.serial = serial
            default:
                try reader.checkEmpty(child, attributes: ["order"])
                let order = try reader.requiredInteger(child, "order")
                guard order >= 1 else { throw reader.xmlError("boot order must be 1 or more", child) }
                disk.bootOrder = order
            }
        }
        guard sawTarget else {
            throw reader.xmlError("missing target information for disk: add <target dev='vda' bus='virtio'/>", element)
        }
        if disk.source == nil, device == .disk {
            throw reader.xmlError(
                "disk '\(disk.target)' has no source: a disk needs <source \(type == .file ? "file" : "dev")='...'/> "
                    + "(only a cdrom may be empty)", element)
        }
        return disk
    }

    /// libvirt's `diskTargetDev` pattern: `(ioemu:)?(fd|hd|sd|vd|xvd|ubd)[a-zA-Z0-9_]+`.
    static func isDiskTarget(_ name: String) -> Bool {
        var rest = Substring(name)
        if rest.hasPrefix("ioemu:") { rest = rest.dropFirst("ioemu:".count) }
        for prefix in ["xvd", "ubd", "fd", "hd", "sd", "vd"] where rest.hasPrefix(prefix) {
            let tail = rest.dropFirst(prefix.count)
            return !tail.isEmpty && tail.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
        }
        return false
    }

    private static func isSerialCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || " _.+-".contains(character))
    }

    private mutating func parseLease(_ element: XMLElement) throws(VirtError) -> Lease {
        try reader.checkAttributes(element, [])
        try reader.checkNoText(element)
        var values: [String: String] = [:]
        var path: String?
        var offset: UInt64?
        var seen: [String] = []
        for child in element.children {
            guard !child.hasNamespace, ["lockspace", "key", "target"].contains(child.name) else {
                try reader.unknownElement(child)
                continue
            }
            guard try reader.first(child, seen: &seen) else { continue }
            if child.name == "target" {
                try reader.checkEmpty(child, attributes: ["path", "offset"])
                path = try reader.required(child, "path")
                if let text = child.attribute("offset") {
                    guard let value = UInt64(text.trimmingSpaces) else {
                        throw reader.xmlError("invalid lease offset '\(text)': expected a byte offset", child)
                    }
                    offset = value == 0 ? nil : value
                }
            } else {
                try reader.checkEmptyAttributes(child)
                values[child.name] = child.text.trimmingSpaces
            }
        }
        guard let key = values["key"], !key.isEmpty else {
            throw reader.xmlError("Missing 'key' element for lease", element)
        }
        guard let lockspace = values["lockspace"], !lockspace.isEmpty else {
            throw reader.xmlError("Missing 'lockspace' element for lease '\(key)'", element)
        }
        guard let path else { throw reader.xmlError("Missing 'target' element for lease '\(key)'", element) }
        return Lease(lockspace: lockspace, key: key, path: path, offset: offset)
    }

    private mutating func parseInterface(_ element: XMLElement) throws(VirtError) -> Interface {
        try reader.checkAttributes(element, ["type"])
        try reader.checkNoText(element)
        let type = try reader.required(element, "type")
        guard Self.interfaceTypes.contains(type) else {
            throw reader.xmlError("unknown interface type '\(type)'", element)
        }
        var interface = Interface(type: type)
        var seen: [String] = []
        for child in element.children {
            guard !child.hasNamespace, ["mac", "source", "model", "target"].contains(child.name) else {
                try reader.unknownElement(child)
                continue
            }
            guard try reader.first(child, seen: &seen) else { continue }
            switch child.name {
            case "mac":
                try reader.checkEmpty(child, attributes: ["address"])
                let address = try reader.required(child, "address")
                guard let normalized = MACAddress.normalize(address) else {
                    throw reader.xmlError("unable to parse mac address '\(address)'", child)
                }
                guard !MACAddress.isMulticast(normalized) else {
                    throw reader.xmlError("expected unicast mac address, found multicast '\(address)'", child)
                }
                interface.mac = normalized
            case "source":
                let attribute: String? =
                    switch type {
                    case "network": "network"
                    case "bridge": "bridge"
                    case "direct": "dev"
                    default: nil
                    }
                try reader.checkEmpty(child, attributes: attribute == "dev" ? ["dev", "mode"] : [attribute ?? ""])
                if let attribute {
                    interface.sourceAttribute = attribute
                    interface.sourceValue = try reader.required(child, attribute)
                    interface.sourceMode = child.attribute("mode")
                }
            case "model":
                try reader.checkEmpty(child, attributes: ["type"])
                interface.model = try reader.required(child, "type")
            default:
                try reader.checkEmpty(child, attributes: ["dev"])
                let dev = try reader.required(child, "dev")
                // Names the host generates at start (vnetN, macvtapN, macvlanN) are live state; libvirt drops
                // them from an inactive definition so the next start can choose afresh.
                if !Self.generatedInterfacePrefixes.contains(where: { dev.hasPrefix($0) }) {
                    interface.targetDev = dev
                }
            }
        }
        if interface.sourceAttribute == nil, ["network", "bridge", "direct"].contains(type) {
            throw reader.xmlError(
                "interface type='\(type)' needs a <source> naming the \(type == "direct" ? "dev" : type)", element)
        }
        return interface
    }

    private mutating func parseCharDevice(_ element: XMLElement) throws(VirtError) -> CharDevice {
        try reader.checkAttributes(element, ["type"])
        try reader.checkNoText(element)
        let type = try reader.enumValue(
            CharDevice.CharType.self, try reader.required(element, "type"), element, attribute: "type")
        var device = CharDevice(type: type)
        var seen: [String] = []
        for child in element.children {
            guard !child.hasNamespace, ["source", "target", "log"].contains(child.name) else {
                try reader.unknownElement(child)
                continue
            }
            guard try reader.first(child, seen: &seen) else { continue }
            switch child.name {
            case "source":
                let allowed: [String] =
                    switch type {
                    case .pty: ["path"]
                    case .file: ["path", "append"]
                    case .unix: ["path", "mode"]
                    }
                try reader.checkAttributes(child, allowed)
                try reader.checkNoText(child)
                // A pty's path is chosen at start and shown in live XML; it is read here (live status XML keeps
                // it) and dropped again when a definition is stored (`DomainDefinition.removingLiveValues`).
                device.sourcePath = child.attribute("path")
                if type == .file { device.sourceAppend = try reader.onOff(child, "append") }
                if type == .unix, let mode = child.attribute("mode") {
                    guard mode == "bind" || mode == "connect" else {
                        throw reader.xmlError("invalid unix socket mode '\(mode)'; expected bind or connect", child)
                    }
                    device.sourceMode = mode
                }
                for grandchild in child.children {
                    guard grandchild.name == "seclabel", !grandchild.hasNamespace, type != .pty else {
                        try reader.unknownElement(grandchild)
                        continue
                    }
                    device.sourceSeclabels.append(try parseDeviceSecurityLabel(grandchild))
                }
            case "target":
                try reader.checkEmpty(child, attributes: ["type", "port"])
                device.targetType = child.attribute("type")
                device.targetPort = try reader.optionalInteger(child, "port")
            default:
                try reader.checkEmpty(child, attributes: ["file", "append"])
                device.logFile = try reader.required(child, "file")
                device.logAppend = try reader.onOff(child, "append")
            }
        }
        if type != .pty, device.sourcePath == nil {
            throw reader.xmlError(
                "Missing source path attribute for char device: <\(element.name) type='\(type.rawValue)'> needs "
                    + "<source path='...'/>", element)
        }
        return device
    }
}
