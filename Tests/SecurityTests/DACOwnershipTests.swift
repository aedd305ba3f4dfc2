import Glibc
import Testing
import VirtBase

@testable import Security

/// DAC ownership of real files: chown to the hypervisor's user, original owner remembered and restored.
@Suite("DAC ownership on this host", .serialized, .enabled(if: rootRequired("DAC ownership")))
struct DACOwnershipTests {
    @Test func ownershipChangesAndIsRestored() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let disk = try directory.file("vda.img", owner: (1234, 5678))
        let kernel = try directory.file("vmlinuz")
        let manager = try makeManager(user: "+107") { $0.group = "+108" }
        let request = SecurityLabelRequest(domainName: "d", disks: [DiskLabelSpec(path: disk)], kernel: kernel)
        let labels = try manager.generate(for: request, excluding: [])
        let dac = try #require(labels.label(for: "dac"))
        #expect(dac.label == "+107:+108" && dac.imageLabel == "+107:+108" && dac.doi == "0")
        try manager.labelFiles(for: request, labels: labels)
        #expect(owner(disk) == "+107:+108")
        #expect(owner(kernel) == "+107:+108")
        #expect(try ExtendedAttribute.get(disk, "trusted.swift-virt.security.dac") == "+1234:+5678")
        #expect(manager.restoreFiles(for: request, labels: labels).isEmpty)
        #expect(owner(disk) == "+1234:+5678")
        #expect(owner(kernel) == "+0:+0")
        #expect(rememberedAttributes(disk).isEmpty)
    }

    /// Ownership follows a uid change: a hypervisor that keeps the caller's identity (the embed and session
    /// default) leaves owners alone, unless a disk names its own DAC label.
    @Test func noUIDChangeNoChownExceptAPerDiskLabel() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let disk = try directory.file("vda.img", owner: (1234, 5678))
        let own = try directory.file("vdb.img", owner: (1234, 5678))
        let manager = try makeManager(user: "+\(geteuid())") { $0.group = "+\(getegid())" }
        let request = SecurityLabelRequest(
            domainName: "c",
            disks: [
                DiskLabelSpec(path: disk),
                DiskLabelSpec(path: own, labels: [DeviceLabelSpec(model: "dac", label: "+9:+9")]),
            ], kernel: try directory.file("vmlinuz"))
        let labels = try manager.generate(for: request, excluding: [])
        let plan = try manager.plan(for: request, labels: labels)
        #expect(plan.files.first { $0.model == "dac" }?.actions == [FileLabelAction(path: own, label: "+9:+9")])
        #expect(plan.credentials.identity == nil, "no uid change")
        try plan.labelFiles(selinux: FakeSELinux(isEnabled: false))
        #expect(owner(disk) == "+1234:+5678" && owner(own) == "+9:+9")
        #expect(plan.restoreFiles(selinux: FakeSELinux(isEnabled: false)).isEmpty)
        #expect(owner(own) == "+1234:+5678" && rememberedAttributes(own).isEmpty)
    }

    @Test func rememberRefcountUnderTwoUsers() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let disk = try directory.file("shared.img", owner: (1000, 1000))
        let manager = try makeManager(user: "+107")
        func request(_ name: String) -> SecurityLabelRequest {
            SecurityLabelRequest(domainName: name, disks: [DiskLabelSpec(path: disk, shareable: true)])
        }
        let a = try manager.generate(for: request("a"), excluding: [])
        let b = try manager.generate(for: request("b"), excluding: [try #require(a.categories)])
        try manager.labelFiles(for: request("a"), labels: a)
        try manager.labelFiles(for: request("b"), labels: b)
        #expect(try manager.dac.referenceCount(disk) == 2)
        #expect(owner(disk) == "+107:+107")
        _ = manager.restoreFiles(for: request("b"), labels: b)
        #expect(owner(disk) == "+107:+107", "still used by 'a'")
        #expect(try manager.dac.referenceCount(disk) == 1)
        _ = manager.restoreFiles(for: request("a"), labels: a)
        #expect(owner(disk) == "+1000:+1000")
        #expect(try manager.dac.referenceCount(disk) == 0)
    }

    @Test func aDifferentOwnerOnADiskInUseIsRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let disk = try directory.file("vda.img", owner: (1000, 1000))
        let first = try makeManager(user: "+107")
        let second = try makeManager(user: "+109")
        let request = SecurityLabelRequest(domainName: "x", disks: [DiskLabelSpec(path: disk, shareable: true)])
        let a = try first.generate(for: request, excluding: [])
        try first.dac.labelFiles(for: request, label: try #require(a.label(for: "dac")))
        let b = try second.generate(for: request, excluding: [])
        let error = #expect(throws: VirtError.self) {
            try second.dac.labelFiles(for: request, label: try #require(b.label(for: "dac")))
        }
        #expect(
            error?.message.contains("Setting different DAC user or group on '\(disk)' which is already in use") == true)
        _ = first.dac.restoreFiles(for: request, label: try #require(a.label(for: "dac")))
        #expect(owner(disk) == "+1000:+1000")
    }

    @Test func staticDACLabelsPerDiskLabelsAndDynamicOwnershipOff() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let disk = try directory.file("vda.img", owner: (1000, 1000))
        let own = try directory.file("vdb.img", owner: (1000, 1000))
        let manager = try makeManager(user: "+107")
        let request = SecurityLabelRequest(
            domainName: "s",
            labels: [SecurityLabelSpec(model: "dac", type: .static, relabel: true, label: "+300:+301")],
            disks: [
                DiskLabelSpec(path: disk),
                DiskLabelSpec(path: own, labels: [DeviceLabelSpec(model: "dac", label: "+400:+401")]),
            ])
        let labels = try manager.generate(for: request, excluding: [])
        #expect(labels.label(for: "dac")?.label == "+300:+301")
        try manager.labelFiles(for: request, labels: labels)
        #expect(owner(disk) == "+300:+301" && owner(own) == "+400:+401")
        _ = manager.restoreFiles(for: request, labels: labels)
        #expect(owner(disk) == "+1000:+1000" && owner(own) == "+1000:+1000")

        let off = try makeManager(user: "+107") { $0.dynamicOwnership = false }
        let plain = SecurityLabelRequest(domainName: "o", disks: [DiskLabelSpec(path: disk)])
        let offLabels = try off.generate(for: plain, excluding: [])
        try off.dac.labelFiles(for: plain, label: try #require(offLabels.label(for: "dac")))
        #expect(owner(disk) == "+1000:+1000")
    }
}

/// What an unprivileged (session) manager does to files: no remembered attributes, no chown.
@Suite("Unprivileged security manager", .enabled(if: rootRequired("unprivileged manager on root-owned files")))
struct UnprivilegedManagerTests {
    @Test func sessionManagersNeitherRememberNorChown() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let disk = try directory.file("vda.img", label: "system_u:object_r:virt_image_t:s0", owner: (1000, 1000))
        var settings = SecuritySettings(defaultUser: "+107")
        settings.driver = "selinux"
        let manager = try SecurityManager(settings: settings, selinux: FakeSELinux(isEnabled: false), privileged: false)
        let request = SecurityLabelRequest(domainName: "session", disks: [DiskLabelSpec(path: disk)])
        let labels = try manager.generate(for: request, excluding: [])
        try manager.labelFiles(for: request, labels: labels)
        #expect(owner(disk) == "+1000:+1000")
        #expect(rememberedAttributes(disk).isEmpty)
        #expect(try selinuxAttribute(disk) == labels.primary?.imageLabel)
    }

    @Test func aModellessDeviceLabelIsThePrimaryModelsOnly() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let disk = try directory.file("vda.img", owner: (1000, 1000))
        let manager = try makeManager(user: "+107")
        let own = "system_u:object_r:my_image_t:s0"
        let request = SecurityLabelRequest(
            domainName: "m", disks: [DiskLabelSpec(path: disk, labels: [DeviceLabelSpec(label: own)])])
        let labels = try manager.generate(for: request, excluding: [])
        try manager.labelFiles(for: request, labels: labels)
        #expect(try selinuxAttribute(disk) == own)
        #expect(owner(disk) == "+107:+107", "DAC uses the domain's owner, not the SELinux context")
        #expect(manager.restoreFiles(for: request, labels: labels).isEmpty)
        #expect(owner(disk) == "+1000:+1000")
        // relabel='no' without a model applies to every model.
        let skipped = SecurityLabelRequest(
            domainName: "m", disks: [DiskLabelSpec(path: disk, labels: [DeviceLabelSpec(relabel: false)])])
        try manager.labelFiles(for: skipped, labels: labels)
        #expect(owner(disk) == "+1000:+1000")
        #expect(try selinuxAttribute(disk) == nil)
    }
}
