import Foundation

/// The state store's schema as an ordered list of migrations, and the code that brings a database up to date.
///
/// Each migration runs once, in order, inside the same `BEGIN IMMEDIATE` transaction that records it in
/// `schema_migrations`, so concurrent openers of a fresh database never apply one twice. A database
/// written by a newer swift-virt (a version this build does not know) is refused, not guessed at.
enum StoreSchema {
    /// One schema step.
    struct Migration {
        let version: Int
        let name: String
        let sql: String
    }

    /// Every migration, oldest first. Append only: never edit a released step.
    static let migrations: [Migration] = [
        Migration(
            version: 1, name: "definitions and the domain id counter",
            sql: """
                CREATE TABLE domains (
                    uuid        TEXT PRIMARY KEY NOT NULL CHECK (length(uuid) = 36),
                    name        TEXT NOT NULL UNIQUE,
                    xml         TEXT NOT NULL,
                    persistent  INTEGER NOT NULL DEFAULT 1 CHECK (persistent IN (0, 1)),
                    autostart   INTEGER NOT NULL DEFAULT 0 CHECK (autostart IN (0, 1)),
                    title       TEXT,
                    defined_at  INTEGER NOT NULL,
                    updated_at  INTEGER NOT NULL
                );
                CREATE TABLE counters (
                    name  TEXT PRIMARY KEY NOT NULL,
                    value INTEGER NOT NULL
                );
                INSERT INTO counters (name, value) VALUES ('next_domain_id', 1);
                """),
        Migration(
            version: 2, name: "runtime status of active and stopped domains",
            sql: """
                CREATE TABLE domain_status (
                    uuid                  TEXT PRIMARY KEY NOT NULL REFERENCES domains(uuid) ON DELETE CASCADE,
                    state                 INTEGER NOT NULL,
                    reason                INTEGER NOT NULL DEFAULT 0,
                    id                    INTEGER UNIQUE CHECK (id IS NULL OR id > 0),
                    pid                   INTEGER,
                    pid_start_time        INTEGER,
                    supervisor_pid        INTEGER,
                    supervisor_start_time INTEGER,
                    monitor_path          TEXT,
                    live_xml              TEXT,
                    started_at            INTEGER,
                    updated_at            INTEGER NOT NULL
                );
                """),
        Migration(
            version: 3, name: "sVirt MCS category reservations",
            sql: """
                CREATE TABLE security_reservations (
                    uuid              TEXT PRIMARY KEY NOT NULL REFERENCES domains(uuid) ON DELETE CASCADE,
                    categories        TEXT NOT NULL UNIQUE,
                    owner_pid         INTEGER NOT NULL,
                    owner_start_time  INTEGER NOT NULL,
                    reserved_at       INTEGER NOT NULL
                );
                """),
    ]

    /// The newest schema version this build writes.
    static var latestVersion: Int { migrations.last?.version ?? 0 }

    /// The version recorded in `database`, 0 for an empty file.
    static func currentVersion(_ database: SQLiteDatabase) throws -> Int {
        let hasTable =
            try database.scalarInt(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'") ?? 0
        guard hasTable > 0 else { return 0 }
        return Int(try database.scalarInt("SELECT max(version) FROM schema_migrations") ?? 0)
    }

    /// Applies the migrations `database` lacks, up to `target` (the latest by default).
    static func migrate(_ database: SQLiteDatabase, upTo target: Int = latestVersion) throws {
        let seen = try currentVersion(database)
        try refuseNewer(seen, database)
        if seen >= target { return }
        try database.immediateTransaction {
            try database.execute(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version    INTEGER PRIMARY KEY NOT NULL,
                    name       TEXT NOT NULL,
                    applied_at INTEGER NOT NULL
                )
                """)
            // Re-read under the write lock: another process may have migrated meanwhile.
            let current = try currentVersion(database)
            try refuseNewer(current, database)
            for migration in migrations where migration.version > current && migration.version <= target {
                try database.execute(migration.sql)
                try database.run(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    [.int(Int64(migration.version)), .text(migration.name), .int(Int64(time(nil)))])
            }
        }
    }

    private static func refuseNewer(_ version: Int, _ database: SQLiteDatabase) throws {
        if version > latestVersion {
            throw VirtError(
                .configUnsupported, .store,
                "state store '\(database.path)' has schema version \(version), but this swift-virt knows "
                    + "versions up to \(latestVersion); use the newer swift-virt that wrote it")
        }
    }
}
