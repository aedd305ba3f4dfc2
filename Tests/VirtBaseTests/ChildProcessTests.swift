import Glibc
import Testing

@testable import VirtBase

@Suite("Child processes")
struct ChildProcessTests {
    @Test("an exec failure comes back as the child's errno, naming the program")
    func execFailure() {
        do {
            _ = try ChildProcess.spawn("/nonexistent/program", ["program"], options: ChildProcess.Options())
            Issue.record("a missing program was started")
        } catch {
            #expect(error.errno == ENOENT)
            #expect(error.message == "cannot execute '/nonexistent/program': No such file or directory")
        }
    }

    @Test("a child's exit status and a signal death are told apart")
    func termination() throws {
        let exited = try ChildProcess.spawn("/bin/sh", ["sh", "-c", "exit 3"], options: ChildProcess.Options())
        #expect(try ChildProcess.wait(exited) == .exited(3))
        let killed = try ChildProcess.spawn("/bin/sh", ["sh", "-c", "kill -9 $$"], options: ChildProcess.Options())
        #expect(try ChildProcess.wait(killed) == .signaled(SIGKILL))
        #expect(ChildProcess.Termination.signaled(SIGKILL).description == "killed by signal 9")
    }

    @Test("kept descriptors survive exec, others do not; stdout can be redirected")
    func descriptors() throws {
        let kept = try ChildProcess.pipe()
        let dropped = try ChildProcess.pipe()
        let output = try ChildProcess.pipe()
        var options = ChildProcess.Options()
        options.keep = [kept.write]
        options.stdout = output.write
        // dash only redirects to single-digit descriptors: reach the others through /proc/self/fd.
        let script =
            "echo kept > /proc/self/fd/\(kept.write); (echo dropped > /proc/self/fd/\(dropped.write)) 2>/dev/null; "
            + "echo done"
        let pid = try ChildProcess.spawn("/bin/sh", ["sh", "-c", script], options: options)
        [kept.write, dropped.write, output.write].forEach { _ = close($0) }
        #expect(try ChildProcess.readLine(output.read, timeoutMilliseconds: 10_000) == "done")
        #expect(try ChildProcess.readLine(kept.read, timeoutMilliseconds: 10_000) == "kept")
        #expect(try ChildProcess.readLine(dropped.read, timeoutMilliseconds: 10_000) == nil)
        #expect(try ChildProcess.wait(pid) == .exited(0))
        [kept.read, dropped.read, output.read].forEach { _ = close($0) }
    }

    @Test("a detached child is not ours to reap and runs in a session of its own")
    func detached() throws {
        let report = try ChildProcess.pipe()
        var options = ChildProcess.Options()
        options.detach = true
        options.stdout = report.write
        let pid = try ChildProcess.spawn("/bin/sh", ["sh", "-c", "echo $$ $PPID"], options: options)
        close(report.write)
        let line = try #require(try ChildProcess.readLine(report.read, timeoutMilliseconds: 10_000))
        close(report.read)
        let fields = line.split(separator: " ")
        #expect(fields.first == "\(pid)")
        #expect(fields.last != "\(getpid())")
        var status: Int32 = 0
        #expect(waitpid(pid, &status, 0) == -1 && errno == ECHILD)
    }

    @Test("reading a line from a silent pipe times out")
    func readLineTimeout() throws {
        let pipe = try ChildProcess.pipe()
        defer { [pipe.read, pipe.write].forEach { _ = close($0) } }
        #expect(throws: VirtError.self) { try ChildProcess.readLine(pipe.read, timeoutMilliseconds: 50) }
    }
}
