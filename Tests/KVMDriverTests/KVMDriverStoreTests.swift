import Foundation
import KVMDriver
import Testing
import VirtCore

/// A fresh `kvm:///embed?root=` tree under the temporary directory, removed by `remove()`.
struct EmbedRoot {
    let path: String

    init() throws {
        let base = URL(fileURLWithPath: NSTemporaryDirectory()).path
        var template = Array((base + "/swift-virt-kvmdriver-XXXXXX").utf8CString)
        guard mkdtemp(&template) != nil else { throw VirtError(.systemError, .kvm, "mkdtemp failed") }
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) + "/root"
    }

    var uri: String { "kvm:///embed?root=\(path)" }

    func open() throws -> KVMDriver {
        try #require(try KVMDriverFactory().open(ConnectionURI(parsing: uri)) as? KVMDriver)
    }

    /// The temporary directory that holds the root (disk images of a test go here too).
    var scratch: String { URL(fileURLWithPath: path).deletingLastPathComponent().path }

    /// Stops the lock daemon a start may have launched on demand in this root, then removes the tree.
    func remove() {
        LockDaemonCleanup.stop(runDirectory: path + "/run")
        try? FileManager.default.removeItem(atPath: scratch)
    }
}

@Suite("kvm:// driver: definitions in the store")
struct KVMDriverStoreTests {
    static let webUUID = UUID(uuidString: "0f8fad5b-d9cb-469f-a165-70867728950e")!
    static let dbUUID = UUID(uuidString: "7c9e6679-7425-40de-944b-e07fc1f90ae7")!

    func definition(_ name: String, _ uuid: UUID, title: String? = nil) -> DomainDefinition {
        var definition = DomainDefinition(type: .kvm, name: name, uuid: uuid, memoryKiB: 16_384)
        definition.title = title
        return definition
    }

    /// A definition that boots the ticks guest (slowly, so it is still running when the test looks).
    func bootable(_ name: String, _ uuid: UUID) -> DomainDefinition {
        var bootable = definition(name, uuid)
        bootable.os.kernel = TickGuest.image.path
        bootable.os.cmdline = "delay=2000000"
        return bootable
    }

    @Test("definitions persist across driver instances; the tree is private")
    func persistence() throws {
        let root = try EmbedRoot()
        defer { root.remove() }
        let first = try root.open()
        #expect(first.uri == root.uri)
        try first.define(definition("web", Self.webUUID, title: "Web"))
        try first.setAutostart(Self.webUUID, true)

        let second = try root.open()
        let listed = try second.listDomains()
        #expect(
            listed == [
                DomainSummary(
                    id: nil, name: "web", uuid: Self.webUUID, state: .shutoffUnknown, persistent: true, autostart: true,
                    title: "Web")
            ])
        #expect(FileManager.default.fileExists(atPath: root.path + "/lib/swift-virt.db"))
        for directory in ["", "/etc", "/lib", "/run", "/log"] {
            var info = stat()
            #expect(stat(root.path + directory, &info) == 0)
            #expect(info.st_mode & 0o777 == 0o700, "\(directory) is not private")
        }
    }

    @Test("lookup by name, uuid and id through a Connection", .enabled(if: TickGuest.available))
    func lookup() throws {
        let root = try EmbedRoot()
        defer { root.remove() }
        let connection = try Connection.open(root.uri, factories: [KVMDriverFactory()])
        let driver = try #require(connection.driver as? KVMDriver)
        try driver.define(definition("web", Self.webUUID))
        try driver.define(bootable("db", Self.dbUUID))
        #expect(try connection.lookup("web").uuid == Self.webUUID)
        #expect(try connection.lookup(Self.dbUUID.uuidString.lowercased()).name == "db")
        try connection.start(Self.dbUUID)
        defer { try? connection.destroy(Self.dbUUID) }
        let id = try #require(try connection.lookup("db").id)
        #expect(try connection.lookup(String(id)).name == "db")
        #expect(try connection.listDomains(.active).map(\.name) == ["db"])
        #expect(try connection.listDomains(.all).map(\.name) == ["db", "web"])
        #expect(throws: VirtError(.noDomain, .domain, "no domain with matching name, uuid or id 'nosuch'")) {
            try connection.lookup("nosuch")
        }
        #expect(throws: VirtError(.noDomain, .domain, "no domain with matching id 99")) { try driver.lookup(.id(99)) }
    }

    @Test("name and uuid clashes give libvirt's messages")
    func clashes() throws {
        let root = try EmbedRoot()
        defer { root.remove() }
        let driver = try root.open()
        try driver.define(definition("web", Self.webUUID))
        #expect(
            throws: VirtError(
                .operationFailed, .domain,
                "domain 'web' already exists with uuid \(Self.webUUID.uuidString.lowercased())")
        ) { try driver.define(definition("web", Self.dbUUID)) }
        #expect(
            throws: VirtError(
                .operationFailed, .domain,
                "domain 'web' is already defined with uuid \(Self.webUUID.uuidString.lowercased())")
        ) { try driver.define(definition("db", Self.webUUID)) }
        try driver.define(definition("web", Self.webUUID, title: "again"))
        #expect(try driver.listDomains().map(\.title) == ["again"])
    }

    @Test("only kvm domains are accepted")
    func domainType() throws {
        let root = try EmbedRoot()
        defer { root.remove() }
        let driver = try root.open()
        var test = definition("t", Self.webUUID)
        test.type = .test
        #expect(
            throws: VirtError(
                .configUnsupported, .kvm, "domain 't' has type 'test'; the kvm:// driver runs <domain type='kvm'> only")
        ) { try driver.define(test) }
    }

    @Test("undefine: inactive domains go, running ones become transient", .enabled(if: TickGuest.available))
    func undefine() throws {
        let root = try EmbedRoot()
        defer { root.remove() }
        let driver = try root.open()
        try driver.define(definition("web", Self.webUUID))
        try driver.define(bootable("db", Self.dbUUID))
        try driver.undefine(Self.webUUID)
        #expect(try driver.listDomains().map(\.name) == ["db"])
        try driver.start(Self.dbUUID, flags: [])
        try driver.undefine(Self.dbUUID)
        #expect(try driver.lookup(.name("db")).persistent == false)
        #expect(throws: VirtError(.operationInvalid, .domain, "cannot set autostart for transient domain")) {
            try driver.setAutostart(Self.dbUUID, true)
        }
        try driver.destroy(Self.dbUUID, graceful: false)
        #expect(try driver.listDomains().isEmpty)
    }

    @Test("lifecycle: libvirt's state errors, and what a start needs", .enabled(if: TickGuest.available))
    func lifecycle() throws {
        let root = try EmbedRoot()
        defer { root.remove() }
        let driver = try root.open()
        try driver.define(definition("web", Self.webUUID))
        #expect(
            throws: VirtError(
                .configUnsupported, .kvm,
                "cannot start domain 'web': it has no <kernel>; the embedded hypervisor boots by direct kernel boot: "
                    + "add <os><kernel>/path/to/vmlinux</kernel></os> (an ELF with a PVH note, or a bzImage)")
        ) { try driver.start(Self.webUUID, flags: []) }
        #expect(try driver.lookup(.uuid(Self.webUUID)).id == nil, "a refused start leaves the domain inactive")
        try driver.define(bootable("web", Self.webUUID))
        let inactiveCalls: [() throws -> Void] = [
            { try driver.shutdown(Self.webUUID) }, { try driver.destroy(Self.webUUID, graceful: false) },
            { try driver.reboot(Self.webUUID) }, { try driver.reset(Self.webUUID) },
            { try driver.suspend(Self.webUUID) }, { try driver.resume(Self.webUUID) },
        ]
        for call in inactiveCalls {
            #expect(throws: VirtError(.operationInvalid, .kvm, "domain is not running")) { try call() }
        }
        try driver.start(Self.webUUID, flags: [])
        defer { try? driver.destroy(Self.webUUID, graceful: false) }
        #expect(throws: VirtError(.operationInvalid, .kvm, "domain is already running")) {
            try driver.start(Self.webUUID, flags: [])
        }
        #expect(
            throws: VirtError(
                .noDomain, .domain, "no domain with matching uuid '\(Self.dbUUID.uuidString.lowercased())'")
        ) {
            try driver.start(Self.dbUUID, flags: [])
        }
    }

    @Test("host identity: KVM, the kernel's version, the machine's name")
    func host() throws {
        let root = try EmbedRoot()
        defer { root.remove() }
        let driver = try root.open()
        #expect(driver.typeName == "KVM")
        var names = utsname()
        uname(&names)
        let release = withUnsafeBytes(of: &names.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        #expect(release.hasPrefix(driver.hypervisorVersion))
        #expect(driver.hypervisorVersion.split(separator: ".").count == 3)
        let kernelName = try String(contentsOfFile: "/proc/sys/kernel/hostname", encoding: .utf8)
        #expect(try driver.hostname() == kernelName.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test("unknown kvm URIs are clear errors through Connection.open")
    func badURI() throws {
        #expect(
            throws: VirtError(
                .invalidArgument, .connection,
                "kvm:///foo: unknown path '/foo'; use kvm:///system, kvm:///session or kvm:///embed?root=/absolute/dir")
        ) { try Connection.open("kvm:///foo", factories: [KVMDriverFactory()]) }
    }
}
