import Glibc
import KVM
import Testing
import VirtBase

@testable import KVMDriver

/// Lifecycle actions and start failures, with the simulated guest scripted through its command line.
@Suite("Domain process lifecycle actions", .serialized)
struct DomainProcessActionTests {
    @Test("on_poweroff=destroy: a guest power-off ends the domain shut off (shutdown)")
    func poweroff() throws {
        let fixture = try DomainProcessFixture()
        let process = try fixture.start(fixture.configuration(cmdline: "console=ttyS0 simulated.power-button=poweroff"))
        try process.powerButton()
        let status = try #require(fixture.waitForEnd(process))
        #expect(status.reason == .shutdown)
        #expect(status.guestExit == .poweroff(code: 0))
        #expect(status.detail == "the guest powered off (exit code 0)")
    }

    @Test("on_crash=destroy: a guest crash ends the domain shut off (crashed) with the reason")
    func crashDestroy() throws {
        let fixture = try DomainProcessFixture()
        let process = try fixture.start(fixture.configuration(cmdline: "simulated.power-button=crash"))
        try process.powerButton()
        let status = try #require(fixture.waitForEnd(process))
        #expect(status.reason == .crashed)
        #expect(status.detail == "the guest crashed: simulated triple fault")
    }

    @Test("on_crash=restart: a guest crash starts a fresh hypervisor; destroy then ends it")
    func crashRestart() throws {
        let fixture = try DomainProcessFixture()
        let process = try fixture.start(
            fixture.configuration(onCrash: .restart, cmdline: "simulated.power-button=crash"))
        try process.powerButton()
        let restarted = try #require(fixture.waitForRestart(process, replacing: process.hypervisor))
        #expect(try restarted.status().state == .running)
        let status = restarted.destroy()
        #expect(status.reason == .destroyed)
        #expect(status.restarts == 1)
        #expect(status.guestExit == .stopped)
    }

    @Test("on_poweroff=restart restarts; the power button on a paused guest acts when it resumes")
    func poweroffRestartWhilePaused() throws {
        let fixture = try DomainProcessFixture()
        let process = try fixture.start(
            fixture.configuration(onPoweroff: .restart, cmdline: "simulated.power-button=poweroff", paused: true))
        try process.powerButton()
        #expect(try process.status().state == .paused)
        try process.resume()
        let restarted = try #require(fixture.waitForRestart(process, replacing: process.hypervisor))
        // Restarts always run, even when the first start was paused.
        #expect(try restarted.status().state == .running)
        #expect(restarted.destroy().reason == .destroyed)
    }

    @Test("a guest that never gets ready: the start times out and leaves no process and no run file")
    func startTimeout() throws {
        let fixture = try DomainProcessFixture()
        let configuration = fixture.configuration(cmdline: "simulated.start=hang")
        do {
            _ = try DomainProcess.start(
                configuration, executable: try DomainProcess.locateExecutable(), timeoutMilliseconds: 3_000)
            Issue.record("a hanging guest was reported ready")
        } catch {
            #expect(error.code == .operationTimeout)
            #expect(error.message.contains("was not ready within 3000 ms"))
            #expect(error.message.contains(configuration.runFiles.logFile))
        }
        #expect(fixture.entries(configuration.runFiles.runDirectory).isEmpty)
        // The supervisor named itself in the log; it must be gone, and its hypervisor with it.
        let log = try #require(try SmallFile.readText(configuration.runFiles.logFile))
        let marker = try #require(log.split(separator: "\n").first { $0.contains("starting domain") })
        let pidText = try #require(marker.split(separator: " ").first { $0.hasSuffix(":") }?.dropLast())
        let pid = try #require(Int32(pidText))
        #expect(ProcessIdentity.of(pid) == nil)
    }

    @Test("SIGTERM to the supervisor (host shutdown, systemctl stop) stops the guest: shut off (destroyed)")
    func supervisorTerminated() throws {
        let fixture = try DomainProcessFixture()
        let process = try fixture.start(fixture.configuration(onReboot: .restart))
        #expect(kill(process.supervisor.pid, SIGTERM) == 0)
        let status = try #require(fixture.waitForEnd(process))
        #expect(status.reason == .destroyed)
        #expect(status.guestExit == .stopped)
        #expect(status.hypervisorExit == "exited with status 0")
        #expect(status.restarts == 0)
    }

    @Test("SIGTERM to the hypervisor stops the guest cleanly: shut off (destroyed), not crashed")
    func hypervisorTerminated() throws {
        let fixture = try DomainProcessFixture()
        let process = try fixture.start(fixture.configuration())
        #expect(kill(process.hypervisor.pid, SIGTERM) == 0)
        let status = try #require(fixture.waitForEnd(process))
        #expect(status.reason == .destroyed)
        #expect(status.guestExit == .stopped)
    }

    @Test("a bad simulated script is a start error with the hypervisor's text")
    func badScript() throws {
        let fixture = try DomainProcessFixture()
        do {
            _ = try fixture.start(fixture.configuration(cmdline: "simulated.power-button=dance"))
            Issue.record("a bad script started")
        } catch {
            #expect(error.message.contains("simulated.power-button='dance' is not one of reset, poweroff, crash"))
        }
    }
}
