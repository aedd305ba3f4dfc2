import Foundation
import KVM
import Testing

/// `/proc/PID/stat` as `ProcessIdentity` reads it, from a fixture tree: the command name may hold spaces and
/// parentheses, a zombie is not a running process, a short or garbled line names nothing.
@Suite struct ProcessIdentityTests {
    /// A `/proc`-like tree holding one `stat` line per pid.
    static func procRoot(_ lines: [Int32: String]) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("proc-\(UUID().uuidString)").path
        for (pid, line) in lines {
            try FileManager.default.createDirectory(atPath: "\(root)/\(pid)", withIntermediateDirectories: true)
            try line.write(toFile: "\(root)/\(pid)/stat", atomically: true, encoding: .utf8)
        }
        return root
    }

    /// A stat line: fields 5 to 21 are zeros, starttime (22) and two more follow.
    static func line(pid: Int32, name: String, state: String, ppid: Int32, startTime: String) -> String {
        "\(pid) (\(name)) \(state) \(ppid) " + Array(repeating: "0", count: 17).joined(separator: " ")
            + " \(startTime) 4096 12\n"
    }

    @Test func namesARunningProcessAndItsParent() throws {
        let stat = Self.line(pid: 42, name: "my (odd) name) S", state: "S", ppid: 7, startTime: "123456")
        let root = try Self.procRoot([42: stat])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let identity = try #require(ProcessIdentity.of(42, procRoot: root))
        #expect(identity == ProcessIdentity(pid: 42, startTime: 123_456))
        #expect(identity.isAlive(procRoot: root))
        #expect(identity.parentPID(procRoot: root) == 7)
        #expect(!ProcessIdentity(pid: 42, startTime: 123_457).isAlive(procRoot: root), "another start time")
    }

    @Test func aZombieIsOnlyAnUnreapedChild() throws {
        let root = try Self.procRoot([9: Self.line(pid: 9, name: "gone", state: "Z", ppid: 1, startTime: "77")])
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(ProcessIdentity.of(9, procRoot: root) == nil)
        #expect(ProcessIdentity.ofChild(9, procRoot: root) == ProcessIdentity(pid: 9, startTime: 77))
    }

    @Test(arguments: [
        "5 (short) S 1 2 3\n", "5 no-parentheses S 1\n", "5 (x) S 1 " + String(repeating: "0 ", count: 17) + "12a 1\n",
        "5 (x) S 1 " + String(repeating: "0 ", count: 17) + "99999999999999999999999 1\n", "",
    ])
    func garbledLinesNameNothing(_ text: String) throws {
        let root = try Self.procRoot([5: text])
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(ProcessIdentity.of(5, procRoot: root) == nil)
        #expect(ProcessIdentity.of(6, procRoot: root) == nil, "no such pid")
    }

    @Test func theRealProcessNamesItself() throws {
        let identity = try #require(ProcessIdentity.of(getpid()))
        #expect(identity.isAlive())
        #expect(identity.parentPID() == getppid())
    }
}
