import Foundation
import VirtCore

extension CommandTable {
    /// virsh's "Domain Management" group (the commands swift-virt has), in virsh's order.
    static let domainManagement: [CommandDefinition] = [
        CommandDefinition(
            name: "autostart", group: .domain, summary: "autostart a domain",
            description: "Configure a domain to be automatically started at boot.",
            options: [CommonOptions.domain(), OptionDefinition("disable", .bool, "disable autostarting")],
            handler: DomainCommands.autostart),
        console,
        CommandDefinition(
            name: "define", group: .domain, summary: "define (but don't start) a domain from an XML file",
            description: "Define a domain.",
            options: [
                OptionDefinition("file", .file, "file containing an XML domain description", required: true),
                OptionDefinition("validate", .bool, "validate the XML against the schema"),
                OptionDefinition(
                    "lax", .bool, "drop unknown elements and attributes (libvirt's behaviour), listing them"),
            ], handler: DomainCommands.define),
        lifecycle(
            "destroy", "destroy (stop) a domain", "Forcefully stop a given domain, but leave its resources intact.",
            extra: [OptionDefinition("graceful", .bool, "terminate gracefully")], handler: DomainCommands.destroy),
        CommandDefinition(
            name: "domid", group: .domain, summary: "convert a domain name or UUID to domain id", description: "",
            options: [CommonOptions.domain("domain name or uuid")], handler: DomainCommands.domid),
        CommandDefinition(
            name: "domname", group: .domain, summary: "convert a domain id or UUID to domain name", description: "",
            options: [CommonOptions.domain("domain id or uuid")], handler: DomainCommands.domname),
        CommandDefinition(
            name: "domuuid", group: .domain, summary: "convert a domain name or id to domain UUID", description: "",
            options: [CommonOptions.domain("domain id or name")], handler: DomainCommands.domuuid),
        CommandDefinition(
            name: "dumpxml", group: .domain, summary: "domain information in XML",
            description: "Output the domain information as an XML dump to stdout.",
            options: [
                CommonOptions.domain(), OptionDefinition("inactive", .bool, "show inactive defined XML"),
                OptionDefinition("security-info", .bool, "include security sensitive information in XML dump"),
            ], handler: DomainCommands.dumpxml),
        CommandDefinition(
            name: "edit", group: .domain, summary: "edit XML configuration for a domain",
            description: "Edit the XML configuration for a domain.",
            options: [
                CommonOptions.domain(),
                OptionDefinition("skip-validate", .bool, "skip validation of the XML against the schema"),
                OptionDefinition(
                    "lax", .bool, "drop unknown elements and attributes (libvirt's behaviour), listing them"),
            ], handler: DomainEditor.edit),
        TuningCommands.numatune,
        lifecycle(
            "reboot", "reboot a domain", "Run a reboot command in the target domain.",
            handler: DomainCommands.reboot),
        lifecycle(
            "reset", "reset a domain", "Reset the target domain as if by power button",
            handler: DomainCommands.reset),
        lifecycle(
            "resume", "resume a domain", "Resume a previously suspended domain.",
            handler: DomainCommands.resume),
        VCPUCommands.schedinfo,
        lifecycle(
            "shutdown", "gracefully shutdown a domain", "Run shutdown in the target domain.",
            handler: DomainCommands.shutdown),
        CommandDefinition(
            name: "start", group: .domain, summary: "start a (previously defined) inactive domain",
            description: "Start a domain, either from the last managedsave\n    state, or via a fresh boot if no "
                + "managedsave state\n    is present.",
            options: [
                OptionDefinition(
                    "domain", .domain, "name of the inactive domain", required: true, requiredUnless: "autostart"),
                OptionDefinition("console", .bool, "attach to console after creation"),
                OptionDefinition("paused", .bool, "leave the guest paused after creation"),
                OptionDefinition("force-boot", .bool, "force fresh boot by discarding any managed save"),
                OptionDefinition(
                    "autostart", .bool, "instead of one domain, start every autostart domain that is not running"),
            ], handler: DomainCommands.start),
        lifecycle("suspend", "suspend a domain", "Suspend a running domain.", handler: DomainCommands.suspend),
        lifecycle(
            "undefine", "undefine a domain", "Undefine an inactive domain, or convert persistent to transient.",
            handler: DomainCommands.undefine),
        VCPUCommands.vcpucount,
        VCPUCommands.vcpuinfo,
        TuningCommands.vcpupin,
        TuningCommands.emulatorpin,
    ]

    private static func lifecycle(
        _ name: String, _ summary: String, _ description: String, extra: [OptionDefinition] = [],
        handler: @escaping @Sendable (CommandContext) throws -> Void
    ) -> CommandDefinition {
        CommandDefinition(
            name: name, group: .domain, summary: summary, description: description,
            options: [CommonOptions.domain()] + extra, handler: handler)
    }
}

/// Handlers of the domain management commands.
enum DomainCommands {
    static func define(_ context: CommandContext) throws {
        let file = try context.requiredValue("file")
        let text = try FileText.read(file)
        var options = DomainXMLParseOptions()
        options.strict = !context.flag("lax")
        options.validateSchema = context.flag("validate")
        options.sourceName = file
        let result: (domain: DomainSummary, dropped: [String])
        do {
            result = try context.connection().defineXML(text, options: options)
        } catch let error as VirtError {
            throw CommandFailure("Failed to define domain from \(file)", error.description)
        }
        reportDropped(result.dropped, context)
        context.printExtra("Domain '\(result.domain.name)' defined from \(file)\n")
    }

    /// `--lax`: what libvirt would have dropped silently, one `warning: dropped ...` line per item.
    static func reportDropped(_ dropped: [String], _ context: CommandContext) {
        for item in dropped { context.terminal.printError("warning: dropped \(item)\n") }
    }

    static func undefine(_ context: CommandContext) throws {
        try change(context, failure: "Failed to undefine domain", done: "has been undefined") { connection, domain in
            try connection.undefine(domain.uuid)
        }
    }

    static func dumpxml(_ context: CommandContext) throws {
        let domain = try context.domain()
        let xml = try context.connection().domainXML(
            domain.uuid, inactive: context.flag("inactive"), securityInfo: context.flag("security-info"))
        context.print(xml.hasSuffix("\n") ? xml : xml + "\n")
    }

    static func start(_ context: CommandContext) throws {
        if context.flag("autostart") { return try startAutostartDomains(context) }
        // Begun before the connection opens and the domain is found, so it overlaps them (kvm://: the domain's
        // supervisor process loads meanwhile); undone if the start fails before using it.
        let prepared = Connection.prepareStart(context.shell.settings.uri, factories: context.shell.factories)
        defer { prepared?.cancel() }
        let domain = try context.domain()
        if domain.id != nil { throw CommandFailure("Domain is already active") }
        var flags: StartFlags = []
        if context.flag("paused") { flags.insert(.paused) }
        if context.flag("force-boot") { flags.insert(.forceBoot) }
        do {
            try context.connection().start(domain.uuid, flags: flags, prepared: prepared)
        } catch let error as VirtError {
            throw CommandFailure("Failed to start domain '\(domain.name)'", error.description)
        }
        context.printExtra("Domain '\(domain.name)' started\n")
        if context.flag("console") {
            context.terminal.flush()
            try ConsoleCommand.attach(context, to: domain, force: false)
        }
    }

    /// `start --autostart` (the boot-time unit's call): every autostart domain not running, each reported.
    static func startAutostartDomains(_ context: CommandContext) throws {
        if context.value("domain") != nil {
            throw CommandFailure("Options --autostart and --domain are mutually exclusive")
        }
        if context.flag("console") {
            throw CommandFailure("Options --autostart and --console are mutually exclusive")
        }
        var flags: StartFlags = []
        if context.flag("paused") { flags.insert(.paused) }
        if context.flag("force-boot") { flags.insert(.forceBoot) }
        let connection = try context.connection()
        var failures: [String] = []
        for domain in try connection.listDomains(.all) where domain.autostart && domain.id == nil {
            do {
                try connection.start(domain.uuid, flags: flags)
                context.printExtra("Domain '\(domain.name)' started\n")
            } catch let error as VirtError {
                failures += ["Failed to start domain '\(domain.name)'", error.description]
            }
        }
        if !failures.isEmpty { throw CommandFailure(lines: failures) }
    }

    static func shutdown(_ context: CommandContext) throws {
        try change(context, failure: "Failed to shutdown domain", done: "is being shutdown") { connection, domain in
            try connection.shutdown(domain.uuid)
        }
    }

    static func destroy(_ context: CommandContext) throws {
        let graceful = context.flag("graceful")
        try change(context, failure: "Failed to destroy domain", done: "destroyed") { connection, domain in
            try connection.destroy(domain.uuid, graceful: graceful)
        }
    }

    static func reboot(_ context: CommandContext) throws {
        try change(context, failure: "Failed to reboot domain", done: "is being rebooted") { connection, domain in
            try connection.reboot(domain.uuid)
        }
    }

    static func reset(_ context: CommandContext) throws {
        try change(context, failure: "Failed to reset domain", done: "was reset") { connection, domain in
            try connection.reset(domain.uuid)
        }
    }

    static func suspend(_ context: CommandContext) throws {
        try change(context, failure: "Failed to suspend domain", done: "suspended") { connection, domain in
            try connection.suspend(domain.uuid)
        }
    }

    static func resume(_ context: CommandContext) throws {
        try change(context, failure: "Failed to resume domain", done: "resumed") { connection, domain in
            try connection.resume(domain.uuid)
        }
    }

    static func autostart(_ context: CommandContext) throws {
        let enable = !context.flag("disable")
        try change(
            context, failure: enable ? "Failed to mark domain" : "Failed to unmark domain",
            failureSuffix: " as autostarted", done: enable ? "marked as autostarted" : "unmarked as autostarted"
        ) { connection, domain in
            try connection.setAutostart(domain.uuid, enable)
        }
    }

    static func domid(_ context: CommandContext) throws {
        let domain = try context.domain(by: [.name, .uuid])
        context.print((domain.id.map(String.init) ?? "-") + "\n")
    }

    static func domname(_ context: CommandContext) throws {
        context.print(try context.domain(by: [.id, .uuid]).name + "\n")
    }

    static func domuuid(_ context: CommandContext) throws {
        context.print(try context.domain(by: [.id, .name]).uuid.uuidString.lowercased() + "\n")
    }

    /// A state change with virsh's messages, which name the domain as the user wrote it:
    /// `Domain '1' destroyed`, or `Failed to destroy domain '1'` and the cause.
    private static func change(
        _ context: CommandContext, failure: String, failureSuffix: String = "", done: String,
        _ operation: (Connection, DomainSummary) throws -> Void
    ) throws {
        let domain = try context.domain()
        let shown = try context.requiredValue("domain")
        do {
            try operation(try context.connection(), domain)
        } catch let error as VirtError {
            throw CommandFailure("\(failure) '\(shown)'\(failureSuffix)", error.description)
        }
        context.printExtra("Domain '\(shown)' \(done)\n")
    }
}
