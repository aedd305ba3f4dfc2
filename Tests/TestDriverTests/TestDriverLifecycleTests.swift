import Foundation
import TestDriver
import Testing
import VirtCore

@Suite("test:///default lifecycle")
struct TestDriverLifecycleTests {
    static let testUUID = UUID(uuidString: "6695eb01-f6a4-8304-79aa-97f2502e193f")!
    static let demoUUID = UUID(uuidString: "c7a5fdbd-cdaf-9455-926a-d65c16db1809")!

    func demo(memoryKiB: UInt64 = 524_288) -> DomainDefinition {
        var definition = DomainDefinition(type: .test, name: "demo", uuid: Self.demoUUID, memoryKiB: memoryKiB)
        definition.title = "Demo guest"
        return definition
    }

    func driver() -> TestDriver { TestDriver() }

    func state(_ driver: TestDriver, _ uuid: UUID = demoUUID) throws -> DomainStateReason {
        try driver.lookup(.uuid(uuid)).state
    }

    @Test("libvirt's state machine with its reasons and messages")
    func stateMachine() throws {
        let driver = driver()
        let defined = try driver.define(demo())
        #expect(defined.state == .shutoffUnknown && defined.id == nil && defined.title == "Demo guest")

        try driver.start(Self.demoUUID, flags: [])
        #expect(try state(driver) == .booted)
        #expect(try driver.lookup(.name("demo")).id == 2)
        #expect(throws: VirtError(.internalError, .test, "Domain 'demo' is already running")) {
            try driver.start(Self.demoUUID, flags: [])
        }

        try driver.suspend(Self.demoUUID)
        #expect(try state(driver) == .pausedUser)
        #expect(throws: VirtError(.internalError, .test, "domain 'demo' not running")) {
            try driver.suspend(Self.demoUUID)
        }
        try driver.resume(Self.demoUUID)
        #expect(try state(driver) == .unpaused)
        #expect(throws: VirtError(.internalError, .test, "domain 'demo' not paused")) {
            try driver.resume(Self.demoUUID)
        }

        try driver.reboot(Self.demoUUID)
        #expect(try state(driver) == .booted)
        try driver.reset(Self.demoUUID)
        #expect(try state(driver) == .booted)

        try driver.destroy(Self.demoUUID, graceful: false)
        #expect(try state(driver) == .shutoffDestroyed)
        #expect(try driver.lookup(.uuid(Self.demoUUID)).id == nil)
        for action in [
            { try driver.destroy(Self.demoUUID, graceful: false) }, { try driver.reboot(Self.demoUUID) },
            { try driver.reset(Self.demoUUID) },
        ] as [() throws -> Void] {
            #expect(throws: VirtError(.operationInvalid, .test, "domain is not running")) { try action() }
        }
        #expect(throws: VirtError(.internalError, .test, "domain 'demo' not running")) {
            try driver.shutdown(Self.demoUUID)
        }
        #expect(throws: VirtError(.internalError, .test, "domain 'demo' not running")) {
            try driver.suspend(Self.demoUUID)
        }
        #expect(throws: VirtError(.internalError, .test, "domain 'demo' not paused")) {
            try driver.resume(Self.demoUUID)
        }

        try driver.start(Self.demoUUID, flags: [])
        #expect(try driver.lookup(.uuid(Self.demoUUID)).id == 3)
        try driver.shutdown(Self.demoUUID)
        #expect(try state(driver) == .shutoffShutdown)

        // libvirt's test driver takes no start flags.
        #expect(throws: VirtError(.usage, .test, "unsupported flags (0x1) in function testDomainCreateWithFlags")) {
            try driver.start(Self.demoUUID, flags: .paused)
        }
        #expect(try state(driver) == .shutoffShutdown)
        try driver.start(Self.demoUUID, flags: [])
        try driver.suspend(Self.demoUUID)
        try driver.reboot(Self.demoUUID)
        #expect(try state(driver) == .booted)
        #expect(try driver.lookup(.id(4)).name == "demo")
        #expect(throws: VirtError(.noDomain, .domain, "no domain with matching id 3")) { try driver.lookup(.id(3)) }
    }

    @Test("shutdown and reboot follow on_poweroff and on_reboot")
    func lifecycleActions() throws {
        let driver = driver()
        var definition = demo()
        definition.onPoweroff = .restart
        definition.onReboot = .destroy
        try driver.define(definition)
        try driver.start(Self.demoUUID, flags: [])
        try driver.shutdown(Self.demoUUID)
        #expect(try state(driver) == .booted)
        try driver.reboot(Self.demoUUID)
        #expect(try state(driver) == .shutoffShutdown)
    }

    @Test("undefine of a running domain makes it transient; it disappears when it stops")
    func transientUndefine() throws {
        let driver = driver()
        try driver.undefine(Self.testUUID)
        let transient = try driver.lookup(.name("test"))
        #expect(!transient.persistent && transient.id == 1)
        try driver.destroy(Self.testUUID, graceful: false)
        #expect(try driver.listDomains().isEmpty)
        #expect(throws: VirtError(.noDomain, .domain, "no domain with matching name 'test'")) {
            try driver.lookup(.name("test"))
        }

        try driver.define(demo())
        try driver.undefine(Self.demoUUID)
        #expect(try driver.listDomains().isEmpty)
    }

    @Test("name and uuid clashes give libvirt's messages; same name and uuid redefines")
    func clashes() throws {
        let driver = driver()
        var other = demo()
        other.name = "test"
        #expect(
            throws: VirtError(
                .operationFailed, .domain, "domain 'test' already exists with uuid 6695eb01-f6a4-8304-79aa-97f2502e193f"
            )
        ) { try driver.define(other) }
        var sameUUID = demo()
        sameUUID.uuid = Self.testUUID
        #expect(
            throws: VirtError(
                .operationFailed, .domain,
                "domain 'test' is already defined with uuid 6695eb01-f6a4-8304-79aa-97f2502e193f")
        ) { try driver.define(sameUUID) }
        #expect(try driver.listDomains().count == 1)
    }

    @Test("redefining a running domain takes effect when it stops")
    func redefineRunning() throws {
        let driver = driver()
        try driver.define(demo(memoryKiB: 524_288))
        try driver.start(Self.demoUUID, flags: [])
        try driver.define(demo(memoryKiB: 1_048_576))
        #expect(try driver.definition(Self.demoUUID, live: true).memoryKiB == 524_288)
        #expect(try driver.definition(Self.demoUUID, live: false).memoryKiB == 1_048_576)
        try driver.destroy(Self.demoUUID, graceful: false)
        #expect(try driver.definition(Self.demoUUID, live: true).memoryKiB == 1_048_576)

        // The running definition's on_poweroff decides the shutdown, as in libvirt.
        try driver.start(Self.demoUUID, flags: [])
        var restarting = demo()
        restarting.onPoweroff = .restart
        try driver.define(restarting)
        try driver.shutdown(Self.demoUUID)
        #expect(try state(driver) == .shutoffShutdown)
        #expect(try driver.definition(Self.demoUUID, live: false).onPoweroff == .restart)
    }

    @Test("autostart is kept")
    func autostart() throws {
        let driver = driver()
        try driver.setAutostart(Self.testUUID, true)
        #expect(try driver.lookup(.uuid(Self.testUUID)).autostart)
        try driver.setAutostart(Self.testUUID, false)
        #expect(try !driver.lookup(.uuid(Self.testUUID)).autostart)
    }

    @Test("connection filters see the driver's states")
    func listFilters() throws {
        let connection = Connection(driver: driver())
        _ = try connection.driver.define(demo())
        #expect(try connection.listDomains(.active).map(\.name) == ["test"])
        #expect(try connection.listDomains(.inactive).map(\.name) == ["demo"])
        #expect(try connection.listDomains(.all).map(\.name) == ["test", "demo"])
    }
}
