import Foundation
import Testing

@testable import VirtCore

/// Strict by default (unknown XML is an error naming file, line and path); lax drops it like libvirt and
/// reports one line per dropped item.
@Suite("Domain XML strict and lax modes")
struct DomainXMLStrictnessTests {
    static let document = """
        <domain type='kvm' xmlns:q='urn:example:q'>
          <name>lax</name>
          <uuid>12345678-1234-1234-1234-123456789abc</uuid>
          <memory unit='MiB' bogus='1'>512</memory>
          <q:commandline/>
          <pm><suspend-to-mem enabled='no'/></pm>
          <os><type>hvm</type><loader>/usr/share/OVMF.fd</loader></os>
          <metadata><plain>no namespace</plain></metadata>
          <devices>
            <disk type='file' device='disk' snapshot='no'>
              <source file='/srv/lax.img'/>
              <target dev='vda' bus='virtio'/>
              <address type='pci' bus='0x01'/>
            </disk>
            <memballoon model='virtio'/>
            stray text
          </devices>
        </domain>
        """

    @Test("strict mode stops at the first unknown item, naming file, line and path")
    func strictRejects() {
        var options = DomainXMLParseOptions()
        options.sourceName = "lax.xml"
        #expect(throws: VirtError.self) { try DomainXML.parse(Self.document, options: options) }
        do {
            _ = try DomainXML.parse(Self.document, options: options)
        } catch let error as VirtError {
            #expect(error.code == .xmlError)
            #expect(
                error.description.hasPrefix(
                    "XML error: unknown attribute 'bogus' of <memory> at /domain/memory/@bogus (lax.xml line 4)"))
            #expect(error.description.contains("--lax"))
        } catch {
            Issue.record("unexpected error type: \(error)")
        }
    }

    @Test("lax mode drops every unknown item and lists it")
    func laxDrops() throws {
        var options = DomainXMLParseOptions()
        options.strict = false
        options.sourceName = "lax.xml"
        let result = try DomainXML.parse(Self.document, options: options)
        #expect(
            result.dropped == [
                "unknown attribute 'bogus' of <memory> at /domain/memory/@bogus (lax.xml line 4)",
                "unknown element <q:commandline> at /domain/q:commandline (lax.xml line 5)",
                "unknown element <pm> at /domain/pm (lax.xml line 6)",
                "unknown element <loader> at /domain/os/loader (lax.xml line 7)",
                "metadata element <plain> without a namespace (libvirt drops it; give it an xmlns) at "
                    + "/domain/metadata/plain (lax.xml line 8)",
                "unexpected text 'stray text' in <devices> at /domain/devices (lax.xml line 9)",
                "unknown attribute 'snapshot' of <disk> at /domain/devices/disk/@snapshot (lax.xml line 10)",
                "unknown element <address> at /domain/devices/disk/address (lax.xml line 13)",
                "unknown element <memballoon> at /domain/devices/memballoon (lax.xml line 15)",
            ])
        let output = DomainXML.format(result.definition)
        for gone in ["bogus", "commandline", "<pm", "loader", "plain", "snapshot", "address", "memballoon", "stray"] {
            #expect(!output.contains(gone), "\(gone) survived a lax parse")
        }
        #expect(result.definition.devices.disks.first?.source == "/srv/lax.img")
        #expect(result.definition.memoryKiB == 512 * 1024)
        // What lax mode keeps is itself strict-clean.
        #expect(try DomainXML.parse(output).dropped.isEmpty)
    }

    @Test("a strict parse of a clean document drops nothing")
    func strictClean() throws {
        let result = try DomainXML.parse(try FixtureSupport.read("xml2xml", "full.xml"))
        #expect(result.dropped.isEmpty)
    }

    @Test("paths index repeated siblings from 1")
    func pathIndexes() {
        let text = """
            <domain type='test'><name>p</name><memory>1024</memory><os><type>hvm</type></os><devices>
            <disk type='file'><source file='/a'/><target dev='vda'/></disk>
            <disk type='file'><source file='/b'/><target dev='vdb'/><bogus/></disk>
            </devices></domain>
            """
        do {
            _ = try DomainXML.parse(text)
            Issue.record("accepted an unknown element")
        } catch let error as VirtError {
            #expect(
                error.message.hasPrefix(
                    "unknown element <bogus> at /domain/devices/disk[2]/bogus ((domain_definition) line 3)"))
        } catch {
            Issue.record("unexpected error type: \(error)")
        }
    }

    @Test("a duplicated single element is an error when strict and dropped when lax")
    func duplicates() throws {
        let text =
            "<domain type='test'><name>a</name><name>b</name><memory>1024</memory><os><type>hvm</type></os></domain>"
        #expect(throws: VirtError.self) { try DomainXML.parse(text) }
        var options = DomainXMLParseOptions()
        options.strict = false
        let result = try DomainXML.parse(text, options: options)
        #expect(result.definition.name == "a")
        #expect(result.dropped.count == 1)
    }
}
