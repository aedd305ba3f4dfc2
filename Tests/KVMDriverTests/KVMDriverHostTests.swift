import Foundation
import KVMDriver
import Testing
import VirtCore

/// `nodeinfo` and `capabilities` for kvm:// come from the host's sysfs: a fixture tree and this host.
@Suite("kvm:// driver: host information")
struct KVMDriverHostTests {
    /// The two-node fixture tree of the Host module's tests.
    static let twoNodeRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("HostTests/Fixtures/two-node").path

    func driver(hostRoot: String?) throws -> (KVMDriver, EmbedRoot) {
        let root = try EmbedRoot()
        let paths = try URIPaths.resolve(ConnectionURI(parsing: root.uri))
        return (try KVMDriver(paths: paths, hostRoot: hostRoot), root)
    }

    @Test("nodeinfo of a two-node fixture host")
    func nodeInfoOfFixture() throws {
        let (driver, root) = try driver(hostRoot: Self.twoNodeRoot)
        defer { root.remove() }
        let info = try driver.nodeInfo()
        #expect(info.nodes == 2)
        #expect(info.cpus == 16)
        #expect(info.sockets * info.cores * info.threads * info.nodes == info.cpus)
    }

    @Test("capabilities list every fixture cell with its CPUs and distances")
    func capabilitiesOfFixture() throws {
        let (driver, root) = try driver(hostRoot: Self.twoNodeRoot)
        defer { root.remove() }
        let xml = try driver.capabilitiesXML()
        #expect(xml.contains("<cells num='2'>"))
        #expect(xml.contains("<cell id='1'>"))
        #expect(xml.contains("<sibling id='1' value='10'/>"))
        #expect(xml.contains("<domain type='kvm'/>"))
    }

    @Test("nodeinfo of this host counts the CPUs the kernel has online")
    func nodeInfoOfThisHost() throws {
        let (driver, root) = try driver(hostRoot: nil)
        defer { root.remove() }
        let info = try driver.nodeInfo()
        #expect(info.cpus == sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        #expect(info.memoryKiB > 0)
    }

    /// With `kvm.conf` absent (the probe: none here, as SELinux is disabled) and with `security_driver = "selinux"`,
    /// whose `<secmodel>` carries the base label for kvm domains.
    @Test(
        "this host's capabilities validate against libvirt's capability schema",
        .enabled(
            if: FileManager.default.fileExists(atPath: "/usr/share/libvirt/schemas/capability.rng")
                && FileManager.default.isExecutableFile(atPath: "/usr/bin/xmllint"),
            "needs libvirt's schemas (libvirt0) and xmllint (libxml2-utils)"),
        arguments: ["", "security_driver = \"selinux\"\nuser = \"+107\"\ngroup = \"+108\"\n"])
    func capabilitiesValidate(conf: String) throws {
        let (driver, root) = try driver(hostRoot: nil)
        defer { root.remove() }
        if !conf.isEmpty {
            try conf.write(toFile: root.path + "/etc/kvm.conf", atomically: true, encoding: .utf8)
            let xml = try driver.capabilitiesXML()
            #expect(
                xml.contains(
                    """
                        <secmodel>
                          <model>selinux</model>
                          <doi>0</doi>
                          <baselabel type='kvm'>system_u:system_r:svirt_t:s0</baselabel>
                        </secmodel>
                        <secmodel>
                          <model>dac</model>
                          <doi>0</doi>
                          <baselabel type='kvm'>+107:+108</baselabel>
                        </secmodel>
                      </host>
                    """), "\(xml)")
        }
        let file = root.path + ".caps.xml"
        try driver.capabilitiesXML().write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/xmllint")
        process.arguments = ["--noout", "--relaxng", "/usr/share/libvirt/schemas/capability.rng", file]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let messages = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(messages)")
    }
}
