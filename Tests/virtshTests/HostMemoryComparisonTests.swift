import Foundation
import Testing

/// `freecell`, `freepages`, `allocpages`, `nodecpumap` and `nodememstats`: virtsh and the real virsh 9.0 on
/// `test:///default`, byte for byte (stdout, stderr, exit status). Skipped (visibly) without virsh.
@Suite(.enabled(if: ProcessRunner.hasVirsh, "virsh (libvirt-clients) is not installed"))
struct HostMemoryComparisonTests {
    func expectSame(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let full = ["-c", "test:///default"] + arguments
        let ours = try ProcessRunner.virtsh(full)
        let theirs = try ProcessRunner.virsh(full)
        #expect(ours == theirs, "virtsh \(arguments)", sourceLocation: sourceLocation)
    }

    @Test(arguments: [
        ["freecell"], ["freecell", "--all"], ["freecell", "0"], ["freecell", "1"], ["freecell", "--cellno", "1"],
        ["freecell", "--cellno=0"], ["-q", "freecell", "--all"], ["-q", "freecell"],
    ])
    func freecell(_ arguments: [String]) throws { try expectSame(arguments) }

    @Test(arguments: [
        ["freecell", "2"], ["freecell", "--cellno", "5"], ["freecell", "-1"], ["freecell", "abc"],
        ["freecell", "99999999999"], ["freecell", "--cellno", "0", "--all"], ["freecell", "--all", "0"],
        ["freecell", "0", "extra"], ["freecell", "--cellno", "abc", "--all"],
    ])
    func freecellErrors(_ arguments: [String]) throws { try expectSame(arguments) }

    @Test(arguments: [
        ["freepages", "--all"], ["freepages", "0", "2M"], ["freepages", "--cellno", "0", "--pagesize", "2048"],
        ["freepages", "--pagesize", "2M", "--all"], ["freepages", "0", "3M"], ["freepages", "0", "3G"],
        ["freepages", "0", "1b"], ["freepages", "0", "1500b"], ["freepages", "0", "1KB"], ["freepages", "0", "1MB"],
        ["freepages", "0", "2mib"], ["freepages", "0", "1KiB"], ["freepages", "0", "+2M"], ["freepages", "0", " 2M"],
        ["freepages", "0", "0"], ["freepages", "5", "2M"], ["freepages", "-1", "2M"], ["-q", "freepages", "--all"],
        ["freepages", "1", "--pagesize=8"],
    ])
    func freepages(_ arguments: [String]) throws { try expectSame(arguments) }

    @Test(arguments: [
        ["freepages"], ["freepages", "--cellno", "0"], ["freepages", "--pagesize", "2M"], ["freepages", "3"],
        ["freepages", "0", "abc"], ["freepages", "0", "1.5M"], ["freepages", "0", "4G"], ["freepages", "0", "1T"],
        ["freepages", "0", "2e"], ["freepages", "0", "2x"], ["freepages", "0", "0x10"], ["freepages", "0", ""],
        ["freepages", "0", "-2"], ["freepages", "0", "4194304"], ["freepages", "abc", "2M"],
        ["freepages", "0", "2M", "--all"], ["freepages", "0", "2M", "1"], ["freepages", "0", "2bB"],
        ["freepages", "--cellno", "abc", "--all"], ["freepages", "--cellno", "0", "--pagesize", "abc", "--all"],
        ["freepages", "--pagesize", "abc"],
    ])
    func freepagesErrors(_ arguments: [String]) throws { try expectSame(arguments) }

    @Test(arguments: [
        ["allocpages", "2M", "10"], ["allocpages", "2M", "10", "--cellno", "0"], ["allocpages", "2M", "10", "--all"],
        ["allocpages", "2M", "10", "--add"], ["allocpages", "2M", "10", "0"], ["allocpages", "abc", "10"],
        ["allocpages", "2M", "abc"], ["allocpages", "2M", "-1"], ["allocpages", "2M", "18446744073709551615"],
        ["allocpages", "2M", "18446744073709551616"],
        [
            "allocpages", "--pagesize", "2M", "--pagecount", "3",
            "--cellno", "0", "--all",
        ], ["allocpages", "0", "10"], ["allocpages", "2M"], ["allocpages"], ["allocpages", "--add"],
        ["allocpages", "abc", "1", "--cellno", "abc", "--all"], ["allocpages", "2M", "x", "--cellno", "abc"],
        ["-r", "allocpages", "2M", "1"],
    ])
    func allocpages(_ arguments: [String]) throws { try expectSame(arguments) }

    @Test(arguments: [
        ["nodecpumap"], ["nodecpumap", "--pretty"], ["-q", "nodecpumap"], ["nodememstats"],
        ["nodememstats", "--cell", "0"], ["nodememstats", "-1"], ["nodememstats", "--cell", "abc"],
        ["nodememstats", "0", "1"],
    ])
    func cpuMapAndMemoryStats(_ arguments: [String]) throws { try expectSame(arguments) }

    /// `help CMD` is virsh's page, apart from the `--json` extension in the synopsis and the options.
    @Test(arguments: ["freecell", "freepages", "allocpages", "nodecpumap", "nodememstats"])
    func help(_ name: String) throws {
        let ours = try ProcessRunner.virtsh(["help", name]).stdout
            .replacingOccurrences(of: " [--json]", with: "")
            .split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.contains("--json") }
            .joined(separator: "\n")
        #expect(ours == (try ProcessRunner.virsh(["help", name]).stdout))
    }
}
