import Foundation

/// The SQLite state store of one `kvm://` URI: definitions, runtime status and the domain id counter.
///
/// One `StateStore` is one connection to the database, used from one thread at a time; any number of
/// processes may open the same file. The database runs in WAL mode with foreign keys on and a busy
/// timeout, and every change that touches more than one row runs in one `BEGIN IMMEDIATE` transaction.
/// `list` reads one indexed join of columns and never parses XML. Layout: `docs/store.md`.
public final class StateStore {
    /// The database file.
    public let path: String
    let database: SQLiteDatabase

    /// The schema version this build writes.
    public static var schemaVersion: Int { StoreSchema.latestVersion }
    /// How long a call waits for another process's write lock before failing with `resource busy`.
    public static let defaultBusyTimeoutMilliseconds: Int32 = 10_000
    /// The mode of a newly created database file: definitions are private to the store's owner.
    public static let defaultFileMode: mode_t = 0o600

    /// Opens (creating if needed) the store at `path`, whose directory must exist, and brings its schema up
    /// to date.
    public convenience init(
        path: String, busyTimeoutMilliseconds: Int32 = defaultBusyTimeoutMilliseconds,
        fileMode: mode_t = defaultFileMode
    ) throws {
        try self.init(
            path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds, fileMode: fileMode,
            schemaVersion: StoreSchema.latestVersion)
    }

    /// Opens the store migrating only up to `schemaVersion` (tests of the upgrade path use older versions).
    init(path: String, busyTimeoutMilliseconds: Int32, fileMode: mode_t, schemaVersion: Int) throws {
        self.path = path
        let existed = FileManager.default.fileExists(atPath: path)
        database = try SQLiteDatabase(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
        if !existed { chmod(path, fileMode) }
        try configure()
        try StoreSchema.migrate(database, upTo: schemaVersion)
    }

    /// Closes the database connection.
    public func close() { database.close() }

    private func configure() throws {
        try database.execute("PRAGMA foreign_keys = ON")
        // WAL lets `list` read while another process writes. Switching modes needs a brief exclusive lock,
        // so a fresh database opened by many processes at once retries here.
        let deadline = Date().addingTimeInterval(Double(database.busyTimeoutMilliseconds) / 1000)
        while true {
            do {
                var mode = ""
                try database.run("PRAGMA journal_mode = WAL") { mode = $0.text(0) ?? "" }
                guard mode.lowercased() == "wal" else {
                    throw VirtError(
                        .operationFailed, .store,
                        "state store '\(path)' cannot use write-ahead logging (journal mode '\(mode)'); "
                            + "put it on a local file system")
                }
                break
            } catch let failure as VirtError where failure.code == .resourceBusy && Date() < deadline {
                usleep(UInt32.random(in: 1_000...10_000))
            }
        }
        // In WAL mode NORMAL never corrupts the database; a power cut may lose the last commits only.
        try database.execute("PRAGMA synchronous = NORMAL")
    }

    /// Runs `body` in one `BEGIN IMMEDIATE` transaction: every store call inside it sees and changes the
    /// database as one step, and other processes wait. Nested calls join it.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try database.immediateTransaction(body)
    }

    /// `PRAGMA integrity_check`: `ok`, or SQLite's list of problems.
    public func integrityCheck() throws -> String {
        var lines: [String] = []
        try database.run("PRAGMA integrity_check") { lines.append($0.text(0) ?? "") }
        return lines.joined(separator: "\n")
    }

    // MARK: Definitions

    static let summaryColumns = """
        SELECT d.uuid, d.name, d.persistent, d.autostart, d.title, s.state, s.reason, s.id
        FROM domains d LEFT JOIN domain_status s ON s.uuid = d.uuid
        """

    static func summary(_ row: SQLRow) -> DomainSummary? {
        guard let uuidText = row.text(0), let uuid = UUID(uuidString: uuidText), let name = row.text(1) else {
            return nil
        }
        var state = DomainStateReason.shutoffUnknown
        if let raw = row.optionalInt(5), let value = DomainState(rawValue: Int(raw)) {
            state = DomainStateReason(value, Int(row.int(6)))
        }
        return DomainSummary(
            id: row.optionalInt(7).map(Int.init), name: name, uuid: uuid, state: state,
            persistent: row.int(2) != 0, autostart: row.int(3) != 0, title: row.text(4))
    }

    /// Every domain (persistent and transient), unsorted: one query over columns.
    public func listSummaries() throws -> [DomainSummary] {
        var result: [DomainSummary] = []
        try database.run(Self.summaryColumns) { row in
            if let summary = Self.summary(row) { result.append(summary) }
        }
        return result
    }

    /// The domain matching `key`, or nil.
    public func summary(_ key: DomainLookupKey) throws -> DomainSummary? {
        let (clause, value): (String, SQLValue) =
            switch key {
            case .name(let name): ("d.name = ?", .text(name))
            case .uuid(let uuid): ("d.uuid = ?", .text(Self.key(uuid)))
            case .id(let id): ("s.id = ?", .int(Int64(id)))
            }
        var found: DomainSummary?
        try database.run(Self.summaryColumns + " WHERE " + clause, [value]) { found = Self.summary($0) }
        return found
    }

    /// The domain matching `key`, or libvirt's `Domain not found: no domain with matching ...`.
    public func require(_ key: DomainLookupKey) throws -> DomainSummary {
        if let found = try summary(key) { return found }
        throw Self.notFound(key)
    }

    /// libvirt's lookup failure for `key`.
    public static func notFound(_ key: DomainLookupKey) -> VirtError { key.notFoundError }

    /// Stores a definition: a new domain, or a redefinition of the same name and uuid (which also makes a
    /// transient domain persistent again). A name or uuid held by another domain is libvirt's clash error.
    @discardableResult
    public func define(name: String, uuid: UUID, xml: String, title: String? = nil) throws -> DomainSummary {
        try transaction {
            let holderOfUUID = try summary(.uuid(uuid))
            let holderOfName = try summary(.name(name))
            try DomainConflict.check(
                name: name, uuid: uuid, holderOfUUID: holderOfUUID.map { (name: $0.name, uuid: $0.uuid) },
                holderOfName: holderOfName.map { (name: $0.name, uuid: $0.uuid) })
            let now = Int64(time(nil))
            if holderOfUUID != nil {
                try database.run(
                    "UPDATE domains SET xml = ?, title = ?, persistent = 1, updated_at = ? WHERE uuid = ?",
                    [.text(xml), .optional(title), .int(now), .text(Self.key(uuid))])
            } else {
                try database.run(
                    """
                    INSERT INTO domains (uuid, name, xml, persistent, autostart, title, defined_at, updated_at)
                    VALUES (?, ?, ?, 1, 0, ?, ?, ?)
                    """,
                    [.text(Self.key(uuid)), .text(name), .text(xml), .optional(title), .int(now), .int(now)])
            }
            return try require(.uuid(uuid))
        }
    }

    /// What `undefine` did.
    public enum UndefineOutcome: Sendable, Equatable {
        /// The domain was inactive and is gone.
        case removed
        /// The domain is running: it stays, transient, until it stops (libvirt's behaviour).
        case madeTransient
    }

    /// Removes a persistent definition; an active domain becomes transient and loses autostart.
    @discardableResult
    public func undefine(_ uuid: UUID) throws -> UndefineOutcome {
        try transaction {
            let domain = try require(.uuid(uuid))
            guard domain.persistent else {
                throw VirtError(.operationInvalid, .domain, "cannot undefine transient domain '\(domain.name)'")
            }
            if domain.id != nil {
                try database.run(
                    "UPDATE domains SET persistent = 0, autostart = 0, updated_at = ? WHERE uuid = ?",
                    [.int(Int64(time(nil))), .text(Self.key(uuid))])
                return .madeTransient
            }
            try database.run("DELETE FROM domains WHERE uuid = ?", [.text(Self.key(uuid))])
            return .removed
        }
    }

    /// The persistent definition's XML.
    public func definitionXML(_ uuid: UUID) throws -> String {
        var xml: String?
        try database.run("SELECT xml FROM domains WHERE uuid = ?", [.text(Self.key(uuid))]) { xml = $0.text(0) }
        guard let xml else { throw Self.notFound(.uuid(uuid)) }
        return xml
    }

    /// Sets or clears autostart; a transient domain cannot be marked (libvirt's rule).
    public func setAutostart(_ uuid: UUID, _ enabled: Bool) throws {
        try transaction {
            let domain = try require(.uuid(uuid))
            guard domain.persistent else {
                throw VirtError(.operationInvalid, .domain, "cannot set autostart for transient domain")
            }
            try database.run(
                "UPDATE domains SET autostart = ?, updated_at = ? WHERE uuid = ?",
                [.bool(enabled), .int(Int64(time(nil))), .text(Self.key(uuid))])
        }
    }

    /// The text form of a uuid in the store: lower case, as libvirt prints it.
    static func key(_ uuid: UUID) -> String { uuid.uuidString.lowercased() }
}
