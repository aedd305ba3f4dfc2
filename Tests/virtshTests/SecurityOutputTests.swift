import Foundation
import Glibc
import Testing

/// `dominfo`, `dominfo --json` and `dumpxml` of a kvm:// domain with sVirt labels, on a real guest as root.
/// SELinux is disabled on the test hosts: `kvm.conf` asks for it, files are labelled, the label is not enforced.
@Suite(
    "virtsh security output with a real guest", .serialized,
    .enabled(if: ConsoleGuests.available && getuid() == 0, "needs /dev/kvm, gcc and root"))
struct SecurityOutputTests {
    /// An embed root whose kvm.conf asks for SELinux labels and a `+UID` hypervisor user, with a domain `s`
    /// booting its own copy of the ticks guest (the shared one is other tests' kernel, relabelled with theirs).
    private func rootWithDomain() throws -> EmbedScratch {
        let root = try EmbedScratch()
        let etc = root.scratch.url.appendingPathComponent("etc")
        try FileManager.default.createDirectory(at: etc, withIntermediateDirectories: true)
        try root.scratch.write("etc/kvm.conf", "security_driver = \"selinux\"\nuser = \"+64202\"\n")
        let kernel = root.scratch.url.appendingPathComponent("ticks.elf").path
        try FileManager.default.copyItem(atPath: (ConsoleGuests.built.directory ?? "") + "/ticks.elf", toPath: kernel)
        let xml = """
            <domain type='kvm'>
              <name>s</name>
              <memory unit='MiB'>16</memory>
              <vcpu>1</vcpu>
              <os><type>hvm</type><kernel>\(kernel)</kernel><cmdline>delay=300000</cmdline></os>
              <devices><serial type='file'><source path='/dev/null'/><target port='0'/></serial></devices>
            </domain>
            """
        #expect(try root.define("s", xml).status == 0)
        return root
    }

    @Test("dominfo: Security model, DOI and label as virsh prints them, the label marked not enforced")
    func dominfo() throws {
        let root = try rootWithDomain()
        let inactive = try root.virtsh("dominfo", "s")
        #expect(inactive.stdout.hasSuffix("Managed save:   no\nSecurity model: selinux\nSecurity DOI:   0\n\n"))
        #expect(try root.virtsh("start", "s").status == 0)
        defer { _ = try? root.virtsh("destroy", "s") }
        let xml = try root.virtsh("dumpxml", "s").stdout
        let label = try #require(Self.element("label", in: xml))
        #expect(label.hasPrefix("system_u:system_r:svirt_t:s0:c"))
        let running = try root.virtsh("dominfo", "s")
        #expect(
            running.stdout.hasSuffix(
                "Managed save:   no\nSecurity model: selinux\nSecurity DOI:   0\nSecurity label: \(label) (not enforced)\n\n"
            ), "\(running)")

        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(root.virtsh("dominfo", "s", "--json").stdout.utf8))
                as? [String: Any])
        let security = try #require(json["security"] as? [String: Any])
        #expect(security["model"] as? String == "selinux")
        #expect(security["doi"] as? String == "0")
        #expect(security["label"] as? String == label)
        #expect(security["enforcement"] as? String == "not enforced")
        #expect(security["enforcing"] as? Bool == false)
    }

    @Test("dumpxml shows <seclabel> with <label> and <imagelabel> while running; --security-info prints the same")
    func dumpxml() throws {
        let root = try rootWithDomain()
        #expect(try root.virtsh("start", "s").status == 0)
        defer { _ = try? root.virtsh("destroy", "s") }
        let xml = try root.virtsh("dumpxml", "s").stdout
        let label = try #require(Self.element("label", in: xml))
        let pair = String(label.split(separator: ":").last ?? "")
        #expect(
            xml.contains(
                """
                  <seclabel type='dynamic' model='selinux' relabel='yes'>
                    <label>\(label)</label>
                    <imagelabel>system_u:object_r:svirt_image_t:s0:\(pair)</imagelabel>
                  </seclabel>
                  <seclabel type='dynamic' model='dac' relabel='yes'>
                    <label>+64202:+64202</label>
                    <imagelabel>+64202:+64202</imagelabel>
                  </seclabel>
                </domain>
                """), "\(xml)")
        #expect(try root.virtsh("dumpxml", "s", "--security-info").stdout == xml)
        #expect(!(try root.virtsh("dumpxml", "s", "--inactive").stdout.contains("<seclabel")))
    }

    /// The text of the first `<name>` element.
    static func element(_ name: String, in xml: String) -> String? {
        guard let start = xml.range(of: "<\(name)>"),
            let end = xml.range(of: "</\(name)>", range: start.upperBound..<xml.endIndex)
        else { return nil }
        return String(xml[start.upperBound..<end.lowerBound])
    }
}
