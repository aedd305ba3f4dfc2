import Foundation
import Glibc
import KVM
import KVMDriver
import Testing
import VirtCore
import VirtTestSupport

/// A start prepared before its connection opens (`Connection.prepareStart`, what `virtsh start` does): the kvm://
/// driver launches the domain's supervisor then, and the start hands its configuration to that process.
@Suite("kvm:// driver: starts prepared ahead", .enabled(if: TickGuest.available))
struct PreparedStartTests {
    @Test("the supervisor launched before the connection opened becomes the domain's")
    func preparedSupervisorRunsTheDomain() throws {
        let root = try EmbedRoot()
        defer { root.remove() }
        let prepared = try #require(Connection.prepareStart(root.uri, factories: [KVMDriverFactory()]))
        let early = try #require(prepared as? PrelaunchedSupervisor)
        let connection = try Connection.open(root.uri, factories: [KVMDriverFactory()])
        let document = KVMDriverLifecycleTests.document("prepared", console: "/dev/null")
        let uuid = try connection.defineXML(document).domain.uuid
        try connection.start(uuid, prepared: prepared)
        defer { try? connection.destroy(uuid) }
        #expect(try connection.summary(uuid).state == .booted)
        let recorded = try String(contentsOfFile: root.path + "/run/prepared.supervisor.pid", encoding: .utf8)
        #expect(Int32(recorded.trimmingCharacters(in: .whitespacesAndNewlines)) == early.pid)
        prepared.cancel()  // what `virtsh start` does on its way out: nothing, once the start took it over
        #expect(try connection.summary(uuid).state == .booted)
    }

    @Test("a prepared start refused (already running) leaves only the running domain's processes")
    func refusedStartEndsItsSupervisor() throws {
        let root = try EmbedRoot()
        defer { root.remove() }
        let connection = try Connection.open(root.uri, factories: [KVMDriverFactory()])
        let document = KVMDriverLifecycleTests.document("busy", console: "/dev/null")
        let uuid = try connection.defineXML(document).domain.uuid
        try connection.start(uuid)
        defer { try? connection.destroy(uuid) }
        let prepared = try #require(Connection.prepareStart(root.uri, factories: [KVMDriverFactory()]))
        let early = try #require(prepared as? PrelaunchedSupervisor)
        let identity = try #require(ProcessIdentity.of(early.pid))
        #expect(throws: VirtError.self) { try connection.start(uuid, prepared: prepared) }
        #expect(eventually(within: 1) { !identity.isAlive() }, "the refused start's supervisor exits")
        #expect(try connection.summary(uuid).state == .booted, "the running domain is unharmed")
    }

    @Test("nothing is prepared for other drivers, remote transports, unknown schemes or malformed URIs")
    func nothingPreparedElsewhere() {
        let factories: [any DriverFactory] = [KVMDriverFactory()]
        for uri in ["test:///default", "kvm+ssh://host/system", "xen:///system", "::not a uri"] {
            #expect(Connection.prepareStart(uri, factories: factories) == nil, "\(uri)")
        }
    }
}
