import Foundation
import Testing

/// define, undefine and edit: against virsh where both behave alike, and virtsh's stricter rules where not.
@Suite struct DefineAndEditTests {
    let uri = ["-c", "test:///default"]

    @Test(
        .enabled(if: ProcessRunner.hasVirsh, "virsh (libvirt-clients) is not installed"),
        arguments: [
            "define demo.xml; list --all --title; domblklist demo --details; domblklist demo; dominfo demo",
            "define demo.xml; start demo; start demo; list --all; domstate demo --reason; destroy demo",
            "define demo.xml; domid demo; domname demo; domuuid demo; undefine demo; undefine demo",
            "define demo.xml --validate; start demo; undefine demo; list --all --transient; destroy demo; list --all",
            "define demo.xml; autostart demo; list --all --autostart; list --all --no-autostart",
            "define demo.xml; start demo --paused; domstate demo --reason",
        ])
    func definedDomainsMatchVirsh(_ commands: String) throws {
        let scratch = try Scratch()
        try scratch.write("demo.xml", Scratch.demoXML)
        let command = "cd \(scratch.url.path) && \"$0\" -c test:///default '\(commands)'"
        var ours = try ProcessRunner.run(
            "/bin/sh", ["-c", command, ProcessRunner.virtshPath], input: nil, environment: [:])
        var theirs = try ProcessRunner.run(
            "/bin/sh", ["-c", command, ProcessRunner.virshPath!], input: nil, environment: [:])
        ours.stdout = ProcessRunner.maskCPUTime(ours.stdout)
        theirs.stdout = ProcessRunner.maskCPUTime(theirs.stdout)
        #expect(ours == theirs)
    }

    @Test func unknownXMLIsAnErrorUnlessLax() throws {
        let scratch = try Scratch()
        let file = try scratch.write(
            "bogus.xml",
            "<domain type='test'><name>b</name><memory>1024</memory><bogus/><os><type>hvm</type></os></domain>")
        let strict = try ProcessRunner.virtsh(uri + ["define \(file); list --all --name"])
        #expect(strict.status == 0)
        #expect(strict.stderr.hasPrefix("error: Failed to define domain from \(file)\nerror: XML error: "))
        #expect(strict.stderr.contains("bogus"))
        #expect(strict.stdout == "\ntest\n\n")
        let lax = try ProcessRunner.virtsh(uri + ["define --lax \(file); list --all --name"])
        #expect(lax.stderr.hasPrefix("warning: dropped "))
        #expect(lax.stderr.contains("bogus"))
        #expect(lax.stdout == "Domain 'b' defined from \(file)\n\ntest\nb\n\n")
    }

    @Test func quietDefineAndReadOnly() throws {
        let scratch = try Scratch()
        let file = try scratch.write("demo.xml", Scratch.demoXML)
        let quiet = try ProcessRunner.virtsh(["-q"] + uri + ["define \(file); start demo; list --name"])
        #expect(quiet.stdout == "test\ndemo\n")
        let readOnly = try ProcessRunner.virtsh(["-r"] + uri + ["define \(file)"])
        #expect(
            readOnly.stderr == "error: Failed to define domain from \(file)\n"
                + "error: operation forbidden: read only access prevents virDomainDefineXML\n")
        #expect(readOnly.status == 1)
    }

    @Test func editChangesTheDefinition() throws {
        let scratch = try Scratch()
        let editor = try scratch.write(
            "editor.sh", "#!/bin/sh\nsed -i 's|<name>test</name>|<name>test</name><title>edited</title>|' \"$1\"\n",
            executable: true)
        let result = try ProcessRunner.virtsh(
            ["-c", "test:///default", "edit test; dumpxml --inactive test"], environment: ["EDITOR": editor])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("Domain 'test' XML configuration edited.\n\n<domain type='test'>\n"))
        #expect(result.stdout.contains("  <title>edited</title>\n"))
    }

    /// A failed edit asks `Failed. Try again?`; answers come from standard input when it is not a terminal.
    @Test func editRetryAnswers() throws {
        let scratch = try Scratch()
        let editor = try scratch.write(
            "editor.sh", "#!/bin/sh\nsed -i 's|<name>test</name>|<name>test</name><bogus/>|' \"$1\"\n", executable: true
        )
        let env = ["EDITOR": editor, "VISUAL": ""]
        let discard = try ProcessRunner.virtsh(uri + ["edit test"], input: "n\n", environment: env)
        #expect(discard.status == 1)
        #expect(discard.stdout == "Failed. Try again? [y,n,i,f,?]:\n\n")
        #expect(discard.stderr.hasPrefix("error: XML document failed to validate against schema"))

        let help = try ProcessRunner.virtsh(uri + ["edit test"], input: "?\n", environment: env)
        #expect(help.stdout.contains("i - turn off validation and try to redefine again\n"))
        #expect(help.status == 1)

        // Without the schema the strict parser still refuses <bogus>; force drops it, as libvirt would.
        let force = try ProcessRunner.virtsh(
            uri + ["edit test; dumpxml test --inactive"], input: "i\nf\n", environment: env)
        #expect(force.status == 0)
        #expect(force.stdout.contains("Failed. Try again? [y,n,f,?]:\nDomain 'test' XML configuration edited.\n"))
        #expect(force.stderr.contains("warning: dropped "))
        #expect(!force.stdout.contains("bogus"))
    }
}
