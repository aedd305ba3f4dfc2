import CEdit
import Foundation

/// The libedit (readline-compatible) calls the interactive shell makes.
///
/// libedit's completion hooks are plain C function pointers with no context argument, so the completer they
/// consult has to live in a global. The shell is single-threaded and libedit calls back only from inside
/// `readline()` on that thread, which is why `nonisolated(unsafe)` is sound for these two variables.
enum LineEditor {
    nonisolated(unsafe) private static var completer: Completer?
    /// Candidates of the completion in progress, handed out one by one to libedit's generator.
    nonisolated(unsafe) private static var pending: [String] = []

    static func install(completer: Completer) {
        Self.completer = completer
        cedit_set_readline_name(UnsafePointer(strdup("virtsh")))
        cedit_set_attempted_completion { text, start, _ in
            LineEditor.complete(text: text, start: Int(start))
        }
    }

    /// One line, or nil at end of input.
    static func readLine(prompt: String) -> String? {
        guard let raw = readline(prompt) else { return nil }
        defer { free(raw) }
        return String(cString: raw)
    }

    static func addHistory(_ line: String) { add_history(line) }

    static func loadHistory(from path: String?, limit: Int) {
        stifle_history(Int32(limit))
        guard let path else { return }
        _ = read_history(path)
    }

    /// Writes the history, creating its directory (0700) first.
    static func saveHistory(to path: String?) {
        guard let path else { return }
        let directory = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        _ = write_history(path)
    }

    private static func complete(text: UnsafePointer<CChar>?, start: Int) -> UnsafeMutablePointer<
        UnsafeMutablePointer<CChar>?
    >? {
        let word = text.map { String(cString: $0) } ?? ""
        let line = cedit_line_buffer().map { String(cString: $0) } ?? ""
        let before = String(line.utf8.prefix(start)) ?? ""
        guard let text, let completer, let found = completer.candidates(before: before, word: word) else {
            cedit_set_completion_over(0)
            return nil
        }
        cedit_set_completion_over(1)
        if found.isEmpty { return nil }
        pending = found
        return rl_completion_matches(text) { _, state in
            let index = Int(state)
            guard index < LineEditor.pending.count else { return nil }
            return strdup(LineEditor.pending[index])
        }
    }
}
