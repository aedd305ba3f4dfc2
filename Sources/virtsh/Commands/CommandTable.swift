/// The table of every `virtsh` command, in virsh's `help` order within each group. Parsing, help, Tab
/// completion and the bash completion script are all driven by it.
struct CommandTable: Sendable {
    let commands: [CommandDefinition]

    /// The standard command set.
    static let standard = CommandTable(
        commands: domainManagement + domainMonitoring + hostAndHypervisor + shellCommands)

    /// The command called `name` (or with `name` as an alias).
    func command(named name: String) -> CommandDefinition? {
        commands.first { $0.name == name } ?? commands.first { $0.aliases.contains(name) }
    }

    /// The commands of `group`, in table order.
    func commands(in group: CommandGroup) -> [CommandDefinition] { commands.filter { $0.group == group } }

    /// A group by its keyword (`domain`) or title (`Domain Management`).
    func group(named name: String) -> CommandGroup? {
        CommandGroup.allCases.first { $0.keyword == name || $0.title == name }
    }
}

/// Option definitions shared by many commands.
enum CommonOptions {
    /// `[--domain] <string>`.
    static func domain(_ help: String = "domain name, id or uuid") -> OptionDefinition {
        OptionDefinition("domain", .domain, help, required: true)
    }
    /// `--json`, on every query command.
    static let json = OptionDefinition("json", .bool, "print the result as one JSON document (virtsh extension)")
}
