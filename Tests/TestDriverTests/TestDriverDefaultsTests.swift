import Foundation
import TestDriver
import Testing
import VirtCore

@Suite("test:///default configuration")
struct TestDriverDefaultsTests {
    static let testUUID = UUID(uuidString: "6695eb01-f6a4-8304-79aa-97f2502e193f")!

    func open() throws -> Connection { try Connection.open("test:///default", factories: [TestDriverFactory()]) }

    @Test("one running domain 'test' with id 1, as libvirt's default test configuration")
    func defaultDomain() throws {
        let connection = try open()
        #expect(
            try connection.listDomains(.all) == [
                DomainSummary(
                    id: 1, name: "test", uuid: Self.testUUID, state: DomainStateReason(.running, 0), persistent: true,
                    autostart: false, title: nil)
            ])
        let definition = try connection.definition(Self.testUUID, live: true)
        #expect(definition.type == .test)
        #expect(definition.memoryKiB == 8_388_608)
        #expect(definition.currentMemoryKiB == 2_097_152)
        #expect(definition.vcpu.count == 2)
        #expect(definition.os.type == "hvm" && definition.os.arch == "i686" && definition.os.bootDevices == [.hd])
        let disk = try #require(definition.devices.disks.first)
        #expect(disk.type == .file && disk.device == .disk && disk.source == "/guest/diskimage1")
        #expect(disk.target == "vda" && disk.bus == "virtio")
        let interface = try #require(definition.devices.interfaces.first)
        #expect(interface.type == "network" && interface.mac == "aa:bb:cc:dd:ee:ff")
        #expect(interface.sourceAttribute == "network" && interface.sourceValue == "default")
        #expect(interface.targetDev == "testnet0")
        #expect(try connection.lookup("1").name == "test")
        #expect(try connection.lookup("6695eb01-f6a4-8304-79aa-97f2502e193f").id == 1)
    }

    @Test("dominfo: OS type linux, the current time as CPU time, testSecurity label")
    func dominfo() throws {
        let connection = try open()
        var before = timespec()
        clock_gettime(CLOCK_REALTIME, &before)
        let info = try connection.info(Self.testUUID)
        #expect(info.osType == "linux")
        #expect(info.vcpus == 2)
        #expect(info.maxMemoryKiB == 8_388_608 && info.memoryKiB == 2_097_152)
        #expect(info.cpuTimeNs >= UInt64(before.tv_sec) * 1_000_000_000)
        #expect(info.security == .init(model: "testSecurity", doi: "", label: "libvirt-test", enforcing: true))
        try connection.destroy(Self.testUUID)
        #expect(try connection.info(Self.testUUID).security?.label == nil)
    }

    @Test("nodeinfo, version, type and uri")
    func host() throws {
        let connection = try open()
        #expect(
            try connection.nodeInfo()
                == NodeInfo(
                    model: "i686", cpus: 16, mhz: 1400, nodes: 2, sockets: 2, cores: 2, threads: 2, memoryKiB: 3_145_728
                ))
        #expect(connection.driver.typeName == "TEST")
        #expect(connection.driver.hypervisorVersion == "0.0.2")
        #expect(connection.uri == "test:///default")
    }

    @Test("hostname is the machine's")
    func hostname() throws {
        let kernel = try String(contentsOfFile: "/proc/sys/kernel/hostname", encoding: .utf8)
        #expect(try open().hostname() == kernel.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test("capabilities are libvirt's test host byte for byte (virsh 9.0 capture)")
    func capabilities() throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("VirtCoreTests/Fixtures/test-default-capabilities.xml")
        let captured = try String(contentsOf: fixture, encoding: .utf8)
        let expected = captured.replacingOccurrences(of: "\\n+$", with: "\n", options: .regularExpression)
        #expect(try open().capabilitiesXML() == expected)
    }

    @Test("each connection has its own state")
    func perConnection() throws {
        let first = try open()
        let second = try open()
        try first.destroy(Self.testUUID)
        #expect(try first.summary(Self.testUUID).state == .shutoffDestroyed)
        #expect(try second.summary(Self.testUUID).state == DomainStateReason(.running, 0))
    }

    @Test(
        "URIs other than test:///default are refused clearly",
        arguments: [
            ("test:///", "invalid argument: testOpen: supply a path or use test:///default"),
            (
                "test:///etc/config.xml",
                "this function is not supported by the connection driver: test:///etc/config.xml: custom test driver configuration files are not supported; use test:///default"
            ),
            (
                "test://host/default",
                "invalid argument: test://host/default: the test driver runs in this process; use test:///default"
            ),
        ])
    func badURIs(uri: String, message: String) throws {
        do {
            _ = try Connection.open(uri, factories: [TestDriverFactory()])
            Issue.record("\(uri) opened")
        } catch let error as VirtError {
            #expect(error.description == message)
        }
    }
}
