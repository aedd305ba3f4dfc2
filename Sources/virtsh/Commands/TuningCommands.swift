import Foundation
import VirtBase
import VirtCore

/// `vcpupin`, `emulatorpin` and `numatune`: virsh 9.0's options, checks in virsh's order, output and messages.
/// The `--json` flag changes the query forms' output only.
enum TuningCommands {
    static let config = OptionDefinition("config", .bool, "affect next boot")
    static let live = OptionDefinition("live", .bool, "affect running domain")
    static let current = OptionDefinition("current", .bool, "affect current domain")

    static let vcpupin = CommandDefinition(
        name: "vcpupin", group: .domain, summary: "control or query domain vcpu affinity",
        description: "Pin domain VCPUs to host physical CPUs.",
        options: [
            CommonOptions.domain(), OptionDefinition("vcpu", .number, "vcpu number"),
            OptionDefinition("cpulist", .string, "host cpu number(s) to set, or omit option to query"),
            config, live, current, CommonOptions.json,
        ], supportsJSON: true, handler: vcpupinCommand)

    static let emulatorpin = CommandDefinition(
        name: "emulatorpin", group: .domain, summary: "control or query domain emulator affinity",
        description: "Pin domain emulator threads to host physical CPUs.",
        options: [
            CommonOptions.domain(),
            OptionDefinition("cpulist", .string, "host cpu number(s) to set, or omit option to query"),
            config, live, current, CommonOptions.json,
        ], supportsJSON: true, handler: emulatorpinCommand)

    static let numatune = CommandDefinition(
        name: "numatune", group: .domain, summary: "Get or set numa parameters",
        description: "Get or set the current numa parameters for a guest domain.\n"
            + "    To get the numa parameters use following command: \n\n    virsh # numatune <domain>",
        options: [
            CommonOptions.domain(),
            OptionDefinition(
                "mode", .string,
                "NUMA mode, one of strict, preferred and interleave \n"
                    + "or a number from the virDomainNumatuneMemMode enum"),
            OptionDefinition("nodeset", .string, "NUMA node selections to set"),
            config, live, current, CommonOptions.json,
        ], supportsJSON: true, handler: numatuneCommand)

    // MARK: Shared checks

    /// virsh's `VSH_EXCLUSIVE_OPTIONS_VAR(current, live)` and `(current, config)`, then the flags.
    static func affect(_ context: CommandContext) throws -> DomainAffect {
        for other in ["live", "config"] where context.flag("current") && context.flag(other) {
            throw CommandFailure("Options --current and --\(other) are mutually exclusive")
        }
        var flags = DomainAffect.current
        if context.flag("config") { flags.insert(.config) }
        if context.flag("live") { flags.insert(.live) }
        return flags
    }

    /// virsh's `virshNodeGetCPUCount`: the host's present CPUs, the width of every CPU map it prints.
    static func hostCPUCount(_ context: CommandContext) throws -> Int {
        try context.connection().cpuMap().present
    }

    /// A CPU set as virsh prints a map of `maxCPU` CPUs (`virBitmapDataFormat` over whole bytes).
    static func mapText(_ cpus: CPUSet, maxCPU: Int) -> String {
        let bits = (maxCPU + 7) / 8 * 8
        return CPUSet(cpus.members.filter { $0 < bits }).description
    }

    /// virsh's `virshParseCPUList`: `r` is every host CPU; otherwise libvirt's list syntax with at most 1024 CPUs,
    /// not empty, and no CPU beyond the host's.
    static func parseCPUList(_ text: String, maxCPU: Int) throws -> CPUSet {
        if text.hasPrefix("r") { return CPUSet(0..<maxCPU) }
        let cpus: CPUSet
        do {
            cpus = try CPUSet.parsingBitmap(text, size: 1024)
        } catch {
            throw CommandFailure("Invalid cpulist '\(text)'", error.description)
        }
        guard let last = cpus.max else { throw CommandFailure("Invalid cpulist '\(text)'") }
        if last >= maxCPU { throw CommandFailure("CPU \(last) in cpulist '\(text)' exceed the maxcpu \(maxCPU)") }
        return cpus
    }

    /// An unsigned int option (`vshCommandOptUInt`); nil when absent.
    static func unsignedInt(_ context: CommandContext, _ name: String) throws -> Int? {
        guard let text = context.value(name) else { return nil }
        guard let value = try? OptionNumber.unsigned(text, option: name), value <= UInt64(UInt32.max) else {
            throw CommandFailure(OptionNumber.malformed(text, name))
        }
        return Int(value)
    }

    // MARK: vcpupin

    static func vcpupinCommand(_ context: CommandContext) throws {
        let flags = try affect(context)
        let cpulist = context.value("cpulist")
        if cpulist == nil && context.flag("live") && context.flag("config") {
            throw CommandFailure("Options --live and --config are mutually exclusive")
        }
        let vcpu = try unsignedInt(context, "vcpu")
        if cpulist != nil && vcpu == nil { throw CommandFailure("vcpupin: Missing vCPU number in pin mode.") }
        let maxCPU = try hostCPUCount(context)
        let domain = try context.domain()
        let connection = try context.connection()
        guard let cpulist, let vcpu else {
            return try vcpupinQuery(context, domain, vcpu: vcpu, maxCPU: maxCPU, flags: flags)
        }
        let cpus = try parseCPUList(cpulist, maxCPU: maxCPU)
        // Without any of --live, --config, --current virsh calls virDomainPinVcpu, the call without flags.
        let explicit = flags != .current || context.flag("current")
        try connection.pinVCPU(domain.uuid, vcpu: vcpu, cpus: cpus, flags: explicit ? flags : nil)
    }

    private static func vcpupinQuery(
        _ context: CommandContext, _ domain: DomainSummary, vcpu: Int?, maxCPU: Int, flags: DomainAffect
    ) throws {
        let connection = try context.connection()
        var countFlags = VCPUCountFlags(rawValue: flags.rawValue)
        countFlags.insert(.maximum)
        guard let count = try VCPUCommands.collectCount(context, domain, countFlags, checkState: true) else {
            throw CommandFailure(
                flags.contains(.live)
                    ? "cannot get vcpupin for offline domain" : "cannot get vcpupin for transient domain")
        }
        if let vcpu, vcpu >= count {
            let live = flags.contains(.live) || (!flags.contains(.config) && domain.id != nil)
            throw CommandFailure("vcpu \(vcpu) is out of range of \(live ? "live" : "persistent") cpu count \(count)")
        }
        let pins = Array(try connection.vcpuPinInfo(domain.uuid, flags: flags).prefix(count))
        let shown = pins.enumerated().filter { vcpu == nil || $0.offset == vcpu }
        if context.json {
            return try context.printJSON(
                VCPUPinJSON(
                    vcpus: shown.map { .init(vcpu: $0.offset, cpuAffinity: mapText($0.element, maxCPU: maxCPU)) }))
        }
        var table = TextTable("VCPU", "CPU Affinity")
        for (index, cpus) in shown { table.add([String(index), mapText(cpus, maxCPU: maxCPU)]) }
        context.print(table.render(quiet: context.quiet))
    }

    // MARK: emulatorpin

    static func emulatorpinCommand(_ context: CommandContext) throws {
        let flags = try affect(context)
        let given = context.flag("current") || context.flag("live") || context.flag("config")
        let domain = try context.domain()
        let cpulist = context.value("cpulist")
        let maxCPU = try hostCPUCount(context)
        let connection = try context.connection()
        guard let cpulist else {
            let cpus = try connection.emulatorPinInfo(domain.uuid, flags: flags)
            if context.json {
                return try context.printJSON(EmulatorPinJSON(cpuAffinity: mapText(cpus, maxCPU: maxCPU)))
            }
            context.printExtra("emulator: CPU Affinity\n----------------------------------\n       *: ")
            context.print(mapText(cpus, maxCPU: maxCPU) + "\n")
            return
        }
        let cpus = try parseCPUList(cpulist, maxCPU: maxCPU)
        // virsh pins the running domain when no flag says otherwise.
        try connection.pinEmulator(domain.uuid, cpus: cpus, flags: given ? flags : .live)
    }

    // MARK: numatune

    static func numatuneCommand(_ context: CommandContext) throws {
        let flags = try affect(context)
        let domain = try context.domain()
        var parameters = NUMATuneParameters()
        if context.value("nodeset") != nil { parameters.nodeset = try context.requiredValue("nodeset") }
        if context.value("mode") != nil {
            let text = try context.requiredValue("mode")
            if let mode = NUMATune.Mode(rawValue: text) {
                parameters.mode = NUMATuneParameters.modeNumber(mode)
            } else if let number = CInteger.parse(text) {
                parameters.mode = number
            } else {
                throw CommandFailure("Invalid mode: \(text)")
            }
        }
        let connection = try context.connection()
        if parameters.mode == nil && parameters.nodeset == nil {
            let values: (mode: Int, nodeset: String)
            do {
                values = try connection.numaParameters(domain.uuid, flags: flags)
            } catch let error as VirtError {
                throw CommandFailure("Unable to get numa parameters", error.description)
            }
            let modeName = NUMATuneParameters.modeName(values.mode)
            if context.json { return try context.printJSON(NUMATuneJSON(mode: modeName, nodeset: values.nodeset)) }
            context.print("numa_mode".padding(15) + ": " + (modeName ?? "(null)") + "\n")
            context.print("numa_nodeset".padding(15) + ": " + values.nodeset + "\n")
            return
        }
        do {
            try connection.setNumaParameters(domain.uuid, parameters, flags: flags)
        } catch let error as VirtError {
            throw CommandFailure("Unable to change numa parameters", error.description)
        }
    }
}

/// C's `strtol` with base 0 on a whole string (`virStrToLong_i(s, NULL, 0, …)`): decimal, `0x` hexadecimal or
/// leading-zero octal, an optional sign, nothing after the digits, within `int`.
enum CInteger {
    static func parse(_ text: String) -> Int? {
        var (negative, rest) = OptionNumber.leadingSign(text)
        var radix = 10
        if rest.hasPrefix("0x") || rest.hasPrefix("0X"), rest.count > 2 {
            radix = 16
            rest = rest.dropFirst(2)
        } else if rest.hasPrefix("0"), rest.count > 1 {
            radix = 8
            rest = rest.dropFirst()
        }
        guard !rest.isEmpty, let magnitude = Int64(rest, radix: radix), rest.first != "+", rest.first != "-" else {
            return nil
        }
        guard let value = Int32(exactly: negative ? -magnitude : magnitude) else { return nil }
        return Int(value)
    }
}
