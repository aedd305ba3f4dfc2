import Foundation

/// Reads a `<domain>` element tree into a `DomainDefinition` (the model step of the pipeline; defaults and
/// semantic validation come after). Strict mode rejects anything it does not model; lax mode drops it.
struct DomainXMLParser {
    var reader: DomainXMLReader

    /// What the document said explicitly, for the post-parse step.
    struct Presence {
        var memory = false
        var currentMemoryKiB: UInt64?
    }
    var presence = Presence()
    /// Keep the output-only `<label>` of dynamic labels and `<imagelabel>` (live status, not definitions).
    var keepGeneratedLabels = false

    init(strict: Bool, sourceName: String) {
        reader = DomainXMLReader(strict: strict, sourceName: sourceName)
    }

    private static let domainChildren = [
        "name", "uuid", "title", "description", "metadata", "maxMemory", "memory", "currentMemory", "memoryBacking",
        "vcpu", "iothreads", "cputune", "numatune", "os", "features", "cpu", "clock", "on_poweroff", "on_reboot",
        "on_crash", "on_lockfailure", "devices", "seclabel",
    ]

    mutating func parseDomain(_ root: XMLElement) throws(VirtError) -> DomainDefinition {
        guard root.name == "domain", !root.hasNamespace else {
            throw reader.xmlError(
                "the document's root element is <\(root.qualifiedName)>, expected <domain>", root)
        }
        try reader.checkAttributes(root, ["type", "id"])
        guard let typeText = root.attribute("type") else {
            throw VirtError(
                .internalError, .xml,
                "missing domain type attribute: <domain> needs type='kvm' or type='test'\(reader.location(root))")
        }
        guard let type = DomainType(rawValue: typeText) else {
            let allowed = DomainType.allCases.map(\.rawValue).joined(separator: ", ")
            throw VirtError(
                .internalError, .xml,
                "invalid domain type '\(typeText)'\(reader.location(root)); expected one of \(allowed)")
        }
        if let id = root.attribute("id") { _ = try reader.integer(id, root, "attribute 'id' of <domain>") }
        try reader.checkNoText(root)

        // The uuid is filled below (from the document, or generated): no random draw for documents that have one.
        var definition = DomainDefinition(type: type, name: "", uuid: Self.placeholderUUID, memoryKiB: 0)
        var uuid: UUID?
        var seen: [String] = []
        for child in root.children {
            let name = child.name
            if child.hasNamespace || !Self.domainChildren.contains(name) {
                try reader.unknownElement(child)
                continue
            }
            if name != "seclabel" {
                guard try reader.first(child, seen: &seen) else { continue }
            }
            switch name {
            case "name":
                try reader.checkEmptyAttributes(child)
                definition.name = child.text
            case "uuid":
                try reader.checkEmptyAttributes(child)
                uuid = try parseUUID(child)
            case "title":
                try reader.checkEmptyAttributes(child)
                definition.title = child.text
            case "description":
                try reader.checkEmptyAttributes(child)
                definition.description = child.text
            case "metadata": definition.metadata = try parseMetadata(child)
            case "maxMemory": definition.maxMemory = try parseMaxMemory(child)
            case "memory":
                try reader.checkAttributes(child, ["unit", "dumpCore"])
                definition.memoryKiB = try scaledElement(child)
                definition.memoryDumpCore = try reader.onOff(child, "dumpCore")
                presence.memory = true
            case "currentMemory":
                try reader.checkAttributes(child, ["unit"])
                presence.currentMemoryKiB = try scaledElement(child)
            case "memoryBacking": definition.memoryBacking = try parseMemoryBacking(child)
            case "vcpu": definition.vcpu = try parseVCPU(child)
            case "iothreads":
                try reader.checkEmptyAttributes(child)
                definition.iothreads = try reader.integer(child.text, child, "<iothreads>")
            case "cputune": definition.cputune = try parseCPUTune(child)
            case "numatune": definition.numatune = try parseNUMATune(child)
            case "os": definition.os = try parseOS(child)
            case "features": definition.features = try parseFeatures(child)
            case "cpu": definition.cpu = try parseCPU(child)
            case "clock": definition.clock = try parseClock(child)
            case "on_poweroff": definition.onPoweroff = try lifecycle(child, allowCoredump: false)
            case "on_reboot": definition.onReboot = try lifecycle(child, allowCoredump: false)
            case "on_crash": definition.onCrash = try lifecycle(child, allowCoredump: true)
            case "on_lockfailure":
                try reader.checkEmptyAttributes(child)
                let text = child.text.trimmingSpaces
                guard let action = LockFailureAction(rawValue: text) else {
                    throw VirtError(
                        .configUnsupported, .xml,
                        "unknown on_lockfailure action: \(text)\(reader.location(child)); expected poweroff, "
                            + "restart, pause or ignore")
                }
                definition.onLockfailure = action
            case "devices": definition.devices = try parseDevices(child)
            case "seclabel": definition.seclabels.append(try parseSecurityLabel(child))
            default: try reader.unknownElement(child)
            }
        }
        if definition.name.isEmpty {
            throw VirtError(
                .noName, .xml,
                "missing name information: <domain> has no <name> (or an empty one)"
                    + " in \(reader.sourceName)")
        }
        if !seen.contains("os") {
            throw VirtError(
                .xmlError, .xml,
                "an os <type> must be specified: add <os><type>hvm</type></os> to <domain> in \(reader.sourceName)")
        }
        definition.uuid = uuid ?? DomainUUID.random()
        return definition
    }

    // MARK: Identity

    private static let placeholderUUID = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))

    private func parseUUID(_ element: XMLElement) throws(VirtError) -> UUID {
        let text = element.text.trimmingSpaces
        guard let uuid = DomainUUID.parse(text) else {
            throw VirtError(
                .internalError, .xml,
                "malformed uuid element: '\(text)' is neither 32 hex digits nor the 8-4-4-4-12 form"
                    + reader.location(element))
        }
        return uuid
    }

    private mutating func parseMetadata(_ element: XMLElement) throws(VirtError) -> [String] {
        try reader.checkAttributes(element, [])
        try reader.checkNoText(element)
        var result: [String] = []
        for child in element.children {
            guard child.hasNamespace else {
                try reader.reject(
                    "metadata element <\(child.name)> without a namespace (libvirt drops it; give it an xmlns)", child)
                continue
            }
            result.append(child.serialized(level: DomainXMLFormatter.metadataLevel))
        }
        return result
    }

    // MARK: Memory values

    /// `<memory unit='...'>N</memory>`-style element text, in KiB.
    func scaledElement(_ element: XMLElement) throws(VirtError) -> UInt64 {
        let xpath = "./\(element.name)[1]"
        do {
            let value = try MemoryUnit.parseValue(element.text, xpath: xpath)
            return try MemoryUnit.kibibytes(value, unit: element.attribute("unit"), what: "<\(element.name)>")
        } catch {
            throw VirtError(error.code, .xml, error.message + reader.location(element))
        }
    }

    /// A scaled attribute (`<page size='2' unit='M'>`, `<cell memory='2' unit='GiB'>`), in KiB.
    func scaledAttribute(_ element: XMLElement, _ attribute: String) throws(VirtError) -> UInt64 {
        let text = try reader.required(element, attribute)
        do {
            let value = try MemoryUnit.parseValue(text, xpath: "./@\(attribute)")
            return try MemoryUnit.kibibytes(
                value, unit: element.attribute("unit"), what: "attribute '\(attribute)' of <\(element.name)>")
        } catch {
            throw VirtError(error.code, .xml, error.message + reader.location(element))
        }
    }

    private mutating func parseMaxMemory(_ element: XMLElement) throws(VirtError) -> MaxMemory {
        try reader.checkAttributes(element, ["slots", "unit"])
        guard element.attribute("slots") != nil else {
            throw reader.xmlError("<maxMemory> needs a 'slots' attribute (the number of hot-plug slots)", element)
        }
        return MaxMemory(slots: try reader.requiredInteger(element, "slots"), kib: try scaledElement(element))
    }

    // MARK: Lifecycle

    private mutating func lifecycle(_ element: XMLElement, allowCoredump: Bool) throws(VirtError)
        -> LifecycleAction
    {
        try reader.checkEmptyAttributes(element)
        let text = element.text.trimmingSpaces
        let action = LifecycleAction(rawValue: text)
        let coredump = action == .coredumpDestroy || action == .coredumpRestart
        guard let action, allowCoredump || !coredump else {
            let allowed = LifecycleAction.allCases.filter {
                allowCoredump || ($0 != .coredumpDestroy && $0 != .coredumpRestart)
            }.map(\.rawValue).joined(separator: ", ")
            throw VirtError(
                .configUnsupported, .xml,
                "unknown \(element.name) action: \(text)\(reader.location(element)); expected one of \(allowed)")
        }
        return action
    }
}

extension DomainXMLReader {
    /// For elements that carry only text: no attributes and no child elements.
    mutating func checkEmptyAttributes(_ element: XMLElement) throws(VirtError) {
        try checkAttributes(element, [])
        for child in element.children { try unknownElement(child) }
    }
}
