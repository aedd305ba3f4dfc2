import Foundation
import Glibc
import Testing
import VirtBase

@testable import Security

/// SELinux image labels on real files (security.selinux and trusted.swift-virt.* attributes; root needed).
@Suite("SELinux file labels on this host", .serialized, .enabled(if: rootRequired("SELinux file labels")))
struct SELinuxFileLabelTests {
    static let original = "system_u:object_r:virt_image_t:s0"

    @Test func writableDiskCarriesTheImageLabelWhileRunningAndGetsItsOriginalBack() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let disk = try directory.file("vda.img", label: Self.original)
        let unlabelled = try directory.file("vdb.img")
        let manager = try makeManager()
        let request = SecurityLabelRequest(
            domainName: "web1", disks: [DiskLabelSpec(path: disk), DiskLabelSpec(path: unlabelled)])
        let labels = try manager.generate(for: request, excluding: [])
        let selinux = try #require(labels.label(for: "selinux"))
        let pair = try #require(labels.categories)
        #expect(selinux.label == "system_u:system_r:svirt_t:s0:\(pair)")
        #expect(selinux.imageLabel == "system_u:object_r:svirt_image_t:s0:\(pair)")
        #expect(selinux.enforcement == .notEnforced)
        #expect(selinux.dominfoLabel == "system_u:system_r:svirt_t:s0:\(pair) (not enforced)")

        try manager.labelFiles(for: request, labels: labels)
        #expect(try selinuxAttribute(disk) == selinux.imageLabel)
        #expect(try selinuxAttribute(unlabelled) == selinux.imageLabel)
        #expect(rememberedAttributes(disk).contains("trusted.swift-virt.security.selinux"))
        #expect(try ExtendedAttribute.get(disk, "trusted.swift-virt.security.selinux") == Self.original)
        #expect(try ExtendedAttribute.get(disk, "trusted.swift-virt.security.ref_selinux") == "1")

        #expect(manager.restoreFiles(for: request, labels: labels).isEmpty)
        #expect(try selinuxAttribute(disk) == Self.original)
        #expect(try selinuxAttribute(unlabelled) == nil, "a file without a label gets none back")
        #expect(rememberedAttributes(disk).isEmpty && rememberedAttributes(unlabelled).isEmpty)
    }

    @Test func sharedAndReadonlyDisksKernelAndInitrdGetTheSharedLabels() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let shared = try directory.file("shared.img", label: Self.original)
        let readonly = try directory.file("readonly.iso", label: Self.original)
        let kernel = try directory.file("vmlinuz")
        let initrd = try directory.file("initrd.img")
        let manager = try makeManager()
        func request(_ name: String) -> SecurityLabelRequest {
            SecurityLabelRequest(
                domainName: name,
                disks: [DiskLabelSpec(path: shared, shareable: true), DiskLabelSpec(path: readonly, readonly: true)],
                kernel: kernel, initrd: initrd)
        }
        let first = try manager.generate(for: request("a"), excluding: [])
        let second = try manager.generate(for: request("b"), excluding: [try #require(first.categories)])
        #expect(first.categories != second.categories)
        try manager.labelFiles(for: request("a"), labels: first)
        try manager.labelFiles(for: request("b"), labels: second)
        #expect(try selinuxAttribute(shared) == "system_u:object_r:svirt_image_t:s0")
        #expect(try selinuxAttribute(readonly) == "system_u:object_r:virt_content_t:s0")
        #expect(try selinuxAttribute(kernel) == "system_u:object_r:virt_content_t:s0")
        #expect(try selinuxAttribute(initrd) == "system_u:object_r:virt_content_t:s0")
        let driver = try #require(manager.primary as? SELinuxSecurityDriver)
        #expect(try driver.referenceCount(shared) == 2)

        // One of the two users stops: the shared labels stay.
        #expect(manager.restoreFiles(for: request("a"), labels: first).isEmpty)
        #expect(try selinuxAttribute(shared) == "system_u:object_r:svirt_image_t:s0")
        #expect(try selinuxAttribute(readonly) == "system_u:object_r:virt_content_t:s0")
        #expect(try driver.referenceCount(shared) == 1)
        // The last one stops: originals back, nothing remembered any more.
        #expect(manager.restoreFiles(for: request("b"), labels: second).isEmpty)
        #expect(try selinuxAttribute(shared) == Self.original)
        #expect(try selinuxAttribute(readonly) == Self.original)
        #expect(try selinuxAttribute(kernel) == nil)
        #expect(rememberedAttributes(shared).isEmpty)
    }

    @Test func staticLabelsTypeNoneAndRelabelNoLeaveFilesAlone() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let disk = try directory.file("vda.img", label: Self.original)
        let skipped = try directory.file("vdb.img", label: Self.original)
        let manager = try makeManager()
        let staticLabel = "system_u:system_r:svirt_t:s0:c1,c2"
        for spec in [
            SecurityLabelSpec(model: "selinux", type: .static, label: staticLabel),
            SecurityLabelSpec(model: "selinux", type: .static, relabel: false, label: staticLabel),
            SecurityLabelSpec(model: "selinux", type: SecurityLabelType.none),
        ] {
            let request = SecurityLabelRequest(domainName: "s", labels: [spec], disks: [DiskLabelSpec(path: disk)])
            let labels = try manager.generate(for: request, excluding: [])
            #expect(labels.categories == nil, "only dynamic labels reserve categories")
            try manager.labelFiles(for: request, labels: labels)
            #expect(try selinuxAttribute(disk) == Self.original, "\(spec)")
            #expect(manager.restoreFiles(for: request, labels: labels).isEmpty)
        }
        // Static with relabel='yes': the image label takes the static label's range.
        let relabelled = SecurityLabelRequest(
            domainName: "s", labels: [SecurityLabelSpec(type: .static, relabel: true, label: staticLabel)],
            disks: [DiskLabelSpec(path: disk), DiskLabelSpec(path: skipped, labels: [DeviceLabelSpec(relabel: false)])])
        let labels = try manager.generate(for: relabelled, excluding: [])
        #expect(labels.primary?.label == staticLabel)
        #expect(labels.primary?.imageLabel == "system_u:object_r:svirt_image_t:s0:c1,c2")
        try manager.labelFiles(for: relabelled, labels: labels)
        #expect(try selinuxAttribute(disk) == "system_u:object_r:svirt_image_t:s0:c1,c2")
        #expect(try selinuxAttribute(skipped) == Self.original, "per-disk relabel='no'")
        _ = manager.restoreFiles(for: relabelled, labels: labels)
        #expect(try selinuxAttribute(disk) == Self.original)
    }

    @Test func perDiskLabelsAreUsedAndBadOnesRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let disk = try directory.file("vda.img", label: Self.original)
        let manager = try makeManager()
        let own = "system_u:object_r:my_image_t:s0"
        let request = SecurityLabelRequest(
            domainName: "p", disks: [DiskLabelSpec(path: disk, labels: [DeviceLabelSpec(model: "selinux", label: own)])]
        )
        let labels = try manager.generate(for: request, excluding: [])
        try manager.labelFiles(for: request, labels: labels)
        #expect(try selinuxAttribute(disk) == own)
        _ = manager.restoreFiles(for: request, labels: labels)
        #expect(try selinuxAttribute(disk) == Self.original)

        let bad = SecurityLabelRequest(
            domainName: "p", disks: [DiskLabelSpec(path: disk, labels: [DeviceLabelSpec(label: "not-a-context")])])
        #expect(throws: VirtError.self) { try manager.labelFiles(for: bad, labels: labels) }
        #expect(try selinuxAttribute(disk) == Self.original)
    }

    @Test func aWritableDiskInUseRefusesADifferentLabelAndAFailedStartUnwinds() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let disk = try directory.file("vda.img", label: Self.original)
        let other = try directory.file("vdb.img", label: Self.original)
        let manager = try makeManager()
        let first = SecurityLabelRequest(domainName: "one", disks: [DiskLabelSpec(path: disk)])
        let firstLabels = try manager.generate(for: first, excluding: [])
        try manager.labelFiles(for: first, labels: firstLabels)
        // A second domain wants vdb and (wrongly) vda: vdb must not stay labelled after the refusal.
        let second = SecurityLabelRequest(
            domainName: "two", disks: [DiskLabelSpec(path: other), DiskLabelSpec(path: disk)])
        let secondLabels = try manager.generate(for: second, excluding: [try #require(firstLabels.categories)])
        let error = #expect(throws: VirtError.self) { try manager.labelFiles(for: second, labels: secondLabels) }
        #expect(error?.code == .operationInvalid)
        #expect(error?.message.contains("Setting different SELinux label on '\(disk)' which is already in use") == true)
        #expect(try selinuxAttribute(other) == Self.original)
        #expect(rememberedAttributes(other).isEmpty)
        #expect(try selinuxAttribute(disk) == firstLabels.primary?.imageLabel)
        _ = manager.restoreFiles(for: first, labels: firstLabels)
        #expect(try selinuxAttribute(disk) == Self.original)
    }

    @Test func rememberedOriginalsSurviveARebootButTheCountDoesNot() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let disk = try directory.file("vda.img", label: Self.original)
        let before = try makeManager()
        let request = SecurityLabelRequest(domainName: "r", disks: [DiskLabelSpec(path: disk)])
        let labels = try before.generate(for: request, excluding: [])
        try before.labelFiles(for: request, labels: labels)
        // The host reboots while the domain runs: the new boot time makes the count stale.
        var settings = SecuritySettings()
        settings.driver = "selinux"
        let after = try SecurityManager(settings: settings, selinux: FakeSELinux(isEnabled: false), bootTime: "1")
        let again = try after.generate(for: request, excluding: [])
        try after.labelFiles(for: request, labels: again)
        #expect(try ExtendedAttribute.get(disk, "trusted.swift-virt.security.ref_selinux") == "1")
        #expect(try ExtendedAttribute.get(disk, "trusted.swift-virt.security.selinux") == Self.original)
        _ = after.restoreFiles(for: request, labels: again)
        #expect(try selinuxAttribute(disk) == Self.original)
        #expect(rememberedAttributes(disk).filter { $0.hasSuffix("selinux") }.isEmpty)
    }

    @Test func withoutRememberOwnerNothingIsStoredAndTheDefaultComesBack() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let disk = try directory.file("vda.img", label: Self.original)
        var api = FakeSELinux(isEnabled: false)
        api.defaultLabel = "system_u:object_r:default_t:s0"
        let manager = try makeManager(api: api) { $0.rememberOwner = false }
        let request = SecurityLabelRequest(domainName: "n", disks: [DiskLabelSpec(path: disk)])
        let labels = try manager.generate(for: request, excluding: [])
        try manager.labelFiles(for: request, labels: labels)
        #expect(rememberedAttributes(disk).isEmpty)
        #expect(try selinuxAttribute(disk) == labels.primary?.imageLabel)
        _ = manager.restoreFiles(for: request, labels: labels)
        #expect(try selinuxAttribute(disk) == "system_u:object_r:default_t:s0")
    }
}

/// Many domains labelling one shared disk at once: the flock around each remember step keeps the count exact.
@Suite("Concurrent users of one disk", .enabled(if: rootRequired("concurrent remembered labels")))
struct ConcurrentRememberTests {
    @Test func concurrentAcquiresAndReleasesKeepAnExactCount() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let disk = try directory.file("shared.img", label: "system_u:object_r:virt_image_t:s0", owner: (1000, 1000))
        let manager = try makeManager(user: "+107")
        let users = 16
        let requests = (0..<users).map {
            SecurityLabelRequest(domainName: "d\($0)", disks: [DiskLabelSpec(path: disk, shareable: true)])
        }
        let labels = try requests.map { try manager.generate(for: $0, excluding: []) }
        let failures = Counter()
        DispatchQueue.concurrentPerform(iterations: users) { index in
            do { try manager.labelFiles(for: requests[index], labels: labels[index]) } catch { failures.add() }
        }
        #expect(failures.value == 0)
        let driver = try #require(manager.primary as? SELinuxSecurityDriver)
        #expect(try driver.referenceCount(disk) == users)
        #expect(try manager.dac.referenceCount(disk) == users)
        #expect(owner(disk) == "+107:+107")
        DispatchQueue.concurrentPerform(iterations: users - 1) { index in
            if !manager.restoreFiles(for: requests[index], labels: labels[index]).isEmpty { failures.add() }
        }
        #expect(failures.value == 0)
        #expect(try driver.referenceCount(disk) == 1)
        #expect(try selinuxAttribute(disk) == "system_u:object_r:svirt_image_t:s0")
        #expect(manager.restoreFiles(for: requests[users - 1], labels: labels[users - 1]).isEmpty)
        #expect(try selinuxAttribute(disk) == "system_u:object_r:virt_image_t:s0")
        #expect(owner(disk) == "+1000:+1000")
        #expect(rememberedAttributes(disk).isEmpty)
    }

    /// Workers starting and stopping over one shared disk while an anchor domain keeps it in use: any lost
    /// update of the count shows up as a final count other than 1, or as a premature restore.
    @Test func startStopChurnAroundAnAnchorLosesNoUpdate() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let original = "system_u:object_r:virt_image_t:s0"
        let disk = try directory.file("shared.img", label: original)
        let manager = try makeManager()
        let driver = try #require(manager.primary as? SELinuxSecurityDriver)
        let request = SecurityLabelRequest(domainName: "anchor", disks: [DiskLabelSpec(path: disk, shareable: true)])
        let label = try #require(try manager.generate(for: request, excluding: []).primary)
        try driver.labelFiles(for: request, label: label)
        let failures = Counter()
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<150 {
                do {
                    try driver.labelFiles(for: request, label: label)
                    if !driver.restoreFiles(for: request, label: label).isEmpty { failures.add() }
                } catch {
                    failures.add()
                }
            }
        }
        #expect(failures.value == 0)
        #expect(try driver.referenceCount(disk) == 1)
        #expect(try selinuxAttribute(disk) == "system_u:object_r:svirt_image_t:s0")
        #expect(driver.restoreFiles(for: request, label: label).isEmpty)
        #expect(try selinuxAttribute(disk) == original)
    }
}

/// A thread-safe counter for the concurrent test.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
