import Foundation
import VirtCore

extension CommandTable {
    /// virsh's "Virsh itself" group.
    static let shellCommands: [CommandDefinition] = [
        CommandDefinition(
            name: "cd", group: .virsh, summary: "change the current directory",
            description: "Change the current directory.",
            options: [
                OptionDefinition(
                    "dir", .string, "directory to switch to (default: home or else root)", completesFiles: true)
            ],
            connection: .notNeeded, handler: ShellCommands.cd),
        CommandDefinition(
            name: "echo", group: .virsh, summary: "echo arguments. Used for internal testing.",
            description: "Echo back arguments, possibly with quoting. Used for internal testing.",
            options: [
                OptionDefinition("shell", .bool, "escape for shell use"),
                OptionDefinition("xml", .bool, "escape for XML use"),
                OptionDefinition("split", .bool, "split each argument on ','; ',,' is an escape sequence"),
                OptionDefinition("err", .bool, "output to stderr"),
                OptionDefinition("string", .argv, "arguments to echo"),
            ], connection: .notNeeded, handler: ShellCommands.echo),
        CommandDefinition(
            name: "exit", group: .virsh, summary: "quit this interactive terminal", description: "", options: [],
            connection: .notNeeded, handler: ShellCommands.quit),
        CommandDefinition(
            name: "help", group: .virsh, summary: "print help",
            description: "Prints global help, command specific help, or help for a\n    group of related commands",
            options: [
                OptionDefinition(
                    "command", .string,
                    "Prints global help, command specific help, or help for a group of related commands"
                ).completingCommands()
            ], connection: .notNeeded, lenient: true, handler: ShellCommands.help),
        CommandDefinition(
            name: "pwd", group: .virsh, summary: "print the current directory",
            description: "Print the current directory.", options: [], connection: .notNeeded,
            handler: ShellCommands.pwd),
        CommandDefinition(
            name: "quit", group: .virsh, summary: "quit this interactive terminal", description: "", options: [],
            connection: .notNeeded, handler: ShellCommands.quit),
        CommandDefinition(
            name: "connect", group: .virsh, summary: "(re)connect to hypervisor",
            description: "Connect to local hypervisor. This is built-in command after shell start up.",
            options: [
                OptionDefinition("name", .string, "hypervisor connection URI"),
                OptionDefinition("readonly", .bool, "read-only connection"),
            ], connection: .notNeeded, handler: ShellCommands.connect),
    ]
}

/// Handlers of the shell's own commands.
enum ShellCommands {
    static func help(_ context: CommandContext) throws {
        let formatter = HelpFormatter(table: context.shell.table)
        guard let topic = context.value("command") else {
            context.print(formatter.groupedHelp())
            return
        }
        if context.shell.table.command(named: topic) != nil {
            try formatter.printCommandHelp(topic, to: context.shell)
        } else if let group = context.shell.table.group(named: topic) {
            context.print(formatter.groupHelp(group))
        } else {
            throw CommandFailure("command or command group '\(topic)' doesn't exist")
        }
    }

    static func quit(_ context: CommandContext) throws { context.shell.quitRequested = true }

    static func connect(_ context: CommandContext) throws {
        let uri = context.value("name") ?? context.shell.settings.uri
        do {
            try context.shell.reconnect(uri: uri, readOnly: context.flag("readonly"))
        } catch let failure as ConnectionFailure {
            throw CommandFailure("failed to connect to the hypervisor", failure.underlying.description)
        }
    }

    static func pwd(_ context: CommandContext) throws {
        guard let cwd = getcwd(nil, 0) else {
            throw CommandFailure("pwd: cannot get current directory: \(String(cString: strerror(errno)))")
        }
        defer { free(cwd) }
        context.print(String(cString: cwd) + "\n")
    }

    static func cd(_ context: CommandContext) throws {
        guard context.shell.settings.interactive else {
            throw CommandFailure("cd: command valid only in interactive mode")
        }
        let dir = context.value("dir") ?? ProcessInfo.processInfo.environment["HOME"] ?? "/"
        if chdir(dir) != 0 { throw CommandFailure("cd: \(String(cString: strerror(errno))): \(dir)") }
    }

    /// Like virsh: the words joined by blanks and no newline of its own (the blank line after every command
    /// ends it); `--split` prints each comma-separated piece on its own line.
    static func echo(_ context: CommandContext) throws {
        var out = ""
        for (index, argument) in context.command.all("string").enumerated() {
            var text = argument
            if context.flag("xml") {
                text = xmlEscape(text)
            } else if context.flag("shell") {
                text = shellEscape(text)
            }
            if index > 0 { out += " " }
            out += context.flag("split") ? splitOnCommas(text).map { $0 + "\n" }.joined() : text
        }
        if out.isEmpty { return }
        if context.flag("err") {
            context.terminal.error(out)
        } else {
            context.print(out)
        }
    }

    static func xmlEscape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "'": out += "&apos;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }

    /// Characters that make a word need quoting for a POSIX shell.
    private static let shellSpecial = Set("\r\t\n !\"#$&'()*;<>?[\\]^`{|}~")

    static func shellEscape(_ text: String) -> String {
        if !text.isEmpty && !text.contains(where: shellSpecial.contains) { return text }
        return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// Splits on `,`, where `,,` stands for a literal comma.
    static func splitOnCommas(_ text: String) -> [String] {
        var pieces: [String] = []
        var current = ""
        var chars = Array(text)[...]
        while let c = chars.popFirst() {
            if c == "," {
                if chars.first == "," {
                    current.append(",")
                    chars.removeFirst()
                } else {
                    pieces.append(current)
                    current = ""
                }
            } else {
                current.append(c)
            }
        }
        pieces.append(current)
        return pieces
    }
}
