/// `<vcpu>`, `<cputune>` and `<cpu>`.
extension DomainXMLParser {
    /// The largest vCPU count libvirt's schema allows (`countCPU` is an unsignedShort).
    static let maxVCPUs = Int(UInt16.max)

    mutating func parseVCPU(_ element: XMLElement) throws(VirtError) -> VCPUConfig {
        try reader.checkAttributes(element, ["placement", "cpuset", "current"])
        for child in element.children { try reader.unknownElement(child) }
        let count = try vcpuCount(element.text, element, what: "<vcpu>")
        var config = VCPUConfig(count: count)
        if let current = element.attribute("current") {
            config.current = try vcpuCount(current, element, what: "attribute 'current' of <vcpu>")
        }
        if let placement = element.attribute("placement") {
            guard let value = Placement(rawValue: placement) else {
                throw VirtError(
                    .configUnsupported, .xml,
                    "Unsupported CPU placement mode '\(placement)'\(reader.location(element)); "
                        + "expected 'static' or 'auto'")
            }
            config.placement = value
        }
        config.cpuset = try reader.cpuset(element, "cpuset")
        return config
    }

    private func vcpuCount(_ text: String, _ element: XMLElement, what: String) throws(VirtError) -> Int {
        guard let value = Int(text.trimmingSpaces), value >= 1, value <= Self.maxVCPUs else {
            throw reader.xmlError(
                "Invalid value '\(text)' for \(what): expected a vCPU count between 1 and \(Self.maxVCPUs)", element)
        }
        return value
    }

    mutating func parseCPUTune(_ element: XMLElement) throws(VirtError) -> CPUTune {
        try reader.checkAttributes(element, [])
        try reader.checkNoText(element)
        var tune = CPUTune()
        var seen: [String] = []
        for child in element.children {
            if child.hasNamespace {
                try reader.unknownElement(child)
                continue
            }
            switch child.name {
            case "shares", "period", "quota", "emulator_period", "emulator_quota", "emulatorpin":
                guard try reader.first(child, seen: &seen) else { continue }
                if child.name == "emulatorpin" {
                    try reader.checkEmpty(child, attributes: ["cpuset"])
                    tune.emulatorpin = try requiredCPUSet(child)
                    continue
                }
                try reader.checkEmptyAttributes(child)
                let text = child.text.trimmingSpaces
                switch child.name {
                case "shares": tune.shares = try unsigned(text, child)
                case "period": tune.period = try unsigned(text, child).flatMap { $0 == 0 ? nil : $0 }
                case "emulator_period": tune.emulatorPeriod = try unsigned(text, child).flatMap { $0 == 0 ? nil : $0 }
                case "quota": tune.quota = try signed(text, child).flatMap { $0 == 0 ? nil : $0 }
                default: tune.emulatorQuota = try signed(text, child).flatMap { $0 == 0 ? nil : $0 }
                }
            case "vcpupin":
                try reader.checkEmpty(child, attributes: ["vcpu", "cpuset"])
                let vcpu = try reader.requiredInteger(child, "vcpu", max: Self.maxVCPUs)
                if tune.vcpupins.contains(where: { $0.vcpu == vcpu }) {
                    throw VirtError(
                        .internalError, .xml,
                        "duplicate vcpupin for vcpu '\(vcpu)'\(reader.location(child)); pin each vCPU once")
                }
                tune.vcpupins.append(VCPUPin(vcpu: vcpu, cpuset: try requiredCPUSet(child)))
            case "iothreadpin":
                try reader.checkEmpty(child, attributes: ["iothread", "cpuset"])
                let thread = try reader.requiredInteger(child, "iothread")
                if tune.iothreadpins.contains(where: { $0.iothread == thread }) {
                    throw VirtError(
                        .internalError, .xml, "duplicate iothreadpin for iothread '\(thread)'\(reader.location(child))")
                }
                tune.iothreadpins.append(IOThreadPin(iothread: thread, cpuset: try requiredCPUSet(child)))
            case "vcpusched":
                try reader.checkEmpty(child, attributes: ["vcpus", "scheduler", "priority"])
                let scheduler = try reader.enumValue(
                    VCPUSched.Scheduler.self, try reader.required(child, "scheduler"), child, attribute: "scheduler")
                let priority = try reader.optionalInteger(child, "priority")
                tune.vcpuscheds.append(
                    VCPUSched(vcpus: try reader.cpuset(child, "vcpus"), scheduler: scheduler, priority: priority))
            default:
                try reader.unknownElement(child)
            }
        }
        return tune
    }

    private func requiredCPUSet(_ element: XMLElement) throws(VirtError) -> CPUSet {
        guard let set = try reader.cpuset(element, "cpuset") else {
            throw reader.xmlError("missing required attribute 'cpuset' of <\(element.name)>", element)
        }
        return set
    }

    private func unsigned(_ text: String, _ element: XMLElement) throws(VirtError) -> UInt64? {
        guard let value = UInt64(text) else {
            throw reader.xmlError("can't parse cputune \(element.name) value '\(text)'", element)
        }
        return value
    }

    private func signed(_ text: String, _ element: XMLElement) throws(VirtError) -> Int64? {
        guard let value = Int64(text) else {
            throw reader.xmlError("can't parse cputune \(element.name) value '\(text)'", element)
        }
        return value
    }

    // MARK: <cpu>

    mutating func parseCPU(_ element: XMLElement) throws(VirtError) -> CPUDefinition {
        try reader.checkAttributes(element, ["mode", "match", "check", "migratable"])
        try reader.checkNoText(element)
        var cpu = CPUDefinition()
        cpu.mode = try reader.optionalEnum(CPUDefinition.Mode.self, element, "mode")
        cpu.match = try reader.optionalEnum(CPUDefinition.Match.self, element, "match")
        cpu.check = try reader.optionalEnum(CPUDefinition.Check.self, element, "check")
        cpu.migratable = try reader.onOff(element, "migratable")
        var seen: [String] = []
        for child in element.children {
            guard !child.hasNamespace, ["model", "vendor", "topology", "feature", "numa"].contains(child.name) else {
                try reader.unknownElement(child)
                continue
            }
            if child.name != "feature" {
                guard try reader.first(child, seen: &seen) else { continue }
            }
            switch child.name {
            case "model":
                try reader.checkAttributes(child, ["fallback"])
                for grandchild in child.children { try reader.unknownElement(grandchild) }
                if let fallback = child.attribute("fallback"), fallback != "allow", fallback != "forbid" {
                    throw reader.xmlError(
                        "invalid value '\(fallback)' for attribute 'fallback' of <model>; expected 'allow' or 'forbid'",
                        child)
                }
                cpu.model = CPUDefinition.Model(name: child.text.trimmingSpaces, fallback: child.attribute("fallback"))
            case "vendor":
                try reader.checkEmptyAttributes(child)
                cpu.vendor = child.text.trimmingSpaces
            case "topology":
                try reader.checkEmpty(child, attributes: ["sockets", "dies", "cores", "threads"])
                func positive(_ name: String) throws(VirtError) -> Int {
                    let value = try reader.requiredInteger(child, name, max: Self.maxVCPUs)
                    guard value >= 1 else {
                        throw reader.xmlError("Invalid CPU topology: '\(name)' must be at least 1", child)
                    }
                    return value
                }
                let dies = child.attribute("dies") == nil ? 1 : try positive("dies")
                cpu.topology = CPUDefinition.Topology(
                    sockets: try positive("sockets"), dies: dies, cores: try positive("cores"),
                    threads: try positive("threads"))
            case "feature":
                try reader.checkEmpty(child, attributes: ["policy", "name"])
                let policy =
                    try reader.optionalEnum(CPUDefinition.Feature.Policy.self, child, "policy") ?? .require
                cpu.features.append(CPUDefinition.Feature(policy: policy, name: try reader.required(child, "name")))
            default:
                cpu.numaCells = try parseNUMACells(child)
            }
        }
        return cpu
    }

    private mutating func parseNUMACells(_ element: XMLElement) throws(VirtError) -> [CPUDefinition.NUMACell] {
        try reader.checkAttributes(element, [])
        try reader.checkNoText(element)
        var cells: [CPUDefinition.NUMACell] = []
        for child in element.children {
            guard child.name == "cell", !child.hasNamespace else {
                try reader.unknownElement(child)
                continue
            }
            try reader.checkAttributes(child, ["id", "cpus", "memory", "unit", "memAccess", "discard"])
            try reader.checkNoText(child)
            let id = try reader.optionalInteger(child, "id") ?? cells.count
            var cell = CPUDefinition.NUMACell(
                id: id, cpus: try reader.cpuset(child, "cpus"), memoryKiB: try scaledAttribute(child, "memory"))
            cell.memAccess = try reader.optionalEnum(MemoryBacking.Access.self, child, "memAccess")
            cell.discard = try reader.yesNo(child, "discard")
            var seenDistances = false
            for grandchild in child.children {
                guard grandchild.name == "distances", !grandchild.hasNamespace, !seenDistances else {
                    try reader.unknownElement(grandchild)
                    continue
                }
                seenDistances = true
                try reader.checkAttributes(grandchild, [])
                try reader.checkNoText(grandchild)
                for sibling in grandchild.children {
                    guard sibling.name == "sibling", !sibling.hasNamespace else {
                        try reader.unknownElement(sibling)
                        continue
                    }
                    try reader.checkEmpty(sibling, attributes: ["id", "value"])
                    let value = try reader.requiredInteger(sibling, "value")
                    guard (10...255).contains(value) else {
                        throw reader.xmlError(
                            "'value' \(value) of <sibling> must be a NUMA distance in range [10, 255]", sibling)
                    }
                    cell.distances.append(
                        CPUDefinition.NUMACell.Distance(id: try reader.requiredInteger(sibling, "id"), value: value))
                }
            }
            cells.append(cell)
        }
        return cells
    }
}
