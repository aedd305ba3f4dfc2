import Foundation
import Glibc
import Testing

/// `virtsh console` in a real terminal (a tmux pane running a shell), against real guests: raw mode, what is
/// typed reaches the guest, Ctrl+] returns to the shell with the terminal restored, the guest's end closes it.
@Suite(
    "virtsh console in a terminal", .enabled(if: ConsoleGuests.available),
    .enabled(if: tmuxPath != nil, "tmux is not installed"), .serialized)
struct ConsoleTerminalTests {
    /// A shell in a tmux pane on a private tmux server (`tmux -L`), killed at the end.
    final class Pane {
        let name = "virtsh-console-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"

        init() throws {
            let tmux = try SpawnedProcess(
                tmuxPath!,
                [
                    "-L", name, "new-session", "-d", "-s", name, "-x", "150", "-y", "40",
                    "env PS1='shell$ ' sh",
                ])
            #expect(tmux.wait() == 0)
        }

        deinit { _ = try? SpawnedProcess(tmuxPath!, ["-L", name, "kill-server"]).wait() }

        @discardableResult
        func tmux(_ arguments: [String]) throws -> String {
            let process = try SpawnedProcess(tmuxPath!, ["-L", name] + arguments)
            process.wait()
            return process.output
        }

        /// Types `text` literally, then Enter.
        func run(_ line: String) throws {
            try tmux(["send-keys", "-t", name, "-l", "--", line])
            try tmux(["send-keys", "-t", name, "Enter"])
        }

        /// Sends key names (`C-]`, `Enter`).
        func keys(_ keys: String...) throws { try tmux(["send-keys", "-t", name] + keys) }

        /// Types `text` literally.
        func type(_ text: String) throws { try tmux(["send-keys", "-t", name, "-l", "--", text]) }

        /// The pane's text with wrapped lines joined.
        func screen() throws -> String { try tmux(["capture-pane", "-p", "-J", "-t", name]) }

        /// Waits (up to 15 s) until the screen contains `text`; returns the screen.
        func waitFor(_ text: String) throws -> String {
            for _ in 0..<300 {
                let screen = try screen()
                if screen.contains(text) { return screen }
                usleep(50_000)
            }
            return try screen()
        }
    }

    static func virtsh(_ root: EmbedScratch, _ arguments: String) -> String {
        "\(ProcessRunner.virtshPath) -c '\(root.uri)' \(arguments)"
    }

    @Test("typing reaches the echo guest, Ctrl+] returns to the shell with the terminal restored")
    func typeAndDetach() throws {
        let root = try EmbedScratch()
        #expect(try root.define("e", ConsoleGuests.document("e", guest: "echo")).status == 0)
        #expect(try root.virtsh("start", "e").status == 0)
        let pane = try Pane()
        try pane.run(Self.virtsh(root, "console e; echo \"console-status-$?\""))
        let attached = try pane.waitFor("echo ready")
        #expect(attached.contains("Connected to domain 'e'\nEscape character is ^] (Ctrl + ])"))
        // The terminal is raw: nothing echoes locally, so the word appears only when the guest sends it back.
        try pane.type("guest-hears-me")
        #expect(try pane.waitFor("guest-hears-me").contains("echo ready\nguest-hears-me"))
        try pane.keys("C-]")
        #expect(try pane.waitFor("console-status-0").contains("console-status-0"))
        try pane.run("stty -a | tr ' ' '\\n' | grep -x -e icanon -e echo -e -icanon -e -echo | tr '\\n' ,")
        #expect(try pane.waitFor("icanon,echo,").contains("icanon,echo,"), "the shell's terminal is cooked again")
        #expect(try root.virtsh("domstate", "e").stdout == "running\n\n", "detaching leaves the guest running")
        #expect(try root.virtsh("destroy", "e").status == 0)
    }

    @Test("start --console attaches after `Domain 'x' started`; destroying the guest ends the console")
    func startConsoleThenDestroy() throws {
        let root = try EmbedScratch()
        _ = try root.define("t", ConsoleGuests.document("t", guest: "ticks", cmdline: "delay=300000"))
        let pane = try Pane()
        try pane.run(Self.virtsh(root, "start t --console; echo \"console-status-$?\""))
        let attached = try pane.waitFor("tick 1")
        #expect(attached.contains("Domain 't' started\nConnected to domain 't'\nEscape character is ^] (Ctrl + ])"))
        #expect(try root.virtsh("destroy", "t").status == 0)
        let ended = try pane.waitFor("console-status-0")
        #expect(ended.contains("Domain 't' stopped; console closed\n\nconsole-status-0"), "screen:\n\(ended)")
    }

    @Test("SIGTERM during a console restores the terminal, then ends virtsh as SIGTERM does")
    func signalRestoresTerminal() throws {
        let root = try EmbedScratch()
        _ = try root.define("t", ConsoleGuests.document("t", guest: "ticks", cmdline: "delay=300000"))
        #expect(try root.virtsh("start", "t").status == 0)
        let pidFile = root.scratch.url.appendingPathComponent("console.pid").path
        let pane = try Pane()
        try pane.run("sh -c 'echo $$ > \(pidFile); exec \(Self.virtsh(root, "console t"))'; echo \"console-status-$?\"")
        _ = try pane.waitFor("tick ")
        let text = try String(contentsOfFile: pidFile, encoding: .utf8)
        let pid = try #require(pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(kill(pid, SIGTERM) == 0)
        #expect(try pane.waitFor("console-status-143").contains("console-status-143"))
        try pane.run("stty -a | tr ' ' '\\n' | grep -x -e icanon -e echo -e -icanon -e -echo | tr '\\n' ,")
        #expect(try pane.waitFor("icanon,echo,").contains("icanon,echo,"), "the shell's terminal is cooked again")
        #expect(try root.virtsh("domstate", "t").stdout == "running\n\n")
        #expect(try root.virtsh("destroy", "t").status == 0)
    }
}
