import Foundation
import Glibc
import Testing

/// `virtsh console`, `start --console` and `start --autostart` against real guests on a temporary
/// `kvm:///embed` root. Skipped visibly without /dev/kvm or gcc (and the terminal tests without tmux).
@Suite("virtsh console and autostart with real guests", .enabled(if: ConsoleGuests.available), .serialized)
struct ConsoleTests {
    @Test("console through a pipe: the echo guest echoes what is sent, and its power-off ends the console")
    func pipeRelayToEcho() throws {
        let root = try EmbedScratch()
        #expect(try root.define("e", ConsoleGuests.document("e", guest: "echo")).status == 0)
        #expect(try root.virtsh("start", "e").stdout == "Domain 'e' started\n\n")
        let console = try SpawnedProcess(
            ProcessRunner.virtshPath, ["-c", root.uri, "console", "e"], pipeInput: true)
        #expect(console.waitForOutput("echo ready"), "output so far: \(console.output)")
        console.send("pipe-says-hi~")
        let status = console.wait()
        let output = console.output
        #expect(status == 0, "stderr: \(console.errorOutput)")
        #expect(output.hasPrefix("Connected to domain 'e'\nEscape character is ^] (Ctrl + ])\n"))
        #expect(output.contains("pipe-says-hi"))
        #expect(output.contains("echo done"))
        #expect(output.hasSuffix("\nDomain 'e' stopped; console closed\n\n"), "output: \(output)")
        #expect(try root.virtsh("domstate", "e").stdout == "shut off\n\n")
    }

    @Test("Ctrl+] in piped input detaches and leaves the guest running; the console can be taken again")
    func pipeDetach() throws {
        let root = try EmbedScratch()
        _ = try root.define("t", ConsoleGuests.document("t", guest: "ticks", cmdline: "delay=300000"))
        #expect(try root.virtsh("start", "t").status == 0)
        let console = try SpawnedProcess(
            ProcessRunner.virtshPath, ["-q", "-c", root.uri, "console", "t"], pipeInput: true)
        #expect(console.waitForOutput("tick "), "output so far: \(console.output)")
        console.send([ConsoleGuestsKeys.escape])
        #expect(console.wait() == 0)
        #expect(!console.output.contains("Connected to domain"), "-q drops the banner")
        #expect(try root.virtsh("domstate", "t").stdout == "running\n\n")

        // One console at a time; --force takes it over.
        let first = try SpawnedProcess(ProcessRunner.virtshPath, ["-c", root.uri, "console", "t"], pipeInput: true)
        #expect(first.waitForOutput("Connected to domain 't'"))
        let second = try root.virtsh("console", "t")
        #expect(second.status == 1)
        #expect(second.stderr.hasPrefix("error: operation failed: Active console session exists for this domain"))
        let forced = try SpawnedProcess(
            ProcessRunner.virtshPath, ["-c", root.uri, "console", "t", "--force"], pipeInput: true)
        #expect(first.wait() == 1)
        #expect(first.errorOutput.contains("another session took over the console of domain 't'"))
        #expect(forced.waitForOutput("tick "), "stderr: \(forced.errorOutput)")
        forced.send([ConsoleGuestsKeys.escape])
        #expect(forced.wait() == 0)
        #expect(try root.virtsh("destroy", "t").status == 0)
    }

    @Test("errors: an inactive domain, a serial port on a file, an unknown domain")
    func errors() throws {
        let root = try EmbedScratch()
        let log = root.scratch.url.appendingPathComponent("f.log").path
        _ = try root.define("t", ConsoleGuests.document("t", guest: "ticks"))
        _ = try root.define("f", ConsoleGuests.document("f", guest: "ticks", file: log, cmdline: "delay=300000"))
        let inactive = try root.virtsh("console", "t")
        #expect(inactive == ProcessResult(stdout: "\n", stderr: "error: The domain is not running\n", status: 1))

        #expect(try root.virtsh("start", "f").status == 0)
        let file = try root.virtsh("console", "f")
        #expect(file.status == 1)
        #expect(
            file.stderr
                == "error: operation failed: the serial port of domain 'f' is <serial type='file'>, not a pty; "
                + "change it to <serial type='pty'/> (virtsh edit f) and restart the domain\n")
        #expect(!file.stdout.contains("Connected"))
        let readOnly = try root.virtsh("-r", "console", "f")
        #expect(readOnly.stderr == "error: operation forbidden: read only access prevents virDomainOpenConsole\n")
        #expect(try root.virtsh("destroy", "f").status == 0)

        let missing = try root.virtsh("console", "nosuch")
        #expect(missing.stderr == "error: failed to get domain 'nosuch'\n")
        let both = try root.virtsh("start", "--autostart", "--console")
        #expect(both.stderr == "error: Options --autostart and --console are mutually exclusive\n")
    }

    @Test("start --autostart starts every autostart domain that is not running, and only those")
    func autostart() throws {
        let root = try EmbedScratch()
        for name in ["auto1", "auto2", "manual"] {
            let xml = ConsoleGuests.document(name, guest: "ticks", file: "/dev/null", cmdline: "delay=300000")
            #expect(try root.define(name, xml).status == 0)
        }
        #expect(try root.virtsh("autostart", "auto1").status == 0)
        #expect(try root.virtsh("autostart", "auto2").status == 0)
        let started = try root.virtsh("start", "--autostart")
        #expect(started.status == 0, "\(started)")
        #expect(started.stdout.contains("Domain 'auto1' started\n"))
        #expect(started.stdout.contains("Domain 'auto2' started\n"))
        #expect(!started.stdout.contains("manual"))
        #expect(try root.virtsh("-q", "list", "--name").stdout == "auto1\nauto2\n")
        #expect(try root.virtsh("domstate", "manual").stdout == "shut off\n\n")
        // Running ones are left alone: nothing more to start.
        let again = try root.virtsh("start", "--autostart")
        #expect(again == ProcessResult(stdout: "\n", stderr: "", status: 0))
        for name in ["auto1", "auto2"] { #expect(try root.virtsh("destroy", name).status == 0) }
    }
}

/// Bytes the console tests type.
enum ConsoleGuestsKeys {
    /// Ctrl+], the escape character.
    static let escape: UInt8 = 0x1d
}
