import CSQLite
import Foundation

/// A value bound to a statement parameter.
enum SQLValue {
    case int(Int64)
    case text(String)
    case null

    /// `.text`, or `.null` for nil.
    static func optional(_ text: String?) -> SQLValue { text.map { .text($0) } ?? .null }
    /// `.int`, or `.null` for nil.
    static func optional(_ value: Int64?) -> SQLValue { value.map { .int($0) } ?? .null }
    /// 1 or 0.
    static func bool(_ value: Bool) -> SQLValue { .int(value ? 1 : 0) }
}

/// One result row while a statement is stepping; valid only inside the row callback.
struct SQLRow {
    fileprivate let statement: OpaquePointer

    /// Column `index` as an integer (0 for NULL).
    func int(_ index: Int32) -> Int64 { sqlite3_column_int64(statement, index) }
    /// Column `index` as an integer, nil for NULL.
    func optionalInt(_ index: Int32) -> Int64? { isNull(index) ? nil : int(index) }
    /// Column `index` as text, nil for NULL.
    func text(_ index: Int32) -> String? {
        guard let bytes = sqlite3_column_text(statement, index) else { return nil }
        return String(cString: bytes)
    }
    /// Whether column `index` is NULL.
    func isNull(_ index: Int32) -> Bool { sqlite3_column_type(statement, index) == SQLITE_NULL }
}

/// A thin, synchronous handle over one libsqlite3 connection, used from one thread at a time.
///
/// Every failure becomes a `VirtError` that names the database file. `BEGIN IMMEDIATE` retries on
/// `SQLITE_BUSY` beyond SQLite's own busy handler, because a WAL database can report busy without
/// consulting the handler (recovery, a checkpoint in progress).
final class SQLiteDatabase {
    /// The database file.
    let path: String
    /// How long one statement waits for a lock inside SQLite (`busy_timeout`), and how long the
    /// `BEGIN IMMEDIATE` retry loop keeps trying on top of it.
    let busyTimeoutMilliseconds: Int32
    private var handle: OpaquePointer?
    private var transactionDepth = 0

    init(path: String, busyTimeoutMilliseconds: Int32) throws {
        self.path = path
        self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let detail = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_close_v2(db)
            throw Self.openError(path: path, code: rc, detail: detail)
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, busyTimeoutMilliseconds)
    }

    deinit { close() }

    /// Closes the connection; later calls fail.
    func close() {
        if let handle { sqlite3_close_v2(handle) }
        handle = nil
    }

    private func db() throws -> OpaquePointer {
        guard let handle else { throw VirtError(.internalError, .store, "state store '\(path)' is closed") }
        return handle
    }

    /// Runs one or more statements without parameters (schema, pragmas).
    func execute(_ sql: String) throws {
        let db = try db()
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(db, sql, nil, nil, &message)
        if rc != SQLITE_OK {
            let detail = message.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_free(message)
            throw error(code: rc, detail: detail, sql: sql)
        }
    }

    /// Runs `sql` with `parameters`, calling `row` for each result row. Returns the rows changed.
    @discardableResult
    func run(_ sql: String, _ parameters: [SQLValue] = [], row: (SQLRow) throws -> Void = { _ in }) throws -> Int {
        let db = try db()
        var statement: OpaquePointer?
        let prepared = sqlite3_prepare_v2(db, sql, -1, &statement, nil)
        guard prepared == SQLITE_OK, let statement else {
            throw error(code: prepared, detail: String(cString: sqlite3_errmsg(db)), sql: sql)
        }
        defer { sqlite3_finalize(statement) }
        for (offset, value) in parameters.enumerated() {
            let index = Int32(offset + 1)
            let rc: Int32 =
                switch value {
                case .int(let number): sqlite3_bind_int64(statement, index, number)
                case .text(let text): sqlite3_bind_text(statement, index, text, -1, csqlite_transient())
                case .null: sqlite3_bind_null(statement, index)
                }
            if rc != SQLITE_OK { throw error(code: rc, detail: String(cString: sqlite3_errmsg(db)), sql: sql) }
        }
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_ROW {
                try row(SQLRow(statement: statement))
            } else if rc == SQLITE_DONE {
                return Int(sqlite3_changes(db))
            } else {
                throw error(code: rc, detail: String(cString: sqlite3_errmsg(db)), sql: sql)
            }
        }
    }

    /// The first column of the first row as an integer, nil when there is no row or it is NULL.
    func scalarInt(_ sql: String, _ parameters: [SQLValue] = []) throws -> Int64? {
        var result: Int64?
        var seen = false
        try run(sql, parameters) { row in
            if !seen { result = row.optionalInt(0) }
            seen = true
        }
        return result
    }

    /// Runs `body` in one `BEGIN IMMEDIATE` transaction (the write lock is taken up front, so two writers
    /// never deadlock upgrading read locks); commits on success and rolls back on any error. Nested
    /// calls join the outer transaction.
    func immediateTransaction<T>(_ body: () throws -> T) throws -> T {
        if transactionDepth > 0 {
            transactionDepth += 1
            defer { transactionDepth -= 1 }
            return try body()
        }
        try beginImmediate()
        transactionDepth = 1
        defer { transactionDepth = 0 }
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// `BEGIN IMMEDIATE`, retried with a growing, jittered pause while another process holds the lock.
    private func beginImmediate() throws {
        let deadline = Date().addingTimeInterval(Double(busyTimeoutMilliseconds) / 1000)
        var pauseMicroseconds: UInt32 = 1_000
        while true {
            do {
                try execute("BEGIN IMMEDIATE")
                return
            } catch let failure as VirtError where failure.code == .resourceBusy && Date() < deadline {
                usleep(pauseMicroseconds + UInt32.random(in: 0...pauseMicroseconds))
                pauseMicroseconds = min(pauseMicroseconds * 2, 50_000)
            }
        }
    }

    /// Maps a SQLite result code to a `VirtError` naming the database and what to do.
    func error(code: Int32, detail: String, sql: String) -> VirtError {
        let primary = code & 0xff
        switch primary {
        case SQLITE_BUSY, SQLITE_LOCKED:
            return VirtError(
                .resourceBusy, .store,
                "state store '\(path)' stayed locked by another process for more than "
                    + "\(busyTimeoutMilliseconds) ms (\(detail)); retry, or look for a stuck process holding it")
        case SQLITE_CONSTRAINT:
            return VirtError(.operationFailed, .store, "state store '\(path)': constraint violated: \(detail)")
        case SQLITE_CORRUPT, SQLITE_NOTADB:
            return VirtError(
                .operationFailed, .store,
                "state store '\(path)' is damaged or not a swift-virt database (\(detail)); "
                    + "restore it from a backup or move it aside")
        case SQLITE_READONLY, SQLITE_PERM, SQLITE_CANTOPEN:
            return VirtError(
                .operationFailed, .store,
                "cannot write state store '\(path)': \(detail); check the file's and its directory's "
                    + "owner and permissions")
        case SQLITE_FULL:
            return VirtError(.operationFailed, .store, "state store '\(path)': the disk is full (\(detail))")
        default:
            let statement = sql.split(separator: "\n").first.map(String.init) ?? sql
            return VirtError(.internalError, .store, "state store '\(path)': \(detail) (in '\(statement)')")
        }
    }

    private static func openError(path: String, code: Int32, detail: String) -> VirtError {
        VirtError(
            .operationFailed, .store,
            "cannot open state store '\(path)': \(detail); check that its directory exists and is "
                + "writable by this user")
    }
}
