import Testing

@testable import virtsh

/// The tokenizer and the option binder, in process.
@Suite struct ParserTests {
    let parser = CommandParser(table: .standard)

    @Test func tokenizerQuotingAndSeparators() throws {
        #expect(try CommandTokenizer.split(#"echo "a b" 'c d' e\ f # comment"#) == [["echo", "a b", "c d", "e f"]])
        #expect(try CommandTokenizer.split("echo a;echo b\nuri") == [["echo", "a"], ["echo", "b"], ["uri"]])
        #expect(try CommandTokenizer.split(#"echo "a\"b" 'a\b' a"b c"d"#) == [["echo", "a\"b", "a\\b", "ab cd"]])
        #expect(try CommandTokenizer.split("echo a#b #c; still comment\nuri") == [["echo", "a#b"], ["uri"]])
        #expect(try CommandTokenizer.split("echo 'a;b' c\\;d") == [["echo", "a;b", "c;d"]])
        #expect(try CommandTokenizer.split("echo \"\"") == [["echo", ""]])
        #expect(try CommandTokenizer.split(" ;; \n ") == [])
        #expect(try CommandTokenizer.split("list \\\n --all") == [["list", "--all"]])
    }

    @Test func tokenizerErrors() {
        #expect(throws: CommandTokenizer.Failure(message: "missing \"")) { try CommandTokenizer.split("echo \"x") }
        #expect(throws: CommandTokenizer.Failure(message: "dangling \\")) { try CommandTokenizer.split("echo x\\") }
    }

    @Test func positionalAndNamedOptions() throws {
        let a = try parser.parse(["domstate", "test", "--reason"])
        #expect(a.value("domain") == "test")
        #expect(a.flag("reason"))
        let b = try parser.parse(["domstate", "--domain=test"])
        #expect(b.value("domain") == "test")
        let c = try parser.parse(["dominfo", "--", "--weird-name"])
        #expect(c.value("domain") == "--weird-name")
        let d = try parser.parse(["echo", "a", "--shell", "b", "c"])
        #expect(d.all("string") == ["a", "b", "c"])
        #expect(d.flag("shell"))
        let e = try parser.parse(["connect", "test:///default", "--readonly"])
        #expect(e.value("name") == "test:///default")
    }

    @Test(arguments: [
        (["bogus"], "unknown command: 'bogus'"),
        (["start"], "command 'start' requires <domain> option"),
        (["define", "--validate"], "command 'define' requires <file> option"),
        (["dominfo", "--bogus"], "command 'dominfo' doesn't support option --bogus"),
        (["dominfo", "--domain"], "expected syntax: --domain <string>"),
        (["dominfo", "a", "b"], "unexpected data 'b'"),
        (["list", "--all=1"], "invalid '=' after option --all"),
        (["list", "--all", "--all"], "option --all already seen"),
        (["list", "--", "--all"], "unexpected data '--all'"),
    ])
    func usageErrors(_ words: [String], _ message: String) {
        #expect(throws: CommandParser.Failure(message: message)) { try parser.parse(words) }
    }

    /// A number option (none of today's commands has one): virsh's syntax message and help layout.
    @Test func numberOptions() throws {
        let command = CommandDefinition(
            name: "vcpupin", group: .domain, summary: "pin", description: "",
            options: [CommonOptions.domain(), OptionDefinition("vcpu", .number, "vCPU number")], handler: { _ in })
        let table = CommandTable(commands: [command])
        #expect(try CommandParser(table: table).parse(["vcpupin", "test", "3"]).value("vcpu") == "3")
        #expect(throws: CommandParser.Failure(message: "expected syntax: --vcpu <number>")) {
            try CommandParser(table: table).parse(["vcpupin", "test", "--vcpu"])
        }
        let help = HelpFormatter(table: table)
        #expect(help.synopsis(command) == "vcpupin <domain> [--vcpu <number>]")
        #expect(help.commandHelp("vcpupin")?.contains("    --vcpu <number>  vCPU number\n") == true)
    }

    @Test func helpIsLenientAndHelpFlagWorksEverywhere() throws {
        let help = try parser.parse(["help", "list", "extra", "--bogus"])
        #expect(help.value("command") == "list")
        let flagged = try parser.parse(["start", "--help"])
        #expect(flagged.helpRequested)
    }

    @Test func topLevelOptions() throws {
        let a = try TopLevelOptions.parse(["-qt", "-ctest:///default", "list", "--all"])
        #expect(a.quiet && a.timing && a.uri == "test:///default")
        #expect(a.command == ["list", "--all"])
        let b = try TopLevelOptions.parse(["--conn=test:///default", "--readonly", "--", "-q"])
        #expect(b.uri == "test:///default" && b.readOnly && b.command == ["-q"])
        #expect(try TopLevelOptions.parse(["-V"]).action == .version(long: true))
        #expect(try TopLevelOptions.parse(["--version=long"]).action == .version(long: true))
        #expect(
            try TopLevelOptions.parse(["--generate-completion-script", "bash"]).action
                == .completionScript(shell: "bash"))
        #expect(throws: TopLevelOptions.Failure(message: "option '-c'/'--connect' requires an argument")) {
            try TopLevelOptions.parse(["-c"])
        }
        #expect(throws: TopLevelOptions.Failure(message: "unsupported option '-x'. See --help.")) {
            try TopLevelOptions.parse(["-x"])
        }
    }

    @Test func defaultURI() throws {
        let none = try TopLevelOptions.parse([])
        #expect(none.resolvedURI(environment: { _ in nil }, effectiveUID: 0) == "kvm:///system")
        #expect(none.resolvedURI(environment: { _ in nil }, effectiveUID: 1000) == "kvm:///session")
        #expect(
            none.resolvedURI(environment: { ["VIRTSH_DEFAULT_URI": "test:///default"][$0] }, effectiveUID: 0)
                == "test:///default")
        let given = try TopLevelOptions.parse(["-c", "kvm:///embed?root=/x"])
        #expect(
            given.resolvedURI(environment: { ["VIRTSH_DEFAULT_URI": "test:///default"][$0] }, effectiveUID: 0)
                == "kvm:///embed?root=/x")
    }

    @Test func tableLayout() {
        var table = TextTable("Id", "Name", "State")
        table.add(["1", "test", "running"])
        table.add(["-", "demo", "shut off"])
        #expect(
            table.render(quiet: false)
                == " Id   Name   State\n-----------------------\n 1    test   running\n -    demo   shut off\n")
        #expect(table.render(quiet: true) == " 1   test   running\n -   demo   shut off\n")
        var wide = TextTable("Name")
        wide.add(["日本"])
        wide.add(["a\tb"])
        #expect(wide.render(quiet: false) == " Name\n---------\n 日本\n a\\x09b\n")
    }

    @Test func completion() {
        let completer = Completer(table: .standard) { ["test", "demo", "web1"] }
        #expect(completer.candidates(before: "", word: "doms") == ["domstate"])
        #expect(completer.candidates(before: "uri; ", word: "nodei") == ["nodeinfo"])
        #expect(completer.candidates(before: "domstate ", word: "") == ["demo", "test", "web1"])
        #expect(completer.candidates(before: "domstate ", word: "w") == ["web1"])
        #expect(completer.candidates(before: "domstate test ", word: "--") == ["--reason", "--json"])
        #expect(completer.candidates(before: "domstate --domain ", word: "t") == ["test"])
        #expect(completer.candidates(before: "list --all ", word: "--na") == ["--name"])
        #expect(completer.candidates(before: "define ", word: "") == nil)
        #expect(
            completer.candidates(before: "help ", word: "dom") == [
                "domain", "domblklist", "domid", "dominfo", "domleases",
                "domname", "domstate", "domuuid",
            ])
    }
}
