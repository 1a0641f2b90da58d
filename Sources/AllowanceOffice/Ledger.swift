import AllowanceLedger
#if canImport(Glibc)
import Glibc
#endif
import LedgerPostgres
import LedgerSQLite
import Reconcile

/// One open ledger and its services: what the CLI (and a server) holds. Which backend keeps the ledger is decided here,
/// from its location, and nowhere else; the services do not know.
public struct Ledger: Sendable {
    /// Where the ledger is, as the user gave it: a file path for SQLite.
    public let location: String
    public let clock: Clock
    public let registry: Registry
    public let payouts: Payouts
    public let journal: Journal
    public let reports: Reports
    public let audit: Audit
    public let reconciliation: Reconciliation
    public let accounts: Accounts
    private let store: Store

    private init(store: Store) {
        self.store = store
        location = store.path
        clock = store.clock
        registry = store.registry
        payouts = store.payouts
        journal = store.journal
        reports = store.reports
        audit = store.audit
        reconciliation = store.reconciliation
        accounts = store.accounts
    }

    /// Opens the ledger at `location`, creating it when missing, and brings its schema up to date.
    ///
    /// `clockIsSet` says the clock comes from outside the machine's (`ALLOWANCE_NOW`). That is for a ledger created
    /// so (tests, the demo, benchmarks) and refused on any other: a live ledger's entries are dated by the machine.
    public static func open(_ location: String, clock: Clock = .system, clockIsSet: Bool = false) throws -> Ledger {
        // A server's ledger is not a file: no SQLite file is made at a path that reads `postgresql:/…`.
        if let server = PostgresLocation(location) { throw LedgerOpenError.postgresNotYet(server.description) }
        var info = stat()
        let existed = lstat(location, &info) == 0
        let store = try Store(path: location, clock: clock)
        if clockIsSet {
            if !existed {
                try store.allowSetClock()
            } else if try !store.allowsSetClock() {
                throw LedgerOpenError.clockSetOnLiveLedger(location)
            }
        }
        return Ledger(store: store)
    }

    /// Writes a synthetic carrier result file for a batch (the demo, tests, benchmarks).
    public func writeResults(_ generator: ResultGenerator, batch: BatchID, to path: String) throws -> ResultGenerator.Summary {
        try generator.write(store: store, batch: batch, to: path)
    }

    /// Fixes the ledger's pseudonym secret, which is otherwise random: only for the fuzz targets' reproducible exports.
    package func setPseudonymSecret(_ secret: [UInt8]) throws {
        try store.setPseudonymSecret(secret)
    }

    /// What a user can do about an error the storage raised, when there is something: a lock another process held past
    /// the busy timeout. Nil for any other error.
    public static func hint(for error: any Error) -> String? {
        let text = String(describing: error)
        guard String(reflecting: type(of: error)).hasPrefix("GRDB."), text.contains("database is locked") || text.contains("SQLITE_BUSY") else {
            return nil
        }
        return "the ledger stayed locked by another process for \(Int(Store.busyTimeoutSeconds)) s; try again when it finishes (\(text))"
    }
}

public enum LedgerOpenError: Error, Sendable, Equatable, CustomStringConvertible {
    case clockSetOnLiveLedger(String)
    case postgresNotYet(String)

    public var description: String {
        switch self {
        case .clockSetOnLiveLedger(let location):
            "ALLOWANCE_NOW sets the clock only on a ledger created with it (tests, the demo, benchmarks); \(location) was not: unset ALLOWANCE_NOW"
        case .postgresNotYet(let location):
            "\(location) is a PostgreSQL server; this version's commands keep a ledger in an SQLite file only (the PostgreSQL backend is being built; `allowance store copy` already moves a ledger file to a server): give --db a file path"
        }
    }
}
