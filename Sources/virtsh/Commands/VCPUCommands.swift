import Foundation
import VirtBase
import VirtCore

/// `vcpuinfo`, `vcpucount` and `schedinfo`: virsh 9.0's options, checks in virsh's order, output and messages.
enum VCPUCommands {
    static let vcpuinfo = CommandDefinition(
        name: "vcpuinfo", group: .domain, summary: "detailed domain vcpu information",
        description: "Returns basic information about the domain virtual CPUs.",
        options: [
            CommonOptions.domain(), OptionDefinition("pretty", .bool, "return human readable output"),
            CommonOptions.json,
        ], supportsJSON: true, handler: vcpuinfoCommand)

    static let vcpucount = CommandDefinition(
        name: "vcpucount", group: .domain, summary: "domain vcpu counts",
        description: "Returns the number of virtual CPUs used by the domain.",
        options: [
            CommonOptions.domain(), OptionDefinition("maximum", .bool, "get maximum count of vcpus"),
            OptionDefinition("active", .bool, "get number of currently active vcpus"),
            OptionDefinition("live", .bool, "get value from running domain"),
            OptionDefinition("config", .bool, "get value to be used on next boot"),
            OptionDefinition("current", .bool, "get value according to current domain state"),
            OptionDefinition("guest", .bool, "retrieve vcpu count from the guest instead of the hypervisor"),
            CommonOptions.json,
        ], supportsJSON: true, handler: vcpucountCommand)

    static let schedinfo = CommandDefinition(
        name: "schedinfo", group: .domain, summary: "show/set scheduler parameters",
        description: "Show/Set scheduler parameters.",
        options: [
            CommonOptions.domain(),
            OptionDefinition("weight", .number, "weight for XEN_CREDIT", positional: false),
            OptionDefinition("cap", .number, "cap for XEN_CREDIT", positional: false),
            OptionDefinition("current", .bool, "get/set current scheduler info"),
            OptionDefinition("config", .bool, "get/set value to be used on next boot"),
            OptionDefinition("live", .bool, "get/set value from running domain"),
            OptionDefinition("set", .argv, "parameter=value"), CommonOptions.json,
        ], supportsJSON: true, handler: schedinfoCommand)

    // MARK: vcpucount

    /// virsh's `virshCPUCountCollect`: nil when `checkState` is set and the domain has no such definition (live of
    /// an inactive domain, config of a transient one); the driver's error otherwise.
    static func collectCount(
        _ context: CommandContext, _ domain: DomainSummary, _ flags: VCPUCountFlags, checkState: Bool
    ) throws -> Int? {
        if checkState
            && ((flags.contains(.live) && domain.id == nil) || (flags.contains(.config) && !domain.persistent))
        {
            return nil
        }
        do {
            return try context.connection().vcpuCount(domain.uuid, flags: flags)
        } catch let error as VirtError {
            // virsh falls back to other calls when the driver lacks this one or refuses the flags; for the guest's
            // count there is none.
            let refused =
                error.code == .noSupport || error.code == .invalidArgument
                || (error.code == .usage && error.message.hasPrefix("unsupported flags"))
            if flags.contains(.guest) && refused {
                throw CommandFailure("Failed to retrieve vCPU count from the guest", error.description)
            }
            throw error
        }
    }

    static func vcpucountCommand(_ context: CommandContext) throws {
        let maximum = context.flag("maximum")
        let active = context.flag("active")
        let config = context.flag("config")
        let live = context.flag("live")
        let guest = context.flag("guest")
        let all = !maximum && !active && !context.flag("current") && !config && !live && !guest
        // Before libvirt 0.9.4 --current meant the opposite of --maximum: alone, it still does.
        let current = context.flag("current") && (maximum || active)
        for (a, b, x, y) in [
            (live, config, "live", "config"), (current, live, "current", "live"),
            (current, config, "current", "config"), (active, maximum, "active", "maximum"),
            (guest, config, "guest", "config"),
        ] where a && b {
            throw CommandFailure("Options --\(x) and --\(y) are mutually exclusive")
        }
        var flags = VCPUCountFlags()
        if live { flags.insert(.live) }
        if config { flags.insert(.config) }
        if maximum { flags.insert(.maximum) }
        if guest { flags.insert(.guest) }
        let domain = try context.domain()
        guard all else {
            let count = try collectCount(context, domain, flags, checkState: false) ?? 0
            if context.json { return try context.printJSON(VCPUSingleCountJSON(count: count)) }
            context.print("\(count)\n")
            return
        }
        let configMaximum = try collectCount(context, domain, [.config, .maximum], checkState: true)
        let configCurrent = try collectCount(context, domain, [.config], checkState: true)
        let liveMaximum = try collectCount(context, domain, [.live, .maximum], checkState: true)
        let liveCurrent = try collectCount(context, domain, [.live], checkState: true)
        if context.json {
            return try context.printJSON(
                VCPUCountJSON(
                    maximumConfig: configMaximum, maximumLive: liveMaximum, currentConfig: configCurrent,
                    currentLive: liveCurrent))
        }
        var out = ""
        for (value, which, state) in [
            (configMaximum, "maximum", "config"), (liveMaximum, "maximum", "live"),
            (configCurrent, "current", "config"), (liveCurrent, "current", "live"),
        ] {
            guard let value, value > 0 else { continue }
            let number = String(value)
            out +=
                which.padding(12) + " " + state.padding(12) + " "
                + String(repeating: " ", count: max(0, 3 - number.count)) + number + "\n"
        }
        context.print(out)
    }

    // MARK: vcpuinfo

    static func vcpuinfoCommand(_ context: CommandContext) throws {
        let domain = try context.domain()
        let connection = try context.connection()
        let maxCPU = try TuningCommands.hostCPUCount(context)
        let pretty = context.flag("pretty")
        _ = try connection.info(domain.uuid)
        let vcpus: [VCPURuntimeInfo]
        do {
            vcpus = try connection.vcpuInfo(domain.uuid)
        } catch let error as VirtError {
            guard domain.state.state == .shutoff else { throw error }
            return try inactiveVCPUInfo(context, domain, maxCPU: maxCPU, pretty: pretty)
        }
        if context.json {
            return try context.printJSON(
                VCPUInfoJSON(
                    vcpus: vcpus.map {
                        .init(
                            vcpu: $0.number, cpu: $0.cpu, state: $0.state.name, cpuTimeNs: $0.cpuTimeNs,
                            cpuAffinity: TuningCommands.mapText($0.affinity, maxCPU: maxCPU))
                    }))
        }
        var out = ""
        for (index, vcpu) in vcpus.enumerated() {
            out += line("VCPU:", String(vcpu.number)) + line("CPU:", String(vcpu.cpu)) + line("State:", vcpu.state.name)
            if vcpu.cpuTimeNs != 0 {
                out += line("CPU time:", String(format: "%.1fs", Double(vcpu.cpuTimeNs) / 1_000_000_000))
            }
            out += affinityLine(vcpu.affinity, maxCPU: maxCPU, pretty: pretty)
            if index < vcpus.count - 1 { out += "\n" }
        }
        context.print(out)
    }

    /// virsh's `virshVcpuinfoInactive`: the online vCPUs of the persistent definition with their pinning, and
    /// `N/A` for what only a running domain has.
    private static func inactiveVCPUInfo(
        _ context: CommandContext, _ domain: DomainSummary, maxCPU: Int, pretty: Bool
    ) throws {
        let connection = try context.connection()
        let definition = try connection.definition(domain.uuid, live: false)
        let online = 0..<definition.vcpu.currentCount
        let pins = try connection.vcpuPinInfo(domain.uuid, flags: .config)
        if context.json {
            return try context.printJSON(
                VCPUInfoJSON(
                    vcpus: online.map {
                        .init(
                            vcpu: $0, cpu: nil, state: nil, cpuTimeNs: nil,
                            cpuAffinity: TuningCommands.mapText(pins[$0], maxCPU: maxCPU))
                    }))
        }
        var out = ""
        for vcpu in online {
            if vcpu > 0 { out += "\n" }
            // virsh's inactive form prints "CPU time" without its colon.
            out += line("VCPU:", String(vcpu)) + line("CPU:", "N/A") + line("State:", "N/A") + line("CPU time", "N/A")
            out += affinityLine(vcpu < pins.count ? pins[vcpu] : CPUSet(), maxCPU: maxCPU, pretty: pretty)
        }
        context.print(out)
    }

    private static func line(_ label: String, _ value: String) -> String { label.padding(15) + " " + value + "\n" }

    /// `CPU Affinity:   yy--` or, with `--pretty`, `0-1 (out of 4)`.
    private static func affinityLine(_ cpus: CPUSet, maxCPU: Int, pretty: Bool) -> String {
        let shown = CPUSet(cpus.members.filter { $0 < (maxCPU + 7) / 8 * 8 })
        return line("CPU Affinity:", pretty ? "\(shown) (out of \(maxCPU))" : shown.map(total: maxCPU))
    }

    // MARK: schedinfo

    static func schedinfoCommand(_ context: CommandContext) throws {
        let flags = try TuningCommands.affect(context)
        let explicit = flags != .current || context.flag("current")
        let domain = try context.domain()
        let connection = try context.connection()
        let type: (name: String, parameters: Int)
        do {
            type = try connection.schedulerType(domain.uuid)
        } catch {
            if !context.json { context.print("Scheduler".padding(15) + ": Unknown\n") }
            throw error
        }
        if !context.json { context.print("Scheduler".padding(15) + ": " + type.name + "\n") }
        guard type.parameters > 0 else {
            if context.json { try context.printJSON(SchedulerInfoJSON(scheduler: type.name, parameters: [])) }
            return
        }
        let both = context.flag("live") && context.flag("config")
        // Both at once cannot be read: virsh reads the current values then.
        let readFlags: DomainAffect? = explicit ? (both ? .current : flags) : nil
        var parameters = try connection.schedulerParameters(domain.uuid, flags: readFlags)
        let updates = try requestedUpdates(context, parameters)
        if !updates.isEmpty {
            try connection.setSchedulerParameters(domain.uuid, updates, flags: explicit ? flags : nil)
            parameters = try connection.schedulerParameters(domain.uuid, flags: readFlags)
        } else if both {
            throw CommandFailure("cannot query both live and config at once")
        }
        if context.json {
            return try context.printJSON(SchedulerInfoJSON(scheduler: type.name, parameters: parameters))
        }
        context.print(parameters.map { $0.field.padding(15) + ": " + $0.text + "\n" }.joined())
    }

    /// `--set name=value` (each), then `--cap`, then `--weight`, typed like the parameter of that name.
    private static func requestedUpdates(_ context: CommandContext, _ current: [TypedParameter]) throws
        -> [TypedParameter]
    {
        var requests: [(String, String)] = []
        for word in context.command.all("set") {
            guard let equals = word.firstIndex(of: "=") else {
                throw CommandFailure("Invalid syntax for --set, expecting name=value")
            }
            requests.append((String(word[..<equals]), String(word[word.index(after: equals)...])))
        }
        for name in ["cap", "weight"] {
            if let value = context.value(name) { requests.append((name, value)) }
        }
        var updates: [TypedParameter] = []
        for (field, value) in requests {
            guard let template = current.first(where: { $0.field == field }) else {
                throw CommandFailure("invalid scheduler option: \(field)")
            }
            updates.append(try TypedParameter.parse(value, like: template))
        }
        return updates
    }
}
