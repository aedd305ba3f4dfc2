import Foundation
import VirtCore

/// `edit`: the inactive XML goes to a temporary file, `$VISUAL` / `$EDITOR` (default `vi`) edits it, and the
/// result is redefined with strict parsing and the schema (unless `--skip-validate` / `--lax`). A failure
/// asks virsh's question: `y` edit again, `n` throw the changes away, `i` redefine without the schema,
/// `f` force (libvirt's lax parse, listing what it drops).
enum DomainEditor {
    /// The answers to `Failed. Try again?`.
    enum Answer: Character { case again = "y", discard = "n", noValidation = "i", force = "f", help = "?" }

    static func edit(_ context: CommandContext) throws {
        let domain = try context.domain()
        let connection = try context.connection()
        let original = try connection.domainXML(domain.uuid, inactive: true, securityInfo: true)
        let path = try writeTemporaryFile(original)
        defer { unlink(path) }
        var options = DomainXMLParseOptions()
        options.strict = !context.flag("lax")
        options.validateSchema = !context.flag("skip-validate") && !context.flag("lax")
        options.sourceName = path

        var needsEditing = true
        while true {
            if needsEditing { try runEditor(on: path) }
            let edited = try FileText.read(path)
            if edited == original {
                context.printExtra("Domain '\(domain.name)' XML configuration not changed.\n")
                return
            }
            do {
                let result = try connection.defineXML(edited, options: options)
                DomainCommands.reportDropped(result.dropped, context)
                context.printExtra("Domain '\(result.domain.name)' XML configuration edited.\n")
                return
            } catch let error as VirtError {
                context.terminal.error(error.description)
            }
            switch ask(context.terminal, offerNoValidation: options.validateSchema) {
            case .again: needsEditing = true
            case .noValidation:
                options.validateSchema = false
                needsEditing = false
            case .force:
                options.validateSchema = false
                options.strict = false
                needsEditing = false
            case .discard, .help: throw CommandFailure(lines: [])
            }
        }
    }

    /// Asks until a valid answer comes: one key press on a terminal, else the first character of a line
    /// (end of input counts as `n`).
    static func ask(_ terminal: Terminal, offerNoValidation: Bool) -> Answer {
        let choices = offerNoValidation ? "y,n,i,f,?" : "y,n,f,?"
        while true {
            terminal.print("Failed. Try again? [\(choices)]:")
            terminal.flush()
            let key = readAnswerKey()
            terminal.print("\n")
            guard let key, let answer = Answer(rawValue: key) else {
                if key == nil { return .discard }
                continue
            }
            if answer == .noValidation && !offerNoValidation { continue }
            if answer != .help { return answer }
            var help = "y - yes, start editor again\nn - no, throw away my changes\n"
            if offerNoValidation { help += "i - turn off validation and try to redefine again\n" }
            help += "f - force, try to redefine again\n? - print this help\n"
            terminal.print(help)
        }
    }

    private static func readAnswerKey() -> Character? {
        if isatty(STDIN_FILENO) == 1 {
            var saved = termios()
            tcgetattr(STDIN_FILENO, &saved)
            var raw = saved
            cfmakeraw(&raw)
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw)
            defer { tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved) }
            var byte: UInt8 = 0
            guard read(STDIN_FILENO, &byte, 1) == 1 else { return nil }
            return Character(Unicode.Scalar(byte))
        }
        guard let line = readLine() else { return nil }
        return line.first ?? " "
    }

    /// A private temporary file `$TMPDIR/virtshXXXXXX.xml` holding `text`.
    private static func writeTemporaryFile(_ text: String) throws -> String {
        let directory = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(directory)/virtshXXXXXX.xml".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemps($0.baseAddress!, 4) }
        if fd < 0 {
            throw CommandFailure(
                "cannot create a temporary file in \(directory): \(String(cString: strerror(errno)))")
        }
        let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        if written != bytes.count {
            unlink(path)
            throw CommandFailure("cannot write the temporary file \(path): \(String(cString: strerror(errno)))")
        }
        return path
    }

    /// Runs the user's editor through `/bin/sh` (so `EDITOR="emacs -nw"` works), on the terminal we have.
    private static func runEditor(on path: String) throws {
        let environment = ProcessInfo.processInfo.environment
        let editor = [environment["VISUAL"], environment["EDITOR"]].compactMap { $0 }.first { !$0.isEmpty } ?? "vi"
        let quoted = "'" + path.replacingOccurrences(of: "'", with: "'\\''") + "'"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "\(editor) \(quoted)"]
        do {
            try process.run()
        } catch {
            throw CommandFailure("cannot run the editor '\(editor)': \(error.localizedDescription)")
        }
        process.waitUntilExit()
        if process.terminationStatus != 0 {
            throw CommandFailure(
                "the editor '\(editor)' exited with status \(process.terminationStatus); nothing was changed "
                    + "(set $VISUAL or $EDITOR to the editor you want)")
        }
    }
}
