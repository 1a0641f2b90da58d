import AllowanceLedger
import GRDB

/// Records one result file's lines inside the write transaction, with their postings; the clearing legs and the
/// state changes follow when the file ends.
///
/// Two threads share it, each with its own half: the matching thread `record`s each line (the items' states, the
/// file's totals and the hash of its legs, no database) and hands the lines over with `takeRecorded`; the
/// transaction's thread `store`s them and their legs, then calls `finish` once the matching thread is done. A
/// million lines spent 40 % of one thread matching and bookkeeping beside SQLite's inserts.
///
/// A file's postings form one journal entry: a leg per settled, refunded or reversed item (two for a reversal) in
/// line order, then one carrier-clearing leg per carrier.
public final class ReconciliationSession {
    public let items: ReconcileItems
    public let fileID: Int64
    public let fileName: String
    let db: Database
    let at: Timestamp
    let user: UserName
    let memo: String
    private let insertLine: FastStatement
    /// The file's entry: the matching thread hashes its item legs (`writer.hasher`) as it records them, this one
    /// inserts them as it stores the lines.
    private let writer: JournalWriter
    private let insertLines: FastStatement
    private var pending = RecordedLines()
    /// Legs the file's entry has so far (a reversal takes two).
    private var legs: Int64 = 0
    /// Paid out plus returned, per carrier (by its number in `items.carriers`, which is in code order): what the file
    /// takes out of each carrier's clearing.
    private lazy var clearing = [Int64](repeating: 0, count: items.carriers.count)
    private(set) var totals = OutcomeTotals()
    private(set) var lines = 0
    private(set) var conflictingDuplicates = 0

    init(_ db: Database, items: ReconcileItems, fileID: Int64, file: ResultFileInfo, at: Timestamp, by user: UserName) throws {
        self.db = db
        self.items = items
        self.fileID = fileID
        self.fileName = file.name
        self.at = at
        self.user = user
        memo = "Carrier result file \(file.name) (sha256 \(file.sha256.hex.prefix(16))…) for batch \(items.batch.id) (\(items.batch.period)): "
            + "payments settled, failures refunded, reversals undone"
        // Made before the matching thread starts, which hashes the item legs into it; finished only if the file posts.
        writer = try JournalWriter(db, at: at, kind: .settlement, key: "reconcile:file:\(fileID)", batch: items.batch.id, by: user, memo: memo)
        let columns = """
            INSERT OR FAIL INTO result_line(file_id, line, outcome, effect, item_id, reference, status, msisdn, amount, carrier_txn_id, completed_at,
                                    reason_code, reason_text, note, fingerprint, conflicting, leg) VALUES
            """
        let row = "(" + Array(repeating: "?", count: Int(Self.columnsPerLine)).joined(separator: ", ") + ")"
        insertLine = try FastStatement(db, columns + row)
        insertLines = try FastStatement(db, columns + Array(repeating: row, count: Self.linesPerInsert).joined(separator: ", "))
    }

    /// The batch another reference belongs to, when it names an item of some other batch.
    func batchOwning(_ reference: ItemReference) throws -> BatchID? {
        guard reference.batch != items.batch.id else { return nil }
        let text = reference.canonical
        guard let arguments = Store.referenceArguments(text) else { return nil }
        return try Int64.fetchOne(db, sql: "SELECT i.batch_id FROM batch_item i WHERE \(Store.itemByReferenceSQL("i"))", arguments: arguments)
            .map(BatchID.init)
    }

    private func takeFromClearing(_ index: Int) throws {
        let carrier = items.carrierNumber(at: index)!
        let (sum, overflow) = clearing[carrier].addingReportingOverflow(items.amount(at: index))
        guard !overflow else { throw ReconcileError.overflow }
        clearing[carrier] = sum
    }

    /// Applies the line's effect to its item, hashes its legs and keeps both for `takeRecorded`. Matching thread only.
    public func record(_ record: ResultLineRecord) throws {
        precondition(record.outcome != .missing, "missing is not a line")
        precondition(record.effect == nil || record.itemIndex != nil, "an effect needs an item")
        let fingerprint = record.fingerprint
        var leg: Int64?
        if let index = record.itemIndex {
            // An unreadable line that names its item counts too: the item is not missing, and not retried.
            items.markNamed(index)
            if let effect = record.effect {
                let state = items.state(at: index)
                switch effect {
                case .settle, .refund:
                    guard state == .open, items.wasSent(at: index) else { throw ReconcileError.effectNotAllowed(line: record.line, effect: effect, state: state) }
                    try takeFromClearing(index)
                case .reverse:
                    guard state == .paid else { throw ReconcileError.effectNotAllowed(line: record.line, effect: effect, state: state) }
                }
                items.setFinal(index, state: effect == .settle ? .paid : .failed, fingerprint: fingerprint, file: fileID, line: record.line)
                pending.effects.append((Int32(index), effect))
                leg = legs + 1
                forEachLeg(of: index, effect) { posting in
                    legs += 1
                    writer.hasher.posting(leg: legs, posting)
                }
            }
        }
        lines += 1
        // An unreadable line's amount counts only when it reads as a payment.
        totals.add(record.outcome, amount: record.outcome == .invalidLine ? max(0, record.amount ?? 0) : record.amount ?? 0)
        if record.outcome == .duplicate && record.conflicting { conflictingDuplicates += 1 }

        // What the line says that its item does not already say.
        var reference = record.reference
        var itemsNumber = false
        var amount = record.amount
        if let index = record.itemIndex, record.outcome != .invalidLine {
            itemsNumber = record.msisdn == items.msisdn(at: index)
            if amount == items.amount(at: index) { amount = nil }
        } else if reference == nil {
            reference = ""
        }
        pending.add(StoredLine(line: Int64(record.line), outcome: record.outcome, effect: record.effect, status: record.status,
                               itemID: record.itemIndex.map { items.id(at: $0) }, amount: amount, fingerprint: fingerprint,
                               conflicting: record.outcome == .duplicate && record.conflicting, leg: leg,
                               reference: pending.text(reference),
                               msisdn: itemsNumber ? .null : record.msisdn == 0 ? pending.text(record.msisdnText) : pending.number(record.msisdn),
                               carrierTxnID: pending.text(record.carrierTxnID), completedAt: pending.text(record.completedAt),
                               reasonCode: pending.text(record.reasonCode), reasonText: pending.text(record.reasonText),
                               note: pending.text(record.note), otherBatchReference: record.otherBatchReference))
    }

    /// The lines recorded since the last call, for `store`. Matching thread only.
    public func takeRecorded() -> RecordedLines {
        defer { pending = RecordedLines(reservingFor: pending) }
        return pending
    }

    /// Lines recorded and not yet stored, handed from the matching thread to the transaction's: numbers in place, and
    /// every text back to back in one byte buffer that the inserts bind in place. As strings, each line's texts were
    /// made on one thread, copied by SQLite and freed on the other: a tenth of the storing thread's work.
    public struct RecordedLines: Sendable {
        fileprivate var lines: [StoredLine] = []
        fileprivate var bytes: [UInt8] = []
        /// The items these lines settled, refunded or reversed, in leg order.
        fileprivate var effects: [(index: Int32, effect: ReconcileEffect)] = []

        init() {}

        fileprivate init(reservingFor previous: RecordedLines) {
            lines.reserveCapacity(previous.lines.count)
            bytes.reserveCapacity(previous.bytes.count)
            effects.reserveCapacity(previous.effects.count)
        }

        fileprivate mutating func add(_ line: StoredLine) { lines.append(line) }

        fileprivate mutating func text(_ text: String?) -> TextSpan {
            guard let text else { return .null }
            let start = bytes.count
            bytes.append(contentsOf: text.utf8)
            return TextSpan(start: start, count: bytes.count - start)
        }

        /// `84912345678` as digits, as `String(number)` writes them.
        fileprivate mutating func number(_ number: UInt64) -> TextSpan {
            guard let value = Int64(exactly: number) else { return text(String(number)) }
            let start = bytes.count
            withDecimalDigits(of: value) { bytes.append(contentsOf: $0) }
            return TextSpan(start: start, count: bytes.count - start)
        }
    }

    /// Where a text is in `RecordedLines.bytes`; a negative count is NULL.
    fileprivate struct TextSpan: Sendable {
        let start: Int
        let count: Int
        static let null = TextSpan(start: 0, count: -1)
    }

    /// A line as it is stored.
    fileprivate struct StoredLine: Sendable {
        let line: Int64
        let outcome: ReconcileOutcome
        let effect: ReconcileEffect?
        let status: CarrierStatus?
        let itemID: Int64?
        let amount: Int64?
        let fingerprint: Int64
        let conflicting: Bool
        let leg: Int64?
        let reference: TextSpan
        let msisdn: TextSpan
        let carrierTxnID: TextSpan
        let completedAt: TextSpan
        let reasonCode: TextSpan
        let reasonText: TextSpan
        let note: TextSpan
        let otherBatchReference: ItemReference?
    }

    /// 32 lines of 17 columns: 544 parameters, within the 999 that SQLite before 3.32 allows.
    static let linesPerInsert = 32
    static let columnsPerLine: Int32 = 17

    /// Inserts recorded lines, 32 to a statement while there are that many: one statement per line cost SQLite a
    /// third of each insert in starting and finishing the statement. The transaction's thread only.
    public func store(_ recorded: RecordedLines) throws {
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
            try forEachLeg(of: Int(index), effect) { try writer.appendHashed($0) }
        }
    }

    /// Binds and inserts `lines[range]`; their texts are bound in place in `bytes`, which outlives the insert.
    private func bindAndRun(_ statement: FastStatement, _ lines: [StoredLine], _ range: Range<Int>, _ bytes: UnsafeBufferPointer<UInt8>,
                            _ notes: [Int: String]) throws {
        func bind(_ index: Int32, _ span: TextSpan) {
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
        }
        try statement.run()
    }

    /// Posts the file's entry and records the states the file moved, once every recorded line is stored.
    func finish() throws -> [JournalEntryID] {
        precondition(pending.lines.isEmpty, "every recorded line is stored before the file's entry")
        guard legs > 0 else { return [] }
        precondition(writer.legCount == legs, "every leg hashed is inserted, in the same order")
        // The item legs are in (`store`); the clearing legs follow, hashed here now that the matching thread is done.
        for (carrier, amount) in zip(items.carriers, clearing) where amount != 0 {
            try writer.append(.credit(.carrierClearing, Money(dong: amount), sub: carrier))
        }
        let entry = try writer.finish()
        try recordStates()
        return [entry]
    }

    /// The item legs of a line's effect, in leg order. settle: Dr payable; refund: Dr treasury; reverse: Cr payable,
    /// then Dr treasury (paid out and back again: the payable reopens and the treasury has the money; the clearing's
    /// two movements cancel).
    private func forEachLeg(of index: Int, _ effect: ReconcileEffect, _ body: (Posting) throws -> Void) rethrows {
        let item = BatchItemID(items.id(at: index))
        let amount = Money(dong: items.amount(at: index))
        switch effect {
        case .settle:
            try body(.debit(.payable, amount, beneficiary: BeneficiaryID(items.beneficiary(at: index)), item: item))
        case .refund:
            try body(.debit(.treasury, amount, item: item))
        case .reverse:
            try body(.credit(.payable, amount, beneficiary: BeneficiaryID(items.beneficiary(at: index)), item: item))
            try body(.debit(.treasury, amount, item: item))
        }
    }

}

extension ReconciliationSession {
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
    /// Reconciles one carrier result file against a batch in one transaction: `body` reads and matches the file,
    /// `record`s each line through the session (on any one thread) and `store`s every recorded chunk with its legs (on
    /// the calling thread) before it returns; the clearing legs and state changes follow, and all of it commits together
    /// or not at all. A file reconciled against the batch before changes nothing.
    public func reconcile(batch id: BatchID, file: ResultFileInfo, by user: UserName, splitItemLoadFrom: Int = ReconcileItems.splitLoadMinimum,
                          _ body: (ReconciliationSession) throws -> Void) throws -> ReconciliationResult {
        try writeWithKeysFromTransaction { db in
            let batch: Batch
            do { batch = try Self.fetchBatch(db, id) } catch let error as BatchError { throw ReconcileError.batch(error) }
            guard batch.status == .exported || batch.status == .closed else { throw ReconcileError.notExported(id, batch.status) }
            // The same bytes under the same rules change nothing; under corrected rules they are read again, and what
            // was settled before comes back as repeats.
            if let row = try Row.fetchOne(db, sql: """
                SELECT id, imported_at, imported_by, lines FROM result_file WHERE batch_id = ? AND sha256 = ? AND profile_sha256 = ?
                """, arguments: [id.rawValue, file.sha256.hex, file.profileSHA256.hex]) {
                let fileID: Int64 = row[0]
                var totals = OutcomeTotals()
                var conflicting = 0
                for line in try Row.fetchAll(db, sql: """
                    SELECT r.outcome, COUNT(*),
                           COALESCE(SUM(CASE WHEN r.outcome = 'invalid_line' THEN MAX(0, COALESCE(r.amount, 0)) ELSE COALESCE(r.amount, i.amount) END), 0),
                           SUM(r.conflicting)
                    FROM result_line r LEFT JOIN batch_item i ON i.id = r.item_id WHERE r.file_id = ? GROUP BY r.outcome
                    """, arguments: [fileID]) {
                    guard let outcome = ReconcileOutcome(rawValue: line[0]) else { continue }
                    totals.add(outcome, amount: line[2], count: line[1])
                    if outcome == .duplicate { conflicting = line[3] }
                }
                let missing = try Self.missingItems(db, batch: id)
                totals.add(.missing, amount: missing.amount, count: missing.count)
                return ReconciliationResult(batch: id, file: file.name, sha256: file.sha256.hex, fileID: fileID, alreadyImported: true,
                                            importedAt: row[1], importedBy: row[2], lines: row[3], totals: totals,
                                            conflictingDuplicates: conflicting,
                                            settled: Money(dong: try Int64.fetchOne(db, sql: """
                                                SELECT COALESCE(SUM(i.amount), 0) FROM result_line r JOIN batch_item i ON i.id = r.item_id
                                                WHERE r.file_id = ? AND r.outcome = 'paid'
                                                """, arguments: [fileID])!),
                                            clearingOpen: try Self.clearingOpen(db, batch: id), entries: [])
            }
            let now = clock.now()
            try db.execute(sql: """
                INSERT INTO result_file(batch_id, sha256, file_name, byte_size, profile, profile_sha256, imported_at, imported_by, lines)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)
                """, arguments: [id.rawValue, file.sha256.hex, file.name, file.byteSize, file.profile, file.profileSHA256.hex, now.description, user.value])
            let fileID = db.lastInsertedRowID
            let items = try ReconcileItems(db, batch: batch, path: Self.mainFile(db), splitLoadMinimum: splitItemLoadFrom)
            let session = try ReconciliationSession(db, items: items, fileID: fileID, file: file, at: now, by: user)
            try body(session)
            Self.traceCache(db, "reconcile lines stored:")
            let entries = try session.finish()
            Self.traceCache(db, "reconcile finished:")
            try db.execute(sql: "UPDATE result_file SET lines = ? WHERE id = ?", arguments: [session.lines, fileID])
            var totals = session.totals
            var missing = (count: 0, amount: Int64(0))
            // What the carriers still hold for the batch: the items sent and still open. `ledger verify` checks that
            // the clearing account says the same; summing here spares a scan of the batch's million postings.
            var clearing: [String: Money] = [:]
            for code in items.carriers.indices where items.exportedCarriers[code] { clearing[items.carriers[code]] = .zero }
            for index in 0..<items.count where items.wasSent(at: index) {
                if !items.isNamed(at: index) {
                    missing.count += 1
                    missing.amount += items.amount(at: index)
                }
                if items.state(at: index) == .open, let carrier = items.carrier(at: index) {
                    clearing[carrier] = Money(dong: clearing[carrier]!.dong + items.amount(at: index))
                }
            }
            totals.add(.missing, amount: missing.amount, count: missing.count)
            return ReconciliationResult(batch: id, file: file.name, sha256: file.sha256.hex, fileID: fileID, alreadyImported: false,
                                        importedAt: now.description, importedBy: user.value, lines: session.lines, totals: totals,
                                        conflictingDuplicates: session.conflictingDuplicates, settled: totals.amount(.paid),
                                        clearingOpen: clearing, entries: entries)
        }
    }

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
