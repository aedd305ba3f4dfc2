import Foundation
import Testing

/// tmux, when installed.
let tmuxPath: String? = ["/usr/bin/tmux", "/usr/local/bin/tmux"].first {
    FileManager.default.isExecutableFile(atPath: $0)
}

/// The interactive shell in a real terminal, driven through tmux (skipped visibly without tmux).
@Suite(.enabled(if: tmuxPath != nil, "tmux is not installed"), .serialized)
struct InteractiveTests {

    /// A tmux session running `virtsh ARGS`, removed at the end.
    final class Session {
        /// Also the name of the session's private tmux server socket (`tmux -L`), so tests touch no other server.
        let name = "virtsh-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let cache: URL

        init(_ arguments: String) throws {
            cache = FileManager.default.temporaryDirectory.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
            let command = "env XDG_CACHE_HOME=\(cache.path) LC_ALL=C.UTF-8 \(ProcessRunner.virtshPath) \(arguments)"
            let started = try ProcessRunner.run(
                tmuxPath!, ["-L", name, "new-session", "-d", "-s", name, "-x", "120", "-y", "40", command],
                input: nil, environment: [:], detached: true)
            #expect(started.status == 0)
        }

        deinit {
            _ = try? ProcessRunner.run(
                tmuxPath!, ["-L", name, "kill-server"], input: nil, environment: [:], detached: true)
            try? FileManager.default.removeItem(at: cache)
        }

        @discardableResult
        func tmux(_ arguments: [String]) throws -> String {
            try ProcessRunner.run(tmuxPath!, ["-L", name] + arguments, input: nil, environment: [:]).stdout
        }

        /// Sends key names (`Tab`, `Enter`, `C-u`) or plain text words.
        func send(_ keys: String...) throws { try tmux(["send-keys", "-t", name] + keys) }

        /// Types `text` literally (it may start with dashes).
        func type(_ text: String) throws { try tmux(["send-keys", "-t", name, "-l", "--", text]) }

        func screen() throws -> String { try tmux(["capture-pane", "-p", "-t", name]) }

        /// Waits (up to 10 s) until the screen contains `text`; returns the screen.
        func waitFor(_ text: String) throws -> String {
            for _ in 0..<200 {
                let screen = try screen()
                if screen.contains(text) { return screen }
                usleep(50_000)
            }
            return try screen()
        }
    }

    @Test func bannerPromptAndCommand() throws {
        let session = try Session("-c test:///default")
        let first = try session.waitFor("virtsh #")
        #expect(first.contains("Welcome to virtsh, the virtualization interactive terminal."))
        #expect(first.contains("Type:  'help' for help with commands"))
        try session.send("domstate test --reason", "Enter")
        let screen = try session.waitFor("running (unknown)\n\nvirtsh #")
        #expect(screen.contains("virtsh # domstate test --reason\nrunning (unknown)\n\nvirtsh #"))
    }

    @Test func readOnlyPrompt() throws {
        let session = try Session("-r -c test:///default")
        #expect(try session.waitFor("virtsh >").contains("virtsh >"))
    }

    @Test func tabCompletesCommandsOptionsAndDomains() throws {
        let session = try Session("-c test:///default")
        _ = try session.waitFor("virtsh #")
        try session.send("nodei", "Tab")
        #expect(try session.waitFor("virtsh # nodeinfo").contains("virtsh # nodeinfo"))
        try session.send("C-u", "domstate te", "Tab")
        #expect(try session.waitFor("domstate test").contains("virtsh # domstate test"))
        try session.type("--rea")
        try session.send("Tab", "Enter")
        #expect(try session.waitFor("running (unknown)").contains("domstate test --reason"))
    }

    @Test func quitAndHistory() throws {
        let session = try Session("-c test:///default")
        _ = try session.waitFor("virtsh #")
        try session.send("uri", "Enter")
        _ = try session.waitFor("test:///default")
        try session.send("quit", "Enter")
        let history = session.cache.appendingPathComponent("virtsh/history")
        var saved = ""
        for _ in 0..<200 {
            saved = (try? String(contentsOf: history, encoding: .utf8)) ?? ""
            if saved.contains("quit") { break }
            usleep(50_000)
        }
        #expect(saved.contains("uri"))
        #expect(saved.contains("quit"))
    }
}
