import Foundation
import Testing

/// `virtsh --generate-completion-script bash`, loaded into a real bash.
@Suite struct CompletionScriptTests {
    /// Completes `line` (words) with the generated script, returning COMPREPLY.
    func complete(_ words: [String]) throws -> [String] {
        let script = try ProcessRunner.virtsh(["--generate-completion-script", "bash"]).stdout
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("virtsh-completion-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let scriptFile = directory.appendingPathComponent("virtsh.bash")
        try script.write(to: scriptFile, atomically: true, encoding: .utf8)
        // The script calls `virtsh` for domain names: put the built one first on PATH.
        let binDirectory = URL(fileURLWithPath: ProcessRunner.virtshPath).deletingLastPathComponent().path
        let quoted = words.map { "'" + $0 + "'" }.joined(separator: " ")
        let driver = """
            source '\(scriptFile.path)'
            COMP_WORDS=(\(quoted)); COMP_CWORD=\(words.count - 1)
            _virtsh
            printf '%s\\n' "${COMPREPLY[@]}"
            """
        let result = try ProcessRunner.run(
            "/bin/bash", ["-c", driver], input: nil,
            environment: ["PATH": binDirectory + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "")])
        #expect(result.stderr.isEmpty, "\(result.stderr)")
        return result.stdout.split(separator: "\n").map(String.init)
    }

    @Test func scriptIsValidBash() throws {
        let script = try ProcessRunner.virtsh(["--generate-completion-script", "bash"])
        #expect(script.status == 0)
        let check = try ProcessRunner.run("/bin/bash", ["-n"], input: script.stdout, environment: [:])
        #expect(check.status == 0, "\(check.stderr)")
        #expect(script.stdout.contains("complete -F _virtsh virtsh"))
    }

    @Test func unknownShellIsAnError() throws {
        let result = try ProcessRunner.virtsh(["--generate-completion-script", "tcsh"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("bash"))
    }

    @Test func completesCommandsOptionsAndDomains() throws {
        #expect(try complete(["virtsh", "doms"]) == ["domstate"])
        #expect(try complete(["virtsh", "help", "nodei"]) == ["nodeinfo"])
        #expect(try complete(["virtsh", "define", "/etc/host"]).contains("/etc/hostname"))
        #expect(try complete(["virtsh", "list", "--st"]).contains("--state-running"))
        #expect(try complete(["virtsh", "-c", "test:///default", "domstate", ""]) == ["test"])
        #expect(try complete(["virtsh", "-c", "test:///default", "dominfo", "--domain", "t"]) == ["test"])
        #expect(try complete(["virtsh", "-c", "test:///default", "domstate", "test", "--r"]) == ["--reason"])
    }
}
