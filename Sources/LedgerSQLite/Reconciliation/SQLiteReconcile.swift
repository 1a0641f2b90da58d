import AllowanceLedger
import GRDB
import Reconcile

extension SQLiteTransaction: ReconcileTransaction {
    func resultFile(batch: BatchID, sha256: String, profileSHA256: String) throws -> ResultFileRecord? {
        try Row.fetchOne(db, sql: """
            SELECT id, file_name, sha256, byte_size, profile, imported_at, imported_by, lines FROM result_file
            WHERE batch_id = ? AND sha256 = ? AND profile_sha256 = ?
            """, arguments: [batch.rawValue, sha256, profileSHA256]).map(Store.resultFile(from:))
    }

    func lineTotals(file: Int64) throws -> (totals: OutcomeTotals, conflictingDuplicates: Int) {
        var totals = OutcomeTotals()
        var conflicting = 0
        for line in try Row.fetchAll(db, sql: """
            SELECT r.outcome, COUNT(*),
                   COALESCE(SUM(CASE WHEN r.outcome = 'invalid_line' THEN MAX(0, COALESCE(r.amount, 0)) ELSE COALESCE(r.amount, i.amount) END), 0),
                   SUM(r.conflicting)
            FROM result_line r LEFT JOIN batch_item i ON i.id = r.item_id WHERE r.file_id = ? GROUP BY r.outcome
            """, arguments: [file]) {
            guard let outcome = ReconcileOutcome(rawValue: line[0]) else { continue }
            totals.add(outcome, amount: line[2], count: line[1])
            if outcome == .duplicate { conflicting = line[3] }
        }
        return (totals, conflicting)
    }

    func settledAmount(file: Int64) throws -> Money {
        Money(dong: try Int64.fetchOne(db, sql: """
            SELECT COALESCE(SUM(i.amount), 0) FROM result_line r JOIN batch_item i ON i.id = r.item_id
            WHERE r.file_id = ? AND r.outcome = 'paid'
            """, arguments: [file])!)
    }

    func missingItems(batch: BatchID) throws -> (count: Int, amount: Int64) {
        try Store.missingItems(db, batch: batch)
    }

    func clearingOpen(batch: BatchID) throws -> [String: Money] {
        try Store.clearingOpen(db, batch: batch)
    }

    func insertResultFile(batch: BatchID, _ file: ResultFileInfo, at: Timestamp, by: UserName) throws -> Int64 {
        try db.execute(sql: """
            INSERT INTO result_file(batch_id, sha256, file_name, byte_size, profile, profile_sha256, imported_at, imported_by, lines,
                                    profile_rules)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)
            """, arguments: [batch.rawValue, file.sha256.hex, file.name, file.byteSize, file.profile, file.profileSHA256.hex,
                             at.description, by.value, file.profileRules])
        return db.lastInsertedRowID
    }

    func setLineCount(file: Int64, lines: Int) throws {
        try db.execute(sql: "UPDATE result_file SET lines = ? WHERE id = ?", arguments: [lines, file])
    }

    func loadItems(batch: Batch, splitLoadFrom: Int?) throws -> ReconcileItems {
        try ReconcileItems.load(db, batch: batch, path: Store.mainFile(db), splitLoadMinimum: splitLoadFrom ?? ReconcileItems.splitLoadMinimum)
    }

    func lineWriter(items: ReconcileItems, fileID: Int64, at: Timestamp, by: UserName, memo: String) throws -> any ResultLineWriter {
        try SQLiteResultLineWriter(db, items: items, fileID: fileID, at: at, by: by, memo: memo)
    }

    func trace(_ label: String) {
        Store.traceCache(db, label)
    }
}

/// Stores a file's recorded lines on the transaction's thread, their legs into the file's entry as they come.
final class SQLiteResultLineWriter: ResultLineWriter {
    let db: Database
    let items: ReconcileItems
    let fileID: Int64
    /// The file's entry: the matching thread hashes its item legs (`hasher`) as it records them, this one inserts them
    /// as it stores the lines.
    private let writer: JournalWriter
    private let insertLine: FastStatement
    private let insertLines: FastStatement

    var hasher: ChainHasher { writer.hasher }

    init(_ db: Database, items: ReconcileItems, fileID: Int64, at: Timestamp, by user: UserName, memo: String) throws {
        self.db = db
        self.items = items
        self.fileID = fileID
        writer = try JournalWriter(db, at: at, kind: .settlement, key: "reconcile:file:\(fileID)", batch: items.batch.id, by: user, memo: memo)
        let columns = """
            INSERT OR FAIL INTO result_line(file_id, line, outcome, effect, item_id, reference, status, msisdn, amount, carrier_txn_id, completed_at,
                                    reason_code, reason_text, note, fingerprint, conflicting, leg, carrier_status) VALUES
            """
        let row = "(" + Array(repeating: "?", count: Int(Self.columnsPerLine)).joined(separator: ", ") + ")"
        insertLine = try FastStatement(db, columns + row)
        insertLines = try FastStatement(db, columns + Array(repeating: row, count: Self.linesPerInsert).joined(separator: ", "))
    }

    /// The batch another reference belongs to, when it names an item of some other batch.
    private func batchOwning(_ reference: ItemReference) throws -> BatchID? {
        guard reference.batch != items.batch.id else { return nil }
        let text = reference.canonical
        guard let arguments = Store.referenceArguments(text) else { return nil }
        return try Int64.fetchOne(db, sql: "SELECT i.batch_id FROM batch_item i WHERE \(Store.itemByReferenceSQL("i"))", arguments: arguments)
            .map(BatchID.init)
    }

    /// 32 lines of 18 columns: 576 parameters, within the 999 that SQLite before 3.32 allows.
    static let linesPerInsert = 32
    static let columnsPerLine: Int32 = 18

    /// Inserts recorded lines, 32 to a statement while there are that many: one statement per line cost SQLite a
    /// third of each insert in starting and finishing the statement. The transaction's thread only.
    func store(_ recorded: ReconciliationSession.RecordedLines) throws {
        let lines = recorded.lines
        // A reference of another batch says which one in its note; the rest bind their texts where they lie.
        var notes: [Int: String] = [:]
        for index in lines.indices {
            guard let reference = lines[index].otherBatchReference, let other = try batchOwning(reference) else { continue }
            notes[index] = "reference belongs to batch \(other), not batch \(items.batch.id); reconcile this line against batch \(other)"
        }
        try recorded.bytes.withUnsafeBufferPointer { bytes in
            var start = 0
            while lines.count - start >= Self.linesPerInsert {
                try bindAndRun(insertLines, lines, start..<start + Self.linesPerInsert, bytes, notes)
                start += Self.linesPerInsert
            }
            for index in start..<lines.count { try bindAndRun(insertLine, lines, index..<index + 1, bytes, notes) }
        }
        // Their legs too, now rather than when the file ends: this thread waits for the matching one otherwise.
        for (index, effect) in recorded.effects {
            try ReconciliationSession.forEachLeg(of: Int(index), effect, items: items) { try writer.appendHashed($0) }
        }
    }

    /// Binds and inserts `lines[range]`; their texts are bound in place in `bytes`, which outlives the insert.
    private func bindAndRun(_ statement: FastStatement, _ lines: [ReconciliationSession.StoredLine], _ range: Range<Int>,
                            _ bytes: UnsafeBufferPointer<UInt8>,
                            _ notes: [Int: String]) throws {
        func bind(_ index: Int32, _ span: ReconciliationSession.TextSpan) {
            if span.count < 0 {
                statement.bind(index, nil as Int64?)
            } else {
                statement.bind(index, inPlace: UnsafeBufferPointer(rebasing: bytes[span.start..<span.start + span.count]))
            }
        }
        for (row, index) in zip(0..., range) {
            let base = Int32(row) * Self.columnsPerLine
            let line = lines[index]
            statement.bind(base + 1, fileID)
            statement.bind(base + 2, line.line)
            statement.bind(base + 3, line.outcome)
            statement.bind(base + 4, line.effect)
            statement.bind(base + 5, line.itemID)
            bind(base + 6, line.reference)
            statement.bind(base + 7, line.status)
            bind(base + 8, line.msisdn)
            statement.bind(base + 9, line.amount)
            bind(base + 10, line.carrierTxnID)
            bind(base + 11, line.completedAt)
            bind(base + 12, line.reasonCode)
            bind(base + 13, line.reasonText)
            if let note = notes[index] { statement.bind(base + 14, note) } else { bind(base + 14, line.note) }
            statement.bind(base + 15, line.fingerprint)
            statement.bind(base + 16, Int64(line.conflicting ? 1 : 0))
            statement.bind(base + 17, line.leg)
            bind(base + 18, line.statusWord)
        }
        try statement.run()
    }

    /// Posts the file's entry and records the states the file moved, once every recorded line is stored.
    func finish(session: ReconciliationSession) throws -> [JournalEntryID] {
        guard session.legs > 0 else { return [] }
        precondition(writer.legCount == session.legs, "every leg hashed is inserted, in the same order")
        // The item legs are in (`store`); the clearing legs follow, hashed here now that the matching thread is done.
        for (carrier, amount) in session.clearingByCarrier where amount != 0 {
            try writer.append(.credit(.carrierClearing, Money(dong: amount), sub: carrier))
        }
        let entry = try writer.finish()
        try recordStates()
        return [entry]
    }

    /// 128 states of 2 columns to a statement.
    static let statesPerInsert = 128

    /// Each item the file moved gets the state the session left it in, in item order: an open item gets its
    /// `item_state` row, a paid one the carrier reversed has its row moved to failed. Bound from memory, so an
    /// item paid and reversed in the same file needs no second pass.
    private func recordStates() throws {
        // A plain insert for the items that were open (no row yet), most of them; the few a reversal moved from paid have
        // their row updated. `OR FAIL` (here, for the lines and for the postings): a failure undoes the whole file anyway,
        // and SQLite then keeps no statement journal, which copied each page a statement touched (16 KiB, in 1 KiB
        // chunks) before the statement changed it.
        let insert = "INSERT OR FAIL INTO item_state(item_id, state) VALUES "
        let many = try FastStatement(db, insert + Array(repeating: "(?, ?)", count: Self.statesPerInsert).joined(separator: ", "))
        let one = try FastStatement(db, insert + "(?, ?)")
        let upsert = try FastStatement(db, "INSERT INTO item_state(item_id, state) VALUES (?, ?) ON CONFLICT(item_id) DO UPDATE SET state = excluded.state")
        var pending: [Int] = []
        pending.reserveCapacity(Self.statesPerInsert)
        func run(_ statement: FastStatement, _ indexes: [Int]) throws {
            for (row, index) in indexes.enumerated() {
                statement.bind(Int32(2 * row + 1), items.id(at: index))
                statement.bind(Int32(2 * row + 2), items.state(at: index))
            }
            try statement.run()
        }
        for index in 0..<items.count where items.wasMoved(at: index, byFile: fileID) {
            guard items.wasOpenAtLoad(index) else {
                try run(upsert, [index])
                continue
            }
            pending.append(index)
            if pending.count == Self.statesPerInsert {
                try run(many, pending)
                pending.removeAll(keepingCapacity: true)
            }
        }
        for index in pending { try run(one, [index]) }
    }
}

extension Store {
    /// SQL: the items a line of the batch `batch` (a parameter, `?1`) named, read through the batch's result files (a line
    /// names only an item of its own file's batch: another batch's reference is an unknown reference, with no item).
    static func namedItemsSQL(batch: String = "?1") -> String {
        "SELECT r.item_id FROM result_file f JOIN result_line r ON r.file_id = f.id WHERE f.batch_id = \(batch) AND r.item_id IS NOT NULL"
    }

    /// SQL: no result line of the batch (`?1`) has named the item (`alias`): `missing`, once it was sent. The named items
    /// are gathered once, not looked up per item.
    static func itemUnnamedSQL(_ alias: String) -> String { "\(alias).id NOT IN (\(namedItemsSQL()))" }

    /// Mobile-money items whose funds went to the carrier and that no result line has named.
    static func missingItems(_ db: Database, batch: BatchID) throws -> (count: Int, amount: Int64) {
        let row = try Row.fetchOne(db, sql: """
            SELECT COUNT(*), COALESCE(SUM(i.amount), 0) FROM batch_item i
            WHERE i.batch_id = ?1 AND i.method = 'mobile_money'
              AND \(itemSentSQL("i")) AND \(itemUnnamedSQL("i"))
            """, arguments: [batch.rawValue])!
        return (row[0], row[1])
    }

    /// The batch's carrier clearing per carrier: sent, less paid out and returned.
    static func clearingOpen(_ db: Database, batch: BatchID) throws -> [String: Money] {
        var result: [String: Money] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT p.sub_account, SUM(p.amount) FROM posting p JOIN journal_entry e ON e.id = p.entry_id
            WHERE e.batch_id = ? AND p.account = '1100' GROUP BY p.sub_account ORDER BY p.sub_account
            """, arguments: [batch.rawValue]) {
            result[row[0]] = Money(dong: row[1])
        }
        return result
    }
}
