import Glibc
import KVM
import Testing
import VirtBase

@testable import KVMDriver

/// `virt-kvm` as people and scripts run it.
@Suite("virt-kvm command line", .serialized)
struct VirtKVMCommandTests {
    /// Runs virt-kvm with `arguments` (and `input` on stdin); returns its exit and stdout + stderr.
    private func run(_ arguments: [String], input: [UInt8] = []) throws -> (ChildProcess.Termination, String) {
        let executable = try DomainProcess.locateExecutable()
        let stdin = try ChildProcess.pipe()
        let output = try ChildProcess.pipe()
        var options = ChildProcess.Options()
        options.stdin = stdin.read
        options.stdout = output.write
        options.stderr = output.write
        let pid = try ChildProcess.spawn(executable, [executable] + arguments, options: options)
        [stdin.read, output.write].forEach { _ = close($0) }
        try SmallFile.writeAll(stdin.write, input, what: "stdin")
        close(stdin.write)
        var text = ""
        while let line = try ChildProcess.readLine(output.read, timeoutMilliseconds: 30_000) { text += line + "\n" }
        close(output.read)
        return (try ChildProcess.wait(pid), text)
    }

    @Test("unknown commands and options are usage errors with exit status 2")
    func usage() throws {
        let (unknown, text) = try run(["frobnicate"])
        #expect(unknown == .exited(2))
        #expect(text.contains("virt-kvm: unknown command 'frobnicate'"))
        #expect(text.contains("usage: virt-kvm supervise --config FILE|-"))
        let (missing, missingText) = try run(["supervise"])
        #expect(missing == .exited(2))
        #expect(missingText.contains("option '--config' is required"))
        let (extra, extraText) = try run(["supervise", "--config", "-", "--colour", "red"])
        #expect(extra == .exited(2))
        #expect(extraText.contains("unknown option '--colour'"))
        let (help, helpText) = try run(["--help"])
        #expect(help == .exited(0))
        #expect(helpText.hasPrefix("usage: virt-kvm"))
    }

    @Test("supervise with a missing or malformed configuration reports the error as JSON, exit 1")
    func badConfiguration() throws {
        let (missing, text) = try run(["supervise", "--config", "/nonexistent/domain.json"])
        #expect(missing == .exited(1))
        let report = try FrameCodec.decode(LaunchReport.self, from: Array(text.utf8))
        #expect(report.error == "invalid argument: supervisor configuration '/nonexistent/domain.json' does not exist")
        let (malformed, malformedText) = try run(["supervise", "--config", "-"], input: Array("{\"runFiles\":1}".utf8))
        #expect(malformed == .exited(1))
        let malformedReport = try FrameCodec.decode(LaunchReport.self, from: Array(malformedText.utf8))
        #expect(malformedReport.error?.hasPrefix("invalid argument: supervisor configuration '-': ") == true)
    }

    @Test("supervise --config FILE starts a detached domain and prints both processes")
    func superviseFromFile() throws {
        let fixture = try DomainProcessFixture()
        let configuration = fixture.configuration()
        let file = fixture.root + "/domain.json"
        try SmallFile.writeAtomically(file, try FrameCodec.jsonLine(configuration))
        let (termination, text) = try run(["supervise", "--config", file])
        #expect(termination == .exited(0))
        let report = try FrameCodec.decode(LaunchReport.self, from: Array(text.utf8))
        #expect(report.error == nil)
        let supervisor = try #require(report.supervisor)
        let hypervisor = try #require(report.hypervisor)
        let process = DomainProcess(runFiles: configuration.runFiles, supervisor: supervisor, hypervisor: hypervisor)
        #expect(try process.status().hypervisorPID == hypervisor.pid)
        #expect(process.destroy().reason == .destroyed)
    }
}
