/// The journal's part of a ledger's storage, inside one transaction: entries are appended after the head, never
/// changed. A backend keeps the chain (each entry's hash covers the previous one's, `ChainEncoding`).
package protocol JournalTransaction {
    /// Starts the entry after the journal's head. Postings go in through the appender; its `finish` checks the balance
    /// and writes the header, and throwing there rolls back the whole transaction.
    func journalEntry(at: Timestamp, kind: EntryKind, key: String, batch: BatchID?, by: UserName, memo: String) throws
        -> any JournalAppender
    /// The entry recorded under an idempotency key, with its first leg's amount.
    func entry(key: String) throws -> (id: JournalEntryID, firstLegAmount: Money)?
    /// How many entries of `kind` name the batch.
    func entryCount(batch: BatchID, kind: EntryKind) throws -> Int
    /// The chain's head: its last entry, that entry's hash, and how many entries there are.
    func head() throws -> AuditManifest.Journal
    /// The hash the journal holds for an entry, or nil when there is no such entry.
    func entryHash(id: Int64) throws -> String?
    /// The register chain's last link and its hash; nil before any link.
    func registerHead() throws -> RegisterHead?
    /// The hash the register chain holds for a link, or nil when there is no such link.
    func registerLinkHash(id: Int64) throws -> String?
    /// The net of every posting to the account (debits positive).
    func balance(of account: LedgerAccount) throws -> Money
    /// Per account and sub-account, up to (not including) `before`, or for one beneficiary's items.
    func balances(before: Timestamp?, beneficiary: BeneficiaryID?) throws -> [AccountBalance]
}

/// One journal entry being written. An entry of a million postings never sits in memory: postings go in and are
/// hashed as they come.
package protocol JournalAppender: AnyObject {
    func append(_ posting: Posting) throws
    /// Credits each item of a batch to the beneficiary payable (Cr 2000, one leg per item, in item order), from the
    /// items the caller read in this transaction (`read`, in seq order).
    func appendItemCredits(batch: BatchID, read: [PayableLeg]) throws
    /// Debits the payable of each item a retry batch takes over (Dr 2000 on the original item, one leg per retry
    /// item, in item order): the amount was owed already, so a retry moves the debt instead of spending twice.
    func appendRetryCarryOver(batch: BatchID) throws
    @discardableResult
    func finish() throws -> JournalEntryID
}

/// An item's payable leg as the caller read it: its beneficiary, the item and the amount.
package struct PayableLeg: Sendable {
    package let beneficiary: Int64
    package let item: Int64
    package let amount: Int64

    package init(beneficiary: Int64, item: Int64, amount: Int64) {
        self.beneficiary = beneficiary
        self.item = item
        self.amount = amount
    }
}

extension JournalTransaction {
    /// Appends one entry of a few postings.
    @discardableResult
    package func post(at: Timestamp, kind: EntryKind, key: String, batch: BatchID?, by: UserName, memo: String,
                      postings: [Posting]) throws -> JournalEntryID {
        let entry = try journalEntry(at: at, kind: kind, key: key, batch: batch, by: by, memo: memo)
        for posting in postings { try entry.append(posting) }
        return try entry.finish()
    }
}
