import Foundation
import Testing

@testable import VirtCore

/// `validateSchema`: our RelaxNG schemas through libxml2, with libxml2's messages under libvirt's prefix.
@Suite("Domain XML schema validation")
struct DomainXMLSchemaTests {
    @Test("our schemas are found in the source tree")
    func located() throws {
        let directory = try #require(DomainXML.schemaDirectory)
        #expect(FileManager.default.fileExists(atPath: directory + "/domain.rng"))
        #expect(DomainXML.schemaSearchPath.last == DomainXML.sourceTreeSchemas)
        #expect(try DomainXML.schemaPath().hasSuffix("/domain.rng"))
        #expect(throws: VirtError.self) { try DomainXML.schemaPath("no-such-schema.rng") }
    }

    @Test("a schema failure lists libxml2's messages with file, line and element")
    func failure() {
        var options = DomainXMLParseOptions()
        options.validateSchema = true
        options.sourceName = "unknown.xml"
        let text = "<domain type='test'>\n  <name>demo</name>\n  <memory>1024</memory>\n  <bogus/>\n</domain>\n"
        do {
            _ = try DomainXML.parse(text, options: options)
            Issue.record("accepted")
        } catch let error as VirtError {
            #expect(error.code == .xmlInvalidSchema)
            let lines = error.description.split(separator: "\n").map(String.init)
            #expect(
                lines.first?.hasPrefix(
                    "XML document failed to validate against schema: Unable to validate doc against ") == true)
            #expect(lines.first?.hasSuffix("/domain.rng") == true)
            #expect(lines.dropFirst().contains { $0.hasPrefix("unknown.xml:4: element bogus: ") })
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test("the schema runs before the model, so its verdict comes first")
    func beforeModel() {
        var options = DomainXMLParseOptions()
        options.validateSchema = true
        let text = "<domain type='test'><name>d</name><memory unit='parsecs'>1</memory></domain>"
        #expect {
            try DomainXML.parse(text, options: options)
        } throws: { error in
            (error as? VirtError)?.code == .xmlInvalidSchema
        }
        #expect {
            try DomainXML.parse(text)
        } throws: { error in
            (error as? VirtError)?.code == .invalidArgument
        }
    }

    @Test("every schema-valid fixture input is also accepted by the model")
    func inputsValidate() throws {
        var options = DomainXMLParseOptions()
        options.validateSchema = true
        for name in FixtureSupport.cases(in: "xml2xml") {
            _ = try DomainXML.parse(try FixtureSupport.read("xml2xml", name + ".xml"), options: options)
        }
    }

    @Test("a schema that cannot be compiled is a clear error")
    func brokenSchema() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swift-virt-rng-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("broken.rng").path
        try "<grammar xmlns='http://relaxng.org/ns/structure/1.0'><start><ref name='nowhere'/></start></grammar>"
            .write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: VirtError.self) {
            try DomainXML.validateAgainstSchema("<domain type='test'/>", schemaPath: path)
        }
    }
}
