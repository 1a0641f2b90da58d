import AllowanceLedger
import Foundation
import LedgerPostgres
import LedgerSQLite

/// `allowance store copy`: an office's ledger file moved to a PostgreSQL server whole, in one transaction on the
/// server, read from one snapshot of the file. The target must be empty; the copy ends with the journal's checks on
/// the server, whose head must be the file's, and the register chain's head compared the same way.
public enum StoreCopy {
    public struct Result: Sendable, Equatable {
        /// Rows copied per table, in the order they went in.
        public let tables: [(name: String, rows: Int)]
        public let journalHead: String
        public let registerHead: String?
        /// The server as shown (its password masked).
        public let server: String
        public let entries: Int
        public let postings: Int

        public static func == (a: Result, b: Result) -> Bool {
            a.tables.map(\.name) == b.tables.map(\.name) && a.tables.map(\.rows) == b.tables.map(\.rows) && a.journalHead == b.journalHead
                && a.registerHead == b.registerHead && a.entries == b.entries && a.postings == b.postings
        }
    }

    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case noLedger(String)
        case notEmpty(server: String, tables: [String])
        case unknownTable(String)
        case columnsMissing(table: String, columns: [String])
        case chartDiffers
        case rowsDiffer(table: String, file: Int, server: Int)
        case headDiffers(chain: String, file: String, server: String)
        case serverFindings([String])
        case fileFindings(path: String, problems: [String])
        case otherTables(server: String, tables: [String])
        case notAServer(String)
        case server(location: String, reason: String)

        public var description: String {
            switch self {
            case .noLedger(let path): "no ledger at \(path) (no such SQLite file): give --from the path of an existing ledger file"
            case .notEmpty(let server, let tables):
                "\(server) already holds a ledger (\(tables.prefix(3).joined(separator: ", ")) hold rows); copy into a new, empty database"
            case .unknownTable(let table):
                "the file's table \(table) has no place on the server: this version's copy does not know it; nothing was copied"
            case .columnsMissing(let table, let columns):
                "the server's \(table) lacks the file's column(s) \(columns.joined(separator: ", ")); nothing was copied"
            case .chartDiffers: "the file's chart of accounts differs from the server's; nothing was copied"
            case .rowsDiffer(let table, let file, let server):
                "\(table): \(file) row(s) read from the file but \(server) on the server; nothing was copied"
            case .headDiffers(let chain, let file, let server):
                "the \(chain) chain ends at \(server) on the server but \(file) in the file; nothing was copied"
            case .notAServer(let text):
                "--to \(text) is not a PostgreSQL URI: give postgresql://USER@HOST/DATABASE (or …?host=/socket/folder)"
            case .server(let location, let reason): "the copy to \(location) failed, nothing was copied: \(reason)"
            case .fileFindings(let path, let problems):
                "\(path) does not verify (\(problems.prefix(3).joined(separator: "; "))); nothing was copied: run `allowance ledger verify --db \(path)`"
            case .otherTables(let server, let tables):
                "\(server) holds other tables (\(tables.prefix(3).joined(separator: ", "))) and no ledger; copy into a new, empty database"
            case .serverFindings(let problems):
                "the copied journal does not verify on the server (\(problems.prefix(3).joined(separator: "; "))); nothing was copied"
            }
        }
    }

    /// Copies the ledger file at `path` to the empty database at `location`. `progress` hears each table as it starts.
    public static func copy(from path: String, to target: String, progress: ((String) -> Void)? = nil) throws -> Result {
        guard let location = PostgresLocation(target) else { throw Failure.notAServer(target) }
        // An SQLite file begins with these 16 bytes; opening anything else would make a new ledger of it.
        let handle = FileHandle(forReadingAtPath: path)
        let header = try handle?.read(upToCount: 16)
        try handle?.close()
        guard let header, header.elementsEqual(Array("SQLite format 3\0".utf8)) else { throw Failure.noLedger(path) }
        do {
            return try copy(from: path, to: location, progress: progress)
        } catch let error as PGError {
            throw Failure.server(location: location.description, reason: error.description)
        }
    }

    private static func copy(from path: String, to location: PostgresLocation, progress: ((String) -> Void)?) throws -> Result {
        let server = try PostgresLoad(location)
        let others = try server.otherTables()
        guard others.isEmpty else { throw Failure.otherTables(server: location.description, tables: others) }
        let file = try Store(path: path)
        // The whole file first, journal, items and register chain: what goes to the server is a ledger that verifies.
        let checked = try file.journal.verify()
        guard checked.isIntact else { throw Failure.fileFindings(path: path, problems: checked.problems.map(\.description)) }
        try server.migrate()
        return try file.dump { dump in
            let tables = try dump.tables()
            if let unknown = tables.first(where: { !PostgresLoad.order.contains($0) && !PostgresLoad.derived.contains($0) }) {
                throw Failure.unknownTable(unknown)
            }
            let heads = try dump.heads()
            return try server.transaction {
                let filled = try server.tablesWithRows(PostgresLoad.order.filter { PostgresLoad.seeded[$0] == nil })
                guard filled.isEmpty else { throw Failure.notEmpty(server: location.description, tables: filled) }
                guard try dump.ledgerAccounts() == server.ledgerAccounts() else { throw Failure.chartDiffers }
                var copied: [(name: String, rows: Int)] = []
                for table in PostgresLoad.order where tables.contains(table) {
                    progress?(table)
                    let columns = try dump.columns(of: table)
                    let onServer = Set(try server.columns(of: table))
                    let missing = columns.filter { !onServer.contains($0) }
                    guard missing.isEmpty else { throw Failure.columnsMissing(table: table, columns: missing) }
                    let rows = try dump.rows(of: table, columns: columns)
                    try server.copy(table, columns: columns, rows.next)
                    let arrived = try server.count(table)
                    guard arrived == rows.count else { throw Failure.rowsDiffer(table: table, file: rows.count, server: arrived) }
                    copied.append((table, rows.count))
                }
                try server.advanceSequences()
                try server.analyze()
                let verification = try server.verifyJournal()
                guard verification.problems.isEmpty else { throw Failure.serverFindings(verification.problems.map(\.description)) }
                guard verification.headHash == heads.journal else {
                    throw Failure.headDiffers(chain: "journal", file: heads.journal, server: verification.headHash)
                }
                let registerHead = try server.registerHeadHash()
                guard registerHead == heads.register else {
                    throw Failure.headDiffers(chain: "register", file: heads.register ?? "none", server: registerHead ?? "none")
                }
                return Result(tables: copied, journalHead: verification.headHash, registerHead: registerHead, server: location.description,
                              entries: verification.entries, postings: verification.postings)
            }
        }
    }
}
