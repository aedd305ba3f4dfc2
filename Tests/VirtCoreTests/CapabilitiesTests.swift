import Foundation
import Testing
import VirtCore

@Suite("Capabilities XML")
struct CapabilitiesTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// The test host that libvirt 9.0's test driver reports, built field by field.
    static func testHost() -> Capabilities {
        var cpu = Capabilities.HostCPU(arch: "i686")
        cpu.hostFeatures = ["pae", "nonpae"]
        cpu.pageSizesKiB = [4, 8, 2048, 1_048_576]
        var host = Capabilities.Host(cpu: cpu)
        host.iommuSupport = false
        host.cells = (0..<2).map { index in
            var cell = Capabilities.NUMACell(id: index, memoryKiB: UInt64(index + 1) * 2_097_152)
            cell.pages = [
                .init(sizeKiB: index == 0 ? 4 : 8, count: 524_288), .init(sizeKiB: 2048, count: 0),
                .init(sizeKiB: 1_048_576, count: 0),
            ]
            cell.cpus = (0..<8).map { core in
                .init(
                    id: index * 8 + core, socketID: index, dieID: 0, coreID: core, siblings: CPUSet([index * 8 + core]))
            }
            return cell
        }
        host.securityModels = [.init(model: "testSecurity", doi: "")]
        let guests = ["hvm", "xen"].map { os in
            var guest = Capabilities.Guest(
                osType: os, arch: "i686", wordSize: 32, emulator: "/usr/bin/test-hv", domainTypes: ["test"])
            guest.features = [.init(name: "pae"), .init(name: "nonpae")]
            return guest
        }
        return Capabilities(host: host, guests: guests)
    }

    @Test("formats libvirt's layout byte for byte (virsh 9.0 capture of test:///default)")
    func matchesCapture() throws {
        let captured = try String(
            contentsOf: Self.fixtures.appendingPathComponent("test-default-capabilities.xml"), encoding: .utf8)
        let expected = captured.replacingOccurrences(of: "\\n+$", with: "\n", options: .regularExpression)
        #expect(Self.testHost().xml() == expected)
    }

    @Test("real-host parts: uuid, model, topology, distances, power management, base labels, machines")
    func realHostParts() {
        var cpu = Capabilities.HostCPU(arch: "x86_64")
        cpu.model = "Skylake-Client-IBRS"
        cpu.vendor = "Intel"
        cpu.topology = .init(sockets: 1, dies: 1, cores: 2, threads: 1)
        cpu.features = ["vmx"]
        cpu.pageSizesKiB = [4, 2048]
        var host = Capabilities.Host(uuid: "0a0b0c0d-0000-0000-0000-000000000001", cpu: cpu)
        host.powerManagement = ["suspend_mem"]
        var cell = Capabilities.NUMACell(id: 0, memoryKiB: 1024)
        cell.pages = [.init(sizeKiB: 4, count: 256)]
        cell.distances = [.init(id: 0, value: 10)]
        cell.cpus = [.init(id: 0, socketID: 0, dieID: 0, coreID: 0, siblings: CPUSet([0, 1]))]
        host.cells = [cell]
        host.securityModels = [
            .init(model: "dac", doi: "0", baseLabels: [.init(domainType: "kvm", label: "+107:+107")])
        ]
        var guest = Capabilities.Guest(osType: "hvm", arch: "x86_64", wordSize: 64, emulator: nil, domainTypes: ["kvm"])
        guest.machines = ["pc"]
        guest.features = [.init(name: "acpi", defaultOn: true, toggle: true)]
        let xml = Capabilities(host: host, guests: [guest]).xml()
        #expect(
            xml == """
                <capabilities>

                  <host>
                    <uuid>0a0b0c0d-0000-0000-0000-000000000001</uuid>
                    <cpu>
                      <arch>x86_64</arch>
                      <model>Skylake-Client-IBRS</model>
                      <vendor>Intel</vendor>
                      <topology sockets='1' dies='1' cores='2' threads='1'/>
                      <feature name='vmx'/>
                      <pages unit='KiB' size='4'/>
                      <pages unit='KiB' size='2048'/>
                    </cpu>
                    <power_management>
                      <suspend_mem/>
                    </power_management>
                    <topology>
                      <cells num='1'>
                        <cell id='0'>
                          <memory unit='KiB'>1024</memory>
                          <pages unit='KiB' size='4'>256</pages>
                          <distances>
                            <sibling id='0' value='10'/>
                          </distances>
                          <cpus num='1'>
                            <cpu id='0' socket_id='0' die_id='0' core_id='0' siblings='0-1'/>
                          </cpus>
                        </cell>
                      </cells>
                    </topology>
                    <secmodel>
                      <model>dac</model>
                      <doi>0</doi>
                      <baselabel type='kvm'>+107:+107</baselabel>
                    </secmodel>
                  </host>

                  <guest>
                    <os_type>hvm</os_type>
                    <arch name='x86_64'>
                      <wordsize>64</wordsize>
                      <machine>pc</machine>
                      <domain type='kvm'/>
                    </arch>
                    <features>
                      <acpi default='on' toggle='yes'/>
                    </features>
                  </guest>

                </capabilities>

                """)
    }

    @Test("memoryless nodes, CPUs without topology and CPU-less nodes are formatted as libvirt does")
    func sparseNodes() {
        var withCPUs = Capabilities.NUMACell(id: 0, memoryKiB: 0)
        withCPUs.cpus = [.init(id: 3)]
        let memoryOnly = Capabilities.NUMACell(id: 1, memoryKiB: 2048)
        var host = Capabilities.Host(cpu: .init(arch: "aarch64"))
        host.cells = [withCPUs, memoryOnly]
        let xml = Capabilities(host: host, guests: []).xml()
        #expect(
            xml.contains(
                """
                        <cell id='0'>
                          <cpus num='1'>
                            <cpu id='3'/>
                          </cpus>
                        </cell>
                        <cell id='1'>
                          <memory unit='KiB'>2048</memory>
                          <cpus num='0'/>
                        </cell>
                """))
    }

    @Test("text is escaped")
    func escaping() {
        var host = Capabilities.Host(cpu: .init(arch: "x86_64"))
        host.securityModels = [.init(model: "a<b", doi: "&")]
        let xml = Capabilities(host: host, guests: []).xml()
        #expect(xml.contains("<model>a&lt;b</model>"))
        #expect(xml.contains("<doi>&amp;</doi>"))
    }
}
