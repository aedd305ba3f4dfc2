/// virsh's help layouts, generated from the command table: `help` (grouped), `help GROUP`,
/// `help COMMAND` (NAME / SYNOPSIS / DESCRIPTION / OPTIONS) and `virtsh --help`.
struct HelpFormatter {
    let table: CommandTable

    /// `help`: every group with its commands.
    func groupedHelp() -> String {
        "Grouped commands:\n\n" + CommandGroup.allCases.map { groupHelp($0) + "\n" }.joined()
    }

    /// `help GROUP`: one group's heading and commands.
    func groupHelp(_ group: CommandGroup) -> String {
        " \(group.title) (help keyword '\(group.keyword)'):\n" + commandLines(group)
    }

    private func commandLines(_ group: CommandGroup) -> String {
        table.commands(in: group).map { "    " + $0.name.padding(30) + " " + $0.summary + "\n" }.joined()
    }

    /// Prints `help COMMAND` on the shell's terminal.
    func printCommandHelp(_ name: String, to shell: Shell) throws {
        guard let text = commandHelp(name) else { throw CommandFailure("command '\(name)' doesn't exist") }
        shell.terminal.print(text)
    }

    /// `help COMMAND`, or nil when there is no such command.
    func commandHelp(_ name: String) -> String? {
        guard let command = table.command(named: name) else { return nil }
        var out = "  NAME\n    \(command.name) - \(command.summary)\n\n  SYNOPSIS\n    \(synopsis(command))\n"
        if !command.description.isEmpty { out += "\n  DESCRIPTION\n    \(command.description)\n" }
        if !command.options.isEmpty {
            out += "\n  OPTIONS\n"
            var hasPositional = false
            for option in command.options {
                let shown: String
                switch option.kind {
                case .bool: shown = "--\(option.name)"
                case .number: shown = option.required ? "[--\(option.name)] <number>" : "--\(option.name) <number>"
                case .string: shown = "--\(option.name) <string>"
                case .domain, .file: shown = "[--\(option.name)] <string>"
                case .argv: shown = hasPositional ? "[--\(option.name)] <string>" : "<\(option.name)>"
                }
                if option.positional && option.kind != .argv { hasPositional = true }
                out += "    " + shown.padding(15) + "  " + option.help + "\n"
            }
        }
        return out + "\n"
    }

    /// The SYNOPSIS line: `start <domain> [--paused]`.
    func synopsis(_ command: CommandDefinition) -> String {
        var parts = [command.name]
        var hasPositional = false
        for option in command.options {
            switch option.kind {
            case .bool: parts.append("[--\(option.name)]")
            case .number: parts.append(option.required ? "<\(option.name)>" : "[--\(option.name) <number>]")
            case .string: parts.append("[--\(option.name) <string>]")
            case .domain, .file: parts.append(option.required ? "<\(option.name)>" : "[<\(option.name)>]")
            case .argv:
                if hasPositional {
                    parts.append(
                        option.required ? "{[--\(option.name)] <string>}..." : "[[--\(option.name)] <string>]...")
                } else {
                    parts.append(option.required ? "<\(option.name)>..." : "[<\(option.name)>]...")
                }
            }
            if option.positional && option.kind != .argv { hasPositional = true }
        }
        return parts.joined(separator: " ")
    }

    /// `virtsh --help`.
    func usage() -> String {
        var out = """

            virtsh [options]... [<command_string>]
            virtsh [options]... <command> [args...]

              options:
                -c | --connect=URI      hypervisor connection URI
                -h | --help             this help
                -q | --quiet            quiet mode
                -r | --readonly         connect readonly
                -t | --timing           print timing information
                -v                      short version
                -V                      long version
                     --version[=TYPE]   version, TYPE is short or long (default short)
                     --generate-completion-script=SHELL
                                        print a completion script (SHELL: bash)
              commands (non interactive mode):


            """
        for group in CommandGroup.allCases {
            out += " \(group.title) (help keyword '\(group.keyword)')\n" + commandLines(group) + "\n"
        }
        out += "\n  (specify help <group> for details about the commands in the group)\n"
        out += "\n  (specify help <command> for details about the command)\n\n"
        return out
    }
}
