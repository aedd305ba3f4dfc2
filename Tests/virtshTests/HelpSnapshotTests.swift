import Foundation
import Testing

@testable import virtsh

/// Help output against committed snapshots in `Snapshots/` (regenerate with `VIRT_TEST_REGENERATE=1`).
@Suite struct HelpSnapshotTests {
    static let snapshotDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Snapshots")
    static let regenerate = ProcessInfo.processInfo.environment["VIRT_TEST_REGENERATE"] == "1"

    func expectSnapshot(_ name: String, _ actual: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let file = Self.snapshotDirectory.appendingPathComponent(name + ".txt")
        if Self.regenerate {
            try FileManager.default.createDirectory(at: Self.snapshotDirectory, withIntermediateDirectories: true)
            try actual.write(to: file, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: file, encoding: .utf8)
        #expect(
            actual == expected, "snapshot \(name) differs (VIRT_TEST_REGENERATE=1 rewrites it)",
            sourceLocation: sourceLocation)
    }

    @Test func groupedHelp() throws {
        let result = try ProcessRunner.virtsh(["help"])
        #expect(result.status == 0)
        try expectSnapshot("help", result.stdout)
    }

    @Test func usage() throws {
        let result = try ProcessRunner.virtsh(["--help"])
        #expect(result.status == 0)
        try expectSnapshot("usage", result.stdout)
    }

    @Test(arguments: CommandTable.standard.commands.map(\.name))
    func commandHelp(_ name: String) throws {
        let result = try ProcessRunner.virtsh(["help", name])
        #expect(result.status == 0)
        try expectSnapshot("help-\(name)", result.stdout)
        // `CMD --help` prints the same page.
        let viaFlag = try ProcessRunner.virtsh([name, "--help"])
        #expect(viaFlag.stdout == result.stdout)
    }

    @Test(arguments: CommandGroup.allCases)
    func groupHelp(_ group: CommandGroup) throws {
        let result = try ProcessRunner.virtsh(["help", group.keyword])
        #expect(result.status == 0)
        try expectSnapshot("help-group-\(group.keyword)", result.stdout)
    }

    /// Every command we share with virsh is in the same group, with the same summary line.
    @Test(.enabled(if: ProcessRunner.hasVirsh, "virsh (libvirt-clients) is not installed"))
    func groupsAndSummariesMatchVirsh() throws {
        let theirs = try ProcessRunner.virsh(["help"]).stdout
        for group in CommandGroup.allCases {
            let heading = " \(group.title) (help keyword '\(group.keyword)'):"
            #expect(theirs.contains(heading), "virsh has no group \(heading)")
            for command in CommandTable.standard.commands(in: group) where !command.isExtension {
                let line = "    " + command.name.padding(30) + " " + command.summary + "\n"
                #expect(theirs.contains(line), "virsh's help has no line \(line)")
            }
        }
    }

    /// Where virtsh adds nothing to a command, its help page is virsh's, byte for byte.
    @Test(
        .enabled(if: ProcessRunner.hasVirsh, "virsh (libvirt-clients) is not installed"),
        arguments: [
            "autostart", "domid", "domname", "domuuid", "suspend", "resume", "reset", "help", "connect",
            "quit", "exit", "echo", "cd", "pwd", "edit", "dumpxml",
        ])
    func identicalToVirsh(_ name: String) throws {
        var ours = try ProcessRunner.virtsh(["help", name]).stdout
        if name == "edit" {
            ours = ours.replacingOccurrences(of: " [--lax]", with: "")
            ours = ours.split(separator: "\n", omittingEmptySubsequences: false)
                .filter { !$0.hasPrefix("    --lax ") }.joined(separator: "\n")
        }
        let theirs = try ProcessRunner.virsh(["help", name]).stdout
        if name == "dumpxml" {
            // virsh's extra options (--update-cpu --migratable --xpath --wrap) are not in virtsh.
            #expect(ours.hasPrefix("  NAME\n    dumpxml - domain information in XML\n"))
            return
        }
        #expect(ours == theirs)
    }
}
