import Foundation
import Testing

@testable import VirtCore

/// Semantic rules beyond the captured cases, each with the message that names the fault.
@Suite("Domain validation rules")
struct DomainValidatorTests {
    /// A small valid document; `body` goes inside `<domain>` after the name.
    static func document(name: String = "v", _ body: String = "") -> String {
        let os = body.contains("<os>") ? "" : "<os><type>hvm</type></os>"
        return "<domain type='kvm'><name>\(name)</name><memory unit='MiB'>1024</memory><vcpu>4</vcpu>\(os)\(body)"
            + "</domain>"
    }

    static let rules: [(String, String, String)] = [
        ("empty name", "<domain type='kvm'><name></name><memory>1024</memory></domain>", "missing name information"),
        ("newline in name", document(name: "a\nb"), "XML error: name 'a...' cannot contain a newline"),
        ("overlong name", document(name: String(repeating: "n", count: 256)), "is 256 bytes long; the limit is 255"),
        ("uuid with bad hyphens", document("<uuid>0000000-01111-2222-3333-444444444444</uuid>"), "malformed uuid"),
        (
            "fifo without priority", document("<cputune><vcpusched vcpus='0' scheduler='fifo'/></cputune>"),
            "scheduler 'fifo' needs a 'priority'"
        ),
        (
            "batch with priority", document("<cputune><vcpusched scheduler='batch' priority='3'/></cputune>"),
            "scheduler 'batch' takes no 'priority'"
        ),
        (
            "vCPU in two vcpusched",
            document(
                "<cputune><vcpusched vcpus='0-1' scheduler='batch'/><vcpusched vcpus='1' scheduler='idle'/></cputune>"),
            "vCPU 1 is referenced by more than one <vcpusched>"
        ),
        (
            "cell ids out of order",
            document(
                "<cpu><numa><cell id='1' cpus='0-1' memory='512' unit='MiB'/><cell id='0' cpus='2-3' memory='512' unit='MiB'/></numa></cpu>"
            ),
            "cell 0 has id='1'"
        ),
        (
            "local distance not 10",
            document(
                "<cpu><numa><cell cpus='0-3' memory='1024' unit='MiB'><distances><sibling id='0' value='20'/></distances></cell></numa></cpu>"
            ),
            "the local distance must be 10"
        ),
        (
            "cell names a missing vCPU",
            document("<cpu><numa><cell cpus='0-4' memory='1024' unit='MiB'/></numa></cpu>"),
            "NUMA cell 0 names vCPU 4 but the domain has 4 vCPUs (0-3)"
        ),
        (
            "two seclabels for one model",
            document("<seclabel type='dynamic' model='selinux'/><seclabel type='none' model='selinux'/>"),
            "seclabel for model selinux is already provided"
        ),
        (
            "several seclabels without model",
            document("<seclabel type='dynamic'/><seclabel type='none' model='dac'/>"),
            "missing security model when using multiple labels"
        ),
        (
            "device label with relabel off",
            document(
                "<devices><disk type='file'><source file='/a'><seclabel relabel='no'><label>x</label></seclabel></source><target dev='vda'/></disk></devices>"
            ),
            "Cannot specify a label if relabelling is turned off"
        ),
        (
            "boot order together with os/boot",
            document(
                "<os><type>hvm</type><boot dev='hd'/></os><devices><disk type='file'><source file='/a'/><target dev='vda'/><boot order='1'/></disk></devices>"
            ),
            "per-device boot elements cannot be used together with os/boot elements"
        ),
        (
            "relative disk path",
            document("<devices><disk type='file'><source file='a.img'/><target dev='vda'/></disk></devices>"),
            "source 'a.img' must be an absolute path"
        ),
        (
            "multicast mac",
            document(
                "<devices><interface type='network'><mac address='01:00:5e:00:00:01'/><source network='default'/></interface></devices>"
            ),
            "expected unicast mac address"
        ),
        (
            "maxMemory below memory", document("<maxMemory slots='2' unit='MiB'>512</maxMemory>"),
            "maximum memory size must be equal or greater"
        ),
        (
            "static numatune without nodeset", document("<numatune><memory mode='interleave'/></numatune>"),
            "nodeset for NUMA memory tuning must be set if 'placement' is 'static'"
        ),
        (
            "restrictive memnode mismatch",
            document(
                "<numatune><memory mode='restrictive' nodeset='0'/><memnode cellid='0' mode='strict' nodeset='0'/></numatune><cpu><numa><cell cpus='0-3' memory='1024' unit='MiB'/></numa></cpu>"
            ),
            "'restrictive' mode is required in memnode element"
        ),
        (
            "hugepages with anonymous memory on kvm",
            document("<memoryBacking><hugepages/><source type='anonymous'/></memoryBacking>"),
            "hugepages are not allowed with anonymous memory source"
        ),
        (
            "restart on poweroff with destroy on reboot",
            document("<on_poweroff>restart</on_poweroff><on_reboot>destroy</on_reboot>"),
            "Setting on_poweroff=restart and on_reboot=destroy isn't supported"
        ),
        (
            "initrd without kernel", document("<os><type>hvm</type><initrd>/boot/initrd</initrd></os>"),
            "<initrd> needs a <kernel>"
        ),
        (
            "quota unlimited is fine but zero period is unset",
            document("<cputune><emulator_period>999</emulator_period></cputune>"),
            "Value of cputune 'emulator_period' must be in range [1000, 1000000] (got 999)"
        ),
        (
            "disk without target", document("<devices><disk type='file'><source file='/a'/></disk></devices>"),
            "missing target information for disk"
        ),
        (
            "bad disk target",
            document("<devices><disk type='file'><source file='/a'/><target dev='nvme0'/></disk></devices>"),
            "invalid disk target 'nvme0'"
        ),
    ]

    @Test("is refused with a precise message", arguments: rules.indices)
    func refused(_ index: Int) {
        let (what, text, expected) = Self.rules[index]
        do {
            let result = try DomainXML.parse(text)
            Issue.record("\(what): accepted\n\(DomainXML.format(result.definition))")
        } catch let error as VirtError {
            #expect(error.description.contains(expected), "\(what): \(error.description)")
        } catch {
            Issue.record("\(what): unexpected error \(error)")
        }
    }

    @Test("both uuid forms are accepted and print the same")
    func uuidForms() throws {
        let plain = try DomainXML.parse(Self.document("<uuid>0123456789ABCDEF0123456789abcdef</uuid>")).definition
        let dashed = try DomainXML.parse(Self.document("<uuid>01234567-89ab-cdef-0123-456789ABCDEF</uuid>")).definition
        #expect(plain.uuid == dashed.uuid)
        #expect(DomainUUID.format(plain.uuid) == "01234567-89ab-cdef-0123-456789abcdef")
    }

    @Test("a missing uuid is generated, differently each time")
    func generatedUUID() throws {
        let first = try DomainXML.parse(Self.document()).definition.uuid
        let second = try DomainXML.parse(Self.document()).definition.uuid
        #expect(first != second)
        #expect(DomainUUID.format(first).count == 36)
    }

    @Test("libvirt's defaults are filled in")
    func defaults() throws {
        let test = try DomainXML.parse(
            "<domain type='test'><name>t</name><memory>1024</memory><os><type>hvm</type></os></domain>"
        ).definition
        #expect(test.os.arch == "i686")
        #expect(test.os.bootDevices == [.hd])
        #expect(test.currentMemoryKiB == 1024)
        #expect(test.vcpu.count == 1 && test.vcpu.placement == .static)
        #expect(test.clock.offset == .utc)
        #expect(test.onPoweroff == .destroy && test.onReboot == .restart && test.onCrash == .destroy)
        #expect(test.onLockfailure == nil)
        let kvm = try DomainXML.parse(
            Self.document("<devices><interface type='network'><source network='n'/></interface></devices>")
        )
        .definition
        #expect(kvm.os.arch == DomainPostParse.hostArchitecture)
        #expect(kvm.devices.interfaces.first?.mac?.hasPrefix("52:54:00:") == true)
    }
}
