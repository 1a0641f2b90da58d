import AllowanceLedger
import GRDB
import GRDBSQLite

/// A whole ledger read for `store copy`, from one read transaction: its tables, their columns, and each table's rows
/// in PostgreSQL's COPY text format (`CopyText`), a chunk at a time, so that memory stays flat however big the ledger.
package final class LedgerDump {
    let db: Database

    init(db: Database) { self.db = db }

    /// The ledger's tables, SQLite's and GRDB's own left out.
    package func tables() throws -> [String] {
        try String.fetchAll(db, sql: """
            SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'grdb_migrations' ORDER BY name
            """)
    }

    package func columns(of table: String) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?) ORDER BY cid", arguments: [table])
    }

    /// The table's rows as COPY text of `columns`, in primary-key order (a chain's links go in as they were made).
    package func rows(of table: String, columns: [String], chunkBytes: Int = 1 << 20) throws -> LedgerDumpRows {
        let list = columns.map { "\"\($0)\"" }.joined(separator: ", ")
        let rowid = try Bool.fetchOne(db, sql: "SELECT NOT EXISTS (SELECT 1 FROM sqlite_master WHERE name = ? AND sql LIKE '%WITHOUT ROWID%')",
                                      arguments: [table]) ?? true
        let statement = try FastStatement(db, "SELECT \(list) FROM \"\(table)\"\(rowid ? " ORDER BY rowid" : "")")
        return LedgerDumpRows(statement, table: table, columns: Int32(columns.count), chunkBytes: chunkBytes)
    }

    /// The accounts' chart as `code name kind` lines.
    package func ledgerAccounts() throws -> [String] {
        try String.fetchAll(db, sql: "SELECT code || ' ' || name || ' ' || kind FROM ledger_account ORDER BY code")
    }

    /// The hashes the two chains end at, as the tables holding them record.
    package func heads() throws -> (journal: String, register: String?) {
        (try String.fetchOne(db, sql: "SELECT hash FROM journal_head WHERE singleton = 1") ?? ChainEncoding.genesis,
         try String.fetchOne(db, sql: "SELECT hash FROM register_head WHERE singleton = 1"))
    }
}

/// One table's rows as COPY text, read on demand.
package final class LedgerDumpRows {
    private let statement: FastStatement
    private let table: String
    private let columns: Int32
    private let chunkBytes: Int
    private var done = false
    /// Rows read so far.
    package private(set) var count = 0

    init(_ statement: FastStatement, table: String, columns: Int32, chunkBytes: Int) {
        self.statement = statement
        self.table = table
        self.columns = columns
        self.chunkBytes = chunkBytes
    }

    /// The next chunk of whole rows, or nil after the last.
    package func next() throws -> [UInt8]? {
        guard !done else { return nil }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(chunkBytes + 4096)
        while buffer.count < chunkBytes {
            guard try statement.step() else {
                done = true
                statement.reset()
                break
            }
            count += 1
            for column in 0..<columns {
                if column > 0 { buffer.append(0x09) }
                switch statement.type(column) {
                case SQLITE_NULL: CopyText.appendNull(to: &buffer)
                case SQLITE_INTEGER: CopyText.appendInteger(statement.int64(column), to: &buffer)
                case SQLITE_BLOB: statement.withBlob(column) { CopyText.appendBytes($0, to: &buffer) }
                case SQLITE_TEXT: statement.withText(column) { CopyText.appendField($0, to: &buffer) }
                default:
                    // No column of the ledger holds a floating-point number; one written by hand would not survive a copy.
                    throw DatabaseError(resultCode: .SQLITE_MISMATCH, message: """
                        \(table) holds a floating-point number in column \(column + 1), which no ledger column holds: the file was \
                        edited by hand; restore it from a copy
                        """)
                }
            }
            buffer.append(0x0A)
        }
        return buffer.isEmpty && done ? nil : buffer
    }
}

extension Store {
    /// Reads the ledger for a copy, all of it in one read transaction.
    package func dump<T>(_ body: (LedgerDump) throws -> T) throws -> T {
        try read { try body(LedgerDump(db: $0)) }
    }
}
