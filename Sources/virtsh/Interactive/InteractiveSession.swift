import CEdit
import Foundation
import VirtCore

/// The interactive shell: virsh's banner and prompt (`virtsh # `, or `virtsh > ` when read-only), libedit line
/// editing, a history file under `$XDG_CACHE_HOME/virtsh/history` (or `~/.cache/virtsh/history`), and Tab
/// completion of commands, options and domain names.
final class InteractiveSession {
    let shell: Shell
    /// History entries kept (`$VIRTSH_HISTSIZE`, default 500 like virsh).
    static let defaultHistorySize = 500

    init(shell: Shell) { self.shell = shell }

    func run() {
        let historyFile = Self.historyPath()
        LineEditor.install(
            completer: Completer(table: shell.table) { [shell] in
                (try? shell.connection().listDomains(.all).map(\.name)) ?? []
            })
        LineEditor.loadHistory(from: historyFile, limit: Self.historySize())
        if !shell.settings.quiet {
            shell.terminal.print(
                "Welcome to virtsh, the virtualization interactive terminal.\n\n"
                    + "Type:  'help' for help with commands\n       'quit' to quit\n\n")
        }
        shell.terminal.flush()
        var sawEOF = false
        while !shell.quitRequested {
            let prompt = shell.settings.readOnly ? "virtsh > " : "virtsh # "
            guard let line = LineEditor.readLine(prompt: prompt) else {
                sawEOF = true
                break
            }
            if line.contains(where: { !$0.isWhitespace }) {
                LineEditor.addHistory(line)
                // Saved at once: Ctrl-C at the prompt ends virtsh (as it ends virsh) and must not lose it.
                LineEditor.saveHistory(to: historyFile)
                shell.run(commandString: line)
            }
            shell.terminal.flush()
        }
        if sawEOF { shell.terminal.print("\n") }
        shell.terminal.flush()
        LineEditor.saveHistory(to: historyFile)
    }

    private static func historySize() -> Int {
        ProcessInfo.processInfo.environment["VIRTSH_HISTSIZE"].flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }
            ?? defaultHistorySize
    }

    /// `$XDG_CACHE_HOME/virtsh/history`, else `~/.cache/virtsh/history`.
    static func historyPath() -> String? {
        let environment = ProcessInfo.processInfo.environment
        let cache: String
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") {
            cache = xdg
        } else if let home = environment["HOME"], !home.isEmpty {
            cache = home + "/.cache"
        } else {
            return nil
        }
        return cache + "/virtsh/history"
    }
}
