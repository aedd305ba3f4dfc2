import Foundation
import VirtCore

extension CommandTable {
    /// virsh's "Host and Hypervisor" group (the commands swift-virt has), in virsh's (alphabetical) order.
    static let hostAndHypervisor: [CommandDefinition] = ([
        CommandDefinition(
            name: "capabilities", group: .host, summary: "capabilities",
            description: "Returns capabilities of hypervisor/driver.", options: [CommonOptions.json],
            supportsJSON: true, handler: HostCommands.capabilities),
        CommandDefinition(
            name: "hostname", group: .host, summary: "print the hypervisor hostname", description: "",
            options: [CommonOptions.json], supportsJSON: true, handler: HostCommands.hostname),
        CommandDefinition(
            name: "nodeinfo", group: .host, summary: "node information",
            description: "Returns basic information about the node.", options: [CommonOptions.json],
            supportsJSON: true, handler: HostCommands.nodeinfo),
        CommandDefinition(
            name: "uri", group: .host, summary: "print the hypervisor canonical URI", description: "",
            options: [CommonOptions.json], supportsJSON: true, handler: HostCommands.uri),
        CommandDefinition(
            name: "version", group: .host, summary: "show version",
            description: "Display the system version information.", options: [CommonOptions.json],
            supportsJSON: true, handler: HostCommands.version),
    ] + HostMemoryCommands.definitions + [LeaseCommands.leases]).sorted { $0.name < $1.name }
}

/// swift-virt's release, printed by `version` and `virtsh -v`.
enum VirtshVersion {
    static let number = "0.1.0"
    static let library = "swift-virt \(number)"
}

/// Handlers of the host commands.
enum HostCommands {
    /// `capabilities --json`: the node summary for scripts, with the full capabilities XML beside it.
    struct CapabilitiesJSON: Encodable {
        var uri: String
        var node: NodeInfoJSON
        var xml: String
    }

    static func capabilities(_ context: CommandContext) throws {
        let connection = try context.connection()
        let xml = try connection.capabilitiesXML()
        if context.json {
            try context.printJSON(
                CapabilitiesJSON(uri: connection.uri, node: NodeInfoJSON(try connection.nodeInfo()), xml: xml))
            return
        }
        context.print((xml.hasSuffix("\n") ? xml : xml + "\n") + "\n")
    }

    static func hostname(_ context: CommandContext) throws {
        let name = try context.connection().hostname()
        if context.json { return try context.printJSON(HostnameJSON(hostname: name)) }
        context.print(name + "\n")
    }

    static func nodeinfo(_ context: CommandContext) throws {
        let info = try context.connection().nodeInfo()
        if context.json { return try context.printJSON(NodeInfoJSON(info)) }
        func line(_ label: String, _ value: String) -> String { label.padding(20) + " " + value + "\n" }
        context.print(
            line("CPU model:", info.model) + line("CPU(s):", String(info.cpus))
                + line("CPU frequency:", "\(info.mhz) MHz") + line("CPU socket(s):", String(info.sockets))
                + line("Core(s) per socket:", String(info.cores)) + line("Thread(s) per core:", String(info.threads))
                + line("NUMA cell(s):", String(info.nodes)) + line("Memory size:", "\(info.memoryKiB) KiB"))
    }

    static func uri(_ context: CommandContext) throws {
        let uri = try context.connection().uri
        if context.json { return try context.printJSON(URIJSON(uri: uri)) }
        context.print(uri + "\n")
    }

    static func version(_ context: CommandContext) throws {
        let driver = try context.connection().driver
        let document = VersionJSON(
            compiledAgainst: VirtshVersion.library, library: VirtshVersion.library,
            api: "\(driver.typeName) \(VirtshVersion.number)",
            hypervisor: "\(driver.typeName) \(driver.hypervisorVersion)")
        if context.json { return try context.printJSON(document) }
        context.print(
            "Compiled against library: \(document.compiledAgainst)\nUsing library: \(document.library)\n"
                + "Using API: \(document.api)\nRunning hypervisor: \(document.hypervisor)\n")
    }
}
