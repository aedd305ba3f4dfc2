import Foundation
import Testing

@testable import VirtCore

/// xml2xml: every `Fixtures/xml2xml/<case>.xml` formats to `<case>.expected.xml`, re-parsing the output is a
/// fixed point, and the output validates against libvirt's published schema and against ours.
@Suite("Domain XML round trips")
struct DomainXMLGoldenTests {
    static let cases = FixtureSupport.cases(in: "xml2xml")
    /// libvirt's own schema, from Debian's libvirt-clients package.
    static let libvirtSchemaPath = "/usr/share/libvirt/schemas/domain.rng"
    static let haveLibvirtSchema = FileManager.default.fileExists(atPath: libvirtSchemaPath)

    @Test("the fixture corpus is not empty") func corpus() {
        #expect(Self.cases.count >= 8)
        #expect(Self.cases.contains("full"))
    }

    @Test("formats to the golden file", arguments: cases)
    func golden(_ name: String) throws {
        let input = try FixtureSupport.read("xml2xml", name + ".xml")
        var options = DomainXMLParseOptions()
        options.sourceName = name + ".xml"
        let parsed = try DomainXML.parse(input, options: options)
        #expect(parsed.dropped.isEmpty)
        let output = DomainXML.format(parsed.definition)
        try FixtureSupport.assertGolden(output, "xml2xml", name + ".expected.xml")
    }

    @Test("parse → format → parse → format is a fixed point", arguments: cases)
    func fixedPoint(_ name: String) throws {
        let input = try FixtureSupport.read("xml2xml", name + ".xml")
        let first = try DomainXML.parse(input).definition
        let once = DomainXML.format(first)
        let second = try DomainXML.parse(once).definition
        #expect(second == first)
        #expect(DomainXML.format(second) == once)
    }

    @Test("output validates against our own schema", arguments: cases)
    func ownSchema(_ name: String) throws {
        let output = DomainXML.format(try DomainXML.parse(try FixtureSupport.read("xml2xml", name + ".xml")).definition)
        try DomainXML.validateAgainstSchema(output, sourceName: name + ".expected.xml")
        var options = DomainXMLParseOptions()
        options.validateSchema = true
        _ = try DomainXML.parse(output, options: options)
    }

    // Needs libvirt's schemas (Debian package libvirt-clients, installed by .ci/run).
    @Test(
        "output validates against libvirt's domain.rng", .enabled(if: haveLibvirtSchema, "libvirt schemas missing"),
        arguments: cases)
    func validatesAgainstLibvirt(_ name: String) throws {
        let output = DomainXML.format(try DomainXML.parse(try FixtureSupport.read("xml2xml", name + ".xml")).definition)
        try DomainXML.validateAgainstSchema(
            output, schemaPath: Self.libvirtSchemaPath, sourceName: name + ".expected.xml")
    }

    @Test("a running domain's XML carries its id") func liveID() throws {
        let parsed = try DomainXML.parse(try FixtureSupport.read("xml2xml", "minimal.xml")).definition
        let output = DomainXML.format(parsed, options: DomainXMLFormatOptions(id: 7))
        #expect(output.hasPrefix("<domain type='test' id='7'>\n"))
        #expect(try DomainXML.parse(output).definition == parsed)
    }
}
