import Foundation
import VirtCore

/// The shell's session: settings, the lazily opened connection, and the loop that runs parsed commands with
/// virsh's output conventions (a blank line after each command unless quiet, `(Time: X ms)` with `-t`).
final class Shell {
    let terminal: Terminal
    let table: CommandTable
    var settings: ShellSettings
    let factories: [any DriverFactory]
    private var openConnection: Connection?
    /// Set by `quit` / `exit`.
    var quitRequested = false

    init(settings: ShellSettings, factories: [any DriverFactory], terminal: Terminal = Terminal()) {
        self.settings = settings
        self.factories = factories
        self.terminal = terminal
        self.table = CommandTable.standard
    }

    /// The connection, opened on first use with the session's URI and read-only setting.
    func connection() throws -> Connection {
        if let openConnection { return openConnection }
        do {
            let opened = try Connection.open(settings.uri, factories: factories, readOnly: settings.readOnly)
            openConnection = opened
            return opened
        } catch let error as VirtError {
            throw ConnectionFailure(underlying: error)
        }
    }

    /// Whether a connection is open (used by completion, which must not connect by surprise in some cases).
    var isConnected: Bool { openConnection != nil }

    /// Replaces the connection (`connect URI`).
    func reconnect(uri: String, readOnly: Bool) throws {
        openConnection = nil
        settings.uri = uri
        settings.readOnly = readOnly
        _ = try connection()
    }

    /// Tokenizes and parses all of `text` first (a usage error runs nothing, as in virsh), then runs the
    /// commands in order. Returns the last command's success.
    @discardableResult
    func run(commandString text: String) -> Bool {
        let words: [[String]]
        do {
            words = try CommandTokenizer.split(text)
        } catch {
            terminal.error(error.message)
            terminal.flush()
            return false
        }
        return run(words: words)
    }

    /// Parses every command of `words`, then runs them. Returns the last command's success.
    @discardableResult
    func run(words: [[String]]) -> Bool {
        let parser = CommandParser(table: table)
        var commands: [ParsedCommand] = []
        for command in words {
            do {
                commands.append(try parser.parse(command))
            } catch {
                for message in error.messages { terminal.error(message) }
                terminal.flush()
                return false
            }
        }
        var ok = true
        for command in commands {
            ok = execute(command)
            terminal.flush()
            if quitRequested || settings.abortRequested { break }
        }
        return ok
    }

    /// Runs one parsed command with virsh's trailing blank line and timing output.
    func execute(_ command: ParsedCommand) -> Bool {
        let start = DispatchTime.now().uptimeNanoseconds
        var ok = true
        let context = CommandContext(shell: self, command: command)
        do {
            if command.helpRequested {
                try HelpFormatter(table: table).printCommandHelp(command.definition.name, to: self)
            } else {
                try command.definition.handler(context)
            }
        } catch let failure as CommandFailure {
            failure.lines.forEach(terminal.error)
            ok = false
        } catch let failure as ConnectionFailure {
            terminal.error("failed to connect to the hypervisor")
            terminal.error(failure.underlying.description)
            ok = false
            if !settings.interactive && !settings.connectedOnce {
                // virsh connects before running anything and stops when that fails: no blank line, exit 1.
                settings.abortRequested = true
                return false
            }
        } catch let error as VirtError {
            terminal.error(error.description)
            ok = false
        } catch {
            terminal.error("\(error)")
            ok = false
        }
        if openConnection != nil { settings.connectedOnce = true }
        if quitRequested { return ok }
        if settings.timing {
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1_000_000
            terminal.print(String(format: "\n(Time: %.3f ms)\n\n", elapsed))
        } else if !settings.quiet && !context.printedJSON {
            terminal.print("\n")
        }
        return ok
    }
}
