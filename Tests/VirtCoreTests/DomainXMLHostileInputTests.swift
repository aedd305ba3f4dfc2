import Foundation
import Testing

@testable import VirtCore

/// Hostile documents get a clear error and nothing else: no entity expansion, no external fetches, no DTD,
/// caps on size and depth, UTF-8 only.
@Suite("Domain XML hostile input")
struct DomainXMLHostileInputTests {
    private func error(_ text: String) -> VirtError? {
        do {
            _ = try DomainXML.parse(text)
            return nil
        } catch let error as VirtError {
            return error
        } catch {
            return nil
        }
    }

    @Test("a billion-laughs document is refused at its DOCTYPE")
    func billionLaughs() {
        var entities = "<!ENTITY lol0 \"lol\">\n"
        for level in 1...9 {
            entities += "<!ENTITY lol\(level) \"" + String(repeating: "&lol\(level - 1);", count: 10) + "\">\n"
        }
        let text =
            "<?xml version='1.0'?>\n<!DOCTYPE domain [\n\(entities)]>\n"
            + "<domain type='test'><name>&lol9;</name><memory>1024</memory><os><type>hvm</type></os></domain>"
        let failure = error(text)
        #expect(failure?.code == .xmlError)
        #expect(failure?.message.contains("<!DOCTYPE>") == true)
    }

    @Test("an external entity is never read")
    func externalEntity() {
        let text =
            "<!DOCTYPE domain [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
            + "<domain type='test'><name>&x;</name><memory>1024</memory><os><type>hvm</type></os></domain>"
        let failure = error(text)
        #expect(failure?.message.contains("DOCTYPE") == true)
        #expect(failure?.message.contains("root:") == false)
    }

    @Test("an external DTD is not loaded")
    func externalDTD() {
        let failure = error(
            "<!DOCTYPE domain SYSTEM \"http://127.0.0.1:1/x.dtd\"><domain type='test'><name>d</name></domain>")
        #expect(failure?.message.contains("DOCTYPE") == true)
    }

    @Test("an undefined entity reference is a well-formedness error")
    func undefinedEntity() {
        let failure = error(
            "<domain type='test'><name>&nope;</name><memory>1024</memory><os><type>hvm</type></os></domain>")
        #expect(failure?.code == .xmlDetail)
        #expect(failure?.message.contains("nope") == true)
    }

    @Test("a document over 10 MiB is refused before parsing")
    func oversized() {
        let padding = String(repeating: "x", count: 10 * 1024 * 1024)
        let failure = error("<domain type='test'><name>big</name><description>\(padding)</description></domain>")
        #expect(failure?.code == .xmlError)
        #expect(failure?.message.contains("10485760-byte") == true)
    }

    @Test("nesting deeper than the cap is refused", arguments: [65, 100_000])
    func tooDeep(_ depth: Int) {
        let open = String(repeating: "<m:x>", count: depth)
        let close = String(repeating: "</m:x>", count: depth)
        let text =
            "<domain type='test'><name>deep</name><memory>1024</memory><os><type>hvm</type></os><metadata>"
            + "<m:root xmlns:m='urn:x'>\(open)\(close)</m:root></metadata></domain>"
        let failure = error(text)
        #expect(failure != nil)
        #expect(failure?.message.contains("deep") == true || failure?.message.contains("depth") == true)
    }

    @Test("nesting within the cap is accepted")
    func deepButFine() throws {
        let open = String(repeating: "<m:x>", count: 40)
        let close = String(repeating: "</m:x>", count: 40)
        let text =
            "<domain type='test'><name>ok</name><memory>1024</memory><os><type>hvm</type></os><metadata>"
            + "<m:root xmlns:m='urn:x'>\(open)\(close)</m:root></metadata></domain>"
        #expect(try DomainXML.parse(text).definition.metadata.count == 1)
    }

    @Test("bytes that are not UTF-8 are refused with the line")
    func notUTF8() {
        var bytes = Array("<domain type='test'>\n<name>".utf8)
        bytes += [0xFF, 0xFE, 0x41]
        bytes += Array("</name><memory>1024</memory><os><type>hvm</type></os></domain>".utf8)
        do {
            _ = try DomainXML.parse(bytes: bytes)
            Issue.record("accepted invalid UTF-8")
        } catch {
            #expect(error.code == .xmlDetail)
            #expect(error.message.hasPrefix("(domain_definition):2: "))
            #expect(error.message.contains("UTF-8"))
        }
    }

    @Test("a well-formedness error shows the line and a caret under the column")
    func caret() {
        let failure = error("<domain type='test'>\n  <name>x</name>\n  <memory>1024</memry>\n</domain>")
        #expect(failure?.code == .xmlDetail)
        let lines = failure?.message.split(separator: "\n", omittingEmptySubsequences: false) ?? []
        #expect(lines.count == 3)
        #expect(lines.first?.hasPrefix("(domain_definition):3: ") == true)
        #expect(lines.dropFirst().first == "  <memory>1024</memry>")
        #expect(lines.last?.hasSuffix("^") == true)
    }

    @Test("an empty document and a foreign root are refused")
    func emptyAndForeign() {
        #expect(error("")?.code == .xmlDetail)
        #expect(error("<network><name>n</name></network>")?.message.contains("expected <domain>") == true)
    }
}
