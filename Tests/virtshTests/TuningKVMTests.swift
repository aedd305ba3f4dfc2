import Foundation
import Glibc
import Testing

/// The tuning commands on a running kvm:// guest through the `virtsh` binary: virsh's layouts with this host's
/// CPUs, live and config, and the kvm:// driver's messages. Needs /dev/kvm, gcc, two CPUs, root and cgroups.
@Suite(
    .enabled(
        if: ConsoleGuests.available && sysconf(Int32(_SC_NPROCESSORS_ONLN)) == 2 && getuid() == 0
            && access("/sys/fs/cgroup/cpu/tasks", W_OK) == 0,
        "needs /dev/kvm, gcc, exactly 2 online CPUs, root and a writable cgroup v1 cpu hierarchy"))
struct TuningKVMTests {
    static func document(_ name: String) -> String {
        """
        <domain type='kvm'>
          <name>\(name)</name>
          <memory unit='MiB'>16</memory>
          <vcpu>2</vcpu>
          <cputune><shares>512</shares><vcpupin vcpu='0' cpuset='0'/></cputune>
          <os><type>hvm</type><kernel>\(ConsoleGuests.built.directory ?? "")/ticks.elf</kernel></os>
          <devices><serial type='file'><source path='/dev/null'/><target port='0'/></serial></devices>
        </domain>
        """
    }

    @Test func queriesAndChangesOfARunningGuest() throws {
        let embed = try EmbedScratch()
        #expect(try embed.define("tuned", Self.document("tuned")).status == 0)
        #expect(try embed.virtsh("start", "tuned").status == 0)
        defer { _ = try? embed.virtsh("destroy", "tuned") }

        var result = try embed.virtsh("vcpupin tuned; emulatorpin tuned; numatune tuned; vcpucount tuned")
        #expect(result.stderr == "")
        #expect(
            result.stdout == """
                 VCPU   CPU Affinity
                ----------------------
                 0      0
                 1      0-1

                emulator: CPU Affinity
                ----------------------------------
                       *: 0-1

                numa_mode      : strict
                numa_nodeset   : 

                maximum      config         2
                maximum      live           2
                current      config         2
                current      live           2


                """)

        result = try embed.virtsh("schedinfo tuned --set vcpu_quota=20000; schedinfo tuned --config")
        #expect(result.stderr == "")
        #expect(
            result.stdout == """
                Scheduler      : posix
                cpu_shares     : 512
                vcpu_period    : 100000
                vcpu_quota     : 20000
                emulator_period: 100000
                emulator_quota : -1

                Scheduler      : posix
                cpu_shares     : 512
                vcpu_period    : 0
                vcpu_quota     : 0
                emulator_period: 0
                emulator_quota : 0


                """)

        result = try embed.virtsh("vcpupin tuned 1 1; vcpuinfo tuned --pretty")
        #expect(result.status == 0 && result.stderr == "", "\(result)")
        let lines = ProcessRunner.maskCPUTime(result.stdout).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(
            lines.filter { $0.hasPrefix("CPU Affinity:") } == [
                "CPU Affinity:   0 (out of 2)", "CPU Affinity:   1 (out of 2)",
            ])
        #expect(lines.filter { $0.hasPrefix("State:") }.count == 2)

        result = try embed.virtsh("vcpupin tuned 0 3")
        #expect(result.status == 1)
        #expect(result.stderr == "error: CPU 3 in cpulist '3' exceed the maxcpu 2\n")
        result = try embed.virtsh("numatune tuned --nodeset 0")
        #expect(
            result.stderr == "error: Unable to change numa parameters\n"
                + "error: Requested operation is not valid: change of nodeset for running domain requires restrictive "
                + "numa mode\n")
        result = try embed.virtsh("vcpucount tuned --guest")
        #expect(result.stderr.hasPrefix("error: Operation not supported: the embedded hypervisor has no guest agent"))

        #expect(try embed.virtsh("destroy", "tuned").status == 0)
        result = try embed.virtsh("vcpupin tuned 0 1; emulatorpin tuned 1")
        #expect(
            result.stderr == "error: Requested operation is not valid: domain is not running\n"
                + "error: Requested operation is not valid: domain is not running\n")
        result = try embed.virtsh("vcpupin tuned 0 1 --config; vcpupin tuned --vcpu 0; vcpuinfo tuned")
        #expect(result.stderr == "")
        #expect(result.stdout.contains(" 0      1\n"))
        #expect(
            result.stdout.contains(
                "VCPU:           0\nCPU:            N/A\nState:          N/A\nCPU time        N/A\nCPU Affinity:   -y\n"
            ))
        #expect(try embed.virtsh("dumpxml --inactive tuned").stdout.contains("<vcpupin vcpu='0' cpuset='1'/>"))
    }
}
