import AllowanceLedger

extension PostgresStorage: JournalStorage {
    func read<T>(_ body: (any JournalTransaction) throws -> T) throws -> T {
        try store.read { try body(PostgresTransaction(db: $0)) }
    }

    /// Holds the journal's lock from the start: what the body reads before it appends (an idempotency key already used,
    /// the head) is still so when it commits, as in SQLite's one writer at a time.
    func write<T>(_ body: (any JournalTransaction) throws -> T) throws -> T {
        try store.write { db in
            try PostgresStore.lockJournal(db)
            return try body(PostgresTransaction(db: db))
        }
    }

    /// The journal's own checks, in one snapshot: every entry's balance, legs and hash, the chain from genesis, and the
    /// head the trigger keeps. The batch, item-state and register checks of `ledger verify` join them as those tables'
    /// storage comes to PostgreSQL; until then `Ledger.open` refuses a server ledger, so no command reports this alone.
    func verify(progress: ((Int) -> Void)?) throws -> LedgerVerification {
        try store.read { db in try PostgresTransaction(db: db).verifyJournal(progress: progress) }
    }
}

extension PostgresTransaction: JournalTransaction {
    func journalEntry(at: Timestamp, kind: EntryKind, key: String, batch: BatchID?, by: UserName, memo: String) throws
        -> any JournalAppender {
        try PostgresJournalWriter(db, at: at, kind: kind, key: key, batch: batch, by: by, memo: memo)
    }

    func entry(key: String) throws -> (id: JournalEntryID, firstLegAmount: Money)? {
        try db.query("""
            SELECT e.id, (SELECT amount FROM posting WHERE entry_id = e.id AND leg = 1) FROM journal_entry e WHERE e.idempotency_key = $1
            """, [key]).first.map { (JournalEntryID(Int64($0[0]!)!), Money(dong: $0[1].flatMap { Int64($0) } ?? 0)) }
    }

    func entryCount(batch: BatchID, kind: EntryKind) throws -> Int {
        Int(try db.query("SELECT COUNT(*) FROM journal_entry WHERE batch_id = $1 AND kind = $2", [String(batch.rawValue), kind.rawValue])[0][0]!)!
    }

    func head() throws -> AuditManifest.Journal {
        guard let row = try db.query("SELECT entry_id, hash, entries FROM journal_head WHERE singleton = 1").first else {
            return AuditManifest.Journal(headEntryID: 0, headHash: ChainEncoding.genesis, entries: 0)
        }
        return AuditManifest.Journal(headEntryID: Int64(row[0]!)!, headHash: row[1]!, entries: Int64(row[2]!)!)
    }

    func entryHash(id: Int64) throws -> String? {
        try db.query("SELECT hash FROM journal_entry WHERE id = $1", [String(id)]).first?[0] ?? nil
    }

    func registerHead() throws -> RegisterHead? {
        try db.query("SELECT id, hash FROM register_link ORDER BY id DESC LIMIT 1").first.map { RegisterHead(link: Int64($0[0]!)!, hash: $0[1]!) }
    }

    func registerLinkHash(id: Int64) throws -> String? {
        try db.query("SELECT hash FROM register_link WHERE id = $1", [String(id)]).first?[0] ?? nil
    }

    func balance(of account: LedgerAccount) throws -> Money {
        Money(dong: Int64(try db.query("SELECT COALESCE(SUM(amount), 0) FROM posting WHERE account = $1", [account.rawValue])[0][0]!)!)
    }

    func balances(before: Timestamp?, beneficiary: BeneficiaryID?) throws -> [AccountBalance] {
        var conditions: [String] = []
        var parameters: [String?] = []
        if let before {
            parameters.append(before.description)
            conditions.append("e.at < $\(parameters.count)")
        }
        if let beneficiary {
            // Every posting that names a beneficiary names the item it is for (`JournalWriter.append`).
            parameters.append(String(beneficiary.rawValue))
            conditions.append("p.item_id IN (SELECT i.id FROM batch_item i WHERE i.beneficiary_id = $\(parameters.count)::bigint)"
                              + " AND p.beneficiary_id = $\(parameters.count)::bigint")
        }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        return try db.query("""
            SELECT p.account, p.sub_account,
                   SUM(CASE WHEN p.amount > 0 THEN p.amount ELSE 0 END),
                   -SUM(CASE WHEN p.amount < 0 THEN p.amount ELSE 0 END),
                   SUM(p.amount)
            FROM posting p JOIN journal_entry e ON e.id = p.entry_id \(filter)
            GROUP BY p.account, p.sub_account ORDER BY p.account, p.sub_account
            """, parameters).compactMap { row in
            guard let account = LedgerAccount(rawValue: row[0]!) else { return nil }
            return AccountBalance(account: account, subAccount: row[1]!, debits: Money(dong: Int64(row[2]!)!),
                                  credits: Money(dong: Int64(row[3]!)!), net: Money(dong: Int64(row[4]!)!))
        }
    }

    /// Reads entries and postings in order through two cursors, merged, hashing as SQLite's `verifyLedger` does: memory
    /// stays flat however long the journal.
    func verifyJournal(progress: ((Int) -> Void)?) throws -> LedgerVerification {
        var result = LedgerVerification()
        let postings = try db.cursor("SELECT entry_id, leg, account, sub_account, beneficiary_id, item_id, amount FROM posting ORDER BY entry_id, leg")
        defer { postings.close() }
        var posting = try postings.next()
        var orphans = 0
        var previousHash = ChainEncoding.genesis
        var lastID: Int64?
        try db.forEachRow("""
            SELECT id, at, kind, idempotency_key, batch_id, memo, created_by, prev_hash, hash FROM journal_entry ORDER BY id
            """) { entry in
            let id = Int64(entry[0]!)!
            let prevHash = entry[7]!, storedHash = entry[8]!
            result.entries += 1
            lastID = id
            if let progress, result.entries % 10_000 == 0 { progress(result.entries) }
            if prevHash != previousHash {
                result.report(.chainBroken, entry: id,
                              "prev_hash does not match the hash of the entry before it: an entry was deleted, inserted or altered")
            }
            let hasher = ChainHasher(header: ChainEncoding.header(
                id: id, at: entry[1]!, kind: entry[2]!, key: entry[3]!, batch: entry[4].flatMap { Int64($0) }, by: entry[6]!,
                memo: entry[5]!, prevHash: prevHash))
            // Postings of entries that no longer exist come before this one.
            while let row = posting, Int64(row[0]!)! < id {
                orphans += 1
                posting = try postings.next()
            }
            var count: Int64 = 0
            var sum: Int64 = 0
            var overflow = false
            var legsInOrder = true
            while let row = posting, Int64(row[0]!)! == id {
                count += 1
                let leg = Int64(row[1]!)!, amount = Int64(row[6]!)!
                if leg != count { legsInOrder = false }
                let (newSum, didOverflow) = sum.addingReportingOverflow(amount)
                sum = newSum
                overflow = overflow || didOverflow
                hasher.posting(leg: leg, account: row[2]!, sub: row[3]!, beneficiary: row[4].flatMap { Int64($0) },
                               item: row[5].flatMap { Int64($0) }, amount: amount)
                result.postings += 1
                posting = try postings.next()
            }
            if !legsInOrder {
                result.report(.legsOutOfOrder, entry: id, "posting legs are not numbered 1…\(count): a posting was deleted")
            }
            if hasher.finalize().hex != storedHash {
                result.report(.hashMismatch, entry: id, "stored hash does not match the entry's contents: a row was altered")
            }
            if count < 2 { result.report(.tooFewPostings, entry: id, "has \(count) posting(s); an entry has at least two") }
            if overflow || sum != 0 {
                result.report(.unbalanced, entry: id, "postings sum to \(overflow ? "an overflowing amount" : String(sum)) đồng instead of 0")
            }
            previousHash = storedHash
        }
        while posting != nil {
            orphans += 1
            posting = try postings.next()
        }
        if orphans > 0 {
            result.report(.orphanPostings, entry: nil, "\(orphans) posting(s) belong to no entry: an entry was deleted")
        }
        result.headHash = previousHash
        let head = try self.head()
        if head.headEntryID != (lastID ?? 0) || head.headHash != previousHash || head.entries != Int64(result.entries) {
            result.report(.headMismatch, entry: head.headEntryID, """
                the journal's head records \(head.entries) entries ending at entry \(head.headEntryID), but the journal holds \
                \(result.entries) ending at entry \(lastID.map(String.init) ?? "none"): entries were deleted or the head was altered
                """)
        }
        return result
    }
}

/// Appends one entry on PostgreSQL: postings hashed as they come and sent by COPY, 65,536 at a time, the header (with
/// the hash) last, inside the caller's transaction. Holds the journal's lock from the first read of the head to the
/// commit, so two processes never chain two entries to the same head.
final class PostgresJournalWriter: JournalAppender {
    let db: PGConnection
    let id: Int64
    let at: String
    let kind: EntryKind
    let key: String
    let batch: BatchID?
    let by: String
    let memo: String
    let prevHash: String
    let hasher: ChainHasher
    /// COPY's text format of the postings not yet sent.
    private var pending: [UInt8] = []
    private var pendingCount = 0
    private var balance = EntryBalance()
    private var leg: Int64 { balance.legs }
    private var finished = false

    static let postingsPerCopy = 65_536

    init(_ db: PGConnection, at: Timestamp, kind: EntryKind, key: String, batch: BatchID?, by: UserName, memo: String) throws {
        self.db = db
        try PostgresStore.lockJournal(db)
        let last = try db.query("SELECT id, hash, at FROM journal_entry ORDER BY id DESC LIMIT 1").first
        // Whoever sets the clock back cannot date an entry before the ones already in the chain.
        if let headAt = last?[2] ?? nil, let head = try? Timestamp(parsing: headAt), at < head {
            throw LedgerError.beforeJournalHead(now: at.description, head: headAt)
        }
        self.id = (last.flatMap { $0[0] }.flatMap { Int64($0) } ?? 0) + 1
        self.prevHash = last?[1] ?? ChainEncoding.genesis
        self.at = at.description
        self.kind = kind
        self.key = key
        self.batch = batch
        self.by = by.value
        self.memo = memo
        hasher = ChainHasher(header: ChainEncoding.header(id: id, at: self.at, kind: kind.rawValue, key: key, batch: batch?.rawValue,
                                                          by: by.value, memo: memo, prevHash: prevHash))
    }

    func append(_ posting: Posting) throws {
        precondition(!finished, "entry already finished")
        precondition(posting.beneficiaryID == nil || posting.itemID != nil, "a beneficiary's posting names the item it is for")
        let leg = try balance.add(posting.amount.dong)
        hasher.posting(leg: leg, posting)
        let fields = [String(id), String(leg), posting.account.rawValue, posting.subAccount,
                      posting.beneficiaryID.map { String($0.rawValue) }, posting.itemID.map { String($0.rawValue) },
                      String(posting.amount.dong)]
        CopyText.appendRow(fields, to: &pending)
        pendingCount += 1
        if pendingCount == Self.postingsPerCopy { try flush() }
    }

    private func flush() throws {
        guard pendingCount > 0 else { return }
        var chunk: [UInt8]? = pending
        try db.copyIn("COPY posting(entry_id, leg, account, sub_account, beneficiary_id, item_id, amount) FROM STDIN") {
            defer { chunk = nil }
            return chunk
        }
        pending.removeAll(keepingCapacity: true)
        pendingCount = 0
    }

    func appendItemCredits(batch: BatchID, read: [PayableLeg]) throws {
        try appendPayableLegs(debit: false, batch: batch, rows: "SELECT seq, beneficiary_id, id, amount FROM batch_item WHERE batch_id = $1::bigint",
                              read: read)
    }

    func appendRetryCarryOver(batch: BatchID) throws {
        try appendPayableLegs(debit: true, batch: batch, rows: """
            SELECT r.seq, o.beneficiary_id, o.id, r.amount FROM batch_item r JOIN batch_item o ON o.id = r.retry_of_item WHERE r.batch_id = $1::bigint
            """)
    }

    /// One payable leg per row of `rows` (seq, beneficiary, item, amount; `$1` the batch), numbered by seq, inserted by
    /// the server from the items; hashed from `read` when the caller has those rows, else from a second read of them.
    private func appendPayableLegs(debit: Bool, batch: BatchID, rows: String, read: [PayableLeg]? = nil) throws {
        precondition(!finished, "entry already finished")
        try flush()
        let first = leg
        let sign: Int64 = debit ? 1 : -1
        try db.query("""
            INSERT INTO posting(entry_id, leg, account, sub_account, beneficiary_id, item_id, amount)
            SELECT $2::bigint, $3::bigint + seq, '2000', '', beneficiary_id, id, $4::bigint * amount FROM (\(rows)) r ORDER BY seq
            """, [String(batch.rawValue), String(id), String(first), String(sign)])
        func hash(beneficiary: Int64, item: Int64, amount: Int64) throws {
            // An item's amount is positive; its sign is the leg's.
            guard amount > 0 else { throw LedgerError.zeroAmount }
            let leg = try balance.add(sign * amount)
            hasher.posting(leg: leg, account: LedgerAccount.payable.rawValue, sub: "", beneficiary: beneficiary, item: item, amount: sign * amount)
        }
        if let read {
            for one in read { try hash(beneficiary: one.beneficiary, item: one.item, amount: one.amount) }
        } else {
            try db.forEachRow("SELECT seq, beneficiary_id, id, amount FROM (\(rows)) r ORDER BY seq", [String(batch.rawValue)]) { row in
                precondition(Int64(row[0]!)! + first == leg + 1, "batch item seq runs 1, 2, 3, … without gaps")
                try hash(beneficiary: Int64(row[1]!)!, item: Int64(row[2]!)!, amount: Int64(row[3]!)!)
            }
        }
        // What the server inserted is what was hashed: as many legs, numbered on from the first.
        let inserted = try db.query("SELECT COUNT(*) FROM posting WHERE entry_id = $1::bigint AND leg > $2::bigint", [String(id), String(first)])
        precondition(Int64(inserted[0][0]!)! == leg - first, "the items read are the items credited")
    }

    @discardableResult
    func finish() throws -> JournalEntryID {
        precondition(!finished, "entry already finished")
        try flush()
        finished = true
        try balance.check()
        try db.query("""
            INSERT INTO journal_entry(id, at, kind, idempotency_key, batch_id, memo, created_by, prev_hash, hash)
            VALUES ($1::bigint, $2, $3, $4, $5::bigint, $6, $7, $8, $9)
            """, [String(id), at, kind.rawValue, key, batch.map { String($0.rawValue) }, memo, by, prevHash, hasher.finalize().hex])
        return JournalEntryID(id)
    }
}
