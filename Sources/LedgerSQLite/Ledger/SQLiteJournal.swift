import AllowanceLedger
import GRDB

extension SQLiteTransaction: JournalTransaction {
    func journalEntry(at: Timestamp, kind: EntryKind, key: String, batch: BatchID?, by: UserName, memo: String) throws
        -> any JournalAppender {
        try JournalWriter(db, at: at, kind: kind, key: key, batch: batch, by: by, memo: memo)
    }

    func entry(key: String) throws -> (id: JournalEntryID, firstLegAmount: Money)? {
        try Row.fetchOne(db, sql: """
            SELECT e.id, (SELECT amount FROM posting WHERE entry_id = e.id AND leg = 1)
            FROM journal_entry e WHERE e.idempotency_key = ?
            """, arguments: [key]).map { (JournalEntryID($0[0]), Money(dong: $0[1] ?? 0)) }
    }

    func head() throws -> AuditManifest.Journal {
        let row = try Row.fetchOne(db, sql: "SELECT entry_id, hash, entries FROM journal_head WHERE singleton = 1")
        return AuditManifest.Journal(headEntryID: row?[0] ?? 0, headHash: row?[1] ?? ChainEncoding.genesis, entries: row?[2] ?? 0)
    }

    func entryHash(id: Int64) throws -> String? {
        try String.fetchOne(db, sql: "SELECT hash FROM journal_entry WHERE id = ?", arguments: [id])
    }

    func registerHead() throws -> RegisterHead? {
        try Row.fetchOne(db, sql: "SELECT id, hash FROM register_link ORDER BY id DESC LIMIT 1").map { RegisterHead(link: $0[0], hash: $0[1]) }
    }

    func registerLinkHash(id: Int64) throws -> String? {
        try String.fetchOne(db, sql: "SELECT hash FROM register_link WHERE id = ?", arguments: [id])
    }

    func entryCount(batch: BatchID, kind: EntryKind) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM journal_entry WHERE batch_id = ? AND kind = ?",
                         arguments: [batch.rawValue, kind.rawValue])!
    }

    func balance(of account: LedgerAccount) throws -> Money {
        Money(dong: try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(amount), 0) FROM posting WHERE account = ?",
                                       arguments: [account.rawValue])!)
    }

    func balances(before: Timestamp?, beneficiary: BeneficiaryID?) throws -> [AccountBalance] {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let before {
            conditions.append("e.at < ?")
            arguments += [before.description]
        }
        if let beneficiary {
            // Every posting that names a beneficiary names the item it is for (`JournalWriter.append`), and every item's
            // legs are in `posting_item`.
            conditions.append("""
                (p.entry_id, p.leg) IN (SELECT pi.entry_id, pi.leg FROM batch_item i JOIN posting_item pi ON pi.item_id = i.id
                                        WHERE i.beneficiary_id = ?) AND p.beneficiary_id = ?
                """)
            arguments += [beneficiary.rawValue, beneficiary.rawValue]
        }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        return try Row.fetchAll(db, sql: """
            SELECT p.account, p.sub_account,
                   SUM(CASE WHEN p.amount > 0 THEN p.amount ELSE 0 END),
                   -SUM(CASE WHEN p.amount < 0 THEN p.amount ELSE 0 END),
                   SUM(p.amount)
            FROM posting p JOIN journal_entry e ON e.id = p.entry_id \(filter)
            GROUP BY p.account, p.sub_account ORDER BY p.account, p.sub_account
            """, arguments: arguments).compactMap { row in
            guard let account = LedgerAccount(rawValue: row[0]) else { return nil }
            return AccountBalance(account: account, subAccount: row[1], debits: Money(dong: row[2]), credits: Money(dong: row[3]),
                                  net: Money(dong: row[4]))
        }
    }
}

