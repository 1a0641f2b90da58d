import AllowanceLedger
import Foundation

/// A ledger on a PostgreSQL server: one connection, its schema brought up to date on open. Each `read` or `write`
/// is one transaction; a write that appends to the journal holds the journal's lock until it commits, so that
/// officers in several processes append one after another and the chain never forks.
public final class PostgresStore: @unchecked Sendable {
    public let location: PostgresLocation
    public let clock: Clock
    let connection: PGConnection
    /// One transaction at a time on the connection; callers in several threads queue here.
    private let lock = NSLock()

    /// The advisory lock every journal append takes, held to the end of its transaction (`pg_advisory_xact_lock`).
    /// Migrations use 7220231.
    static let journalLock: Int64 = 7_220_232

    /// Takes the journal's lock until the transaction ends; taking it again in the same transaction is a no-op wait.
    /// Writes run in READ COMMITTED, where each statement after the lock sees what the previous holder committed; under
    /// REPEATABLE READ or SERIALIZABLE the snapshot would be taken before the wait and two writers could chain to the
    /// same head.
    static func lockJournal(_ db: PGConnection) throws {
        try db.query("SELECT pg_advisory_xact_lock($1::bigint)", [String(journalLock)])
    }

    public init(_ location: PostgresLocation, clock: Clock) throws {
        self.location = location
        self.clock = clock
        connection = try PGConnection(location)
        try PostgresSchema.migrate(connection)
    }

    /// One read-only transaction over one snapshot (REPEATABLE READ): what it reads is consistent however long it runs.
    func read<T>(_ body: (PGConnection) throws -> T) throws -> T {
        try lock.withLock {
            try connection.transaction(isolation: "REPEATABLE READ, READ ONLY") { try body(connection) }
        }
    }

    /// One read-write transaction: all of `body`'s writes commit, or none. READ COMMITTED, which the journal's lock
    /// relies on (`lockJournal`).
    func write<T>(_ body: (PGConnection) throws -> T) throws -> T {
        try lock.withLock {
            try connection.transaction(isolation: "READ COMMITTED") { try body(connection) }
        }
    }

    /// The journal of this ledger.
    public var journal: Journal { Journal(storage: PostgresStorage(store: self), clock: clock) }
}

/// Every feature's storage on one PostgreSQL ledger, as `SQLiteStorage` is on a file.
struct PostgresStorage: Sendable {
    let store: PostgresStore
}

/// The journal's reads and writes inside one PostgreSQL transaction.
struct PostgresTransaction {
    let db: PGConnection
}
