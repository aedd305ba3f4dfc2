import Foundation
import VirtCore

extension CommandTable {
    /// virsh's "Domain Monitoring" group: list, dominfo, domstate, domblklist.
    static let domainMonitoring: [CommandDefinition] = [
        CommandDefinition(
            name: "domblklist", group: .monitor, summary: "list all domain blocks",
            description: "Get the summary of block devices for a domain.",
            options: [
                CommonOptions.domain(),
                OptionDefinition("inactive", .bool, "get inactive rather than running configuration"),
                OptionDefinition("details", .bool, "additionally display the type and device value"),
                CommonOptions.json,
            ], supportsJSON: true, handler: MonitorCommands.domblklist),
        CommandDefinition(
            name: "dominfo", group: .monitor, summary: "domain information",
            description: "Returns basic information about the domain.",
            options: [CommonOptions.domain(), CommonOptions.json], supportsJSON: true,
            handler: MonitorCommands.dominfo),
        LeaseCommands.domleases,
        CommandDefinition(
            name: "domstate", group: .monitor, summary: "domain state", description: "Returns state about a domain.",
            options: [
                CommonOptions.domain(), OptionDefinition("reason", .bool, "also print reason for the state"),
                CommonOptions.json,
            ], supportsJSON: true, handler: MonitorCommands.domstate),
        CommandDefinition(
            name: "list", group: .monitor, summary: "list domains", description: "Returns list of domains.",
            options: [
                OptionDefinition("inactive", .bool, "list inactive domains"),
                OptionDefinition("all", .bool, "list inactive & active domains"),
                OptionDefinition("transient", .bool, "list transient domains"),
                OptionDefinition("persistent", .bool, "list persistent domains"),
                OptionDefinition("state-running", .bool, "list domains in running state"),
                OptionDefinition("state-paused", .bool, "list domains in paused state"),
                OptionDefinition("state-shutoff", .bool, "list domains in shutoff state"),
                OptionDefinition("state-other", .bool, "list domains in other states"),
                OptionDefinition("autostart", .bool, "list domains with autostart enabled"),
                OptionDefinition("no-autostart", .bool, "list domains with autostart disabled"),
                OptionDefinition("uuid", .bool, "list uuid's only"),
                OptionDefinition("name", .bool, "list domain names only"),
                OptionDefinition("id", .bool, "list domain IDs only"),
                OptionDefinition("table", .bool, "list table (default)"),
                OptionDefinition("title", .bool, "show domain title"),
                CommonOptions.json,
            ], supportsJSON: true, handler: MonitorCommands.list),
    ]
}

/// Handlers of the monitoring commands.
enum MonitorCommands {
    static func list(_ context: CommandContext) throws {
        for other in ["name", "uuid", "id"] where context.flag("table") && context.flag(other) {
            throw CommandFailure("Options --table and --\(other) are mutually exclusive")
        }
        let all = context.flag("all")
        let inactiveOnly = context.flag("inactive") && !all
        let stateOptions: [(String, DomainListFilter.StateGroup)] = [
            ("state-running", .running), ("state-paused", .paused), ("state-shutoff", .shutoff),
            ("state-other", .other),
        ]
        let states = Set(stateOptions.filter { context.flag($0.0) }.map(\.1))
        // A state filter lifts virsh's default "active only"; an explicit --inactive still applies.
        var filter = inactiveOnly ? DomainListFilter.inactive : all || !states.isEmpty ? .all : .active
        filter.states = states
        if context.flag("autostart") != context.flag("no-autostart") { filter.autostart = context.flag("autostart") }
        if context.flag("persistent") != context.flag("transient") { filter.persistent = context.flag("persistent") }

        let domains = try context.connection().listDomains(filter)

        if context.json {
            try context.printJSON(DomainListJSON(domains: domains.map(DomainListJSON.Entry.init)))
            return
        }
        let uuid = context.flag("uuid")
        let name = context.flag("name")
        let id = context.flag("id")
        if uuid || name || id {
            var out = ""
            for domain in domains {
                var fields: [String] = []
                if uuid { fields.append(domain.uuid.uuidString.lowercased()) }
                if id {
                    // IDs alone are printed only for running domains.
                    if domain.id == nil && !uuid && !name { continue }
                    fields.append(domain.id.map(String.init) ?? "-")
                }
                if name { fields.append(domain.name) }
                out += fields.joined(separator: " ") + "\n"
            }
            context.print(out)
            return
        }
        let showTitle = context.flag("title")
        var table = showTitle ? TextTable("Id", "Name", "State", "Title") : TextTable("Id", "Name", "State")
        for domain in domains {
            var row = [domain.id.map(String.init) ?? "-", domain.name, domain.state.state.displayName]
            if showTitle { row.append(domain.title ?? "") }
            table.add(row)
        }
        context.print(table.render(quiet: context.quiet))
    }

    static func dominfo(_ context: CommandContext) throws {
        let domain = try context.domain()
        let info = try context.connection().info(domain.uuid)
        if context.json {
            try context.printJSON(DomainInfoJSON(domain, info))
            return
        }
        func line(_ label: String, _ value: String) -> String { label.padding(15) + " " + value + "\n" }
        var out = line("Id:", domain.id.map(String.init) ?? "-")
        out += line("Name:", domain.name)
        out += line("UUID:", domain.uuid.uuidString.lowercased())
        out += line("OS Type:", info.osType)
        out += line("State:", domain.state.state.displayName)
        out += line("CPU(s):", String(info.vcpus))
        if info.cpuTimeNs != 0 {
            out += line("CPU time:", String(format: "%.1fs", Double(info.cpuTimeNs) / 1_000_000_000))
        }
        out += line("Max memory:", info.maxMemoryKiB.map { "\($0) KiB" } ?? "no limit")
        out += line("Used memory:", "\(info.memoryKiB) KiB")
        out += line("Persistent:", domain.persistent ? "yes" : "no")
        out += line("Autostart:", domain.autostart ? "enable" : "disable")
        out += line("Managed save:", info.managedSave ? "yes" : "no")
        if let security = info.security {
            out += line("Security model:", security.model)
            out += line("Security DOI:", security.doi)
            if let label = security.label {
                out += line("Security label:", "\(label) (\(security.enforcement))")
            }
        }
        context.print(out)
    }

    static func domstate(_ context: CommandContext) throws {
        let domain = try context.domain()
        if context.json {
            try context.printJSON(
                DomainStateJSON(state: domain.state.state.displayName, reason: domain.state.displayName))
            return
        }
        context.print((context.flag("reason") ? domain.state.stateAndReason : domain.state.state.displayName) + "\n")
    }

    static func domblklist(_ context: CommandContext) throws {
        let domain = try context.domain()
        let live = !context.flag("inactive") && domain.id != nil
        let disks = try context.connection().definition(domain.uuid, live: live).devices.disks
        if context.json {
            try context.printJSON(DiskListJSON(disks: disks.map(DiskListJSON.Entry.init)))
            return
        }
        let details = context.flag("details")
        var table = details ? TextTable("Type", "Device", "Target", "Source") : TextTable("Target", "Source")
        for disk in disks {
            let source = disk.source ?? "-"
            table.add(
                details ? [disk.type.rawValue, disk.device.rawValue, disk.target, source] : [disk.target, source])
        }
        context.print(table.render(quiet: context.quiet))
    }
}

extension String {
    /// Left-justified in `width` columns (C's `%-Ns`).
    func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
