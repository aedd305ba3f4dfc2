import Foundation
import Host
import KVM
import Testing
import VirtBase
import VirtCore

@testable import KVMDriver

/// `<cputune>` pinning, `<vcpu cpuset>` and `<numatune>` → `PlacementConfiguration`, and the start-time checks
/// against host fixture trees (no guest runs here).
@Suite("kvm:// driver: placement mapping and validation")
struct PlacementResolverTests {
    static func definition(vcpu: String = "<vcpu>2</vcpu>", tuning: String) throws -> DomainDefinition {
        let xml = """
            <domain type='kvm'>
              <name>placed</name>
              <memory unit='MiB'>16</memory>
              \(vcpu)
              \(tuning)
              <os><type>hvm</type><kernel>/nonexistent/guest.elf</kernel></os>
            </domain>
            """
        return try DomainXML.parse(xml).definition
    }

    static func placement(vcpu: String = "<vcpu>2</vcpu>", _ tuning: String) throws -> PlacementConfiguration {
        try HypervisorConfigurationResolver(definition: definition(vcpu: vcpu, tuning: tuning)).resolve().placement
    }

    static func fixture(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("HostTests/Fixtures/\(name)").path
    }

    static func refusal(_ tuning: String, vcpu: String = "<vcpu>2</vcpu>") -> String {
        do {
            _ = try placement(vcpu: vcpu, tuning)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test("nothing asked: no pinning, no policy")
    func nothing() throws {
        let placement = try Self.placement("")
        #expect(placement.isDefault)
        #expect(placement == PlacementConfiguration())
    }

    @Test("vcpupin wins over <vcpu cpuset>, which covers unpinned vCPUs and the emulator")
    func pins() throws {
        let placement = try Self.placement(
            vcpu: "<vcpu cpuset='2-3'>3</vcpu>", "<cputune><vcpupin vcpu='1' cpuset='5'/></cputune>")
        #expect(placement.vcpuCPUs == [CPUSet([2, 3]), CPUSet([5]), CPUSet([2, 3])])
        #expect(placement.emulatorCPUs == CPUSet([2, 3]))
        #expect(placement.memoryPolicy == nil)

        let explicit = try Self.placement(
            vcpu: "<vcpu cpuset='2-3'>2</vcpu>",
            "<cputune><vcpupin vcpu='0' cpuset='0'/><vcpupin vcpu='1' cpuset='1'/><emulatorpin cpuset='4-5'/></cputune>")
        #expect(explicit.vcpuCPUs == [CPUSet([0]), CPUSet([1])])
        #expect(explicit.emulatorCPUs == CPUSet([4, 5]))

        let emulatorOnly = try Self.placement("<cputune><emulatorpin cpuset='1'/></cputune>")
        #expect(emulatorOnly.vcpuCPUs.isEmpty)
        #expect(emulatorOnly.cpus(forVCPU: 0) == nil)
        #expect(emulatorOnly.emulatorCPUs == CPUSet([1]))
    }

    @Test("numatune memory modes: strict → bind (also the default), preferred, interleave, restrictive → none")
    func memoryModes() throws {
        #expect(try Self.placement("<numatune><memory mode='strict' nodeset='0-1'/></numatune>").memoryPolicy
            == GuestMemoryPolicy(mode: .bind, nodes: CPUSet([0, 1])))
        #expect(try Self.placement("<numatune><memory nodeset='1'/></numatune>").memoryPolicy
            == GuestMemoryPolicy(mode: .bind, nodes: CPUSet([1])))
        #expect(try Self.placement("<numatune><memory mode='preferred' nodeset='1'/></numatune>").memoryPolicy
            == GuestMemoryPolicy(mode: .preferred, nodes: CPUSet([1])))
        #expect(try Self.placement("<numatune><memory mode='interleave' nodeset='0,2'/></numatune>").memoryPolicy
            == GuestMemoryPolicy(mode: .interleave, nodes: CPUSet([0, 2])))
        #expect(try Self.placement("<numatune><memory mode='restrictive' nodeset='0'/></numatune>").memoryPolicy
            == nil)
    }

    @Test("refused with the element named: preferred over several nodes")
    func refusals() {
        let preferred = Self.refusal("<numatune><memory mode='preferred' nodeset='0-1'/></numatune>")
        #expect(preferred.contains("exactly one host node"), "\(preferred)")
        let memnode = Self.refusal(
            "<cpu><numa><cell id='0' cpus='0-1' memory='16' unit='MiB'/></numa></cpu>"
                + "<numatune><memnode cellid='0' mode='preferred' nodeset='0-1'/></numatune>")
        #expect(memnode.contains("<numatune><memnode cellid='0' mode='preferred' nodeset='0-1'>")
            && memnode.contains("exactly one host node"), "\(memnode)")
    }

    @Test("validation against host trees: missing and offline CPUs, nodes beyond the host")
    func validation() throws {
        let four = try HostTopology.read(root: Self.fixture("four-node"))
        func check(_ tuning: String, vcpu: String = "<vcpu>2</vcpu>", on host: HostTopology) -> String {
            do {
                let resolver = HypervisorConfigurationResolver(definition: try Self.definition(vcpu: vcpu, tuning: tuning))
                #expect(resolver.asksForPlacement)
                try resolver.validatePlacement(against: host)
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        let missing = check("<cputune><vcpupin vcpu='1' cpuset='63'/></cputune>", on: four)
        #expect(missing.contains("<vcpupin vcpu='1' cpuset='63'>") && missing.contains("'63'")
            && missing.contains("does not have"), "\(missing)")
        let offline = check("<cputune><emulatorpin cpuset='4-5'/></cputune>", on: four)
        #expect(offline.contains("<emulatorpin cpuset='4-5'>") && offline.contains("'5'")
            && offline.contains("offline"), "\(offline)")
        let cpuset = check("", vcpu: "<vcpu cpuset='5'>2</vcpu>", on: four)
        #expect(cpuset.contains("<vcpu cpuset='5'>") && cpuset.contains("offline"), "\(cpuset)")
        let node = check("<numatune><memory mode='strict' nodeset='2-4'/></numatune>", on: four)
        #expect(node.contains("nodeset='2-4'") && node.contains("'4'"), "\(node)")
        #expect(check("<cputune><vcpupin vcpu='0' cpuset='4'/><emulatorpin cpuset='6-7'/></cputune>"
            + "<numatune><memory nodeset='3'/></numatune>", on: four) == "no error")
        let plain = HypervisorConfigurationResolver(definition: try Self.definition(tuning: ""))
        #expect(!plain.asksForPlacement)
    }

    @Test(
        "tuning the hypervisor cannot apply is refused, never silently dropped",
        arguments: [
            ("<iothreads>1</iothreads><cputune><iothreadpin iothread='1' cpuset='0'/></cputune>", "<iothreadpin"),
            ("<iothreads>2</iothreads>", "<iothreads>2</iothreads> is not supported"),
        ])
    func unappliedTuningIsRefused(tuning: String, expected: String) {
        let message = Self.refusal(tuning)
        #expect(message.hasPrefix("unsupported configuration: cannot start domain"), "\(message)")
        #expect(message.contains(expected), "\(message)")
    }
}
