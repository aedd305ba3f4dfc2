import CVirtShims
import Foundation
import Glibc
import KVMDriver
import Security
import Testing
import VirtBase
import VirtCore

/// Whether sVirt can be checked end to end here: root (chown, `trusted.*` attributes, the uid change) and real
/// guests (/dev/kvm, gcc). Prints why not once.
enum SecurityTestHost {
    static let available: Bool = {
        guard getuid() == 0 else {
            print("KVMDriverTests: sVirt tests with real guests are skipped: they need root")
            return false
        }
        return TickGuest.available
    }()
}

/// A `kvm:///embed` root with a `kvm.conf`, its own copies of the guest images, and disk images with a known
/// original SELinux label and owner; destroys its running domains and removes everything when it goes away.
final class SecurityFixture {
    let root: EmbedRoot
    let connection: Connection
    /// Where the disks and kernel copies live.
    let files: String

    /// The label every disk starts with (`user_home_t`, as a disk in a home directory would carry).
    static let originalLabel = "system_u:object_r:user_home_t:s0"
    /// The owner every disk starts with.
    static let originalOwner = "+1000:+1001"
    /// The hypervisor's user in the tests' `kvm.conf`.
    static let hypervisorUID: UInt32 = 64_201
    /// `kvm.conf` for SELinux file labels (explicit: SELinux is disabled on the test hosts) and a `+UID` user.
    static let selinuxConf = """
        security_driver = "selinux"
        user = "+\(hypervisorUID)"

        """

    init(conf: String = SecurityFixture.selinuxConf) throws {
        root = try EmbedRoot()
        try FileManager.default.createDirectory(atPath: root.path + "/etc", withIntermediateDirectories: true)
        try conf.write(toFile: root.path + "/etc/kvm.conf", atomically: true, encoding: .utf8)
        files = root.path + "/files"
        try FileManager.default.createDirectory(atPath: files, withIntermediateDirectories: true)
        // The root lies in a 0700 directory of root's (mkdtemp): the hypervisor, another user, could reach none
        // of these files by path. It gets every one as a descriptor.
        connection = try Connection.open(root.uri, factories: [KVMDriverFactory()])
    }

    deinit {
        for domain in (try? connection.listDomains()) ?? [] where domain.id != nil {
            try? connection.destroy(domain.uuid)
        }
        root.remove()
    }

    /// A 64 KiB disk image with the original label and owner (an optional marker in sector 0).
    func disk(_ name: String, marker: String? = nil) throws -> String {
        let path = files + "/" + name
        var bytes = [UInt8](repeating: 0, count: 64 * 1024)
        if let marker { bytes.replaceSubrange(0..<marker.utf8.count, with: Array(marker.utf8)) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        try SystemSELinux().setFileLabel(path, Self.originalLabel)
        #expect(chown(path, 1000, 1001) == 0)
        return path
    }

    /// This fixture's own copy of a guest image (domains of other tests share the built one, and a kernel is
    /// relabelled like a read-only disk).
    func kernel(_ source: String, name: String = "kernel.elf") throws -> String {
        let path = files + "/" + name
        try FileManager.default.copyItem(atPath: source, toPath: path)
        try SystemSELinux().setFileLabel(path, Self.originalLabel)
        #expect(chown(path, 1000, 1001) == 0)
        return path
    }

    /// A one-vCPU, 16 MiB domain booting `kernel` with `disks` (XML of each `<disk>`), `extra` XML after the
    /// devices (top-level `<seclabel>`s), and the serial port on `console`.
    static func document(
        _ name: String, kernel: String, cmdline: String = "delay=300000", disks: [String] = [],
        console: String = "/dev/null", extra: String = ""
    ) -> String {
        """
        <domain type='kvm'>
          <name>\(name)</name>
          <memory unit='MiB'>16</memory>
          <vcpu>1</vcpu>
          <os><type>hvm</type><kernel>\(kernel)</kernel><cmdline>\(cmdline)</cmdline></os>
          <devices>
            \(disks.joined(separator: "\n    "))
            <serial type='file'><source path='\(console)'/><target port='0'/></serial>
          </devices>
          \(extra)
        </domain>
        """
    }

    /// A virtio `<disk>` element.
    static func diskXML(
        _ path: String, target: String, readonly: Bool = false, shareable: Bool = false, seclabel: String = "",
        serial: String? = nil
    ) -> String {
        "<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='\(path)'>\(seclabel)</source>"
            + "<target dev='\(target)' bus='virtio'/><serial>\(serial ?? target)</serial>"
            + (readonly ? "<readonly/>" : "") + (shareable ? "<shareable/>" : "") + "</disk>"
    }

    /// Defines `xml`; returns the domain's uuid.
    func define(_ xml: String) throws -> UUID {
        try connection.defineXML(xml).domain.uuid
    }

    /// The file's `security.selinux` attribute (nil: none).
    static func label(_ path: String) -> String? {
        try? SystemSELinux().fileLabel(path)
    }

    /// The file's owner as `+uid:+gid`.
    static func owner(_ path: String) -> String {
        var info = stat()
        _ = stat(path, &info)
        return "+\(info.st_uid):+\(info.st_gid)"
    }

    /// The `trusted.swift-virt.security.ref_<model>` count (0: not in use).
    static func references(_ path: String, _ model: String) -> Int {
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = getxattr(path, "trusted.swift-virt.security.ref_\(model)", &buffer, buffer.count)
        guard count > 0 else { return 0 }
        return Int(String(decoding: buffer[0..<count], as: UTF8.self)) ?? -1
    }

    /// Every `trusted.swift-virt.*` attribute of the file (empty once nothing is remembered).
    static func remembered(_ path: String) -> [String] {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = listxattr(path, &buffer, buffer.count)
        guard count > 0 else { return [] }
        return buffer[0..<count].split(separator: 0).map {
            String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }.filter { $0.hasPrefix("trusted.swift-virt.") }
    }

    /// Whether `path` has its original label and owner and nothing remembered.
    static func isOriginal(_ path: String) -> Bool {
        label(path) == originalLabel && owner(path) == originalOwner && remembered(path).isEmpty
    }

    /// The live `<seclabel>`s of a running domain, by model.
    func liveLabels(_ uuid: UUID) throws -> [String: SecurityLabel] {
        let labels = try connection.definition(uuid, live: true).seclabels
        return Dictionary(labels.map { ($0.model ?? "", $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// `/proc/PID/status` of the running domain's hypervisor, as `Key: value` pairs.
    func hypervisorStatus(_ uuid: UUID) throws -> [String: String] {
        let pid = try #require(try connection.driver.runtimeStatusPID(uuid))
        let text = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return fields
    }

    /// The domain's log (supervisor and hypervisor output, reconciliation notes).
    func log(_ name: String) -> String {
        (try? String(contentsOfFile: root.path + "/log/\(name).log", encoding: .utf8)) ?? ""
    }

    /// The MCS pairs the store holds.
    func reservations() throws -> [String] {
        try (connection.driver as? KVMDriver).map { try $0.store.securityReservations().map(\.categories) } ?? []
    }
}

extension Driver {
    /// The hypervisor pid the kvm:// store records for a running domain.
    func runtimeStatusPID(_ uuid: UUID) throws -> Int32? {
        try (self as? KVMDriver)?.store.runtimeStatus(uuid)?.pid
    }
}
