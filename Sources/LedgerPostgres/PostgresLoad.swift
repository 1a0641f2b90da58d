import AllowanceLedger

/// Loads a whole ledger into an empty server database inside one transaction (`store copy`): each table's rows by
/// COPY in an order that keeps every key, then the journal's own checks on what arrived.
public final class PostgresLoad {
    let db: PGConnection

    /// Tables in the order they go in: every table after those its keys name. The chains' heads are not copied: the
    /// server's triggers move them as entries and links arrive, and they must come out where the file's were.
    public static let order = [
        "carrier", "carrier_alias", "programme", "category", "base_level", "category_rate", "commune", "commune_replacement",
        "setting", "setting_event", "register_import", "beneficiary", "beneficiary_event", "beneficiary_seal", "register_link",
        "flag", "batch", "batch_item", "batch_hold", "item_state", "journal_entry", "posting", "result_file", "result_line",
        "audit_export", "disclosure", "operator_log", "account", "session", "activity",
    ]
    /// What a file holds that the server makes itself: the accounts' chart (seeded by the schema, compared, not
    /// copied), the chains' heads (moved by triggers) and the postings' item table (an index on the server).
    public static let derived: Set<String> = ["ledger_account", "journal_head", "register_head", "posting_item"]

    /// Tables the schema seeds (the carriers), by their key: the file's rows replace the seeded ones of the same key.
    public static let seeded: [String: String] = ["carrier": "code"]

    /// Connects; nothing is written until `migrate`.
    public init(_ location: PostgresLocation) throws {
        db = try PGConnection(location)
    }

    /// The database's tables when it holds some but no ledger's schema (another application's database, or the
    /// `postgres` one), which a copy must leave alone; empty otherwise.
    public func otherTables() throws -> [String] {
        let tables = try db.query("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1").map { $0[0]! }
        return tables.contains("schema_migration") ? [] : tables
    }

    /// Brings the schema up to date, each migration in its own transaction.
    public func migrate() throws {
        try PostgresSchema.migrate(db)
    }

    /// The copy's one transaction: every table it fills locked against other writers (EXCLUSIVE: they may still be
    /// read) until it commits, so that what it found empty and what it counted stay so.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try db.transaction(isolation: "READ COMMITTED") {
            try PostgresStore.lockJournal(db)
            try db.execute("LOCK TABLE \(Self.order.map { "\"\($0)\"" }.joined(separator: ", ")) IN EXCLUSIVE MODE")
            return try body()
        }
    }

    /// The tables among `tables` that already hold rows.
    public func tablesWithRows(_ tables: [String]) throws -> [String] {
        try tables.filter { try !db.query("SELECT 1 FROM \"\($0)\" LIMIT 1").isEmpty }
    }

    /// The server's columns of `table`; empty when it has no such table.
    public func columns(of table: String) throws -> [String] {
        try db.query("""
            SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position
            """, [table]).map { $0[0]! }
    }

    /// The accounts' chart as `code name kind` lines, to compare with the file's.
    public func ledgerAccounts() throws -> [String] {
        try db.query("SELECT code || ' ' || name || ' ' || kind FROM ledger_account ORDER BY code").map { $0[0]! }
    }

    /// Streams rows (COPY text chunks from `next`) into the table's `columns`.
    public func copy(_ table: String, columns: [String], _ next: () throws -> [UInt8]?) throws {
        let list = columns.map { "\"\($0)\"" }.joined(separator: ", ")
        guard let key = Self.seeded[table] else {
            try db.copyIn("COPY \"\(table)\"(\(list)) FROM STDIN", next)
            return
        }
        // Through a scratch table of the same shape, then in over the seeded rows.
        let scratch = "copy_\(table)"
        try db.execute("CREATE TEMPORARY TABLE \(scratch) (LIKE \"\(table)\") ON COMMIT DROP")
        try db.copyIn("COPY \(scratch)(\(list)) FROM STDIN", next)
        let updates = columns.filter { $0 != key }.map { "\"\($0)\" = EXCLUDED.\"\($0)\"" }.joined(separator: ", ")
        try db.execute("""
            INSERT INTO \"\(table)\"(\(list)) SELECT \(list) FROM \(scratch)
            ON CONFLICT (\"\(key)\") DO \(updates.isEmpty ? "NOTHING" : "UPDATE SET \(updates)")
            """)
    }

    /// Moves each server-numbered table's sequence past the ids copied, so that the next row written gets the next id.
    public func advanceSequences() throws {
        for table in PostgresSchema.autoNumbered {
            try db.query("SELECT setval(pg_get_serial_sequence($1, 'id'), COALESCE((SELECT MAX(id) FROM \"\(table)\"), 0) + 1, false)", [table])
        }
    }

    /// The planner's statistics of every table, which a bulk load leaves empty: without them a report over a million
    /// items is planned as if the tables were small.
    public func analyze() throws {
        try db.execute("ANALYZE")
    }

    public func count(_ table: String) throws -> Int {
        Int(try db.query("SELECT COUNT(*) FROM \"\(table)\"")[0][0]!)!
    }

    /// The journal's checks on what arrived, in the copy's transaction.
    public func verifyJournal() throws -> LedgerVerification {
        try PostgresTransaction(db: db).verifyJournal(progress: nil)
    }

    /// The register chain's last link's hash, as the server's head records it.
    public func registerHeadHash() throws -> String? {
        try db.query("SELECT hash FROM register_head WHERE singleton = 1").first?[0] ?? nil
    }
}
