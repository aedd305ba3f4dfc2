import Foundation
import Testing

@testable import VirtCore

/// Output compared with real libvirt 9.0 output captured on this machine.
@Suite("libvirt compatibility")
struct LibvirtCompatibilityTests {
    @Test("virsh's dumpxml of test:///default's domain prints identically, minus the devices we do not model")
    func testDomain() throws {
        let captured = try FixtureSupport.read("libvirt", "test-domain.dumpxml.xml")
        var options = DomainXMLParseOptions()
        options.strict = false
        options.sourceName = "test-domain.dumpxml.xml"
        let result = try DomainXML.parse(captured, options: options)
        #expect(result.dropped.count == 3)
        #expect(result.dropped.allSatisfy { $0.contains("<address>") || $0.contains("<memballoon>") })
        // libvirt's own text without the <address> lines and the <memballoon> block.
        var expected: [Substring] = []
        var inBalloon = false
        for line in captured.split(separator: "\n") {
            if line.contains("<memballoon") { inBalloon = true }
            if !inBalloon && !line.contains("<address ") { expected.append(line) }
            if line.contains("</memballoon>") { inBalloon = false }
        }
        let output = DomainXML.format(result.definition, options: DomainXMLFormatOptions(id: 1))
        #expect(output == expected.joined(separator: "\n") + "\n")
    }

    @Test("generated host interface names are live state and dropped from a definition")
    func generatedInterfaceNames() throws {
        let text = """
            <domain type='kvm'><name>n</name><memory>1024</memory><os><type>hvm</type></os><devices>
            <interface type='network'><mac address='52:54:00:00:00:09'/><source network='default'/>
            <target dev='vnet3'/></interface></devices></domain>
            """
        #expect(try DomainXML.parse(text).definition.devices.interfaces.first?.targetDev == nil)
    }

    @Test("the encoding declaration does not override UTF-8")
    func encodingDeclaration() throws {
        let text =
            "<?xml version='1.0' encoding='ISO-8859-1'?><domain type='test'><name>café</name>"
            + "<memory>1024</memory><os><type>hvm</type></os></domain>"
        #expect(try DomainXML.parse(text).definition.name == "café")
    }
}
