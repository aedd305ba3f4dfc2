/// Splits a command string into commands and words the way virsh does: blanks separate words, `;` and
/// newlines separate commands, `#` at the start of a word comments out the rest of the line, single quotes
/// keep everything literally, double quotes keep blanks and allow backslash escapes, a backslash outside
/// single quotes escapes the next character, and backslash-newline is a blank.
struct CommandTokenizer {
    /// A malformed command string (`missing "`, `dangling \`).
    struct Failure: Error, Equatable {
        var message: String
    }

    /// The commands of `text`, each as its words; empty commands are dropped.
    static func split(_ text: String) throws(Failure) -> [[String]] {
        var commands: [[String]] = []
        var words: [String] = []
        let chars = Array(text.unicodeScalars)
        var index = 0

        func endCommand() {
            if !words.isEmpty { commands.append(words) }
            words = []
        }

        while index < chars.count {
            let c = chars[index]
            if c == " " || c == "\t" {
                index += 1
                continue
            }
            if c == "\\" && index + 1 < chars.count && chars[index + 1] == "\n" {
                index += 2
                continue
            }
            if c == ";" || c == "\n" {
                endCommand()
                index += 1
                continue
            }
            if c == "#" {
                while index < chars.count && chars[index] != "\n" { index += 1 }
                continue
            }
            var word = String.UnicodeScalarView()
            var single = false
            var double = false
            while index < chars.count {
                let c = chars[index]
                if !single && !double && (c == " " || c == "\t" || c == ";" || c == "\n") { break }
                if !double && c == "'" {
                    single.toggle()
                    index += 1
                    continue
                }
                if !single && c == "\\" {
                    index += 1
                    guard index < chars.count else { throw Failure(message: "dangling \\") }
                    word.append(chars[index])
                    index += 1
                    continue
                }
                if !single && c == "\"" {
                    double.toggle()
                    index += 1
                    continue
                }
                word.append(c)
                index += 1
            }
            if double { throw Failure(message: "missing \"") }
            words.append(String(word))
        }
        endCommand()
        return commands
    }
}
