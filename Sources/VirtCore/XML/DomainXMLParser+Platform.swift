/// `<os>`, `<features>`, `<clock>` and `<seclabel>`.
extension DomainXMLParser {
    /// The `<os><type>` values libvirt's schema knows.
    static let osTypes: Set<String> = ["hvm", "linux", "xen", "exe"]

    mutating func parseOS(_ element: XMLElement) throws(VirtError) -> OSConfig {
        try reader.checkAttributes(element, [])
        try reader.checkNoText(element)
        var os = OSConfig()
        var seen: [String] = []
        for child in element.children {
            guard !child.hasNamespace, ["type", "kernel", "initrd", "cmdline", "boot"].contains(child.name) else {
                try reader.unknownElement(child)
                continue
            }
            if child.name != "boot" {
                guard try reader.first(child, seen: &seen) else { continue }
            }
            switch child.name {
            case "type":
                try reader.checkAttributes(child, ["arch", "machine"])
                for grandchild in child.children { try reader.unknownElement(grandchild) }
                let type = child.text.trimmingSpaces
                guard Self.osTypes.contains(type) else {
                    throw reader.xmlError(
                        "unknown OS type '\(type)'; expected hvm (or linux, xen, exe for other hypervisors)", child)
                }
                os.type = type
                os.arch = child.attribute("arch")
                os.machine = child.attribute("machine")
                if let machine = os.machine, machine.isEmpty || !machine.allSatisfy(Self.isMachineCharacter) {
                    throw reader.xmlError(
                        "invalid machine type '\(machine)': use letters, digits, '_', '.' and '-'", child)
                }
            case "kernel":
                try reader.checkEmptyAttributes(child)
                os.kernel = child.text
            case "initrd":
                try reader.checkEmptyAttributes(child)
                os.initrd = child.text
            case "cmdline":
                try reader.checkEmptyAttributes(child)
                os.cmdline = child.text
            default:
                try reader.checkEmpty(child, attributes: ["dev"])
                let dev = try reader.required(child, "dev")
                guard let device = OSConfig.BootDevice(rawValue: dev) else {
                    throw reader.xmlError(
                        "Invalid value for attribute 'dev' in element 'boot': '\(dev)'. Expected hd, fd, cdrom or "
                            + "network", child)
                }
                os.bootDevices.append(device)
            }
        }
        guard seen.contains("type") else {
            throw reader.xmlError("an os <type> must be specified: add <type>hvm</type> to <os>", element)
        }
        return os
    }

    private static func isMachineCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || "_.-".contains(character))
    }

    mutating func parseFeatures(_ element: XMLElement) throws(VirtError) -> Features {
        try reader.checkAttributes(element, [])
        try reader.checkNoText(element)
        var features = Features()
        var seen: [String] = []
        for child in element.children {
            guard !child.hasNamespace, ["acpi", "apic", "pae"].contains(child.name) else {
                try reader.unknownElement(child)
                continue
            }
            guard try reader.first(child, seen: &seen) else { continue }
            try reader.checkEmpty(child)
            switch child.name {
            case "acpi": features.acpi = true
            case "apic": features.apic = true
            default: features.pae = true
            }
        }
        return features
    }

    /// `<timer name>` values.
    static let timerNames: Set<String> = [
        "platform", "rtc", "tsc", "hpet", "pit", "kvmclock", "hypervclock", "armvtimer",
    ]
    /// `<timer tickpolicy>` values.
    static let tickPolicies: Set<String> = ["delay", "catchup", "merge", "discard"]

    mutating func parseClock(_ element: XMLElement) throws(VirtError) -> Clock {
        try reader.checkAttributes(element, ["offset", "adjustment", "timezone", "basis"])
        try reader.checkNoText(element)
        var clock = Clock()
        clock.offset = try reader.optionalEnum(Clock.Offset.self, element, "offset") ?? .utc
        clock.adjustment = element.attribute("adjustment")
        clock.timezone = element.attribute("timezone")
        clock.basis = element.attribute("basis")
        switch clock.offset {
        case .variable:
            if let adjustment = clock.adjustment, Int64(adjustment) == nil {
                throw reader.xmlError("invalid clock adjustment '\(adjustment)': expected seconds", element)
            }
            if let basis = clock.basis, basis != "utc", basis != "localtime" {
                throw reader.xmlError("invalid clock basis '\(basis)': expected 'utc' or 'localtime'", element)
            }
            clock.adjustment = clock.adjustment ?? "0"
            clock.basis = clock.basis ?? "utc"
        case .utc, .localtime:
            if let adjustment = clock.adjustment, adjustment != "reset" {
                throw reader.xmlError(
                    "clock adjustment '\(adjustment)' needs offset='variable' (only 'reset' is allowed here)", element)
            }
        case .timezone:
            guard let zone = clock.timezone, !zone.isEmpty else {
                throw reader.xmlError("clock offset='timezone' needs a 'timezone' attribute", element)
            }
        case .absolute:
            break
        }
        if clock.timezone != nil, clock.offset != .timezone {
            throw reader.xmlError("the 'timezone' attribute needs offset='timezone'", element)
        }
        if clock.basis != nil, clock.offset != .variable {
            throw reader.xmlError("the 'basis' attribute needs offset='variable'", element)
        }
        for child in element.children {
            guard child.name == "timer", !child.hasNamespace else {
                try reader.unknownElement(child)
                continue
            }
            try reader.checkEmpty(child, attributes: ["name", "tickpolicy", "present"])
            let name = try reader.required(child, "name")
            guard Self.timerNames.contains(name) else {
                throw reader.xmlError("unknown timer name '\(name)'", child)
            }
            let policy = child.attribute("tickpolicy")
            if let policy, !Self.tickPolicies.contains(policy) {
                throw reader.xmlError(
                    "unknown timer tickpolicy '\(policy)'; expected delay, catchup, merge or discard", child)
            }
            clock.timers.append(
                Clock.Timer(name: name, tickpolicy: policy, present: try reader.yesNo(child, "present")))
        }
        return clock
    }

    // MARK: Security labels

    mutating func parseSecurityLabel(_ element: XMLElement) throws(VirtError) -> SecurityLabel {
        try reader.checkAttributes(element, ["type", "model", "relabel"])
        try reader.checkNoText(element)
        var label = SecurityLabel(
            type: try reader.optionalEnum(SecurityLabel.LabelType.self, element, "type"),
            model: element.attribute("model"))
        label.relabel = try reader.yesNo(element, "relabel")
        var seen: [String] = []
        var text: [String: String] = [:]
        for child in element.children {
            guard !child.hasNamespace, ["label", "imagelabel", "baselabel"].contains(child.name) else {
                try reader.unknownElement(child)
                continue
            }
            guard try reader.first(child, seen: &seen) else { continue }
            try reader.checkEmptyAttributes(child)
            text[child.name] = child.text
        }
        if label.type == nil, text["baselabel"] != nil { label.type = .dynamic }
        // An inactive definition keeps only what the user may set: dynamic labels are generated at start and
        // image labels always are, so those elements (from a live dumpxml) are ignored as libvirt does.
        if label.type == .static || label.type == SecurityLabel.LabelType.none || keepGeneratedLabels {
            label.label = text["label"]
        }
        if keepGeneratedLabels { label.imageLabel = text["imagelabel"] }
        label.baseLabel = text["baselabel"]
        return label
    }

    mutating func parseDeviceSecurityLabel(_ element: XMLElement) throws(VirtError) -> DeviceSecurityLabel {
        try reader.checkAttributes(element, ["model", "relabel", "labelskip"])
        try reader.checkNoText(element)
        var label = DeviceSecurityLabel(
            model: element.attribute("model"), relabel: try reader.yesNo(element, "relabel"))
        _ = try reader.yesNo(element, "labelskip")
        var seen: [String] = []
        for child in element.children {
            guard child.name == "label", !child.hasNamespace else {
                try reader.unknownElement(child)
                continue
            }
            guard try reader.first(child, seen: &seen) else { continue }
            try reader.checkEmptyAttributes(child)
            label.label = child.text
        }
        if label.relabel == .no, label.label != nil {
            throw reader.xmlError("Cannot specify a label if relabelling is turned off", element)
        }
        if label.relabel != .no, label.label == nil {
            throw reader.xmlError(
                "a per-device <seclabel> needs relabel='no' or a <label> (labelskip is output-only)", element)
        }
        return label
    }
}
