import Foundation
import Testing

@testable import VirtCore

/// Every `Fixtures/invalid/<case>.xml` is refused with exactly the message in `<case>.error` (what `virtsh`
/// prints after `error: `). The cases cover every defect of virsh's captured define and semantic errors.
@Suite("Domain XML errors")
struct DomainXMLErrorTests {
    static let cases = FixtureSupport.cases(in: "invalid")

    /// Each captured libvirt error case must have a fixture (the capture names, without the `e_` prefix).
    static let capturedCases = [
        "noname", "baduuid", "unknown", "badunit", "malformed", "vcpucur", "devunknown", "notype", "nomem",
        "vcpupin_oor", "vcpupin_dup", "badcpuset", "hp_badnode", "numa_mem", "numa_cpus", "memnode_bad",
        "numamode_bad", "topo_mismatch", "quota_bad", "period_bad", "shares_bad", "cur_gt_mem", "seclabel_bad",
        "seclabel_none", "dupdisk", "bootdev", "onreboot", "memunit",
    ]

    @Test("every captured libvirt error has a fixture") func coverage() {
        for name in Self.capturedCases { #expect(Self.cases.contains(name), "missing Fixtures/invalid/\(name).xml") }
    }

    @Test("is refused with the expected message", arguments: cases)
    func refused(_ name: String) throws {
        let input = try FixtureSupport.read("invalid", name + ".xml")
        var options = DomainXMLParseOptions()
        options.sourceName = name + ".xml"
        do {
            let result = try DomainXML.parse(input, options: options)
            Issue.record("\(name).xml was accepted:\n\(DomainXML.format(result.definition))")
        } catch let error as VirtError {
            let message = error.description + "\n"
            try FixtureSupport.assertGolden(message, "invalid", name + ".error")
        }
    }

    @Test("libvirt's exact wording is kept as the message's start")
    func libvirtWording() throws {
        let expectations: [(String, String)] = [
            ("noname", "missing name information"),
            ("baduuid", "internal error: malformed uuid element"),
            ("badunit", "invalid argument: unknown suffix 'parsecs'"),
            ("malformed", "(domain_definition):29: expected '>'\n</domain>\n^"),
            ("vcpucur", "unsupported configuration: maximum vCPU count must not be less than current vCPU count"),
            ("notype", "internal error: missing domain type attribute"),
            ("nomem", "XML error: Memory size must be specified via <memory> or in the <numa> configuration"),
            ("vcpupin_dup", "internal error: duplicate vcpupin for vcpu '0'"),
            ("badcpuset", "invalid argument: Failed to parse bitmap '1-x'"),
            ("hp_badnode", "hugepages: node 5 not found"),
            ("numa_cpus", "unsupported configuration: NUMA cells 1 and 0 have overlapping vCPU ids"),
            (
                "memnode_bad",
                "XML error: Argument 'cellid' in memnode element must correspond to existing guest's NUMA cell"
            ),
            ("numamode_bad", "unsupported configuration: Unsupported NUMA memory tuning mode 'bogus'"),
            (
                "quota_bad",
                "unsupported configuration: Value of cputune 'quota' must be in range [1000, 17592186044415]"
            ),
            ("period_bad", "unsupported configuration: Value of cputune 'period' must be in range [1000, 1000000]"),
            ("shares_bad", "XML error: can't parse cputune shares value"),
            ("seclabel_bad", "XML error: security label is missing"),
            (
                "seclabel_none",
                "unsupported configuration: resource relabeling is not compatible with 'none' label type"
            ),
            (
                "dupdisk",
                "XML error: target 'vda' duplicated for disk sources '/var/lib/libvirt/images/full.qcow2' and "
                    + "'/dev/disk/by-id/wwn-0x5000c500a1b2c3d4'"
            ),
            ("bootdev", "XML error: Invalid value for attribute 'dev' in element 'boot': 'usb'."),
            ("onreboot", "unsupported configuration: unknown on_reboot action: explode"),
            ("memunit", "XML error: Invalid value '4x' for element or attribute './memory[1]'"),
        ]
        for (name, prefix) in expectations {
            let input = try FixtureSupport.read("invalid", name + ".xml")
            #expect(throws: VirtError.self) { try DomainXML.parse(input) }
            do {
                _ = try DomainXML.parse(input)
            } catch let error as VirtError {
                #expect(error.description.hasPrefix(prefix), "\(name): \(error.description)")
            }
        }
    }

    @Test("where libvirt accepts, the stricter message says so")
    func stricterThanLibvirt() throws {
        for name in ["vcpupin_oor", "numa_mem", "topo_mismatch", "cur_gt_mem", "numa_uncovered"] {
            let input = try FixtureSupport.read("invalid", name + ".xml")
            do {
                _ = try DomainXML.parse(input)
                Issue.record("\(name) was accepted")
            } catch let error as VirtError {
                #expect(error.description.contains("libvirt"), "\(name): \(error.description)")
                #expect(error.description.contains("swift-virt"), "\(name): \(error.description)")
            }
        }
    }
}
