import Foundation
import Testing

/// virtsh and the real virsh 9.0 against `test:///default`: same stdout, stderr and exit status.
/// Skipped (visibly) where virsh is not installed (Debian package libvirt-clients).
@Suite(.enabled(if: ProcessRunner.hasVirsh, "virsh (libvirt-clients) is not installed"))
struct VirshComparisonTests {
    /// Runs the same command line through both and compares everything.
    func expectSame(_ arguments: [String], maskTime: Bool = false, sourceLocation: SourceLocation = #_sourceLocation)
        throws
    {
        let full = ["-c", "test:///default"] + arguments
        var ours = try ProcessRunner.virtsh(full)
        var theirs = try ProcessRunner.virsh(full)
        if maskTime {
            ours.stdout = ProcessRunner.maskCPUTime(ours.stdout)
            theirs.stdout = ProcessRunner.maskCPUTime(theirs.stdout)
        }
        #expect(ours == theirs, "virtsh \(arguments)", sourceLocation: sourceLocation)
    }

    @Test(arguments: [
        ["list"], ["list", "--all"], ["list", "--inactive"], ["list", "--name"], ["list", "--uuid"],
        ["list", "--all", "--title"], ["list", "--id"], ["list", "--all", "--id", "--name"],
        ["list", "--uuid", "--name", "--id"], ["list", "--state-running"], ["list", "--state-shutoff"],
        ["list", "--state-paused", "--all"], ["list", "--autostart"], ["list", "--no-autostart"],
        ["list", "--persistent"], ["list", "--transient"], ["list", "--table"], ["-q", "list"],
        ["-q", "list", "--all", "--title"], ["list", "--table", "--name"], ["list", "--uuid", "--table"],
    ])
    func listVariants(_ arguments: [String]) throws { try expectSame(arguments) }

    @Test(arguments: [
        ["dominfo", "test"], ["dominfo", "1"], ["dominfo", "6695eb01-f6a4-8304-79aa-97f2502e193f"],
        ["dominfo", "--domain=test"], ["-q", "dominfo", "test"],
    ])
    func dominfo(_ arguments: [String]) throws { try expectSame(arguments, maskTime: true) }

    @Test(arguments: [
        ["domstate", "test"], ["domstate", "test", "--reason"], ["domstate", "--reason", "1"], ["nodeinfo"],
        ["domblklist", "test"], ["domblklist", "test", "--details"], ["domblklist", "--inactive", "test"],
        ["uri"], ["hostname"], ["domid", "test"], ["domuuid", "test"], ["domname", "1"],
        ["domname", "test"], ["domid", "1"], ["-q", "uri"], ["-q", "domblklist", "test", "--details"],
    ])
    func queries(_ arguments: [String]) throws { try expectSame(arguments) }

    @Test(arguments: [
        "suspend test; domstate test --reason; resume test; domstate test --reason",
        "destroy test; domstate --reason test; list --all; destroy test; start test; domstate test --reason",
        "start test", "shutdown test; domstate test --reason; shutdown test",
        "reboot test; reset test; domstate test", "autostart test; list --autostart; autostart --disable test",
        "suspend 1; suspend 1; resume 1; resume 1", "undefine test; dominfo test; list --all --persistent",
        "destroy test; undefine test; list --all", "uri; dominfo nosuch; uri", "uri; dominfo nosuch",
        "quit; uri", "uri; exit; uri", "echo a \"b c\" 'd e' f\\ g # comment; echo --shell \"a b\" it\\'s plain",
        "echo --xml '<a>&'; echo --split a,b,,c d; echo", "pwd; cd /tmp", "-- --foo",
    ])
    func sequences(_ commandString: String) throws {
        try expectSame(commandString == "-- --foo" ? ["--", "--foo"] : [commandString], maskTime: true)
    }

    @Test(arguments: [
        ["bogus"], ["start"], ["dominfo", "--bogus"], ["dominfo", "--domain"], ["dominfo", "test", "extra"],
        ["dominfo", "nosuch"], ["dominfo", ""], ["list", "--all=1"], ["list", "--all", "--all"],
        ["dominfo", "test", "--domain", "test"], ["list", "--", "--all"], ["dominfo", "--", "--domain"],
        ["uri; bogus"], ["echo \"unterminated"], ["echo a\\"], ["help", "nosuch"], ["--bogus"], ["-x"],
        ["destroy", "nosuch"], ["define"], ["define", "/nonexistent/file.xml"], [""], ["   "], [";"],
    ])
    func errors(_ arguments: [String]) throws { try expectSame(arguments) }

    @Test func readOnlyRefusesChanges() throws {
        try expectSame(["-r", "destroy test; suspend test; domstate test"])
    }
}
