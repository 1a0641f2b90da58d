import AllowanceLedger
import GRDB
import Reconcile

/// Every feature's storage on one ledger file (`Store`): each feature's `read`, `write` and `writeBulk` open a
/// transaction on the store and hand it the one `SQLiteTransaction`, which holds every feature's statements.
struct SQLiteStorage: Sendable {
    let store: Store

    private func inRead<T>(_ body: (SQLiteTransaction) throws -> T) throws -> T {
        try store.read { try body(SQLiteTransaction(db: $0)) }
    }

    private func inWrite<T>(_ body: (SQLiteTransaction) throws -> T) throws -> T {
        try store.write { try body(SQLiteTransaction(db: $0)) }
    }

    /// For bulk writes whose every key was read in the transaction: a register import's categories and carriers, a
    /// batch's items and credits, a reconciled file's lines and postings. SQLite's per-row key look-ups would cost one
    /// to two seconds per million rows and could not fail.
    private func inBulk<T>(_ body: (SQLiteTransaction) throws -> T) throws -> T {
        try store.writeWithKeysFromTransaction { try body(SQLiteTransaction(db: $0)) }
    }
}

extension SQLiteStorage: RegistryStorage {
    func read<T>(_ body: (any RegistryTransaction) throws -> T) throws -> T { try inRead { try body($0) } }
    func write<T>(_ body: (any RegistryTransaction) throws -> T) throws -> T { try inWrite { try body($0) } }
    func writeBulk<T>(_ body: (any RegistryTransaction) throws -> T) throws -> T { try inBulk { try body($0) } }
}

extension SQLiteStorage: PayoutsStorage {
    func read<T>(_ body: (any PayoutsTransaction) throws -> T) throws -> T { try inRead { try body($0) } }
    func write<T>(_ body: (any PayoutsTransaction) throws -> T) throws -> T { try inWrite { try body($0) } }
    func writeBulk<T>(_ body: (any PayoutsTransaction) throws -> T) throws -> T { try inBulk { try body($0) } }
}

extension SQLiteStorage: JournalStorage {
    func read<T>(_ body: (any JournalTransaction) throws -> T) throws -> T { try inRead { try body($0) } }
    func write<T>(_ body: (any JournalTransaction) throws -> T) throws -> T { try inWrite { try body($0) } }
    func verify(progress: ((Int) -> Void)?) throws -> LedgerVerification { try store.verifyLedger(progress: progress) }
}

extension SQLiteStorage: ReconcileStorage {
    func read<T>(_ body: (any ReconcileTransaction) throws -> T) throws -> T { try inRead { try body($0) } }
    func writeBulk<T>(_ body: (any ReconcileTransaction) throws -> T) throws -> T { try inBulk { try body($0) } }
}

extension Store {
    /// The register on this ledger.
    public var registry: Registry { Registry(storage: SQLiteStorage(store: self), clock: clock) }
    /// Payouts on this ledger.
    public var payouts: Payouts { Payouts(storage: SQLiteStorage(store: self), clock: clock) }
    /// The journal of this ledger.
    public var journal: Journal { Journal(storage: SQLiteStorage(store: self), clock: clock) }
    /// Reconciliation on this ledger.
    public var reconciliation: Reconciliation { Reconciliation(storage: SQLiteStorage(store: self), clock: clock) }
    /// Reports on this ledger.
    public var reports: Reports { Reports(storage: SQLiteStorage(store: self)) }
    /// Audits on this ledger.
    public var audit: Audit { Audit(storage: SQLiteStorage(store: self), clock: clock) }
    /// The web application's accounts, sessions and activity log on this ledger.
    public var accounts: Accounts { Accounts(storage: SQLiteStorage(store: self), clock: clock) }
}
