import Foundation
import VirtCore

/// What a command handler works with: its parsed options, the shell's output and the connection.
final class CommandContext {
    let shell: Shell
    let command: ParsedCommand
    /// Set when the handler printed a JSON document (no trailing blank line follows it).
    private(set) var printedJSON = false

    init(shell: Shell, command: ParsedCommand) {
        self.shell = shell
        self.command = command
    }

    var terminal: Terminal { shell.terminal }
    var quiet: Bool { shell.settings.quiet }
    /// `--json` was given.
    var json: Bool { command.flag("json") }

    func flag(_ name: String) -> Bool { command.flag(name) }
    func value(_ name: String) -> String? { command.value(name) }

    /// Prints to standard output.
    func print(_ text: String) { terminal.print(text) }
    /// Prints unless quiet (virsh's `vshPrintExtra`).
    func printExtra(_ text: String) { if !quiet { terminal.print(text) } }

    /// The connection (opened on first use).
    func connection() throws -> Connection { try shell.connection() }

    /// A string option's value that must not be empty (`Failed to get option 'domain': Option argument is empty`).
    func requiredValue(_ name: String) throws -> String {
        guard let text = value(name) else {
            throw CommandFailure("command '\(command.definition.name)' requires <\(name)> option")
        }
        if text.isEmpty { throw CommandFailure("Failed to get option '\(name)': Option argument is empty") }
        return text
    }

    /// A number option's value, with virsh's message for a malformed one.
    func number(_ name: String) throws -> Int? {
        guard let text = value(name) else { return nil }
        guard let number = Int(text), number >= 0 else {
            throw CommandFailure("Numeric value '\(text)' for <\(name)> option is malformed or out of range")
        }
        return number
    }

    /// The domain named by the `domain` option, found by id, uuid or name (virsh's order).
    func domain(_ name: String = "domain") throws -> DomainSummary {
        let text = try requiredValue(name)
        do {
            return try connection().lookup(text)
        } catch let error as VirtError where error.code == .noDomain {
            throw CommandFailure("failed to get domain '\(text)'")
        }
    }

    /// The domain found only the ways given (virsh's `domname` takes an id or uuid, `domid` a name or uuid).
    func domain(by ways: Set<DomainLookupWay>) throws -> DomainSummary {
        let text = try requiredValue("domain")
        let driver = try connection().driver
        if ways.contains(.id), let id = Int(text), id >= 0, let found = try? driver.lookup(.id(id)) { return found }
        if ways.contains(.uuid), let uuid = UUID(uuidString: text), let found = try? driver.lookup(.uuid(uuid)) {
            return found
        }
        if ways.contains(.name), let found = try? driver.lookup(.name(text)) { return found }
        throw CommandFailure("failed to get domain '\(text)'")
    }

    /// Prints `value` as one JSON document: sorted camelCase keys, pretty-printed.
    func printJSON<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        terminal.print(String(decoding: data, as: UTF8.self) + "\n")
        printedJSON = true
    }
}

/// Ways a `<domain>` argument may be resolved.
enum DomainLookupWay: Hashable { case id, uuid, name }
