/// Writes a definition as canonical domain XML: libvirt's element and attribute order, two-space indent,
/// single-quoted attributes, memory in KiB. Formatting a parsed document and parsing it again is a fixed point.
struct DomainXMLFormatter {
    /// `<metadata>` children sit at this libxml2 indent level (two spaces each) below `<domain>`.
    static let metadataLevel = 2

    private(set) var out = ""
    private var depth = 0

    init() { out.reserveCapacity(4096) }

    // MARK: Building blocks

    mutating func open(_ name: String, _ attributes: [(String, String?)] = []) {
        indent()
        out += "<" + name
        appendAttributes(attributes)
        out += ">\n"
        depth += 1
    }

    mutating func close(_ name: String) {
        depth -= 1
        indent()
        out += "</" + name + ">\n"
    }

    mutating func empty(_ name: String, _ attributes: [(String, String?)] = []) {
        indent()
        out += "<" + name
        appendAttributes(attributes)
        out += "/>\n"
    }

    mutating func text(_ name: String, _ value: String, _ attributes: [(String, String?)] = []) {
        indent()
        out += "<" + name
        appendAttributes(attributes)
        out += ">"
        Self.escape(value, into: &out)
        out += "</" + name + ">\n"
    }

    mutating func raw(_ line: String) {
        indent()
        out += line
        out += "\n"
    }

    private mutating func indent() {
        for _ in 0..<depth { out += "  " }
    }

    private mutating func appendAttributes(_ attributes: [(String, String?)]) {
        for (name, value) in attributes {
            guard let value else { continue }
            out += " " + name + "='"
            Self.escape(value, into: &out)
            out += "'"
        }
    }

    /// libvirt's `virBufferEscapeString`: `< > & ' "` as entities; other control characters than tab, newline
    /// and carriage return are dropped (XML 1.0 cannot carry them).
    static func escape(_ value: String, into out: inout String) {
        var needsWork = false
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "\""):
                needsWork = true
            case 0..<0x20 where byte != 0x09 && byte != 0x0A && byte != 0x0D:
                needsWork = true
            default: continue
            }
            if needsWork { break }
        }
        guard needsWork else {
            out += value
            return
        }
        for scalar in value.unicodeScalars {
            switch scalar {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "'": out += "&apos;"
            case "\"": out += "&quot;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                if scalar.value >= 0x20 { out.unicodeScalars.append(scalar) }
            }
        }
    }

    // MARK: Document

    mutating func domain(_ definition: DomainDefinition, id: Int?) {
        open("domain", [("type", definition.type.rawValue), ("id", id.map(String.init))])
        text("name", definition.name)
        text("uuid", DomainUUID.format(definition.uuid))
        if let title = definition.title { text("title", title) }
        if let description = definition.description { text("description", description) }
        if !definition.metadata.isEmpty {
            open("metadata")
            for element in definition.metadata { raw(element) }
            close("metadata")
        }
        if let max = definition.maxMemory {
            text("maxMemory", String(max.kib), [("slots", String(max.slots)), ("unit", "KiB")])
        }
        text(
            "memory", String(definition.memoryKiB),
            [("dumpCore", definition.memoryDumpCore?.rawValue), ("unit", "KiB")])
        text("currentMemory", String(definition.currentMemoryKiB), [("unit", "KiB")])
        if let backing = definition.memoryBacking { memoryBacking(backing) }
        vcpu(definition.vcpu)
        if let iothreads = definition.iothreads { text("iothreads", String(iothreads)) }
        if let tune = definition.cputune { cputune(tune, vcpus: definition.vcpu.count) }
        if let tune = definition.numatune { numatune(tune) }
        os(definition.os)
        if !definition.features.isEmpty {
            open("features")
            if definition.features.acpi { empty("acpi") }
            if definition.features.apic { empty("apic") }
            if definition.features.pae { empty("pae") }
            close("features")
        }
        if let cpu = definition.cpu { self.cpu(cpu) }
        clock(definition.clock)
        text("on_poweroff", definition.onPoweroff.rawValue)
        text("on_reboot", definition.onReboot.rawValue)
        text("on_crash", definition.onCrash.rawValue)
        if let action = definition.onLockfailure { text("on_lockfailure", action.rawValue) }
        devices(definition.devices)
        for label in definition.seclabels { securityLabel(label) }
        close("domain")
    }

    private mutating func memoryBacking(_ backing: MemoryBacking) {
        open("memoryBacking")
        if let pages = backing.hugepages {
            if pages.isEmpty {
                empty("hugepages")
            } else {
                open("hugepages")
                for page in pages {
                    empty(
                        "page",
                        [("size", String(page.sizeKiB)), ("unit", "KiB"), ("nodeset", page.nodeset?.description)])
                }
                close("hugepages")
            }
        }
        if backing.nosharepages { empty("nosharepages") }
        if backing.locked { empty("locked") }
        if let source = backing.source { empty("source", [("type", source.rawValue)]) }
        if let access = backing.access { empty("access", [("mode", access.rawValue)]) }
        if let allocation = backing.allocation {
            empty(
                "allocation", [("mode", allocation.mode?.rawValue), ("threads", allocation.threads.map(String.init))])
        }
        if backing.discard { empty("discard") }
        close("memoryBacking")
    }

    private mutating func vcpu(_ vcpu: VCPUConfig) {
        text(
            "vcpu", String(vcpu.count),
            [
                ("placement", (vcpu.placement ?? .static).rawValue),
                ("cpuset", vcpu.placement == .auto ? nil : vcpu.cpuset?.description),
                ("current", vcpu.current.flatMap { $0 == vcpu.count ? nil : String($0) }),
            ])
    }

    private mutating func cputune(_ tune: CPUTune, vcpus: Int) {
        open("cputune")
        if let shares = tune.shares { text("shares", String(shares)) }
        if let period = tune.period { text("period", String(period)) }
        if let quota = tune.quota { text("quota", String(quota)) }
        if let period = tune.emulatorPeriod { text("emulator_period", String(period)) }
        if let quota = tune.emulatorQuota { text("emulator_quota", String(quota)) }
        for pin in tune.vcpupins.sorted(by: { $0.vcpu < $1.vcpu }) {
            empty("vcpupin", [("vcpu", String(pin.vcpu)), ("cpuset", pin.cpuset.description)])
        }
        if let pin = tune.emulatorpin { empty("emulatorpin", [("cpuset", pin.description)]) }
        for pin in tune.iothreadpins.sorted(by: { $0.iothread < $1.iothread }) {
            empty("iothreadpin", [("iothread", String(pin.iothread)), ("cpuset", pin.cpuset.description)])
        }
        var perVCPU: [(Int, VCPUSched)] = []
        for sched in tune.vcpuscheds {
            for vcpu in (sched.vcpus ?? CPUSet(0..<vcpus)).members { perVCPU.append((vcpu, sched)) }
        }
        for (vcpu, sched) in perVCPU.sorted(by: { $0.0 < $1.0 }) {
            empty(
                "vcpusched",
                [
                    ("vcpus", String(vcpu)), ("scheduler", sched.scheduler.rawValue),
                    ("priority", sched.priority.map(String.init)),
                ])
        }
        close("cputune")
    }

    private mutating func numatune(_ tune: NUMATune) {
        open("numatune")
        if let memory = tune.memory {
            let auto = memory.placement == .auto
            empty(
                "memory",
                [
                    ("mode", (memory.mode ?? .strict).rawValue), ("placement", auto ? "auto" : nil),
                    ("nodeset", memory.nodeset?.description),
                ])
        }
        for node in tune.memnodes.sorted(by: { $0.cellID < $1.cellID }) {
            empty(
                "memnode",
                [("cellid", String(node.cellID)), ("mode", node.mode.rawValue), ("nodeset", node.nodeset.description)])
        }
        close("numatune")
    }

    private mutating func os(_ os: OSConfig) {
        open("os")
        text("type", os.type, [("arch", os.arch), ("machine", os.machine)])
        if let kernel = os.kernel { text("kernel", kernel) }
        if let initrd = os.initrd { text("initrd", initrd) }
        if let cmdline = os.cmdline { text("cmdline", cmdline) }
        for device in os.bootDevices { empty("boot", [("dev", device.rawValue)]) }
        close("os")
    }

    private mutating func clock(_ clock: Clock) {
        let attributes: [(String, String?)] = [
            ("offset", clock.offset.rawValue), ("adjustment", clock.adjustment), ("basis", clock.basis),
            ("timezone", clock.timezone),
        ]
        guard !clock.timers.isEmpty else {
            empty("clock", attributes)
            return
        }
        open("clock", attributes)
        for timer in clock.timers {
            empty(
                "timer", [("name", timer.name), ("tickpolicy", timer.tickpolicy), ("present", timer.present?.rawValue)])
        }
        close("clock")
    }
}
