import Foundation
import Glibc
import KVM
import Security
import Testing
import VirtBase
import VirtCore
import VirtTestSupport

@testable import KVMDriver

/// sVirt through kvm:// with real guests and real files, as root: labels and owners while running and after every
/// kind of end, the reservation of MCS pairs, and the hypervisor's identity and confinement in /proc.
/// SELinux is disabled on the test hosts, so `kvm.conf` asks for it explicitly: files are labelled, the process
/// label is shown as not enforced.
@Suite("sVirt with real guests", .serialized, .enabled(if: SecurityTestHost.available))
struct SecurityGuestTests {
    static let sharedLabel = "system_u:object_r:svirt_image_t:s0"
    static let contentLabel = "system_u:object_r:virt_content_t:s0"
    static let owner = "+\(SecurityFixture.hypervisorUID):+\(SecurityFixture.hypervisorUID)"

    /// Distinct MCS pairs, image and shared labels, DAC owner, confined hypervisors; a reset keeps the labels;
    /// destroy and shutdown restore every file.
    @Test("two running domains: their labels while running, one stopping, both stopped")
    func twoDomains() throws {
        let fixture = try SecurityFixture()
        let kernel = try fixture.kernel(try #require(TickGuest.image.path))
        let diskA = try fixture.disk("a.img")
        let diskB = try fixture.disk("b.img")
        let shared = try fixture.disk("shared.img")
        let iso = try fixture.disk("content.img")
        func document(_ name: String, _ own: String) -> String {
            SecurityFixture.document(
                name, kernel: kernel,
                disks: [
                    SecurityFixture.diskXML(own, target: "vda"),
                    SecurityFixture.diskXML(shared, target: "vdb", shareable: true),
                    SecurityFixture.diskXML(iso, target: "vdc", readonly: true),
                ])
        }
        let a = try fixture.define(document("a", diskA))
        let b = try fixture.define(document("b", diskB))
        try fixture.connection.start(a)
        try fixture.connection.start(b)

        let labelA = try #require(try fixture.liveLabels(a)["selinux"])
        let labelB = try #require(try fixture.liveLabels(b)["selinux"])
        let pairA = try #require(labelA.label.flatMap(MCSCategoryPair.init(parsing:)))
        let pairB = try #require(labelB.label.flatMap(MCSCategoryPair.init(parsing:)))
        #expect(pairA != pairB, "two running domains never share a category pair")
        #expect(labelA.type == .dynamic && labelA.relabel == .yes)
        #expect(labelA.label == "system_u:system_r:svirt_t:s0:\(pairA)")
        #expect(labelA.imageLabel == "system_u:object_r:svirt_image_t:s0:\(pairA)")
        #expect(try fixture.reservations().sorted() == [pairA.description, pairB.description].sorted())
        #expect(try fixture.liveLabels(a)["dac"]?.label == Self.owner)

        #expect(SecurityFixture.label(diskA) == labelA.imageLabel)
        #expect(SecurityFixture.label(diskB) == labelB.imageLabel)
        #expect(SecurityFixture.label(shared) == Self.sharedLabel)
        #expect(SecurityFixture.label(iso) == Self.contentLabel)
        #expect(SecurityFixture.label(kernel) == Self.contentLabel)
        for path in [diskA, diskB, shared, iso, kernel] {
            #expect(SecurityFixture.owner(path) == Self.owner, "\(path)")
        }
        #expect(SecurityFixture.references(shared, "selinux") == 2)
        #expect(SecurityFixture.references(kernel, "dac") == 2)

        try expectConfined(fixture, a)
        let info = try #require(try fixture.connection.info(a).security)
        #expect(info.model == "selinux" && info.doi == "0" && info.label == labelA.label)
        #expect(info.enforcement == "not enforced" && !info.enforcing)
        #expect(fixture.log("a").contains("the SELinux process label is not enforced"))

        let xml = try fixture.connection.domainXML(a)
        #expect(xml.contains("<seclabel type='dynamic' model='selinux' relabel='yes'>"))
        #expect(xml.contains("<label>\(labelA.label ?? "")</label>"))
        #expect(xml.contains("<imagelabel>\(labelA.imageLabel ?? "")</imagelabel>"))
        #expect(xml.contains("<seclabel type='dynamic' model='dac' relabel='yes'>"))
        #expect(xml.contains("<label>\(Self.owner)</label>") && xml.contains("<imagelabel>\(Self.owner)</imagelabel>"))
        #expect(try fixture.connection.domainXML(a, securityInfo: true) == xml)
        #expect(!(try fixture.connection.domainXML(a, inactive: true)).contains("<label>"))

        // A reset ends the hypervisor run; on_reboot restarts it, confined again, under the same labels.
        let first = try #require(try fixture.connection.driver.runtimeStatusPID(a))
        try fixture.connection.reset(a)
        #expect(
            try eventually {
                _ = try fixture.connection.summary(a)
                return try fixture.connection.driver.runtimeStatusPID(a) != first
            }, "the hypervisor was restarted")
        // Its pid is known from its first instant; it confines itself once its VM is built, before it is ready.
        let second = try #require(try fixture.connection.driver.runtimeStatusPID(a))
        #expect(eventually { fixture.log("a").contains("hypervisor \(second) is ready") })
        try expectConfined(fixture, a)
        #expect(SecurityFixture.label(diskA) == labelA.imageLabel)
        #expect(SecurityFixture.references(diskA, "selinux") == 1, "a restart relabels nothing twice")

        // Destroying a: its own disk is back; the shared ones stay labelled for b.
        try fixture.connection.destroy(a)
        #expect(SecurityFixture.isOriginal(diskA))
        #expect(SecurityFixture.label(shared) == Self.sharedLabel && SecurityFixture.owner(shared) == Self.owner)
        #expect(SecurityFixture.references(shared, "selinux") == 1)
        #expect(SecurityFixture.label(kernel) == Self.contentLabel)
        #expect(try fixture.reservations() == [pairB.description])

        // b answers the power button by powering off: shut off (shutdown), every file back.
        try fixture.connection.shutdown(b)
        #expect(
            try eventually(within: 30) { try fixture.connection.summary(b).state == .shutoffShutdown })
        for path in [diskA, diskB, shared, iso, kernel] {
            #expect(SecurityFixture.isOriginal(path), "\(path): \(SecurityFixture.label(path) ?? "no label")")
        }
        #expect(try fixture.reservations().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: fixture.root.path + "/run/b.labels"))
    }

    /// The hypervisor of `uuid` runs as the configured user, without supplementary groups and capabilities,
    /// with no_new_privs and the seccomp filter.
    private func expectConfined(_ fixture: SecurityFixture, _ uuid: UUID) throws {
        let status = try fixture.hypervisorStatus(uuid)
        let id = String(SecurityFixture.hypervisorUID)
        #expect(status["Uid"] == "\(id)\t\(id)\t\(id)\t\(id)")
        #expect(status["Gid"] == "\(id)\t\(id)\t\(id)\t\(id)")
        #expect(status["Groups"] == "")
        for capabilities in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
            #expect(status[capabilities] == "0000000000000000", "\(capabilities)")
        }
        #expect(status["NoNewPrivs"] == "1")
        #expect(status["Seccomp"] == "2")
    }

    /// The hypervisor dies with its supervisor (parent-death signal set after the uid change); the next call
    /// finds the domain crashed, restores its files and releases its pair.
    @Test("kill -9 of the supervisor: crashed, files restored, pair released by the next call")
    func killNine() throws {
        let fixture = try SecurityFixture()
        let kernel = try fixture.kernel(try #require(TickGuest.image.path))
        let disk = try fixture.disk("c.img")
        let c = try fixture.define(
            SecurityFixture.document("c", kernel: kernel, disks: [SecurityFixture.diskXML(disk, target: "vda")]))
        try fixture.connection.start(c)
        let driver = try #require(fixture.connection.driver as? KVMDriver)
        let status = try #require(try driver.store.runtimeStatus(c))
        let hypervisor = try #require(status.pid)
        #expect(SecurityFixture.label(disk) != SecurityFixture.originalLabel)
        #expect(try fixture.reservations().count == 1)

        #expect(kill(try #require(status.supervisorPID), SIGKILL) == 0)
        #expect(eventually { kill(hypervisor, 0) != 0 }, "the hypervisor died with its supervisor")
        #expect(try fixture.connection.summary(c).state == .shutoffCrashed)
        #expect(SecurityFixture.isOriginal(disk))
        #expect(SecurityFixture.isOriginal(kernel))
        #expect(try fixture.reservations().isEmpty)
        #expect(fixture.log("c").contains("restored the file labels the domain's supervisor left applied"))
        let run = (try? FileManager.default.contentsOfDirectory(atPath: fixture.root.path + "/run")) ?? []
        #expect(run.filter { $0.hasPrefix("c.") }.isEmpty, "run files left: \(run)")
    }

    /// A kernel the hypervisor cannot boot fails after relabelling; a missing disk fails while relabelling.
    @Test("failed starts leave every file as it was")
    func failedStarts() throws {
        let fixture = try SecurityFixture()
        let bogus = try fixture.kernel(try fixture.disk("not-a-kernel.img"), name: "bogus.elf")
        let disk = try fixture.disk("d.img")
        let d = try fixture.define(
            SecurityFixture.document("d", kernel: bogus, disks: [SecurityFixture.diskXML(disk, target: "vda")]))
        #expect(throws: VirtError.self) { try fixture.connection.start(d) }
        #expect(try fixture.connection.summary(d).id == nil)
        #expect(SecurityFixture.isOriginal(disk) && SecurityFixture.isOriginal(bogus))
        #expect(try fixture.reservations().isEmpty)
        #expect(fixture.log("d").contains("security: restored the file labels"))

        let kernel = try fixture.kernel(try #require(TickGuest.image.path))
        let missing = fixture.files + "/missing.img"
        let e = try fixture.define(
            SecurityFixture.document(
                "e", kernel: kernel,
                disks: [SecurityFixture.diskXML(disk, target: "vda"), SecurityFixture.diskXML(missing, target: "vdb")]))
        do {
            try fixture.connection.start(e)
            Issue.record("a domain with a missing disk started")
        } catch {
            #expect("\(error)".contains(missing), "\(error)")
        }
        #expect(SecurityFixture.isOriginal(disk) && SecurityFixture.isOriginal(kernel))
        #expect(try fixture.reservations().isEmpty)
    }

    /// No SELinux relabelling, per-disk relabel='no' for every model, no reserved pair; DAC still owns the rest.
    @Test("a static label with relabel='no' and a per-disk relabel='no' leave files alone")
    func staticLabel() throws {
        let fixture = try SecurityFixture()
        let kernel = try fixture.kernel(try #require(TickGuest.image.path))
        let plain = try fixture.disk("plain.img")
        let skipped = try fixture.disk("skipped.img")
        let label = "system_u:system_r:svirt_t:s0:c10,c20"
        let f = try fixture.define(
            SecurityFixture.document(
                "f", kernel: kernel,
                disks: [
                    SecurityFixture.diskXML(plain, target: "vda"),
                    SecurityFixture.diskXML(skipped, target: "vdb", seclabel: "<seclabel relabel='no'/>"),
                ],
                extra: "<seclabel type='static' model='selinux' relabel='no'><label>\(label)</label></seclabel>"))
        try fixture.connection.start(f)
        #expect(try fixture.connection.info(f).security?.label == label)
        #expect(try fixture.liveLabels(f)["selinux"]?.type == .static)
        #expect(try fixture.reservations().isEmpty, "only dynamic labels reserve categories")
        #expect(SecurityFixture.label(plain) == SecurityFixture.originalLabel)
        #expect(SecurityFixture.label(kernel) == SecurityFixture.originalLabel)
        #expect(SecurityFixture.owner(plain) == Self.owner && SecurityFixture.owner(kernel) == Self.owner)
        #expect(SecurityFixture.isOriginal(skipped))
        try fixture.connection.destroy(f)
        for path in [plain, skipped, kernel] { #expect(SecurityFixture.isOriginal(path), "\(path)") }
    }

    /// Model none in dominfo, the live XML and capabilities; DAC ownership changes and is restored; SELinux
    /// labels stay untouched.
    @Test(
        "security_driver unset on a host without SELinux: model none, DAC only",
        .enabled(if: !SystemSELinux().isEnabled, "SELinux is enabled here: the driver probe picks selinux"))
    func dacOnly() throws {
        let fixture = try SecurityFixture(conf: "user = \"+\(SecurityFixture.hypervisorUID)\"\n")
        let kernel = try fixture.kernel(try #require(TickGuest.image.path))
        let disk = try fixture.disk("g.img")
        let g = try fixture.define(
            SecurityFixture.document("g", kernel: kernel, disks: [SecurityFixture.diskXML(disk, target: "vda")]))
        try fixture.connection.start(g)
        let info = try #require(try fixture.connection.info(g).security)
        #expect(info.model == "none" && info.doi == "0" && info.label == nil)
        let xml = try fixture.connection.domainXML(g)
        #expect(xml.contains("<seclabel type='none' model='none'/>"))
        #expect(xml.contains("<seclabel type='dynamic' model='dac' relabel='yes'>"))
        #expect(SecurityFixture.label(disk) == SecurityFixture.originalLabel)
        #expect(SecurityFixture.owner(disk) == Self.owner)
        #expect(SecurityFixture.references(disk, "dac") == 1)
        try expectConfined(fixture, g)
        let caps = try fixture.connection.capabilitiesXML()
        #expect(
            caps.contains(
                """
                    <secmodel>
                      <model>none</model>
                      <doi>0</doi>
                    </secmodel>
                    <secmodel>
                      <model>dac</model>
                      <doi>0</doi>
                      <baselabel type='kvm'>\(Self.owner)</baselabel>
                    </secmodel>
                """), "\(caps)")
        try fixture.connection.destroy(g)
        #expect(SecurityFixture.isOriginal(disk) && SecurityFixture.isOriginal(kernel))
    }

    /// virtio-blk reads, writes and a flush (pread64, pwrite64, fdatasync) and the serial console, under the filter.
    @Test("a confined hypervisor runs the disk guest to its end")
    func diskGuestUnderTheFilter() throws {
        let fixture = try SecurityFixture()
        let kernel = try fixture.kernel(try #require(TickGuest.diskImage.path))
        let alpha = try fixture.disk("alpha.img", marker: "alpha disk sector zero")
        let console = fixture.files + "/console.log"
        let h = try fixture.define(
            SecurityFixture.document(
                "h", kernel: kernel, cmdline: "",
                disks: [
                    SecurityFixture.diskXML(alpha, target: "vda", serial: "alpha")
                ], console: console))
        try fixture.connection.start(h)
        #expect(
            try eventually(within: 60) { try fixture.connection.summary(h).state == .shutoffShutdown },
            "the disk guest powers off when done")
        let report = (try? String(contentsOfFile: console, encoding: .utf8)) ?? ""
        for line in [
            "disk alpha: capacity=128 ro=0", "sector 0: alpha disk sector zero", "write sector 1: status=0",
            "flush: status=0", "sector 1: written by the guest to alpha", "disk test done",
        ] {
            #expect(report.contains(line + "\n"), "missing '\(line)' in:\n\(report)")
        }
        #expect(SecurityFixture.label(alpha) == SecurityFixture.originalLabel)
        #expect(SecurityFixture.owner(alpha) == SecurityFixture.originalOwner)
    }
}

/// The reservation of MCS pairs in the store, without guests.
@Suite("sVirt label reservations in the store")
struct SecurityReservationTests {
    @Test("1,000 start/stop cycles over a nearly full category range never hand out a pair in use")
    func thousandCycles() throws {
        let root = try EmbedRoot()
        defer { root.remove() }
        try FileManager.default.createDirectory(atPath: root.path + "/etc", withIntermediateDirectories: true)
        // Six categories: 15 pairs for up to 12 domains at once.
        try "security_driver = \"selinux\"\nsecurity_mcs_range = \"c0.c5\"\n".write(
            toFile: root.path + "/etc/kvm.conf", atomically: true, encoding: .utf8)
        let driver = try root.open()
        var definitions: [DomainDefinition] = []
        for index in 0..<12 {
            var definition = DomainDefinition(type: .kvm, name: "r\(index)", uuid: UUID(), memoryKiB: 16_384)
            definition.os.kernel = "/nonexistent/kernel"
            try driver.define(definition)
            definitions.append(definition)
        }
        var held: [UUID: String] = [:]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<1_000 {
            let definition = definitions.randomElement(using: &generator)!
            if held[definition.uuid] != nil {
                try driver.store.releaseSecurityLabels(definition.uuid)
                held[definition.uuid] = nil
            } else {
                let plan = try driver.reserveSecurityPlan(definition.uuid, definition, kvmConf: driver.kvmConf())
                let pair = try #require(plan.labels.categories?.description)
                #expect(!held.values.contains(pair), "pair \(pair) handed out twice")
                held[definition.uuid] = pair
            }
            let stored = try driver.store.securityReservations()
            #expect(Set(stored.map(\.categories)).count == stored.count)
            #expect(stored.count == held.count)
        }
    }

    @Test("a start in flight in another live process is refused; a reservation whose process died is stale")
    func inFlightAndStale() throws {
        let root = try EmbedRoot()
        defer { root.remove() }
        try FileManager.default.createDirectory(atPath: root.path + "/etc", withIntermediateDirectories: true)
        try "security_driver = \"selinux\"\n".write(
            toFile: root.path + "/etc/kvm.conf", atomically: true, encoding: .utf8)
        let driver = try root.open()
        var definition = DomainDefinition(type: .kvm, name: "s", uuid: UUID(), memoryKiB: 16_384)
        definition.os.kernel = "/nonexistent/kernel"
        try driver.define(definition)
        _ = try driver.reserveSecurityPlan(definition.uuid, definition, kvmConf: driver.kvmConf())
        #expect(throws: VirtError.self) {
            _ = try driver.reserveSecurityPlan(definition.uuid, definition, kvmConf: driver.kvmConf())
        }
        // A reservation of a process that is gone (pid 0 never names one) is dropped by the next reservation.
        try driver.store.releaseSecurityLabels(definition.uuid)
        _ = try driver.store.reserveSecurityLabels(
            definition.uuid, owner: (0, 0), isAlive: { _, _ in false }
        ) { _ in ("c1,c2", ()) }
        let plan = try driver.reserveSecurityPlan(definition.uuid, definition, kvmConf: driver.kvmConf())
        #expect(try driver.store.securityReservations().map(\.categories) == [plan.labels.categories?.description])
    }
}

/// The seccomp filter of a real hypervisor, narrowed for one domain so that a call its guest triggers is forbidden.
@Suite("seccomp kills a hypervisor", .enabled(if: TickGuest.available))
struct SeccompKillTests {
    /// The domain ends shut off (crashed), with SIGSYS and the call in the status and the log.
    @Test("a call outside the allow-list kills the hypervisor")
    func forbiddenCall() throws {
        let fixture = try DomainProcessFixture()
        let disk = fixture.root + "/alpha.img"
        try SmallFile.writeAtomically(disk, [UInt8](repeating: 0, count: 64 * 1024))
        let serial = fixture.root + "/serial.log"
        let guest: String = try #require(TickGuest.diskImage.path)
        var configuration = fixture.configuration(
            kernel: guest, vcpus: 1,
            disks: [DiskConfiguration(source: FileSource(path: disk), serial: "alpha", target: "vda")])
        configuration.machine = .kvm
        configuration.hypervisor.memoryBytes = 16 << 20
        configuration.hypervisor.serial = SerialConfiguration(kind: .file, source: FileSource(path: serial))
        // fdatasync is out of this domain's filter: the guest's virtio-blk flush makes the hypervisor call it.
        configuration.security = HypervisorSecurityPlan(
            labels: DomainSecurityLabels(labels: []), files: [], credentials: HypervisorCredentials(),
            seccompDenied: ["fdatasync"])
        let process = try fixture.start(configuration)
        let status = try #require(fixture.waitForEnd(process, seconds: 60))
        #expect(status.reason == .crashed)
        #expect(status.hypervisorExit == "killed by signal 31")
        #expect(status.detail.contains("killed by signal 31 (SIGSYS) from its seccomp filter"), "\(status.detail)")
        // The call's name comes from the kernel's audit record, which only a root supervisor may read and which the
        // kernel drops when printk's rate limit is exhausted (other tests on the host kill processes too).
        if let logged = SeccompViolation.find(pid: process.hypervisor.pid, waitMilliseconds: 0) {
            #expect(logged.description == "system call 75 (fdatasync)")
            #expect(status.detail.contains("system call 75 (fdatasync) is not in the allow-list"), "\(status.detail)")
        } else {
            #expect(status.detail.contains("a system call the kernel log does not name"), "\(status.detail)")
        }
        let log = (try? SmallFile.readText(fixture.root + "/log/guest1.log")) ?? nil
        #expect(log?.contains("shut off (crashed)") == true && log?.contains("SIGSYS") == true, "\(log ?? "")")
        let output = (try? SmallFile.readText(serial)) ?? nil
        #expect(output?.contains("write sector 1: status=0") == true, "\(output ?? "")")
        #expect(output?.contains("flush:") == false, "the guest never saw its flush complete")
    }
}
