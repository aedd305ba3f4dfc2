import Foundation
import VirtCore

/// Tab completion driven by the command table: command names at the start of a command, `--options` of the
/// command being typed, and domain names where a `<domain>` goes. `nil` means "complete file names".
struct Completer {
    let table: CommandTable
    /// Domain names, fetched only when needed.
    let domainNames: () -> [String]

    /// Candidates for the word that ends at the cursor; `before` is the line up to the start of that word.
    func candidates(before: String, word: String) -> [String]? {
        // Only the command being typed matters: the text after the last unquoted `;`.
        let current = String(before.split(separator: ";", omittingEmptySubsequences: false).last ?? "")
        let words = (try? CommandTokenizer.split(current))?.last ?? []
        guard let name = words.first, let command = table.command(named: name) else {
            let names = table.commands.flatMap { [$0.name] + $0.aliases }
            return names.filter { $0.hasPrefix(word) }.sorted()
        }
        let state = bound(words.dropFirst(), command)
        if let pending = state.awaitingValue {
            return values(for: pending, prefix: word)
        }
        let options = command.options.filter { $0.kind == .argv || !state.given.contains($0.name) }
            .map { "--" + $0.name }
        if word.hasPrefix("-") { return options.filter { $0.hasPrefix(word) } }
        if let next = command.options.first(where: { $0.positional && !state.given.contains($0.name) }),
            next.kind == .domain || next.completesFiles || next.completesCommands
        {
            return values(for: next, prefix: word)
        }
        return options.filter { $0.hasPrefix(word) }
    }

    private func values(for option: OptionDefinition, prefix: String) -> [String]? {
        if option.completesFiles { return nil }
        if option.completesCommands {
            let topics = table.commands.map(\.name) + CommandGroup.allCases.map(\.keyword)
            return Set(topics).filter { $0.hasPrefix(prefix) }.sorted()
        }
        return option.kind == .domain ? domainNames().filter { $0.hasPrefix(prefix) }.sorted() : []
    }

    /// Which options the typed words already give, and whether the last one waits for its value.
    private func bound(_ words: ArraySlice<String>, _ command: CommandDefinition) -> (
        given: Set<String>, awaitingValue: OptionDefinition?
    ) {
        var given: Set<String> = []
        var awaiting: OptionDefinition?
        var positional = command.options.filter(\.positional)
        for word in words {
            if let option = awaiting {
                given.insert(option.name)
                awaiting = nil
                continue
            }
            if word.hasPrefix("--"), let option = command.option(named: String(word.dropFirst(2))) {
                positional.removeAll { $0.name == option.name }
                if option.takesValue { awaiting = option } else { given.insert(option.name) }
                continue
            }
            if let next = positional.first {
                given.insert(next.name)
                if next.kind != .argv { positional.removeFirst() }
            }
        }
        return (given, awaiting)
    }
}
