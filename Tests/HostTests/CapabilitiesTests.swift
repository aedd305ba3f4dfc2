import Foundation
import Testing
import VirtBase
@testable import Host

@Suite("capabilities <topology>")
struct CapabilitiesTests {
    @Test func oneNodeXML() throws {
        #expect(try Fixture.oneNode.topology().capabilitiesTopologyXML() == """
                <topology>
                  <cells num='1'>
                    <cell id='0'>
                      <memory unit='KiB'>8388608</memory>
                      <pages unit='KiB' size='4'>1802240</pages>
                      <pages unit='KiB' size='2048'>64</pages>
                      <pages unit='KiB' size='1048576'>1</pages>
                      <distances>
                        <sibling id='0' value='10'/>
                      </distances>
                      <cpus num='4'>
                        <cpu id='0' socket_id='0' die_id='0' core_id='0' siblings='0,2'/>
                        <cpu id='1' socket_id='0' die_id='0' core_id='1' siblings='1,3'/>
                        <cpu id='2' socket_id='0' die_id='0' core_id='0' siblings='0,2'/>
                        <cpu id='3' socket_id='0' die_id='0' core_id='1' siblings='1,3'/>
                      </cpus>
                    </cell>
                  </cells>
                </topology>

            """)
    }

    @Test func systemPagesAreMemoryOutsideTheHugePagePools() throws {
        let cells = try Fixture.twoNode.topology().capabilitiesCells
        // node 0: 16 GiB - 512 x 2 MiB - 2 x 1 GiB, in 4 KiB pages.
        let node0System: UInt64 = (16_777_216 - 512 * 2048 - 2 * 1_048_576) / 4
        let node1System: UInt64 = (16_777_216 - 4 * 1_048_576) / 4
        #expect(cells[0].pages.map(\.count) == [node0System, 512, 2])
        #expect(cells[1].pages.map(\.count) == [node1System, 0, 4])
        #expect(cells[1].pages.map(\.sizeKiB) == [4, 2048, 1_048_576])
        #expect(cells[1].distances.map(\.value) == [21, 10])
    }

    @Test func memorylessAndCPUlessCells() throws {
        let xml = try Fixture.eightNode.topology().capabilitiesTopologyXML(indent: 0)
        #expect(xml.contains("    <cell id='6'>\n      <pages unit='KiB' size='4'>0</pages>\n      <distances>\n"))
        #expect(xml.contains("      </distances>\n      <cpus num='0'/>\n    </cell>\n"))
        #expect(xml.contains("<cells num='8'>"))
    }

    @Test func offlineCPUsAreNotInAnyCell() throws {
        let cells = try Fixture.fourNode.topology().capabilitiesCells
        #expect(cells[1].cpus.map(\.id) == [4, 6, 7])
        #expect(cells[3].distances.map(\.value) == [24, 20, 12, 10])
    }

    @Test func aCPUWithoutTopologyPrintsItsIdAlone() throws {
        var host = try Fixture.fourNode.topology()
        host.nodes[1].cpus.insert(5)
        let xml = host.capabilitiesTopologyXML()
        #expect(xml.contains("            <cpu id='5'/>\n"))
    }

    @Test func hostPageSizes() throws {
        #expect(try Fixture.twoNode.topology().capabilitiesPageSizesXML() == """
                  <pages unit='KiB' size='4'/>
                  <pages unit='KiB' size='2048'/>
                  <pages unit='KiB' size='1048576'/>

            """)
    }

    /// xmllint and libvirt's capability schema come with libxml2-utils and libvirt-clients (installed here).
    static let schema = "/usr/share/libvirt/schemas/capability.rng"
    static let canValidate = FileManager.default.fileExists(atPath: schema)
        && FileManager.default.isExecutableFile(atPath: "/usr/bin/xmllint")

    @Test(.enabled(if: canValidate, "needs xmllint and /usr/share/libvirt/schemas/capability.rng"),
          arguments: Fixture.allCases)
    func validatesAgainstLibvirtsSchema(_ fixture: Fixture) throws {
        let host = try fixture.topology()
        let document = "<capabilities>\n  <host>\n    <cpu>\n      <arch>\(host.arch)</arch>\n"
            + host.capabilitiesPageSizesXML() + "    </cpu>\n    <power_management/>\n    <iommu support='no'/>\n"
            + host.capabilitiesTopologyXML() + "  </host>\n</capabilities>\n"
        let scratch = try ScratchTree()
        try scratch.write("/caps.xml", document)
        let lint = Process()
        lint.executableURL = URL(fileURLWithPath: "/usr/bin/xmllint")
        lint.arguments = ["--noout", "--relaxng", Self.schema, scratch.root + "/caps.xml"]
        let errors = Pipe()
        lint.standardError = errors
        try lint.run()
        lint.waitUntilExit()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(lint.terminationStatus == 0, "\(message)")
    }
}
