import Foundation
import Testing

/// Modes, exit statuses and virtsh's own behaviour (where there is no virsh output to compare with).
@Suite struct ShellBehaviourTests {
    let uri = ["-c", "test:///default"]

    @Test func exitStatusIsTheLastCommands() throws {
        #expect(try ProcessRunner.virtsh(uri + ["dominfo nosuch; uri"]).status == 0)
        #expect(try ProcessRunner.virtsh(uri + ["uri; dominfo nosuch"]).status == 1)
    }

    @Test func usageErrorRunsNothing() throws {
        let result = try ProcessRunner.virtsh(uri + ["uri; bogus"])
        #expect(result.stdout.isEmpty)
        #expect(result.stderr == "error: unknown command: 'bogus'\n")
        #expect(result.status == 1)
    }

    @Test func commandsFromStandardInput() throws {
        let result = try ProcessRunner.virtsh(uri, input: "uri\n# a comment\n\nbogus\ndomstate test\n")
        #expect(result.stdout == "test:///default\n\nrunning\n\n")
        #expect(result.stderr == "error: unknown command: 'bogus'\n")
        #expect(result.status == 0)
        let failing = try ProcessRunner.virtsh(uri, input: "uri\ndominfo nosuch\n")
        #expect(failing.status == 1)
    }

    @Test func standardInputKeepsOneConnection() throws {
        let result = try ProcessRunner.virtsh(["-q"] + uri, input: "destroy test\ndomstate test --reason\n")
        #expect(result.stdout == "shut off (destroyed)\n")
    }

    @Test func quitStopsTheCommandString() throws {
        let result = try ProcessRunner.virtsh(uri + ["uri; quit; uri"])
        #expect(result.stdout == "test:///default\n\n")
        #expect(result.status == 0)
    }

    @Test func timingLine() throws {
        let result = try ProcessRunner.virtsh(["-q", "-t"] + uri + ["uri"])
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 5)
        #expect(lines[0] == "test:///default")
        #expect(lines[2].hasPrefix("(Time: ") && lines[2].hasSuffix(" ms)"))
    }

    @Test func defaultURIFromEnvironment() throws {
        let result = try ProcessRunner.virtsh(["uri"], environment: ["VIRTSH_DEFAULT_URI": "test:///default"])
        #expect(result.stdout == "test:///default\n\n")
    }

    @Test func connectionFailureStopsBatchWithoutBlankLine() throws {
        let result = try ProcessRunner.virtsh(["-c", "bogus:///x", "uri; uri"])
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.hasPrefix("error: failed to connect to the hypervisor\nerror: "))
        #expect(result.stderr.contains("bogus:///x"))
    }

    @Test func connectionIsLazy() throws {
        let result = try ProcessRunner.virtsh(["-c", "bogus:///x", "echo hi; pwd"])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("hi\n"))
    }

    @Test func connectCommand() throws {
        let result = try ProcessRunner.virtsh(["-c", "bogus:///x", "connect test:///default; uri"])
        #expect(result.stdout == "\ntest:///default\n\n")
        let failed = try ProcessRunner.virtsh(uri + ["connect bogus:///y"])
        #expect(failed.status == 1)
        #expect(failed.stderr.hasPrefix("error: failed to connect to the hypervisor\nerror: "))
        let readOnly = try ProcessRunner.virtsh(uri + ["connect --readonly; destroy test"])
        #expect(readOnly.stderr.contains("operation forbidden: read only access prevents virDomainDestroy"))
    }

    @Test func versions() throws {
        let short = try ProcessRunner.virtsh(["-v"])
        #expect(short.status == 0)
        #expect(short.stdout.split(separator: ".").count == 3)
        let long = try ProcessRunner.virtsh(["-V"])
        #expect(long.stdout.hasPrefix("Virtsh command line tool of swift-virt "))
        let command = try ProcessRunner.virtsh(uri + ["version"])
        #expect(command.stdout.hasPrefix("Compiled against library: swift-virt \(short.stdout.dropLast())\n"))
        #expect(command.stdout.contains("Running hypervisor: TEST "))
    }

    @Test func startAutostartStartsEveryAutostartDomainNotRunning() throws {
        let result = try ProcessRunner.virtsh(
            ["-q"] + uri + [
                "start --autostart; destroy test; start --autostart; autostart test; start --autostart; list --name"
            ])
        #expect(result.stdout == "test\n")
        #expect(result.status == 0)
        let both = try ProcessRunner.virtsh(uri + ["start --autostart test"])
        #expect(both.stderr == "error: Options --autostart and --domain are mutually exclusive\n")
    }

    @Test func cdIsInteractiveOnly() throws {
        let result = try ProcessRunner.virtsh(uri + ["cd /tmp"])
        #expect(result.stderr == "error: cd: command valid only in interactive mode\n")
        #expect(result.status == 1)
    }

    @Test func editUnchanged() throws {
        let result = try ProcessRunner.virtsh(uri + ["edit test"], environment: ["VISUAL": "true", "EDITOR": "false"])
        #expect(result.stdout == "Domain 'test' XML configuration not changed.\n\n")
        #expect(result.status == 0)
    }

    @Test func editorFailureChangesNothing() throws {
        let result = try ProcessRunner.virtsh(uri + ["edit test"], environment: ["VISUAL": "false"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("the editor 'false' exited with status 1"))
    }
}
