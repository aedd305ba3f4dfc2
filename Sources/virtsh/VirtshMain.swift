import Foundation
import VirtCore

/// `virtsh`'s entry point: top-level options, then one of the modes — a command string or command words from
/// the arguments, commands from a non-terminal standard input, or the interactive shell.
enum VirtshMain {
    static func run(arguments: [String]) -> Int32 {
        setlocale(LC_ALL, "")
        let terminal = Terminal()
        let options: TopLevelOptions
        do {
            options = try TopLevelOptions.parse(arguments)
        } catch {
            terminal.error(error.message)
            return 1
        }
        let table = CommandTable.standard
        switch options.action {
        case .help:
            terminal.print(HelpFormatter(table: table).usage())
            terminal.flush()
            return 0
        case .version(let long):
            terminal.print(long ? longVersion : VirtshVersion.number + "\n")
            terminal.flush()
            return 0
        case .completionScript(let shell):
            guard shell == "bash" else {
                terminal.error("no completion script for shell '\(shell)'; virtsh can generate one for: bash")
                return 1
            }
            terminal.print(BashCompletionScript(table: table).render())
            terminal.flush()
            return 0
        case .run:
            break
        }

        var settings = ShellSettings(
            // One variable read with getenv: `ProcessInfo`'s environment builds a dictionary of every variable first
            // (0.3 ms here), on the way to every command.
            uri: options.resolvedURI(environment: { getenv($0).map { String(cString: $0) } }, effectiveUID: geteuid()))
        settings.readOnly = options.readOnly
        settings.quiet = options.quiet
        settings.timing = options.timing
        let shell = Shell(settings: settings, factories: DriverFactories.all, terminal: terminal)

        let ok: Bool
        if options.command == [""] {
            ok = false  // virsh fails an empty command string, silently (a blank one succeeds)
        } else if options.command.count == 1 {
            ok = shell.run(commandString: options.command[0])
        } else if options.command.count > 1 {
            ok = shell.run(words: [options.command])
        } else if isatty(STDIN_FILENO) == 1 {
            shell.settings.interactive = true
            InteractiveSession(shell: shell).run()
            ok = true
        } else {
            ok = runStandardInput(shell)
        }
        terminal.flush()
        return ok ? 0 : 1
    }

    /// Commands from a pipe or file, one line at a time; the status is the last command's.
    private static func runStandardInput(_ shell: Shell) -> Bool {
        let data = FileHandle.standardInput.readDataToEndOfFile()
        var ok = true
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false) {
            guard (try? CommandTokenizer.split(String(line)))?.isEmpty == false else { continue }
            ok = shell.run(commandString: String(line))
            if shell.quitRequested || shell.settings.abortRequested { break }
        }
        return ok
    }

    private static var longVersion: String {
        """
        Virtsh command line tool of \(VirtshVersion.library)
        See https://github.com/ for the project, docs/virtsh.md for the shell

        Compiled with support for:
         Hypervisors: KVM (embedded, no QEMU) Test
         Miscellaneous: SQLite store, libxml2 RelaxNG validation, libedit line editing

        """
    }
}
