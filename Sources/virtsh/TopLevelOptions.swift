import Glibc

/// `virtsh`'s own options (before the command), parsed the way getopt_long parses virsh's: short options may
/// be clustered (`-qt`), values attached (`-cURI`, `--connect=URI`) or separate, long names abbreviated,
/// and the first word that is not an option starts the command.
struct TopLevelOptions {
    /// An unusable option; printed as `error: MESSAGE`, exit 1.
    struct Failure: Error, Equatable {
        var message: String
    }

    /// What `virtsh` was asked to do besides running commands.
    enum Action: Equatable {
        case run
        case help
        case version(long: Bool)
        case completionScript(shell: String)
    }

    var uri: String?
    var quiet = false
    var readOnly = false
    var timing = false
    var action = Action.run
    /// The command words: one word is a command string, several are one command's words.
    var command: [String] = []

    private enum Name: String, CaseIterable {
        case connect, quiet, readonly, timing, help, version
        case generateCompletionScript = "generate-completion-script"
    }

    static func parse(_ arguments: [String]) throws(Failure) -> TopLevelOptions {
        var options = TopLevelOptions()
        var index = 0
        func requireValue(_ short: String?, _ long: String) throws(Failure) -> String {
            guard index < arguments.count else {
                let shown = short.map { "'-\($0)'/'--\(long)'" } ?? "'--\(long)'"
                throw Failure(message: "option \(shown) requires an argument")
            }
            index += 1
            return arguments[index - 1]
        }
        while index < arguments.count {
            let word = arguments[index]
            if word == "--" {
                index += 1
                break
            }
            guard word.hasPrefix("-"), word != "-" else { break }
            index += 1
            if word.hasPrefix("--") {
                var body = String(word.dropFirst(2))
                var inline: String?
                if let eq = body.firstIndex(of: "=") {
                    inline = String(body[body.index(after: eq)...])
                    body = String(body[..<eq])
                }
                let matches = Name.allCases.filter { $0.rawValue.hasPrefix(body) }
                guard
                    let name = matches.first(where: { $0.rawValue == body }) ?? (matches.count == 1 ? matches[0] : nil)
                else { throw Failure(message: "unsupported option '\(word)'. See --help.") }
                switch name {
                case .connect:
                    if let inline { options.uri = inline } else { options.uri = try requireValue("c", "connect") }
                case .generateCompletionScript:
                    let shell: String
                    if let inline { shell = inline } else { shell = try requireValue(nil, name.rawValue) }
                    options.action = .completionScript(shell: shell)
                case .version: options.action = .version(long: inline == "long")
                case .quiet, .readonly, .timing, .help:
                    if inline != nil {
                        throw Failure(message: "option '--\(name.rawValue)' doesn't allow an argument")
                    }
                    switch name {
                    case .quiet: options.quiet = true
                    case .readonly: options.readOnly = true
                    case .timing: options.timing = true
                    default: options.action = .help
                    }
                }
                continue
            }
            var letters = Array(word.dropFirst())
            while !letters.isEmpty {
                let letter = letters.removeFirst()
                switch letter {
                case "c":
                    if letters.isEmpty {
                        options.uri = try requireValue("c", "connect")
                    } else {
                        options.uri = String(letters)
                    }
                    letters = []
                case "q": options.quiet = true
                case "r": options.readOnly = true
                case "t": options.timing = true
                case "h": options.action = .help
                case "v": options.action = .version(long: false)
                case "V": options.action = .version(long: true)
                default: throw Failure(message: "unsupported option '-\(letter)'. See --help.")
                }
            }
        }
        options.command = Array(arguments[index...])
        return options
    }

    /// The URI to use: `-c`, else `$VIRTSH_DEFAULT_URI`, else `kvm:///system` for root, `kvm:///session` otherwise.
    func resolvedURI(environment: (String) -> String?, effectiveUID: uid_t) -> String {
        if let uri { return uri }
        if let fromEnvironment = environment("VIRTSH_DEFAULT_URI"), !fromEnvironment.isEmpty { return fromEnvironment }
        return effectiveUID == 0 ? "kvm:///system" : "kvm:///session"
    }
}
