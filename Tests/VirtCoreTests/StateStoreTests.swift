import Foundation
import Testing

@testable import VirtCore

/// An error thrown on purpose inside a transaction.
private struct Boom: Error {}

@Suite("State store")
struct StateStoreTests {
    let a = UUID(uuidString: "11111111-2222-3333-4444-555555555555")!
    let b = UUID(uuidString: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee")!

    private func withStore(_ body: (StateStore, String) throws -> Void) throws {
        let directory = try TemporaryDirectory("store")
        defer { directory.remove() }
        let path = directory.path + "/swift-virt.db"
        let store = try StateStore(path: path)
        defer { store.close() }
        try body(store, path)
    }

    @Test("a new database is WAL, private to its owner, integrity ok, at the latest schema version")
    func freshDatabase() throws {
        try withStore { store, path in
            var info = stat()
            #expect(stat(path, &info) == 0)
            #expect(info.st_mode & 0o777 == 0o600)
            var mode = ""
            try store.database.run("PRAGMA journal_mode") { mode = $0.text(0) ?? "" }
            #expect(mode == "wal")
            var foreignKeys: Int64 = -1
            try store.database.run("PRAGMA foreign_keys") { foreignKeys = $0.int(0) }
            #expect(foreignKeys == 1)
            #expect(try store.integrityCheck() == "ok")
            #expect(try StoreSchema.currentVersion(store.database) == StateStore.schemaVersion)
            #expect(try store.listSummaries().isEmpty)
        }
    }

    @Test("define, look up by name, uuid and id, list from columns")
    func defineAndLookup() throws {
        try withStore { store, _ in
            let summary = try store.define(name: "web", uuid: a, xml: "<domain/>", title: "Web server")
            #expect(
                summary
                    == DomainSummary(
                        id: nil, name: "web", uuid: a, state: .shutoffUnknown, persistent: true, autostart: false,
                        title: "Web server"))
            #expect(try store.summary(.name("web"))?.uuid == a)
            #expect(try store.summary(.uuid(a))?.name == "web")
            #expect(try store.summary(.name("WEB")) == nil)
            #expect(try store.definitionXML(a) == "<domain/>")
            #expect(try store.listSummaries().map(\.name) == ["web"])
            #expect(throws: VirtError(.noDomain, .domain, "no domain with matching name 'nosuch'")) {
                try store.require(.name("nosuch"))
            }
            #expect(throws: VirtError(.noDomain, .domain, "no domain with matching id 7")) {
                try store.require(.id(7))
            }
        }
    }

    @Test("names are data, never SQL; listing reads columns, never the XML")
    func hostileNames() throws {
        try withStore { store, _ in
            let name = "x'); DROP TABLE domains; --"
            try store.define(name: name, uuid: a, xml: "this is not XML at all", title: "t'\"itle")
            let listed = try store.listSummaries()
            #expect(listed.map(\.name) == [name])
            #expect(listed.first?.title == "t'\"itle")
            #expect(try store.summary(.name(name))?.uuid == a)
            #expect(try store.integrityCheck() == "ok")
        }
    }

    @Test("a name or uuid held by another domain is libvirt's clash error; same name and uuid updates")
    func clashes() throws {
        try withStore { store, _ in
            try store.define(name: "web", uuid: a, xml: "<v1/>")
            #expect(
                throws: VirtError(
                    .operationFailed, .domain,
                    "domain 'web' already exists with uuid 11111111-2222-3333-4444-555555555555")
            ) { try store.define(name: "web", uuid: b, xml: "<other/>") }
            #expect(
                throws: VirtError(
                    .operationFailed, .domain,
                    "domain 'web' is already defined with uuid 11111111-2222-3333-4444-555555555555")
            ) { try store.define(name: "db", uuid: a, xml: "<other/>") }
            #expect(try store.listSummaries().count == 1)
            try store.define(name: "web", uuid: a, xml: "<v2/>", title: "new")
            #expect(try store.definitionXML(a) == "<v2/>")
            #expect(try store.summary(.uuid(a))?.title == "new")
            #expect(try store.listSummaries().count == 1)
        }
    }

    @Test("undefine removes an inactive domain and turns an active one transient until it stops")
    func undefine() throws {
        try withStore { store, _ in
            try store.define(name: "web", uuid: a, xml: "<x/>")
            #expect(try store.undefine(a) == .removed)
            #expect(try store.summary(.uuid(a)) == nil)
            #expect(
                throws: VirtError(.noDomain, .domain, "no domain with matching uuid '\(a.uuidString.lowercased())'")
            ) {
                try store.undefine(a)
            }

            try store.define(name: "db", uuid: b, xml: "<x/>")
            try store.setAutostart(b, true)
            let id = try store.markActive(RuntimeStatus(uuid: b, state: .booted, pid: 4242, pidStartTime: 99))
            #expect(try store.undefine(b) == .madeTransient)
            let transient = try #require(try store.summary(.id(id)))
            #expect(!transient.persistent && !transient.autostart && transient.state == .booted)
            #expect(throws: VirtError(.operationInvalid, .domain, "cannot undefine transient domain 'db'")) {
                try store.undefine(b)
            }
            #expect(throws: VirtError(.operationInvalid, .domain, "cannot set autostart for transient domain")) {
                try store.setAutostart(b, true)
            }
            try store.markInactive(b, reason: .shutoffShutdown)
            #expect(try store.summary(.uuid(b)) == nil)
            #expect(try store.integrityCheck() == "ok")
        }
    }

    @Test("runtime status: ids start at 1 and only grow, state and reason survive stop")
    func runtimeStatus() throws {
        try withStore { store, _ in
            try store.define(name: "web", uuid: a, xml: "<x/>")
            let first = try store.markActive(
                RuntimeStatus(uuid: a, state: .booted, pid: 10, pidStartTime: 20, monitorPath: "/run/web.monitor"))
            #expect(first == 1)
            #expect(throws: VirtError(.operationInvalid, .domain, "domain 'web' is already running")) {
                try store.markActive(RuntimeStatus(uuid: a, state: .booted))
            }
            try store.setState(a, .pausedUser)
            let status = try #require(try store.runtimeStatus(a))
            #expect(status.state == .pausedUser && status.id == 1 && status.pid == 10 && status.pidStartTime == 20)
            #expect(status.monitorPath == "/run/web.monitor")
            #expect(try store.activeStatuses().map(\.uuid) == [a])
            try store.markInactive(a, reason: .shutoffDestroyed)
            let stopped = try #require(try store.summary(.uuid(a)))
            #expect(stopped.id == nil && stopped.state == .shutoffDestroyed && stopped.persistent)
            #expect(try store.runtimeStatus(a)?.pid == nil)
            #expect(try store.activeStatuses().isEmpty)
            #expect(throws: VirtError(.operationInvalid, .domain, "domain is not running")) {
                try store.setState(a, .unpaused)
            }
            let second = try store.markActive(RuntimeStatus(uuid: a, state: .booted))
            #expect(second == 2)
            #expect(try store.allocateDomainID() == 3)
        }
    }

    @Test("autostart is kept in a column")
    func autostart() throws {
        try withStore { store, path in
            try store.define(name: "web", uuid: a, xml: "<x/>")
            try store.setAutostart(a, true)
            let reopened = try StateStore(path: path)
            defer { reopened.close() }
            #expect(try reopened.summary(.name("web"))?.autostart == true)
            try reopened.setAutostart(a, false)
            #expect(try store.summary(.name("web"))?.autostart == false)
            #expect(throws: VirtError.self) { try store.setAutostart(b, true) }
        }
    }

    @Test("a failed step rolls the whole transaction back")
    func rollback() throws {
        try withStore { (store: StateStore, _: String) throws in
            #expect(throws: Boom.self) {
                try store.transaction { () throws -> Void in
                    try store.define(name: "web", uuid: a, xml: "<x/>")
                    throw Boom()
                }
            }
            #expect(try store.listSummaries().isEmpty)
        }
    }

    @Test("an older database is migrated in order and keeps its rows")
    func migration() throws {
        let directory = try TemporaryDirectory("migrate")
        defer { directory.remove() }
        let path = directory.path + "/swift-virt.db"
        let old = try StateStore(path: path, busyTimeoutMilliseconds: 1000, fileMode: 0o600, schemaVersion: 1)
        #expect(try StoreSchema.currentVersion(old.database) == 1)
        try old.database.run(
            "INSERT INTO domains (uuid, name, xml, defined_at, updated_at) VALUES (?, 'old', '<x/>', 0, 0)",
            [.text(a.uuidString.lowercased())])
        old.close()
        let store = try StateStore(path: path)
        defer { store.close() }
        var versions: [Int64] = []
        try store.database.run("SELECT version FROM schema_migrations ORDER BY version") { versions.append($0.int(0)) }
        #expect(versions == StoreSchema.migrations.map { Int64($0.version) })
        #expect(try store.summary(.name("old"))?.state == .shutoffUnknown)
        #expect(try store.markActive(RuntimeStatus(uuid: a, state: .booted)) == 1)
    }

    @Test("a database from a newer swift-virt is refused with a clear error")
    func newerSchema() throws {
        try withStore { store, path in
            try store.database.run("INSERT INTO schema_migrations VALUES (99, 'future', 0)")
            #expect(
                throws: VirtError(
                    .configUnsupported, .store,
                    "state store '\(path)' has schema version 99, but this swift-virt knows versions up to "
                        + "\(StateStore.schemaVersion); use the newer swift-virt that wrote it")
            ) { try StateStore(path: path) }
        }
    }

    @Test("a file that is not a database is a clear error")
    func notADatabase() throws {
        let directory = try TemporaryDirectory("garbage")
        defer { directory.remove() }
        let path = directory.path + "/swift-virt.db"
        try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: path))
        do {
            _ = try StateStore(path: path)
            Issue.record("opening garbage succeeded")
        } catch let error as VirtError {
            #expect(error.code == .operationFailed)
            #expect(error.message.contains("'\(path)' is damaged or not a swift-virt database"))
        }
    }

    @Test("a missing directory is a clear error naming the file")
    func missingDirectory() throws {
        #expect(throws: VirtError.self) { try StateStore(path: "/nonexistent-swift-virt/x/swift-virt.db") }
        do {
            _ = try StateStore(path: "/nonexistent-swift-virt/x/swift-virt.db")
        } catch let error as VirtError {
            #expect(error.description.contains("cannot open state store '/nonexistent-swift-virt/x/swift-virt.db'"))
        }
    }
}
