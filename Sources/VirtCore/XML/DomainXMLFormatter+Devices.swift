/// `<cpu>`, `<devices>` and `<seclabel>` output.
extension DomainXMLFormatter {
    mutating func cpu(_ cpu: CPUDefinition) {
        let attributes: [(String, String?)] = [
            ("mode", cpu.mode?.rawValue), ("match", cpu.match?.rawValue), ("check", cpu.check?.rawValue),
            ("migratable", cpu.migratable?.rawValue),
        ]
        let hasChildren =
            cpu.model != nil || cpu.vendor != nil || cpu.topology != nil || !cpu.features.isEmpty
            || !cpu.numaCells.isEmpty
        guard hasChildren else {
            empty("cpu", attributes)
            return
        }
        open("cpu", attributes)
        if let model = cpu.model { text("model", model.name, [("fallback", model.fallback)]) }
        if let vendor = cpu.vendor { text("vendor", vendor) }
        if let topology = cpu.topology {
            empty(
                "topology",
                [
                    ("sockets", String(topology.sockets)), ("dies", String(topology.dies)),
                    ("cores", String(topology.cores)), ("threads", String(topology.threads)),
                ])
        }
        for feature in cpu.features { empty("feature", [("policy", feature.policy.rawValue), ("name", feature.name)]) }
        if !cpu.numaCells.isEmpty {
            open("numa")
            for cell in cpu.numaCells {
                let attributes: [(String, String?)] = [
                    ("id", String(cell.id)), ("cpus", cell.cpus?.description), ("memory", String(cell.memoryKiB)),
                    ("unit", "KiB"), ("memAccess", cell.memAccess?.rawValue), ("discard", cell.discard?.rawValue),
                ]
                guard !cell.distances.isEmpty else {
                    empty("cell", attributes)
                    continue
                }
                open("cell", attributes)
                open("distances")
                for distance in cell.distances {
                    empty("sibling", [("id", String(distance.id)), ("value", String(distance.value))])
                }
                close("distances")
                close("cell")
            }
            close("numa")
        }
        close("cpu")
    }

    mutating func devices(_ devices: Devices) {
        let isEmpty =
            devices.emulator == nil && devices.disks.isEmpty && devices.leases.isEmpty && devices.interfaces.isEmpty
            && devices.serials.isEmpty && devices.consoles.isEmpty
        guard !isEmpty else {
            empty("devices")
            return
        }
        open("devices")
        if let emulator = devices.emulator { text("emulator", emulator) }
        for disk in devices.disks { self.disk(disk) }
        for lease in devices.leases {
            open("lease")
            text("lockspace", lease.lockspace)
            text("key", lease.key)
            empty("target", [("path", lease.path), ("offset", lease.offset.flatMap { $0 == 0 ? nil : String($0) })])
            close("lease")
        }
        for interface in devices.interfaces { self.interface(interface) }
        for serial in devices.serials { charDevice("serial", serial) }
        for console in devices.consoles { charDevice("console", console) }
        close("devices")
    }

    private mutating func disk(_ disk: Disk) {
        open("disk", [("type", disk.type.rawValue), ("device", disk.device.rawValue)])
        if let driver = disk.driver {
            empty("driver", [("name", driver.name), ("type", driver.type), ("cache", driver.cache)])
        }
        if let source = disk.source {
            let attribute = disk.type == .file ? "file" : "dev"
            if disk.sourceSeclabels.isEmpty {
                empty("source", [(attribute, source)])
            } else {
                open("source", [(attribute, source)])
                for label in disk.sourceSeclabels { deviceSecurityLabel(label) }
                close("source")
            }
        }
        empty("target", [("dev", disk.target), ("bus", disk.bus)])
        if disk.readonly { empty("readonly") }
        if disk.shareable { empty("shareable") }
        if let serial = disk.serial { text("serial", serial) }
        if let order = disk.bootOrder { empty("boot", [("order", String(order))]) }
        close("disk")
    }

    private mutating func interface(_ interface: Interface) {
        open("interface", [("type", interface.type)])
        if let mac = interface.mac { empty("mac", [("address", mac)]) }
        if let attribute = interface.sourceAttribute, let value = interface.sourceValue {
            empty("source", [(attribute, value), ("mode", interface.sourceMode)])
        }
        if let target = interface.targetDev { empty("target", [("dev", target)]) }
        if let model = interface.model { empty("model", [("type", model)]) }
        close("interface")
    }

    private mutating func charDevice(_ name: String, _ device: CharDevice) {
        open(name, [("type", device.type.rawValue)])
        if let path = device.sourcePath {
            let attributes: [(String, String?)] = [
                ("mode", device.sourceMode), ("path", path), ("append", device.sourceAppend?.rawValue),
            ]
            if device.sourceSeclabels.isEmpty {
                empty("source", attributes)
            } else {
                open("source", attributes)
                for label in device.sourceSeclabels { deviceSecurityLabel(label) }
                close("source")
            }
        }
        if let file = device.logFile { empty("log", [("file", file), ("append", device.logAppend?.rawValue)]) }
        if device.targetType != nil || device.targetPort != nil {
            empty("target", [("type", device.targetType), ("port", device.targetPort.map(String.init))])
        }
        close(name)
    }

    private mutating func deviceSecurityLabel(_ label: DeviceSecurityLabel) {
        let skip = label.labelskip == .yes
        let attributes: [(String, String?)] = [
            ("model", label.model), ("labelskip", skip ? "yes" : nil),
            ("relabel", skip ? nil : (label.relabel ?? .yes).rawValue),
        ]
        guard let text = label.label else {
            empty("seclabel", attributes)
            return
        }
        open("seclabel", attributes)
        self.text("label", text)
        close("seclabel")
    }

    mutating func securityLabel(_ label: SecurityLabel) {
        let type = label.type ?? .dynamic
        if type == .none {
            empty("seclabel", [("type", type.rawValue), ("model", label.model)])
            return
        }
        let relabel = label.relabel ?? YesNo(type == .dynamic)
        let attributes: [(String, String?)] = [
            ("type", type.rawValue), ("model", label.model), ("relabel", relabel.rawValue),
        ]
        let image = relabel == .yes ? label.imageLabel : nil
        let base = type == .dynamic ? label.baseLabel : nil
        guard label.label != nil || image != nil || base != nil else {
            empty("seclabel", attributes)
            return
        }
        open("seclabel", attributes)
        if let value = label.label { text("label", value) }
        if let value = image { text("imagelabel", value) }
        if let value = base { text("baselabel", value) }
        close("seclabel")
    }
}
