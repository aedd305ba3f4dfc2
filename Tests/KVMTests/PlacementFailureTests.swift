import Foundation
import KVM
import Testing
import VirtBase

/// Placement the kernel refuses fails the build or the start of the VM with the call and the CPUs or nodes
/// named, and no vCPU runs. (Only refusals run in this process: a successful emulator pin would pin the test
/// runner's own threads; the driver tests check successful pinning in a real hypervisor process.)
@Suite("placement refused by the kernel", .serialized)
struct PlacementFailureTests {
    /// A CPU and a node number far beyond any host this runs on, but within the kernels' mask widths.
    static let absentCPU = 4000
    static let absentNode = 1000

    static func configuration(_ placement: PlacementConfiguration, console: URL) -> HypervisorConfiguration {
        var configuration = GuestRunner.configuration("ticks", cmdline: "delay=2000", console: console)
        configuration.placement = placement
        return configuration
    }

    // Needs /dev/kvm and gcc -m32.
    @Test(.enabled(if: TestEnvironment.canRunGuests))
    func vcpuPinOnAnAbsentCPUFailsTheStart() throws {
        let directory = TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let console = directory.appendingPathComponent("ticks.txt")
        let vm = try VirtualMachine(
            configuration: Self.configuration(.init(vcpuCPUs: [CPUSet([Self.absentCPU])]), console: console))
        do {
            try vm.start(paused: false)
            Issue.record("start succeeded with vCPU 0 pinned to CPU \(Self.absentCPU)")
        } catch {
            #expect("\(error)".contains("sched_setaffinity of vCPU 0"), "\(error)")
            #expect("\(error)".contains("'\(Self.absentCPU)'"), "\(error)")
        }
        #expect(vm.waitForExit() == .stopped)
        #expect(vm.statistics().exitsByReason.values.reduce(0, +) == 0, "no vCPU entered KVM_RUN")
    }

    // Needs /dev/kvm and gcc -m32.
    @Test(.enabled(if: TestEnvironment.canRunGuests))
    func emulatorPinOnAnAbsentCPUFailsTheBuild() {
        let console = TestEnvironment.temporaryDirectory().appendingPathComponent("ticks.txt")
        defer { try? FileManager.default.removeItem(at: console.deletingLastPathComponent()) }
        let before = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") }
        do {
            _ = try VirtualMachine(
                configuration: Self.configuration(.init(emulatorCPUs: CPUSet([Self.absentCPU])), console: console))
            Issue.record("the VM was built with its emulator pinned to CPU \(Self.absentCPU)")
        } catch {
            #expect("\(error)".contains("sched_setaffinity of emulator thread"), "\(error)")
            #expect("\(error)".contains("'\(Self.absentCPU)'"), "\(error)")
        }
        let after = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") }
        #expect(before == after, "a refused pin changes nothing")
    }

    // Needs /dev/kvm and gcc -m32.
    @Test(.enabled(if: TestEnvironment.canRunGuests))
    func bindToAnAbsentNodeFailsTheBuild() {
        let console = TestEnvironment.temporaryDirectory().appendingPathComponent("ticks.txt")
        defer { try? FileManager.default.removeItem(at: console.deletingLastPathComponent()) }
        let policy = GuestMemoryPolicy(mode: .bind, nodes: CPUSet([Self.absentNode]))
        do {
            _ = try VirtualMachine(configuration: Self.configuration(.init(memoryPolicy: policy), console: console))
            Issue.record("the VM was built with guest RAM bound to node \(Self.absentNode)")
        } catch {
            #expect("\(error)".contains("mbind(bind)"), "\(error)")
            #expect("\(error)".contains("'\(Self.absentNode)'"), "\(error)")
        }
    }
}
