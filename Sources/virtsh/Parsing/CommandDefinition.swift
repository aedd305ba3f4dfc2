/// What kind of value an option takes, as virsh's option types.
enum OptionKind: Sendable, Equatable {
    /// A flag: `--all`.
    case bool
    /// A string value: `--mode acpi`.
    case string
    /// A number: `--vcpu 1`.
    case number
    /// A domain name, id or uuid (a string that completion fills with domain names).
    case domain
    /// A file path (a string that completion fills with file names).
    case file
    /// Every remaining word (`echo`'s arguments).
    case argv
}

/// One option of a command, as in virsh's option tables.
struct OptionDefinition: Sendable {
    /// The long name without dashes: `domain`, `all`.
    var name: String
    var kind: OptionKind
    /// The one-line help of the OPTIONS section.
    var help: String
    /// Whether the command fails without it (`command 'start' requires <domain> option`).
    var required = false
    /// Whether a bare word may fill it (virsh fills every non-bool option in table order unless told not to).
    var positional = true

    /// Whether Tab completes file names for its value.
    var completesFiles: Bool
    /// Whether Tab completes command names and help keywords for its value (`help CMD`).
    var completesCommands = false
    /// A bool option that, when given, makes a required option optional (`start --autostart` needs no domain).
    var requiredUnless: String?

    init(
        _ name: String, _ kind: OptionKind, _ help: String, required: Bool = false, positional: Bool = true,
        completesFiles: Bool = false, requiredUnless: String? = nil
    ) {
        self.requiredUnless = requiredUnless
        self.name = name
        self.completesFiles = completesFiles || kind == .file
        self.kind = kind
        self.help = help
        self.required = required
        self.positional = kind == .bool ? false : positional
    }

    /// The same option, with Tab completing command names and help keywords for its value.
    func completingCommands() -> OptionDefinition {
        var copy = self
        copy.completesCommands = true
        return copy
    }

    /// Whether the option takes a value.
    var takesValue: Bool { kind != .bool }
    /// Whether virsh shows it as `<name>` data rather than `--name <string>`.
    var isData: Bool { kind == .domain || kind == .file }
}

/// virsh's command groups, in `virsh help` order, with their help keywords.
enum CommandGroup: String, CaseIterable, Sendable {
    case domain, monitor, host, virsh

    /// The heading `virsh help` prints.
    var title: String {
        switch self {
        case .domain: "Domain Management"
        case .monitor: "Domain Monitoring"
        case .host: "Host and Hypervisor"
        case .virsh: "Virsh itself"
        }
    }

    /// The keyword accepted by `help KEYWORD`.
    var keyword: String { rawValue }
}

/// Whether a command needs the hypervisor connection (virsh's `VSH_CMD_FLAG_NOCONNECT` inverted).
enum ConnectionNeed: Sendable { case needed, notNeeded }

/// One command of the table: its name, help texts, options and what it does.
struct CommandDefinition: Sendable {
    var name: String
    var group: CommandGroup
    /// The one-line summary (`virsh help` and NAME).
    var summary: String
    /// The DESCRIPTION paragraph; empty when virsh prints none.
    var description: String
    var options: [OptionDefinition]
    /// Other names that run this command (not listed in help).
    var aliases: [String] = []
    var connection: ConnectionNeed = .needed
    /// Whether the command prints a JSON document with `--json` (added to `options` by the table).
    var supportsJSON = false
    /// Whether unknown options and extra words are ignored (virsh's `help` is that lenient).
    var lenient = false
    /// A virtsh addition with no virsh equivalent (listed in docs/virtsh.md).
    var isExtension = false
    var handler: @Sendable (CommandContext) throws -> Void

    /// The option called `name`, if any.
    func option(named name: String) -> OptionDefinition? { options.first { $0.name == name } }
}
