import Foundation
import Glibc
import Testing
import VirtBase

@testable import Security

/// Process-label paths through the fake libselinux seam (this host has SELinux disabled).
@Suite("SELinux process labels through the seam")
struct ProcessLabelTests {
    private let request = SecurityLabelRequest(domainName: "web1")

    @Test func enforcingHostSetsARequiredExecLabel() throws {
        let manager = try SecurityManager(settings: SecuritySettings(), selinux: FakeSELinux(isEnabled: true))
        let labels = try manager.generate(for: request, excluding: [])
        let pair = try #require(labels.categories)
        let credentials = try manager.credentials(for: labels)
        #expect(credentials.execLabel == "system_u:system_r:svirt_t:s0:\(pair)")
        #expect(credentials.execLabelRequired)
        #expect(credentials.execLabelPath == "/proc/self/attr/exec")
        #expect(labels.primary?.dominfoLabel == "system_u:system_r:svirt_t:s0:\(pair) (enforcing)")
        #expect(credentials.identity == nil, "embed/session: no uid change")
    }

    @Test func permissiveHostSetsAnOptionalExecLabel() throws {
        let manager = try SecurityManager(
            settings: SecuritySettings(), selinux: FakeSELinux(isEnabled: true, enforcing: false))
        let labels = try manager.generate(for: request, excluding: [])
        let credentials = try manager.credentials(for: labels)
        #expect(credentials.execLabel != nil && !credentials.execLabelRequired)
        #expect(labels.primary?.enforcement == .permissive)
    }

    @Test func disabledHostWithExplicitSelinuxShowsTheLabelButDoesNotApplyIt() throws {
        let manager = try makeManager(api: FakeSELinux(isEnabled: false))
        let labels = try manager.generate(for: request, excluding: [])
        #expect(labels.primary?.label?.hasPrefix("system_u:system_r:svirt_t:s0:c") == true)
        #expect(labels.primary?.enforcement == .notEnforced)
        #expect(try manager.credentials(for: labels).execLabel == nil)
    }

    @Test func policyContextsBaselabelAndOurUserAreUsed() throws {
        var api = FakeSELinux(isEnabled: true)
        api.domainContext = "system_u:system_r:svirt_custom_t:s0"
        api.imageContexts = ("system_u:object_r:svirt_custom_image_t:s0", "system_u:object_r:custom_content_t:s0")
        api.ownContext = "unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023"
        let manager = try SecurityManager(settings: SecuritySettings(), selinux: api)
        let labels = try manager.generate(for: request, excluding: [])
        let pair = try #require(labels.categories)
        #expect(labels.primary?.label == "unconfined_u:unconfined_r:svirt_custom_t:s0:\(pair)")
        #expect(labels.primary?.imageLabel == "unconfined_u:object_r:svirt_custom_image_t:s0:\(pair)")
        let plan = try manager.primary.fileLabelPlan(
            for: SecurityLabelRequest(
                domainName: "x", disks: [DiskLabelSpec(path: "/r", readonly: true)], kernel: "/k"),
            label: try #require(labels.primary))
        #expect(plan.map(\.label) == Array(repeating: "unconfined_u:object_r:custom_content_t:s0", count: 2))

        let based = SecurityLabelRequest(
            domainName: "b", labels: [SecurityLabelSpec(baseLabel: "system_u:system_r:svirt_tcg_t:s0")])
        let baseLabels = try SecurityManager(settings: SecuritySettings(), selinux: FakeSELinux(isEnabled: true))
            .generate(for: based, excluding: [])
        #expect(baseLabels.primary?.type == .dynamic, "a baselabel without type means dynamic")
        #expect(baseLabels.primary?.label?.hasPrefix("system_u:system_r:svirt_tcg_t:s0:c") == true)
        #expect(baseLabels.primary?.baseLabel == "system_u:system_r:svirt_tcg_t:s0")
    }

    @Test func typeNoneAndStaticLabels() throws {
        let manager = try SecurityManager(settings: SecuritySettings(), selinux: FakeSELinux(isEnabled: true))
        let none = try manager.generate(
            for: SecurityLabelRequest(domainName: "n", labels: [SecurityLabelSpec(type: SecurityLabelType.none)]),
            excluding: [])
        #expect(none.primary?.label == nil && none.categories == nil)
        #expect(try manager.credentials(for: none).execLabel == nil)
        let staticLabel = "system_u:system_r:svirt_t:s0:c7,c8"
        let fixed = try manager.generate(
            for: SecurityLabelRequest(domainName: "s", labels: [SecurityLabelSpec(type: .static, label: staticLabel)]),
            excluding: [])
        #expect(try manager.credentials(for: fixed).execLabel == staticLabel)
        #expect(fixed.primary?.relabel == false, "static labels default to relabel='no'")
    }

    @Test func libvirtsLabelRulesAndConfinementSettings() throws {
        let manager = try SecurityManager(settings: SecuritySettings(), selinux: FakeSELinux(isEnabled: true))
        let missing = #expect(throws: VirtError.self) {
            try manager.generate(
                for: SecurityLabelRequest(domainName: "m", labels: [SecurityLabelSpec(type: .static)]),
                excluding: [])
        }
        #expect(missing?.description == "XML error: security label is missing")
        let none = #expect(throws: VirtError.self) {
            try manager.generate(
                for: SecurityLabelRequest(
                    domainName: "m", labels: [SecurityLabelSpec(type: SecurityLabelType.none, relabel: true)]),
                excluding: [])
        }
        #expect(
            none?.description
                == "unsupported configuration: resource relabeling is not compatible with 'none' label type")
        var required = SecuritySettings()
        required.requireConfined = true
        let strict = try SecurityManager(settings: required, selinux: FakeSELinux(isEnabled: true))
        #expect(throws: VirtError.self) {
            try strict.generate(
                for: SecurityLabelRequest(domainName: "u", labels: [SecurityLabelSpec(type: SecurityLabelType.none)]),
                excluding: [])
        }
        var unconfined = SecuritySettings()
        unconfined.defaultConfined = false
        let open = try SecurityManager(settings: unconfined, selinux: FakeSELinux(isEnabled: true))
        #expect(try open.generate(for: request, excluding: []).primary?.type == SecurityLabelType.none)
    }

    @Test func reserveAndReleaseTrackTheStore() throws {
        let manager = try SecurityManager(settings: SecuritySettings(), selinux: FakeSELinux(isEnabled: true))
        let labels = try manager.generate(for: request, excluding: [])
        var reserved = Set<MCSCategoryPair>()
        try manager.reserve(labels, in: &reserved)
        #expect(reserved == [try #require(labels.categories)])
        let duplicate = #expect(throws: VirtError.self) { try manager.reserve(labels, in: &reserved) }
        #expect(duplicate?.message.contains("already reserved") == true)
        // A label read back from the store without its categories field is reserved from the label text.
        var stored = labels
        stored.labels[0].categories = nil
        manager.release(stored, from: &reserved)
        #expect(reserved.isEmpty)
    }

    @Test func labelsRoundTripThroughJSONForTheSupervisor() throws {
        let manager = try SecurityManager(settings: SecuritySettings(), selinux: FakeSELinux(isEnabled: true))
        let labels = try manager.generate(for: request, excluding: [])
        let encoded = try JSONEncoder().encode(labels)
        #expect(try JSONDecoder().decode(DomainSecurityLabels.self, from: encoded) == labels)
    }
}
