import Foundation
import Glibc
import Testing
import VirtBase

@testable import Security

/// The security keys of kvm.conf.
@Suite("kvm.conf security settings")
struct SecuritySettingsTests {
    private func settings(_ text: String, base: SecuritySettings = SecuritySettings()) throws -> SecuritySettings {
        let conf = try ConfFile(parsing: text, name: "/etc/swift-virt/kvm.conf")
        try conf.validate(against: SecuritySettings.confSchema)
        return try SecuritySettings(conf: conf, over: base)
    }

    @Test func defaultsPerURI() throws {
        let system = SecuritySettings.defaults(systemInstance: true)
        #expect(system.user == "swift-virt" && system.group == "swift-virt")
        #expect(system.driver == nil && system.defaultConfined && !system.requireConfined)
        #expect(system.rememberOwner && system.dynamicOwnership && system.mcsRange == .default)
        let embed = SecuritySettings.defaults(systemInstance: false)
        #expect(embed.user == nil && embed.group == nil)
        #expect(try embed.resolveIdentity() == DACIdentity.caller)
    }

    @Test func everyKeyIsRead() throws {
        let read = try settings(
            """
            security_driver = "selinux"
            security_default_confined = 0
            security_mcs_range = "c100.c199"   # a slice for this host
            user = "+107"
            group = "+108"
            dynamic_ownership = 0
            remember_owner = 0
            """)
        #expect(read.driver == "selinux" && !read.defaultConfined)
        #expect(read.mcsRange == (try MCSCategoryRange(parsing: "c100.c199")))
        #expect(try read.resolveIdentity() == DACIdentity(uid: 107, gid: 108))
        #expect(!read.dynamicOwnership && !read.rememberOwner)
    }

    @Test func aUserWithoutAGroupTakesItsOwnPrimaryGroup() throws {
        let read = try settings("user = \"root\"\n", base: .defaults(systemInstance: true))
        #expect(read.group == nil)
        #expect(try read.resolveIdentity().uid == 0)
        #expect(try read.resolveIdentity().gid == 0)
        #expect(try settings("user = \"+4242\"\n").resolveIdentity() == DACIdentity(uid: 4242, gid: 4242))
    }

    @Test func badValuesNameFileLineAndRemedy() throws {
        let driver = #expect(throws: VirtError.self) { try settings("\n\nsecurity_driver = \"apparmor\"\n") }
        #expect(driver?.message.hasPrefix("/etc/swift-virt/kvm.conf:3: security_driver 'apparmor'") == true)
        let range = #expect(throws: VirtError.self) { try settings("security_mcs_range = \"c7.c7\"\n") }
        #expect(range?.message.hasPrefix("/etc/swift-virt/kvm.conf:1: MCS category range 'c7.c7'") == true)
        let kind = #expect(throws: VirtError.self) { try settings("remember_owner = 2\n") }
        #expect(kind?.message.contains("'remember_owner' must be 0 or 1") == true)
        let unknown = #expect(throws: VirtError.self) { try settings("security_drivers = \"none\"\n") }
        #expect(unknown?.message.contains("unknown setting 'security_drivers'") == true)
        #expect(throws: VirtError.self) {
            try settings("security_require_confined = 1\nsecurity_default_confined = 0\n")
        }
    }

    @Test func aMissingUserIsAClearError() throws {
        let read = try settings("user = \"no-such-user-swift-virt\"\n")
        let error = #expect(throws: VirtError.self) { try read.resolveIdentity() }
        #expect(error?.code == .configUnsupported)
        #expect(error?.message.contains("user 'no-such-user-swift-virt' does not exist on this host") == true)
        #expect(error?.message.contains("useradd") == true)
        let group = #expect(throws: VirtError.self) {
            try settings("user = \"+10\"\ngroup = \"no-such-group-swift-virt\"\n").resolveIdentity()
        }
        #expect(group?.message.contains("group 'no-such-group-swift-virt' does not exist") == true)
        // And the manager refuses to build over it.
        #expect(throws: VirtError.self) { try makeManager(user: "no-such-user-swift-virt") }
    }

    @Test func loadReadsTheConfigDirectoryAndMergesOtherKeys() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        #expect(
            try SecuritySettings.load(configDirectory: directory.path, over: SecuritySettings()) == SecuritySettings())
        try Data("user = \"+65534\"\nhugetlbfs_mount = \"/dev/hugepages\"\n".utf8)
            .write(to: URL(fileURLWithPath: directory.path + "/kvm.conf"))
        #expect(throws: VirtError.self) {
            try SecuritySettings.load(configDirectory: directory.path, over: SecuritySettings())
        }
        let loaded = try SecuritySettings.load(
            configDirectory: directory.path, over: SecuritySettings(), otherKeys: ["hugetlbfs_mount": .string])
        #expect(loaded.user == "+65534")
    }

    @Test func managerPicksTheDriverAsLibvirtDoes() throws {
        let enabled = try SecurityManager(settings: SecuritySettings(), selinux: FakeSELinux(isEnabled: true))
        #expect(enabled.primary.model == "selinux" && enabled.warnings.isEmpty)
        let disabled = try SecurityManager(settings: SecuritySettings(), selinux: FakeSELinux(isEnabled: false))
        #expect(disabled.primary.model == "none")
        let explicit = try makeManager(api: FakeSELinux(isEnabled: false))
        #expect(explicit.primary.model == "selinux")
        #expect(explicit.warnings.first?.contains("process label is not enforced") == true)
        #expect(explicit.drivers.map(\.model) == ["selinux", "dac"])
        var none = SecuritySettings()
        none.driver = "none"
        #expect(try SecurityManager(settings: none, selinux: FakeSELinux()).primary.model == "none")
        #expect(explicit.hostSecurityModels.map(\.model) == ["selinux", "dac"])
        #expect(explicit.hostSecurityModels[0].baseLabels.first?.label == "system_u:system_r:svirt_t:s0")
    }
}
