import Foundation
import KVMDriver
import Security
import Testing
import VirtCore

/// `dumpxml` and `dominfo` read the stored canonical XML back through `DomainXML.parse`.
@Suite("kvm:// driver: definitions read back")
struct KVMDriverDefinitionTests {
    static let uuid = UUID(uuidString: "0f8fad5b-d9cb-469f-a165-70867728950e")!

    func definition() -> DomainDefinition {
        var definition = DomainDefinition(type: .kvm, name: "web", uuid: Self.uuid, memoryKiB: 1_048_576)
        definition.currentMemoryKiB = 524_288
        definition.vcpu = VCPUConfig(count: 4, current: 2)
        definition.title = "Web server"
        definition.os.kernel = "/boot/vmlinuz"
        return definition
    }

    @Test(
        "the stored definition reads back in a new driver instance")
    func readBack() throws {
        let root = try EmbedRoot()
        defer { root.remove() }
        try root.open().define(definition())
        let stored = try root.open().definition(Self.uuid, live: false)
        #expect(stored.name == "web" && stored.uuid == Self.uuid && stored.title == "Web server")
        #expect(stored.memoryKiB == 1_048_576 && stored.currentMemoryKiB == 524_288)
        #expect(stored.vcpu.count == 4 && stored.vcpu.current == 2)
        #expect(stored.os.kernel == "/boot/vmlinuz")
        // Storing what was read back changes nothing: the stored text is canonical.
        let connection = try Connection.open(root.uri, factories: [KVMDriverFactory()])
        let first = try connection.domainXML(Self.uuid)
        _ = try connection.driver.define(stored)
        #expect(try connection.domainXML(Self.uuid) == first)
    }

    @Test("dominfo of an inactive domain: OS type hvm, no CPU time, memory and security model without a label")
    func info() throws {
        let root = try EmbedRoot()
        defer { root.remove() }
        let driver = try root.open()
        try driver.define(definition())
        let info = try driver.info(Self.uuid)
        // SELinux is disabled on the test hosts and kvm.conf is absent: the primary model is none.
        let model = SystemSELinux().isEnabled ? "selinux" : "none"
        #expect(
            info
                == DomainInfo(
                    osType: "hvm", vcpus: 2, cpuTimeNs: 0, maxMemoryKiB: 1_048_576, memoryKiB: 524_288,
                    security: .init(model: model, doi: "0", label: nil, enforcing: false)))
    }
}

/// The whole define path through a `Connection`: XML text in, columns for `list`, canonical XML out.
@Suite("kvm:// driver: XML through a connection")
struct KVMDriverConnectionXMLTests {
    static let document = """
        <domain type='kvm'>
          <name>tour</name>
          <uuid>3e3fce45-4f53-4fa7-bb32-11f34168b82b</uuid>
          <title>Tour guest</title>
          <memory unit='MiB'>256</memory>
          <vcpu>2</vcpu>
          <os>
            <type arch='x86_64'>hvm</type>
            <kernel>/boot/vmlinuz</kernel>
          </os>
        </domain>
        """

    @Test(
        "define from XML, list from columns, dumpxml is canonical and stable across instances")
    func defineThroughConnection() throws {
        let root = try EmbedRoot()
        defer { root.remove() }
        let connection = try Connection.open(root.uri, factories: [KVMDriverFactory()])
        let defined = try connection.defineXML(Self.document).domain
        #expect(defined.name == "tour" && defined.title == "Tour guest" && defined.state == .shutoffUnknown)
        let xml = try connection.domainXML(defined.uuid)
        #expect(xml.contains("<memory unit='KiB'>262144</memory>"))

        let again = try Connection.open(root.uri, factories: [KVMDriverFactory()])
        #expect(try again.listDomains(.all).map(\.name) == ["tour"])
        #expect(try again.domainXML(defined.uuid, inactive: true) == xml)
        let info = try again.info(defined.uuid)
        #expect(info.osType == "hvm" && info.vcpus == 2 && info.memoryKiB == 262_144 && info.cpuTimeNs == 0)
        // Redefining from the dumped XML is a fixed point.
        try again.defineXML(xml)
        #expect(try again.domainXML(defined.uuid) == xml)
        try again.undefine(defined.uuid)
        #expect(try connection.listDomains(.all).isEmpty)
    }
}
