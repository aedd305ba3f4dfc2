import Foundation
import Testing

/// `vcpupin`, `emulatorpin`, `numatune`, `schedinfo`, `vcpuinfo` and `vcpucount`: virtsh and the real virsh 9.0 on
/// `test:///default`, byte for byte (stdout, stderr, exit status), quirks of libvirt's test driver included.
/// Skipped (visibly) without virsh.
@Suite(.enabled(if: ProcessRunner.hasVirsh, "virsh (libvirt-clients) is not installed"))
struct TuningComparisonTests {
    func expectSame(_ commandString: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let arguments = ["-c", "test:///default", commandString]
        var ours = try ProcessRunner.virtsh(arguments)
        var theirs = try ProcessRunner.virsh(arguments)
        ours.stdout = ProcessRunner.maskCPUTime(ours.stdout)
        theirs.stdout = ProcessRunner.maskCPUTime(theirs.stdout)
        #expect(ours == theirs, "virtsh '\(commandString)'", sourceLocation: sourceLocation)
    }

    @Test(arguments: [
        "vcpupin test", "vcpupin test --vcpu 1", "vcpupin test 0 1; vcpupin test", "vcpupin test --config",
        "vcpupin test --live", "vcpupin test 0 1 --current; vcpupin test --vcpu=0", "vcpupin test 0 r",
        "vcpupin test 0 1-3,^2; vcpupin test", "vcpupin test 0 ' 1 - 3 ,'; vcpupin test", "vcpupin test 0 rubbish",
        "vcpupin test --cpulist 1 --vcpu 0; vcpupin test 1", "-q vcpupin test", "-r vcpupin test",
        "vcpupin test 1 3; vcpupin test --config; vcpupin test --live",
        "destroy test; vcpupin test; vcpupin test 0 1; vcpupin test --live; vcpupin test --config 0 1; vcpupin test",
        "undefine test; vcpupin test --config",
    ])
    func vcpupin(_ commandString: String) throws { try expectSame(commandString) }

    @Test(arguments: [
        "vcpupin test 0 1 --live", "vcpupin test 0 1 --config", "vcpupin test --live --config",
        "vcpupin test --current --live", "vcpupin test --current --config", "vcpupin test --vcpu 5",
        "vcpupin test --vcpu 3 --config", "vcpupin test 5 1", "vcpupin test 0 99", "vcpupin test 0 x",
        "vcpupin test 0 ''", "vcpupin test --cpulist 1", "vcpupin test -1", "vcpupin test abc", "vcpupin test 0 -1",
        "vcpupin test 0 0-", "vcpupin test 0 1024", "vcpupin test 0 ^1", "vcpupin test 0 4294967296",
        "vcpupin nosuch 0 x", "-r vcpupin test 0 1", "-r vcpupin test 0 1 --current",
    ])
    func vcpupinErrors(_ commandString: String) throws { try expectSame(commandString) }

    @Test(arguments: [
        "emulatorpin test", "emulatorpin test 0-1; emulatorpin test", "emulatorpin test --config",
        "emulatorpin test 1 --live; emulatorpin test",
        "emulatorpin test 1 --config; emulatorpin test --config; emulatorpin test --live", "emulatorpin test r",
        "emulatorpin test --current 2; emulatorpin test", "-q emulatorpin test",
        "destroy test; emulatorpin test; emulatorpin test 1; emulatorpin test --live",
        "emulatorpin test --live --config",
        "emulatorpin test 1 --live --config", "emulatorpin test 9", "emulatorpin test x", "emulatorpin test ''",
        "emulatorpin test --current --live", "-r emulatorpin test 1", "emulatorpin nosuch",
    ])
    func emulatorpin(_ commandString: String) throws { try expectSame(commandString) }

    @Test(arguments: [
        "numatune test", "numatune test --config", "numatune test --mode strict --nodeset 0; numatune test",
        "numatune test --nodeset 0-1; numatune test", "numatune test --nodeset 5",
        "numatune test --nodeset 1 --mode 0x2; numatune test", "numatune test --mode 010 --nodeset 0; numatune test",
        "numatune test --nodeset 1 --config; numatune test --mode interleave; numatune test --config; numatune test",
        "numatune test --nodeset 1; numatune test --mode interleave; numatune test --mode interleave --config",
        "destroy test; numatune test; numatune test --live; numatune test --mode preferred; numatune test",
        "numatune test --mode interleave --config; numatune test --config; numatune test", "-q numatune test",
        "-r numatune test",
    ])
    func numatune(_ commandString: String) throws { try expectSame(commandString) }

    @Test(arguments: [
        "numatune test --mode interleave", "numatune test --mode interleave --live", "numatune test --mode bogus",
        "numatune test --mode 2", "numatune test --mode 7", "numatune test --mode -1",
        "numatune test --mode restrictive",
        "numatune test --nodeset x", "numatune test --nodeset ''", "numatune test --nodeset ^0",
        "numatune test --nodeset 0,^0", "numatune test --live --config", "numatune test --current --config",
        "-r numatune test --nodeset 0", "numatune nosuch",
    ])
    func numatuneErrors(_ commandString: String) throws { try expectSame(commandString) }

    @Test(arguments: [
        "schedinfo test", "schedinfo test --set weight=100; schedinfo test", "schedinfo test weight=100",
        "schedinfo test --weight 10", "schedinfo test --set weight=-1", "destroy test; schedinfo test",
        "-q schedinfo test", "schedinfo test --live", "schedinfo test --config", "schedinfo test --current",
        "schedinfo test --current --set weight=5", "schedinfo test --live --config",
        "schedinfo test --set weight=abc", "schedinfo test --set foo=1", "schedinfo test --set weight",
        "schedinfo test --cap 10", "schedinfo test --weight abc", "schedinfo test --set weight=4294967296",
        "schedinfo test weight=1 weight=2", "schedinfo nosuch", "-r schedinfo test --set weight=1",
        "-r schedinfo test weight=1 --current", "schedinfo test --current --live",
    ])
    func schedinfo(_ commandString: String) throws { try expectSame(commandString) }

    @Test(arguments: [
        "vcpuinfo test", "vcpuinfo test --pretty", "vcpupin test 0 1; vcpuinfo test", "-q vcpuinfo test",
        "destroy test; vcpuinfo test; vcpuinfo test --pretty", "vcpuinfo nosuch",
    ])
    func vcpuinfo(_ commandString: String) throws { try expectSame(commandString) }

    @Test(arguments: [
        "vcpucount test", "vcpucount test --maximum", "vcpucount test --active", "vcpucount test --current",
        "vcpucount test --maximum --current", "vcpucount test --config", "vcpucount test --live --maximum",
        "vcpucount test --current --live", "-q vcpucount test",
        "destroy test; vcpucount test; vcpucount test --live; vcpucount test --current --maximum",
        "undefine test; vcpucount test; vcpucount test --config", "vcpucount test --live --config",
        "vcpucount test --maximum --active", "vcpucount test --guest", "vcpucount test --config --guest",
        "vcpucount nosuch",
    ])
    func vcpucount(_ commandString: String) throws { try expectSame(commandString) }

    /// The help pages are virsh's apart from the `--json` line virtsh adds.
    @Test(arguments: ["vcpupin", "emulatorpin", "numatune", "schedinfo", "vcpuinfo", "vcpucount"])
    func help(_ name: String) throws {
        let ours = try ProcessRunner.virtsh(["help", name]).stdout
            .replacingOccurrences(of: " [--json]", with: "")
            .split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("    --json ") }.joined(separator: "\n")
        #expect(ours == (try ProcessRunner.virsh(["help", name]).stdout))
    }
}
