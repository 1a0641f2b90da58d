import AllowanceLedger
import GRDB

/// Appends one entry: postings are inserted and hashed as they come, the header (with the hash) last, all
/// inside the caller's transaction. An entry of a million postings never sits in memory.
final class JournalWriter: JournalAppender {
    let db: Database
    let id: Int64
    let at: String
    let kind: EntryKind
    let key: String
    let batch: BatchID?
    let by: String
    let memo: String
    let prevHash: String
    /// Every leg's line goes in here in leg order: by `append`, or by the caller before `appendHashed`.
    let hasher: ChainHasher
    private let insertPosting: FastStatement
    private let insertPostings: FastStatement
    /// Appended postings not yet inserted, with their legs: they go in 128 to a statement (one statement per
    /// posting spent a third of each insert starting and finishing the statement).
    private var pending: [(leg: Int64, posting: Posting)] = []
    /// The item legs appended and not yet in `posting_item`, which takes them sorted by item, a run at a time: a
    /// carrier's file names its items in any order, and keys inserted at random cost a cache miss each (v18).
    private var itemLegs: [ItemLeg] = []
    private struct ItemLeg: Comparable {
        let item: Int64
        let leg: Int64
        static func < (a: ItemLeg, b: ItemLeg) -> Bool { (a.item, a.leg) < (b.item, b.leg) }
    }
    /// 65,536 legs (1 MiB) to a run: consecutive keys of a sorted run of a million-item batch then mostly share an
    /// index page.
    static let itemLegsPerRun = 65_536
    /// Legs to a run; tests shorten it to cross runs with a handful of items.
    var itemLegsPerRun = JournalWriter.itemLegsPerRun
    private var balance = EntryBalance()
    private var leg: Int64 { balance.legs }
    /// Legs appended so far.
    var legCount: Int64 { leg }
    private var finished = false

    init(_ db: Database, at: Timestamp, kind: EntryKind, key: String, batch: BatchID?, by: UserName, memo: String) throws {
        self.db = db
        let last = try Row.fetchOne(db, sql: "SELECT id, hash, at FROM journal_entry ORDER BY id DESC LIMIT 1")
        // Whoever sets the clock back cannot date an entry before the ones already in the chain.
        if let headAt: String = last?[2], let head = try? Timestamp(parsing: headAt), at < head {
            throw LedgerError.beforeJournalHead(now: at.description, head: headAt)
        }
        self.id = (last?[0] as Int64? ?? 0) + 1
        self.prevHash = last?[1] ?? ChainEncoding.genesis
        self.at = at.description
        self.kind = kind
        self.key = key
        self.batch = batch
        self.by = by.value
        self.memo = memo
        self.hasher = ChainHasher(header: ChainEncoding.header(id: id, at: self.at, kind: kind.rawValue, key: key, batch: batch?.rawValue,
                                                               by: by.value, memo: memo, prevHash: prevHash))
        // Postings go in before their header; the foreign key is checked at commit. `OR FAIL`: a failed posting fails the
        // caller's whole transaction, so SQLite need not journal each statement's pages to undo it alone.
        try db.execute(sql: "PRAGMA defer_foreign_keys = ON")
        let insert = "INSERT OR FAIL INTO posting(entry_id, leg, account, sub_account, beneficiary_id, item_id, amount) VALUES "
        let row = "(?, ?, ?, ?, ?, ?, ?)"
        self.insertPosting = try FastStatement(db, insert + row)
        self.insertPostings = try FastStatement(db, insert + Array(repeating: row, count: Self.postingsPerInsert).joined(separator: ", "))
        pending.reserveCapacity(Self.postingsPerInsert)
    }

    /// 128 postings of 7 columns: 896 parameters, within the 999 that SQLite before 3.32 allows.
    static let postingsPerInsert = 128

    func append(_ posting: Posting) throws {
        try appendHashed(posting)
        hasher.posting(leg: leg, posting)
    }

    /// Appends a posting whose line the caller has put in `hasher` already, as leg `leg + 1`.
    func appendHashed(_ posting: Posting) throws {
        precondition(!finished, "entry already finished")
        precondition(posting.beneficiaryID == nil || posting.itemID != nil, "a beneficiary's posting names the item it is for")
        let leg = try balance.add(posting.amount.dong)
        pending.append((leg, posting))
        if pending.count == Self.postingsPerInsert { try flush() }
        if let item = posting.itemID {
            itemLegs.append(ItemLeg(item: item.rawValue, leg: leg))
            if itemLegs.count >= itemLegsPerRun { try flushItemLegs() }
        }
    }

    /// Inserts the buffered item legs into `posting_item`, sorted, 128 to a statement.
    private func flushItemLegs() throws {
        guard !itemLegs.isEmpty else { return }
        defer { itemLegs.removeAll(keepingCapacity: true) }
        itemLegs.sort()
        let insert = "INSERT OR FAIL INTO posting_item(item_id, entry_id, leg) VALUES "
        let perStatement = Self.postingsPerInsert
        func bind(_ statement: FastStatement, _ legs: ArraySlice<ItemLeg>) {
            for (row, one) in legs.enumerated() {
                statement.bind(Int32(3 * row + 1), one.item)
                statement.bind(Int32(3 * row + 2), id)
                statement.bind(Int32(3 * row + 3), one.leg)
            }
        }
        var start = 0
        if itemLegs.count >= perStatement {
            let many = try FastStatement(db, insert + Array(repeating: "(?, ?, ?)", count: perStatement).joined(separator: ", "))
            while itemLegs.count - start >= perStatement {
                bind(many, itemLegs[start..<start + perStatement])
                try many.run()
                start += perStatement
            }
        }
        guard start < itemLegs.count else { return }
        let one = try FastStatement(db, insert + "(?, ?, ?)")
        for index in start..<itemLegs.count {
            bind(one, itemLegs[index...index])
            try one.run()
        }
    }

    /// Inserts the appended postings still buffered.
    private func flush() throws {
        guard !pending.isEmpty else { return }
        defer { pending.removeAll(keepingCapacity: true) }
        if pending.count == Self.postingsPerInsert {
            bind(insertPostings, pending)
            try insertPostings.run()
        } else {
            for one in pending {
                bind(insertPosting, [one])
                try insertPosting.run()
            }
        }
    }

    private func bind(_ statement: FastStatement, _ postings: [(leg: Int64, posting: Posting)]) {
        for (row, (leg, posting)) in postings.enumerated() {
            let base = Int32(row) * 7
            statement.bind(base + 1, id)
            statement.bind(base + 2, leg)
            statement.bind(base + 3, posting.account)
            statement.bind(base + 4, posting.subAccount)
            statement.bind(base + 5, posting.beneficiaryID?.rawValue)
            statement.bind(base + 6, posting.itemID?.rawValue)
            statement.bind(base + 7, posting.amount.dong)
        }
    }

    /// Credits each item of a batch to the beneficiary payable (Cr 2000, one leg per item, in item order), inserted
    /// with one statement and hashed from the items the caller read in this transaction (`read`, in seq order)
    /// instead of reading them again.
    func appendItemCredits(batch: BatchID, read: [PayableLeg]) throws {
        try appendPayableLegs(debit: false, batch: batch, rows: """
            SELECT seq, beneficiary_id, id, amount FROM batch_item WHERE batch_id = ?1
            """, read: read)
    }

    /// Debits the payable of each item a retry batch takes over (Dr 2000 on the original item, one leg per retry
    /// item, in item order): the amount was owed already, so a retry moves the debt instead of spending twice.
    func appendRetryCarryOver(batch: BatchID) throws {
        try appendPayableLegs(debit: true, batch: batch, rows: """
            SELECT r.seq, o.beneficiary_id, o.id, r.amount FROM batch_item r JOIN batch_item o ON o.id = r.retry_of_item WHERE r.batch_id = ?1
            """)
    }

    /// One payable leg per row of `rows` (seq, beneficiary, item, amount; `?1` is the batch), numbered by seq; hashed
    /// from `read` when the caller has those rows already, else from a second read of them.
    private func appendPayableLegs(debit: Bool, batch: BatchID, rows: String, read: [PayableLeg]? = nil) throws {
        precondition(!finished, "entry already finished")
        try flush()
        let first = leg
        let sign: Int64 = debit ? 1 : -1
        try db.execute(sql: """
            INSERT INTO posting(entry_id, leg, account, sub_account, beneficiary_id, item_id, amount)
            SELECT ?2, ?3 + seq, '2000', '', beneficiary_id, id, ?4 * amount FROM (\(rows)) ORDER BY seq
            """, arguments: [batch.rawValue, id, first, sign])
        let inserted = db.lastChanges
        // In leg order, which is item order: a batch's items are numbered in the order they were made.
        try flushItemLegs()
        try db.execute(sql: """
            INSERT INTO posting_item(item_id, entry_id, leg) SELECT item_id, entry_id, leg FROM posting WHERE entry_id = ? AND leg > ?
            """, arguments: [id, first])
        func hash(beneficiary: Int64, item: Int64, amount: Int64) throws {
            // An item's amount is positive; its sign is the leg's.
            guard amount > 0 else { throw LedgerError.zeroAmount }
            let leg = try balance.add(sign * amount)
            hasher.posting(leg: leg, account: LedgerAccount.payable.rawValue, sub: "", beneficiary: beneficiary, item: item, amount: sign * amount)
        }
        if let read {
            // The same transaction read them, so the rows inserted are these; the count says the statement saw them all.
            precondition(inserted == read.count, "the items read are the items credited")
            for one in read { try hash(beneficiary: one.beneficiary, item: one.item, amount: one.amount) }
            return
        }
        let items = try FastStatement(db, "SELECT seq, beneficiary_id, id, amount FROM (\(rows)) ORDER BY seq")
        defer { items.reset() }
        items.bind(1, batch.rawValue)
        while try items.step() {
            precondition(items.int64(0) + first == leg + 1, "batch item seq runs 1, 2, 3, … without gaps")
            try hash(beneficiary: items.int64(1), item: items.int64(2), amount: items.int64(3))
        }
    }

    /// Checks the balance and writes the header; throwing here rolls back the caller's transaction.
    @discardableResult
    func finish() throws -> JournalEntryID {
        precondition(!finished, "entry already finished")
        try flush()
        try flushItemLegs()
        finished = true
        try balance.check()
        let hash = hasher.finalize().hex
        try db.execute(sql: """
            INSERT INTO journal_entry(id, at, kind, idempotency_key, batch_id, memo, created_by, prev_hash, hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [id, at, kind.rawValue, key, batch?.rawValue, memo, by, prevHash, hash])
        return JournalEntryID(id)
    }
}
