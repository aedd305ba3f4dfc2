/// A command with its options bound: what a handler reads.
struct ParsedCommand {
    var definition: CommandDefinition
    /// Values of the options given, by option name (several for `argv` options).
    var values: [String: [String]] = [:]
    /// Bool options given.
    var flags: Set<String> = []
    /// `CMD --help`: print the command's help instead of running it.
    var helpRequested = false

    /// Whether bool option `name` was given.
    func flag(_ name: String) -> Bool { flags.contains(name) }
    /// The value of option `name`, if given.
    func value(_ name: String) -> String? { values[name]?.first }
    /// Every value of an `argv` option.
    func all(_ name: String) -> [String] { values[name] ?? [] }
}

/// Binds the words of one command to its definition with virsh's grammar and messages:
/// `--opt value`, `--opt=value`, bare words filling the non-bool options in table order, `--` ending options.
struct CommandParser {
    /// A usage error; virsh prints it as `error: MESSAGE` and runs nothing of the command string.
    struct Failure: Error, Equatable {
        var message: String
        /// Further lines virsh prints after the first (one per missing required option).
        var furtherMessages: [String] = []
        /// Every line, in order.
        var messages: [String] { [message] + furtherMessages }
    }

    let table: CommandTable

    /// Parses `words` (the command name first).
    func parse(_ words: [String]) throws(Failure) -> ParsedCommand {
        guard let name = words.first else { throw Failure(message: "unknown command: ''") }
        guard let definition = table.command(named: name) else {
            throw Failure(message: "unknown command: '\(name)'")
        }
        var parsed = ParsedCommand(definition: definition)
        var positional = definition.options.filter(\.positional)
        var seen: Set<String> = []
        var dataOnly = false
        var index = 1

        func consumePositional(_ name: String) {
            if let at = positional.firstIndex(where: { $0.name == name }), positional[at].kind != .argv {
                positional.remove(at: at)
            }
        }

        while index < words.count {
            let word = words[index]
            index += 1
            if !dataOnly && word == "--" {
                dataOnly = true
                continue
            }
            if !dataOnly && word.hasPrefix("--") {
                var optionName = String(word.dropFirst(2))
                var inline: String?
                if let eq = optionName.firstIndex(of: "=") {
                    inline = String(optionName[optionName.index(after: eq)...])
                    optionName = String(optionName[..<eq])
                }
                guard let option = definition.option(named: optionName) else {
                    if optionName == "help" {
                        parsed.helpRequested = true
                        continue
                    }
                    if definition.lenient { continue }
                    throw Failure(message: "command '\(definition.name)' doesn't support option --\(optionName)")
                }
                if seen.contains(option.name) && option.kind != .argv {
                    throw Failure(message: "option --\(option.name) already seen")
                }
                seen.insert(option.name)
                consumePositional(option.name)
                if option.kind == .bool {
                    if inline != nil { throw Failure(message: "invalid '=' after option --\(option.name)") }
                    parsed.flags.insert(option.name)
                    continue
                }
                if let inline {
                    parsed.values[option.name, default: []].append(inline)
                } else if index < words.count {
                    parsed.values[option.name, default: []].append(words[index])
                    index += 1
                } else {
                    let what = option.kind == .number ? "<number>" : "<string>"
                    throw Failure(message: "expected syntax: --\(option.name) \(what)")
                }
                continue
            }
            guard let option = positional.first else {
                if definition.lenient { continue }
                throw Failure(message: "unexpected data '\(word)'")
            }
            seen.insert(option.name)
            if option.kind != .argv { positional.removeFirst() }
            parsed.values[option.name, default: []].append(word)
        }

        if !parsed.helpRequested {
            // virsh names every missing required option, one line each.
            var missing: [String] = []
            for option in definition.options where option.required && !seen.contains(option.name) {
                if let waiver = option.requiredUnless, parsed.flags.contains(waiver) { continue }
                let shown = option.isData || option.kind == .argv ? "<\(option.name)>" : "--\(option.name)"
                missing.append("command '\(definition.name)' requires \(shown) option")
            }
            if let first = missing.first { throw Failure(message: first, furtherMessages: Array(missing.dropFirst())) }
        }
        return parsed
    }
}
