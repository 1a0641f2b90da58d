import AllowanceLedger

/// What reconciliation needs of a ledger's storage: a backend implements it, the `Reconciliation` service calls it.
package protocol ReconcileStorage: Sendable {
    func read<T>(_ body: (any ReconcileTransaction) throws -> T) throws -> T
    /// One transaction for a whole file, its lines' keys (items) read in it: a backend may skip checking them row by row.
    func writeBulk<T>(_ body: (any ReconcileTransaction) throws -> T) throws -> T
}

/// Reconciliation's reads and writes inside one transaction.
package protocol ReconcileTransaction {
    /// The batch, or `BatchError.notFound`.
    func batch(_ id: BatchID) throws -> Batch
    /// The file reconciled against the batch before with the same bytes and the same profile rules.
    func resultFile(batch: BatchID, sha256: String, profileSHA256: String) throws -> ResultFileRecord?
    /// Per outcome, the lines of a stored file and their amounts (an unreadable line's only when it reads as a payment);
    /// and how many duplicates conflicted.
    func lineTotals(file: Int64) throws -> (totals: OutcomeTotals, conflictingDuplicates: Int)
    /// What the paid lines of a stored file settled.
    func settledAmount(file: Int64) throws -> Money
    /// Mobile-money items whose funds went to the carrier and that no result line has named.
    func missingItems(batch: BatchID) throws -> (count: Int, amount: Int64)
    /// The batch's carrier clearing per carrier: sent, less paid out and returned.
    func clearingOpen(batch: BatchID) throws -> [String: Money]
    func insertResultFile(batch: BatchID, _ file: ResultFileInfo, at: Timestamp, by: UserName) throws -> Int64
    func setLineCount(file: Int64, lines: Int) throws
    /// The batch's items as the matcher needs them, with what earlier files did to them. A backend may read a large
    /// batch's items in parts at once; `splitLoadFrom` overrides from how many items (tests), nil leaves it to the backend.
    func loadItems(batch: Batch, splitLoadFrom: Int?) throws -> ReconcileItems
    /// Starts the file's settlement entry and the statements that store its lines.
    func lineWriter(items: ReconcileItems, fileID: Int64, at: Timestamp, by: UserName, memo: String) throws -> any ResultLineWriter
    /// A note for a profiler about the storage's caches (`allowance.sql` at debug level).
    func trace(_ label: String)

    /// The lines of one file (or every file of the batch), in file and line order, then, when asked, the items no
    /// readable line has named; only the exceptions when `exceptionsOnly`.
    func reportRows(batch: BatchID, fileID: Int64?, includeMissing: Bool, exceptionsOnly: Bool, limit: Int?,
                    _ body: (ReconcileReportRow) throws -> Void) throws
    func resultFiles(batch: BatchID) throws -> [ResultFileRecord]
    func status(of batch: Batch) throws -> ReconcileStatus
}

/// Stores one file's recorded lines and their legs on the transaction's thread, then posts the entry.
package protocol ResultLineWriter: AnyObject {
    /// The entry's hasher, which the session's matching half feeds with the item legs in leg order.
    var hasher: ChainHasher { get }
    /// Inserts the lines and the item legs of their effects (`ReconciliationSession.forEachLeg`), in order.
    func store(_ recorded: ReconciliationSession.RecordedLines) throws
    /// Once every line is stored: appends the clearing legs, checks and writes the entry (none when the file moved
    /// nothing), and records the state of every item the file moved.
    func finish(session: ReconciliationSession) throws -> [JournalEntryID]
}
