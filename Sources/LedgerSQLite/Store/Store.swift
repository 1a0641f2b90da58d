import AllowanceLedger
import GRDB
import GRDBSQLite
import Logging
import CSQLiteTuning
#if canImport(Glibc)
import Glibc
#endif

/// The ledger's SQLite file: WAL, foreign keys on, `synchronous=FULL`, a busy timeout; GRDB opens write
/// transactions IMMEDIATE, so two officers' processes queue for the write lock instead of failing.
///
/// Every feature reaches it through its storage protocol (`store.registry`, `store.payouts`, …); `read` and `write`
/// with a GRDB `Database` are for this module and the package's tests.
public struct Store: Sendable {
    package let writer: any DatabaseWriter
    public let clock: Clock
    public let path: String

    public static let busyTimeoutSeconds: Double = 60
    /// Bytes per page of a new ledger.
    static let pageSize = 16384

    /// Set once per process, before the first connection opens: SQLite's allocation statistics off (nothing reads them,
    /// and each of the dozen allocations per row written took a global mutex for them). False when SQLite was already
    /// initialised; that only costs speed.
    private static let sqliteTuned: Bool = allowance_sqlite_disable_memory_statistics() == 0

    public init(path: String, clock: Clock = .system) throws {
        _ = Self.sqliteTuned
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(Self.busyTimeoutSeconds)
        configuration.prepareDatabase { db in
            // A new ledger's pages are 16 KiB, not SQLite's 4: a month's million items, postings and outcome lines fill
            // a quarter as many pages, each written to the WAL and then to the file (docs/BENCHMARKS.md has the
            // figures). Without effect on a ledger that already has pages.
            try db.execute(sql: "PRAGMA page_size = \(Self.pageSize)")
            let registered = allowance_sqlite_register_functions(db.sqliteConnection)
            guard registered == SQLITE_OK else {
                throw DatabaseError(resultCode: ResultCode(rawValue: registered), message: "cannot register the ledger's SQL functions")
            }
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // Bulk imports and batches insert into indexes with random keys (national IDs): a 64 MiB page cache
            // keeps those pages in memory instead of re-reading them; sorts stay in memory too.
            try db.execute(sql: "PRAGMA cache_size = -65536")
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
            // For profiling (README, Benchmarks): each statement that ran 50 ms or more, with its time, on stderr. The
            // SQL is printed with its placeholders, never the values bound to them.
            if Self.tracing {
                db.trace(options: .profile) { event in
                    guard case .profile(let statement, let duration) = event, duration >= 0.05 else { return }
                    let sql = statement.sql.split(whereSeparator: \.isWhitespace).joined(separator: " ")
                    Self.trace("sql \(Int(duration * 1000)) ms  \(sql.prefix(160))")
                }
            }
        }
        let pool = try DatabasePool(path: path, configuration: configuration)
        // GRDB turns WAL on after `prepareDatabase` and sets the writer to `synchronous = NORMAL` as it does, which
        // can lose the last commits on a power cut; a payment ledger keeps FULL.
        try pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = FULL") }
        // A migration that rebuilds a table sorts through temporary files, not memory as every command's sorts do: a
        // million items' upgrade to v7 peaked at 330 MB with its sorts in memory and 110 MB without.
        try pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA temp_store = FILE") }
        do {
            try Migrations.migrator.migrate(pool)
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_FOREIGNKEY {
            throw Migrations.withoutRowContents(error)
        }
        try pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA temp_store = MEMORY") }
        self.writer = pool
        self.clock = clock
        self.path = path
    }

    /// Runs `body` in one immediate transaction: all of it lands, or none.
    package func write<T>(_ body: (Database) throws -> T) throws -> T {
        try writer.write(body)
    }

    /// Like `write`, with SQLite's per-row foreign-key lookups off for the transaction. Only for the bulk writes
    /// whose every key was read in the same transaction: a register import (its categories and carriers checked against
    /// the tables read first), a batch's items (made from the register's rows), its approval's credits (one per item)
    /// and a reconciled file's lines and postings (naming the items just loaded).
    /// For a million rows those lookups cost one to two seconds per command and could not fail; every other write
    /// keeps them.
    func writeWithKeysFromTransaction<T>(_ body: (Database) throws -> T) throws -> T {
        try writer.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA foreign_keys = OFF")
            var result: T?
            let outcome = Result { try db.inTransaction(.immediate) {
                result = try body(db)
                return .commit
            } }
            // Back on before anything else writes through this connection; failing that is an error of its own.
            try db.execute(sql: "PRAGMA foreign_keys = ON")
            try outcome.get()
            return result!
        }
    }

    package func read<T>(_ body: (Database) throws -> T) throws -> T {
        try writer.read(body)
    }

    /// The file `db` has open as its main database, as SQLite resolved it (absolute); nil for an in-memory one.
    static func mainFile(_ db: Database) -> String? {
        guard let name = sqlite3_db_filename(db.sqliteConnection, "main"), name.pointee != 0 else { return nil }
        return String(cString: name)
    }

    /// What the ledger tells a profiler, at debug level (README, Profiling): statements that ran 50 ms or more, the
    /// paths a command took and what its page cache did. Where it goes is the program's choice (`LoggingSystem`); the
    /// CLI prints it on stderr with `ALLOWANCE_TRACE_SQL=1`.
    static let log = Logger(label: "allowance.sql")

    /// Whether anyone listens: the statement timer is installed, and the cache counters read, only then.
    static var tracing: Bool { log.logLevel <= .debug }

    /// One line for the profiler, such as a faster path not taken.
    static func trace(_ line: String) {
        log.debug("\(line)")
    }

    /// Traces what `db`'s page cache did since the connection opened (`ALLOWANCE_TRACE_SQL=1`): pages found, read from
    /// the file, written, and written early because dirty pages outgrew the cache (spills, written again if touched
    /// again before the commit).
    static func traceCache(_ db: Database, _ what: String) {
        guard tracing else { return }
        func status(_ op: Int32) -> Int32 {
            var current: Int32 = 0
            var highest: Int32 = 0
            sqlite3_db_status(db.sqliteConnection, op, &current, &highest, 0)
            return current
        }
        trace("\(what) page cache: \(status(SQLITE_DBSTATUS_CACHE_HIT)) hits, \(status(SQLITE_DBSTATUS_CACHE_MISS)) misses, "
              + "\(status(SQLITE_DBSTATUS_CACHE_WRITE)) pages written, \(status(SQLITE_DBSTATUS_CACHE_SPILL)) spilled, "
              + "\(status(SQLITE_DBSTATUS_CACHE_USED) / 1_048_576) MB in use")
    }
}

let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// A prepared statement driven through the SQLite C API: the hot paths bind and step it directly, several
/// times faster than binding through argument arrays.
struct FastStatement {
    let statement: Statement
    let handle: OpaquePointer
    let db: Database

    init(_ db: Database, _ sql: String) throws {
        self.statement = try db.cachedStatement(sql: sql)
        self.handle = statement.sqliteStatement
        self.db = db
    }

    func bind(_ index: Int32, _ value: Int64) { sqlite3_bind_int64(handle, index, value) }
    func bind(_ index: Int32, _ value: Int64?) {
        if let value { sqlite3_bind_int64(handle, index, value) } else { sqlite3_bind_null(handle, index) }
    }
    func bind(_ index: Int32, _ value: String) {
        guard !value.isEmpty else { return bind(index, static: "") }
        var value = value
        value.withUTF8 { text in
            _ = text.baseAddress.map { base in
                base.withMemoryRebound(to: CChar.self, capacity: text.count) { sqlite3_bind_text(handle, index, $0, Int32(text.count), sqliteTransient) }
            }
        }
    }
    func bind(_ index: Int32, _ value: String?) {
        if let value { bind(index, value) } else { sqlite3_bind_null(handle, index) }
    }
    /// A literal, bound in place (`SQLITE_STATIC`): SQLite keeps the pointer instead of allocating a copy, which for
    /// the few words a hot insert binds a million times (an outcome, an account, the empty text) was a malloc each.
    func bind(_ index: Int32, static value: StaticString) {
        value.withUTF8Buffer { text in
            _ = text.baseAddress.map { base in
                base.withMemoryRebound(to: CChar.self, capacity: text.count) { sqlite3_bind_text(handle, index, $0, Int32(text.count), nil) }
            }
        }
    }
    /// Text bound in place (`SQLITE_STATIC`): `text` must stay valid and unchanged until the statement has run, which
    /// resets and clears its bindings. The empty text binds as such even without a buffer.
    func bind(_ index: Int32, inPlace text: UnsafeBufferPointer<UInt8>) {
        guard let base = text.baseAddress, !text.isEmpty else { return bind(index, static: "") }
        _ = base.withMemoryRebound(to: CChar.self, capacity: text.count) { sqlite3_bind_text(handle, index, $0, Int32(text.count), nil) }
    }
    func bind(_ index: Int32, _ value: (some StaticText)?) {
        if let value { bind(index, static: value.staticText) } else { sqlite3_bind_null(handle, index) }
    }

    /// Steps once; true when a row is available.
    @discardableResult
    func step() throws -> Bool {
        let code = sqlite3_step(handle)
        switch code {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let message = String(cString: sqlite3_errmsg(db.sqliteConnection))
            sqlite3_reset(handle)
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message)
        }
    }

    /// Runs an insert or update to completion and resets for the next use.
    func run() throws {
        defer { reset() }
        while try step() {}
    }

    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Resets for the next use with the parameters still bound, for a loop that binds the same few values once.
    func resetKeepingBindings() {
        sqlite3_reset(handle)
    }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }
    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }
    func type(_ column: Int32) -> Int32 { sqlite3_column_type(handle, column) }
    func int64OrNil(_ column: Int32) -> Int64? { isNull(column) ? nil : int64(column) }
    func string(_ column: Int32) -> String {
        guard let text = sqlite3_column_text(handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }
    func stringOrNil(_ column: Int32) -> String? { isNull(column) ? nil : string(column) }
    /// A blob column's bytes, valid only inside `body`; empty for NULL.
    func withBlob<R>(_ column: Int32, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let count = Int(sqlite3_column_bytes(handle, column))
        return try body(UnsafeRawBufferPointer(start: sqlite3_column_blob(handle, column), count: count))
    }
    /// A blob column in hexadecimal; `-` for NULL (which no digest is).
    func blobHex(_ column: Int32) -> String {
        isNull(column) ? "-" : withBlob(column) { Hex.encode(Array($0)) }
    }
    /// A text column's bytes, valid only inside `body`; empty for NULL.
    func withText<R>(_ column: Int32, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        guard let text = sqlite3_column_text(handle, column) else { return body(UnsafeBufferPointer(start: nil, count: 0)) }
        return body(UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(handle, column))))
    }

    /// A text column's bytes, valid until the statement steps or resets; empty for NULL. For loops that must not
    /// capture their buffers in closures.
    func bytes(_ column: Int32) -> UnsafeBufferPointer<UInt8> {
        guard let text = sqlite3_column_text(handle, column) else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(handle, column)))
    }

    /// A text column of ASCII digits read as a number without building a string; 0 for NULL.
    func digitsAsUInt64(_ column: Int32) -> UInt64 {
        guard let text = sqlite3_column_text(handle, column) else { return 0 }
        var number: UInt64 = 0
        for offset in 0..<Int(sqlite3_column_bytes(handle, column)) { number = number &* 10 &+ UInt64(text[offset] &- 0x30) }
        return number
    }
}


extension Database {
    var lastChanges: Int { Int(sqlite3_changes(sqliteConnection)) }
}

/// The distinct texts of a column with few of them (months, communes, categories, carriers), each numbered the first
/// time it is seen: a million rows then build a few hundred strings and hash bytes instead of strings.
struct InternedTexts {
    private(set) var texts: [String] = []
    /// Each text's bytes, compared with a row's by `memcmp` (comparing a String's UTF-8 view with them element by
    /// element cost more than the rest of the look-up).
    private var textBytes: [[UInt8]] = []
    private var byHash: [UInt64: Int] = [:]
    private var byText: [String: Int] = [:]

    /// The number of the statement's text in `column` (an empty text for NULL).
    mutating func number(_ statement: FastStatement, _ column: Int32) -> Int {
        statement.withText(column) { bytes in
            // FNV-1a; on the rare collision the text is looked up by value.
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325
            for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
            if let known = byHash[hash], textBytes[known].count == bytes.count,
               bytes.isEmpty || textBytes[known].withUnsafeBufferPointer({ memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0 }) {
                return known
            }
            let text = String(decoding: bytes, as: UTF8.self)
            let number = number(of: text)
            byHash[hash] = number
            return number
        }
    }

    /// The number of `text`, numbering it if it is new.
    mutating func number(of text: String) -> Int {
        if let known = byText[text] { return known }
        texts.append(text)
        textBytes.append(Array(text.utf8))
        byText[text] = texts.count - 1
        return texts.count - 1
    }
}

extension Store {
    /// Whether the ledger was created with its clock set from outside (`ALLOWANCE_NOW`: tests, the demo, benchmarks).
    package func allowsSetClock() throws -> Bool {
        try read { db in try String.fetchOne(db, sql: "SELECT value FROM setting WHERE key = 'clock'") == "set" }
    }

    /// Records, on a ledger just created, that its clock is set from outside.
    package func allowSetClock() throws {
        try write { db in
            try db.execute(sql: "INSERT INTO setting(key, value) VALUES ('clock', 'set') ON CONFLICT(key) DO UPDATE SET value = excluded.value")
        }
    }
}
