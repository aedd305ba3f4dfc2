import Glibc
import KVM
import Synchronization
import Testing
import VirtBase
import VirtTestSupport

@testable import KVMDriver

/// The per-domain processes end to end, with the simulated machine (no guest code runs): supervisor and
/// hypervisor start detached, the monitor answers, and every way a domain ends is recorded.
@Suite("Domain processes", .serialized)
struct DomainProcessTests {
    @Test("start → ready → status → pause → resume → quit → status file, and nothing left behind")
    func lifecycle() throws {
        let fixture = try DomainProcessFixture()
        let configuration = fixture.configuration()
        let process = try fixture.start(configuration)
        let files = configuration.runFiles

        #expect(process.supervisor.isAlive())
        #expect(process.hypervisor.isAlive())
        #expect(try SmallFile.readText(files.hypervisorPIDFile) == "\(process.hypervisor.pid)\n")
        #expect(try SmallFile.readText(files.supervisorPIDFile) == "\(process.supervisor.pid)\n")
        var info = stat()
        #expect(stat(files.monitorSocket, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)

        // Detached: the supervisor runs in a session of its own (not ours), is not our child, and the
        // hypervisor is the supervisor's child.
        #expect(getsid(process.supervisor.pid) != getsid(0))
        #expect(process.supervisor.parentPID() != getpid())
        #expect(process.hypervisor.parentPID() == process.supervisor.pid)

        let status = try process.status()
        #expect(status.state == .running)
        #expect(status.hypervisorPID == process.hypervisor.pid)
        #expect(status.vcpus == 2)
        #expect(try process.pause().state == .paused)
        #expect(try process.status().state == .paused)
        #expect(try process.resume().state == .running)

        let threads = try process.vcpuThreadIDs()
        #expect(threads.count == 2)
        for tid in threads {
            #expect(SmallFile.exists("/proc/\(process.hypervisor.pid)/task/\(tid)"))
        }
        struct Counters: Decodable { var pauses: Int; var resumes: Int }
        let counters = try process.statistics(as: Counters.self)
        #expect(counters.pauses == 1 && counters.resumes == 1)

        try process.quit()
        let ended = try #require(fixture.waitForEnd(process))
        #expect(ended.reason == .destroyed)
        #expect(ended.guestExit == .stopped)
        #expect(ended.hypervisorExit == "exited with status 0")
        #expect(fixture.entries(files.runDirectory).isEmpty)
        #expect(!process.supervisor.isAlive())
        #expect(!process.hypervisor.isAlive())
        // The log records the life of the domain.
        let log = try #require(try SmallFile.readText(files.logFile))
        #expect(log.contains("starting domain 'guest1'"))
        #expect(log.contains("shut off (destroyed)"))
    }

    @Test("a paused start reports paused; a call on an ended domain fails at once with a clear error")
    func pausedStart() throws {
        let fixture = try DomainProcessFixture()
        let process = try fixture.start(fixture.configuration(paused: true))
        #expect(try process.status().state == .paused)
        let status = process.destroy()
        #expect(status.reason == .destroyed)
        do {
            _ = try process.status()
            Issue.record("a destroyed domain answered")
        } catch {
            #expect(error.code == .operationInvalid)
            #expect(error.message.contains("guest1"))
        }
    }

    @Test("kill -9 of the hypervisor: the supervisor records a crash and the domain reads shut off (crashed)")
    func hypervisorKilled() throws {
        let fixture = try DomainProcessFixture()
        let process = try fixture.start(fixture.configuration())
        #expect(kill(process.hypervisor.pid, SIGKILL) == 0)
        let status = try #require(fixture.waitForEnd(process))
        #expect(status.reason == .crashed)
        #expect(status.hypervisorExit == "killed by signal 9")
        #expect(status.detail.contains("killed by signal 9"))
        #expect(!process.supervisor.isAlive())
        #expect(fixture.entries(process.runFiles.runDirectory).isEmpty)
    }

    @Test("kill -9 of supervisor and hypervisor together: reconciliation says crashed and cleans up")
    func bothKilled() throws {
        let fixture = try DomainProcessFixture()
        let process = try fixture.start(fixture.configuration())
        #expect(kill(process.supervisor.pid, SIGKILL) == 0)
        #expect(kill(process.hypervisor.pid, SIGKILL) == 0)
        let status = try #require(fixture.waitForEnd(process))
        #expect(status.reason == .crashed)
        #expect(status.detail.contains("vanished"))
        #expect(fixture.entries(process.runFiles.runDirectory).isEmpty)
        #expect(!process.hypervisor.isAlive())
    }

    @Test("kill -9 of the supervisor alone takes the hypervisor down with it (parent-death signal)")
    func supervisorKilled() throws {
        let fixture = try DomainProcessFixture()
        let process = try fixture.start(fixture.configuration())
        #expect(kill(process.supervisor.pid, SIGKILL) == 0)
        let status = try #require(fixture.waitForEnd(process))
        #expect(status.reason == .crashed)
        #expect(DomainProcess.waitForExit(process.hypervisor, milliseconds: 10_000))
    }

    @Test("a malformed frame on the monitor gets an error reply and a close; the monitor lives on")
    func malformedFrame() throws {
        let fixture = try DomainProcessFixture()
        let process = try fixture.start(fixture.configuration())
        let connection = try UnixSocketConnection.connect(
            path: process.runFiles.monitorSocket, timeoutMilliseconds: 5_000)
        try connection.send(FrameCodec.frame(Array("this is not json".utf8)), timeoutMilliseconds: 5_000)
        let reply = try WireReply.parse(#require(try connection.receiveFrame(timeoutMilliseconds: 5_000)))
        #expect(reply.error?.code == WireError.malformedFrame)
        #expect(try connection.receiveFrame(timeoutMilliseconds: 5_000) == nil)

        let unknown = FrameClient(
            path: process.runFiles.monitorSocket, what: "monitor", domain: .kvm, timeoutMilliseconds: 5_000)
        do {
            _ = try unknown.call("frobnicate", WireEmpty(), returning: WireEmpty.self)
            Issue.record("an unknown method was accepted")
        } catch {
            #expect(error.message.contains("unknown monitor method 'frobnicate'"))
        }
        #expect(try process.status().state == .running)
        process.destroy()
    }

    @Test("a start that fails reports the hypervisor's error and leaves nothing running or on disk")
    func failedStart() throws {
        let fixture = try DomainProcessFixture()
        let configuration = fixture.configuration(kernel: fixture.root + "/missing-kernel")
        do {
            _ = try fixture.start(configuration)
            Issue.record("a domain without its kernel started")
        } catch {
            #expect(error.code == .operationFailed)
            #expect(error.message.contains("cannot open kernel '\(fixture.root)/missing-kernel'"))
            #expect(error.message.contains("No such file or directory"))
        }
        #expect(fixture.entries(configuration.runFiles.runDirectory).isEmpty)
        #expect(fixture.entries(fixture.root + "/log") == ["guest1.log"])
    }

    @Test("a second start of a running domain is refused as already active and harms nothing")
    func doubleStart() throws {
        let fixture = try DomainProcessFixture()
        let configuration = fixture.configuration()
        let process = try fixture.start(configuration)
        do {
            _ = try fixture.start(configuration)
            Issue.record("a second start succeeded")
        } catch {
            #expect(error.message.contains("already active"))
        }
        #expect(try process.status().state == .running)
        process.destroy()
    }

    @Test("two concurrent starts of one domain: one success, one 'already active', the winner unharmed")
    func concurrentStarts() throws {
        let fixture = try DomainProcessFixture()
        let configuration = fixture.configuration()
        let executable = try DomainProcess.locateExecutable()
        let results = Mutex<[Result<DomainProcess, VirtError>]>([])
        let done = try ChildProcess.pipe()
        for _ in 0..<2 {
            try DetachedThread.start("a concurrent start") {
                let result = Result { () throws(VirtError) in
                    try DomainProcess.start(configuration, executable: executable)
                }
                results.withLock { $0.append(result) }
                _ = Glibc.write(done.write, "x", 1)
            }
        }
        for _ in 0..<2 { _ = try ChildProcess.readLine(done.read, timeoutMilliseconds: 60_000, limit: 1) }
        [done.read, done.write].forEach { _ = close($0) }
        let all = results.withLock { $0 }
        let winners = all.compactMap { try? $0.get() }
        let losers = all.compactMap { result -> VirtError? in
            if case .failure(let error) = result { return error }
            return nil
        }
        #expect(winners.count == 1)
        #expect(losers.count == 1)
        #expect(losers.first?.message.contains("already active") == true)
        let winner = try #require(winners.first)
        #expect(try winner.status().state == .running)
        #expect(SmallFile.exists(configuration.runFiles.monitorSocket))
        #expect(SmallFile.exists(configuration.runFiles.supervisorPIDFile))
        #expect(winner.destroy().reason == .destroyed)
    }

    @Test("a stale supervisor pid file whose pid now belongs to another program does not block a start")
    func stalePIDFile() throws {
        let fixture = try DomainProcessFixture()
        let configuration = fixture.configuration()
        try SmallFile.makeDirectories(configuration.runFiles.runDirectory)
        // Our own pid: alive, but not a virt-kvm supervisor.
        try SmallFile.writeAtomically(configuration.runFiles.supervisorPIDFile, Array("\(getpid())\n".utf8))
        try SmallFile.writeAtomically(configuration.runFiles.hypervisorPIDFile, Array("\(getpid())\n".utf8))
        let process = try fixture.start(configuration)
        #expect(process.supervisor.pid != getpid())
        #expect(try process.status().state == .running)
        #expect(process.destroy().reason == .destroyed)
    }

    @Test("on_reboot=restart: a reset starts a new hypervisor; a shutdown request then ends as shut off (shutdown)")
    func restartAndShutdown() throws {
        let fixture = try DomainProcessFixture()
        let process = try fixture.start(fixture.configuration(onReboot: .restart))
        try process.reset()
        let restarted = try #require(fixture.waitForRestart(process, replacing: process.hypervisor))
        #expect(restarted.supervisor == process.supervisor)
        #expect(!process.hypervisor.isAlive())
        #expect(try restarted.status().state == .running)

        try restarted.shutdown()
        let status = try #require(fixture.waitForEnd(restarted))
        #expect(status.reason == .shutdown)
        #expect(status.restarts == 1)
        #expect(status.detail.contains("shutdown request"))
    }

    @Test("on_reboot=destroy: a guest reset ends the domain shut off (shutdown)")
    func resetWithDestroy() throws {
        let fixture = try DomainProcessFixture()
        let process = try fixture.start(fixture.configuration(onReboot: .destroy))
        try process.reset()
        let status = try #require(fixture.waitForEnd(process))
        #expect(status.reason == .shutdown)
        #expect(status.guestExit == .reset)
        #expect(status.restarts == 0)
    }

    @Test("a run directory too deep for a Unix socket puts the monitor under the short directory")
    func shortSocketPath() throws {
        let fixture = try DomainProcessFixture()
        let deep = fixture.root + "/" + String(repeating: "d", count: 60) + "/" + String(repeating: "e", count: 60)
        let configuration = fixture.configuration(runDirectory: deep)
        #expect(configuration.runFiles.monitorSocket == fixture.root + "/s/c7a5fdbdcdaf9455926ad65c16db1809.monitor")
        let process = try fixture.start(configuration)
        #expect(try process.status().state == .running)
        #expect(SmallFile.exists(configuration.runFiles.monitorSocket))
        process.destroy()
        #expect(!SmallFile.exists(configuration.runFiles.monitorSocket))
    }

    @Test("the supervisor opens the guest's files and hands them down; read-only disks are opened read-only")
    func descriptorHandOff() throws {
        let fixture = try DomainProcessFixture()
        let writable = fixture.root + "/vda.img"
        let readonly = fixture.root + "/vdb.img"
        try SmallFile.writeAtomically(writable, [UInt8](repeating: 0, count: 512))
        try SmallFile.writeAtomically(readonly, [UInt8](repeating: 0, count: 512))
        let process = try fixture.start(
            fixture.configuration(disks: [
                DiskConfiguration(source: FileSource(path: writable), target: "vda"),
                DiskConfiguration(source: FileSource(path: readonly), readonly: true, target: "vdb"),
            ]))
        let open = fixture.openFiles(process.hypervisor.pid)
        let accessMode = { (flags: String?) in flags.flatMap { Int($0, radix: 8) }.map { $0 & Int(O_ACCMODE) } }
        #expect(accessMode(open[fixture.kernel]) == Int(O_RDONLY))
        #expect(accessMode(open[writable]) == Int(O_RDWR))
        #expect(accessMode(open[readonly]) == Int(O_RDONLY))
        // The supervisor keeps none of them once the hypervisor has its own.
        let supervisorFiles = fixture.openFiles(process.supervisor.pid)
        #expect(supervisorFiles[writable] == nil && supervisorFiles[fixture.kernel] == nil)
        process.destroy()
    }

    @Test("a disk that cannot be opened fails the start with the path and the reason")
    func missingDisk() throws {
        let fixture = try DomainProcessFixture()
        let configuration = fixture.configuration(disks: [
            DiskConfiguration(source: FileSource(path: fixture.root + "/nope.img"), target: "vda")
        ])
        do {
            _ = try fixture.start(configuration)
            Issue.record("a domain without its disk started")
        } catch {
            #expect(error.message.contains("cannot open disk 'vda' '\(fixture.root)/nope.img' of domain 'guest1'"))
        }
        #expect(fixture.entries(configuration.runFiles.runDirectory).isEmpty)
    }

    @Test("virt-kvm links neither libxml2 nor the full Foundation, dynamically or statically")
    func lightBinary() throws {
        let executable = try DomainProcess.locateExecutable()
        let (status, text) = try Self.output("/usr/bin/ldd", [executable])
        #expect(status == .exited(0))
        // The Swift standard library is linked in (-static-stdlib), so only C libraries are shared ones.
        #expect(text.contains("libc.so"))
        for library in ["libxml2", "libFoundation.so", "FoundationInternationalization", "libicu", "libswiftCore.so"] {
            #expect(!text.contains(library), "virt-kvm loads \(library)")
        }
        // Nothing of the full Foundation, its ICU or libxml2 was linked in statically either: no symbol of
        // module Foundation (mangled `$s10Foundation`), of _FoundationICU, or of libxml2's parser.
        for symbol in ["$s10Foundation", "_FoundationICU", "xmlReadMemory"] {
            let (found, lines) = try Self.output("/usr/bin/grep", ["-a", "-c", "-F", symbol, executable])
            let count = lines.split(separator: "\n").first ?? ""
            #expect(found == .exited(1), "virt-kvm contains '\(symbol)' (\(count) lines)")
        }
    }

    /// Runs a program; returns how it ended and its standard output.
    private static func output(_ program: String, _ arguments: [String]) throws -> (ChildProcess.Termination, String) {
        let output = try ChildProcess.pipe()
        var options = ChildProcess.Options()
        options.stdout = output.write
        let pid = try ChildProcess.spawn(program, [program] + arguments, options: options)
        close(output.write)
        var text = ""
        while let line = try ChildProcess.readLine(output.read, timeoutMilliseconds: 10_000) { text += line + "\n" }
        close(output.read)
        return (try ChildProcess.wait(pid), text)
    }

    @Test("a supervisor launched ahead of its configuration exits untouched when the start is abandoned")
    func prelaunchCancelled() throws {
        let fixture = try DomainProcessFixture()
        let executable = try DomainProcess.locateExecutable()
        // Cancelled explicitly: it waited on its configuration, detached, and exits once cancelled.
        let early = try DomainProcess.prelaunch(executable: executable)
        let identity = try #require(ProcessIdentity.of(early.pid))
        #expect(identity.isAlive())
        #expect(identity.parentPID() != getpid())
        #expect(getsid(early.pid) != getsid(0))
        early.cancel()
        // `cancel` returns once the supervisor closed its end of the ready pipe, which the kernel does as the
        // process exits, a moment before it is gone from /proc.
        #expect(eventually(within: 1) { !identity.isAlive() }, "the unused supervisor exits")
        // Dropped without a word: the same.
        var dropped: PrelaunchedSupervisor? = try DomainProcess.prelaunch(executable: executable)
        let droppedIdentity = try #require(dropped.flatMap { ProcessIdentity.of($0.pid) })
        dropped = nil
        #expect(eventually(within: 1) { !droppedIdentity.isAlive() })
        // Neither left a run file or a log behind.
        #expect(fixture.entries(fixture.configuration().runFiles.runDirectory).isEmpty)
    }

    @Test("a prelaunched supervisor takes the configuration; one refused as already active is cancelled")
    func prelaunchHandedOver() throws {
        let fixture = try DomainProcessFixture()
        let configuration = fixture.configuration()
        let executable = try DomainProcess.locateExecutable()
        let early = try DomainProcess.prelaunch(executable: executable)
        let (process, _) = try DomainProcess.startReportingStatus(
            configuration, executable: executable, prelaunched: early)
        #expect(process.supervisor.pid == early.pid, "the supervisor launched ahead is the domain's")
        #expect(try process.status().state == .running)

        let second = try DomainProcess.prelaunch(executable: executable)
        let secondIdentity = try #require(ProcessIdentity.of(second.pid))
        #expect(throws: VirtError.self) {
            _ = try DomainProcess.startReportingStatus(configuration, executable: executable, prelaunched: second)
        }
        #expect(eventually(within: 1) { !secondIdentity.isAlive() }, "the refused start's supervisor is gone")
        #expect(try process.status().state == .running, "the running domain is unharmed")
        _ = process.destroy()
    }
}
