import GRDB

/// A carrier result file about to be reconciled.
public struct ResultFileInfo: Sendable {
    public let path: String
    /// How the file is named in messages and the record (the path as the user typed it).
    public let name: String
    public let sha256: Digest32
    public let byteSize: Int64
    /// The carrier profile the file is read with.
    public let profile: String

    public init(path: String, name: String? = nil, sha256: Digest32, byteSize: Int64, profile: String) {
        self.path = path
        self.name = name ?? path
        self.sha256 = sha256
        self.byteSize = byteSize
        self.profile = profile
    }
}

/// One data line of a result file and what the matcher made of it.
public struct ResultLineRecord: Sendable {
    public var line: Int
    public var outcome: ReconcileOutcome
    public var effect: ReconcileEffect?
    /// The batch item the line names, by position in `ReconcileItems`.
    public var itemIndex: Int?
    /// The reference as the carrier wrote it.
    public var reference: String
    public var status: CarrierStatus?
    /// `84xxxxxxxxx` when the number could be read, else the text as written.
    public var msisdn: String?
    public var amount: Int64?
    public var carrierTxnID = ""
    public var completedAt = ""
    public var reasonCode = ""
    public var reasonText = ""
    /// Why the line is an exception, or which line it repeats.
    public var note = ""
    /// A duplicate that disagrees with the line it repeats.
    public var conflicting = false

    public init(line: Int, outcome: ReconcileOutcome, reference: String) {
        self.line = line
        self.outcome = outcome
        self.reference = reference
    }

    public var fingerprint: Int64 { resultLineFingerprint(status: status, amount: amount, msisdn: msisdn, carrierTxnID: carrierTxnID) }
}

public enum ReconcileError: Error, Sendable, Equatable, CustomStringConvertible {
    case batch(BatchError)
    case notExported(BatchID, BatchStatus)
    case effectNotAllowed(line: Int, effect: ReconcileEffect, state: ItemState)

    public var description: String {
        switch self {
        case .batch(let error): error.description
        case .notExported(let batch, let status):
            "batch \(batch) is \(status.rawValue); only a batch whose instruction file went to the carrier can be reconciled (`allowance batch export \(batch)`)"
        case .effectNotAllowed(let line, let effect, let state): "line \(line): cannot \(effect.rawValue) an item that is \(state.rawValue)"
        }
    }
}

/// Counts and amounts per outcome.
public struct OutcomeTotals: Sendable, Equatable {
    public private(set) var counts: [ReconcileOutcome: Int] = [:]
    public private(set) var amounts: [ReconcileOutcome: Money] = [:]

    public init() {}

    public func count(_ outcome: ReconcileOutcome) -> Int { counts[outcome] ?? 0 }
    public func amount(_ outcome: ReconcileOutcome) -> Money { amounts[outcome] ?? .zero }

    mutating func add(_ outcome: ReconcileOutcome, amount: Int64, count: Int = 1) {
        counts[outcome, default: 0] += count
        // Amounts are capped by what a file can carry (at most 10^18 đồng a line); a sum past Int64 saturates
        // rather than wraps, and only in a report of a nonsense file.
        let (sum, overflow) = (amounts[outcome]?.dong ?? 0).addingReportingOverflow(amount)
        amounts[outcome] = Money(dong: overflow ? .max : sum)
    }
}

public struct ReconciliationResult: Sendable, Equatable {
    public let batch: BatchID
    public let file: String
    public let sha256: String
    public let fileID: Int64
    /// The same bytes were reconciled against this batch before; nothing changed.
    public let alreadyImported: Bool
    public let importedAt: String
    public let importedBy: String
    /// Non-blank data lines.
    public let lines: Int
    /// Per outcome for this file's lines, and `missing` for the batch's items no file has named yet.
    public let totals: OutcomeTotals
    /// Duplicates that disagree with the line they repeat.
    public let conflictingDuplicates: Int
    /// Paid in this file.
    public let settled: Money
    /// What the batch's carriers still hold for it, per carrier: funds sent and not yet paid out or returned.
    public let clearingOpen: [String: Money]
    public let entries: [JournalEntryID]

    /// Lines an auditor has to work: everything but paid, failed, pending and harmless repeats.
    public var exceptions: Int {
        ReconcileOutcome.allCases.filter { $0.isException }.reduce(0) { $0 + totals.count($1) } + conflictingDuplicates
    }
}

/// Records one result file's lines inside the write transaction, and posts what they settle when it ends.
public final class ReconciliationSession {
    public let items: ReconcileItems
    public let fileID: Int64
    public let fileName: String
    let db: Database
    private let insertLine: FastStatement
    private(set) var totals = OutcomeTotals()
    private(set) var lines = 0
    private(set) var conflictingDuplicates = 0
    /// Items each effect applies to, in line order.
    private var settled: [Int32] = []
    private var reversed: [Int32] = []
    private var refunded: [Int32] = []

    init(_ db: Database, items: ReconcileItems, fileID: Int64, fileName: String) throws {
        self.db = db
        self.items = items
        self.fileID = fileID
        self.fileName = fileName
        insertLine = try FastStatement(db, """
            INSERT INTO result_line(file_id, line, outcome, effect, item_id, reference, status, msisdn, amount, carrier_txn_id, completed_at,
                                    reason_code, reason_text, note, fingerprint, conflicting)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
    }

    /// The batch another reference belongs to, when it names an item of some other batch.
    public func batchOwning(_ reference: ItemReference) throws -> BatchID? {
        guard reference.batch != items.batch.id else { return nil }
        let text = reference.canonical
        return try Int64.fetchOne(db, sql: "SELECT batch_id FROM batch_item WHERE reference = ?", arguments: [text]).map(BatchID.init)
    }

    /// Stores the line and applies its effect to the item; the postings follow when the file ends.
    public func record(_ record: ResultLineRecord) throws {
        precondition(record.outcome != .missing, "missing is not a line")
        precondition(record.effect == nil || record.itemIndex != nil, "an effect needs an item")
        let fingerprint = record.fingerprint
        if let index = record.itemIndex, record.outcome != .invalidLine {
            items.markNamed(index)
            if let effect = record.effect {
                let state = items.state(at: index)
                switch effect {
                case .settle:
                    guard state == .open, items.wasSent(at: index) else { throw ReconcileError.effectNotAllowed(line: record.line, effect: effect, state: state) }
                    items.setFinal(index, state: .paid, fingerprint: fingerprint, file: fileID, line: record.line)
                    settled.append(Int32(index))
                case .refund:
                    guard state == .open, items.wasSent(at: index) else { throw ReconcileError.effectNotAllowed(line: record.line, effect: effect, state: state) }
                    items.setFinal(index, state: .failed, fingerprint: fingerprint, file: fileID, line: record.line)
                    refunded.append(Int32(index))
                case .reverse:
                    guard state == .paid else { throw ReconcileError.effectNotAllowed(line: record.line, effect: effect, state: state) }
                    items.setFinal(index, state: .failed, fingerprint: fingerprint, file: fileID, line: record.line)
                    reversed.append(Int32(index))
                }
            }
        }
        lines += 1
        totals.add(record.outcome, amount: record.amount ?? 0)
        if record.outcome == .duplicate && record.conflicting { conflictingDuplicates += 1 }

        let statement = insertLine
        statement.bind(1, fileID)
        statement.bind(2, Int64(record.line))
        statement.bind(3, record.outcome.rawValue)
        statement.bind(4, record.effect?.rawValue)
        statement.bind(5, record.itemIndex.map { items.id(at: $0) })
        statement.bind(6, record.reference)
        statement.bind(7, record.status?.rawValue)
        statement.bind(8, record.msisdn)
        statement.bind(9, record.amount)
        statement.bind(10, record.carrierTxnID)
        statement.bind(11, record.completedAt)
        statement.bind(12, record.reasonCode)
        statement.bind(13, record.reasonText)
        statement.bind(14, record.note)
        statement.bind(15, fingerprint)
        statement.bind(16, Int64(record.outcome == .duplicate && record.conflicting ? 1 : 0))
        try statement.run()
    }

    /// Posts the file's settlements, reversals and refunds (one entry each, a leg per item and a clearing leg per
    /// carrier) and moves the items' states.
    func finish(at now: Timestamp, by user: UserName) throws -> [JournalEntryID] {
        let batch = items.batch
        var entries: [JournalEntryID] = []
        let what = "batch \(batch.id) (\(batch.period)), file \(fileName)"
        if !settled.isEmpty {
            let writer = try JournalWriter(db, at: now, kind: .settlement, key: "reconcile:file:\(fileID):settle", batch: batch.id, by: user,
                                           memo: "Carrier paid \(settled.count) item(s) of \(what)")
            var perCarrier: [String: Int64] = [:]
            for index in settled.lazy.map(Int.init) {
                let amount = Money(dong: items.amount(at: index))
                try writer.append(.debit(.payable, amount, beneficiary: BeneficiaryID(items.beneficiary(at: index)), item: BatchItemID(items.id(at: index))))
                perCarrier[items.carrier(at: index)!, default: 0] += amount.dong
            }
            for (carrier, amount) in perCarrier.sorted(by: { $0.key < $1.key }) {
                try writer.append(.credit(.carrierClearing, Money(dong: amount), sub: carrier))
            }
            entries.append(try writer.finish())
        }
        if !reversed.isEmpty {
            let writer = try JournalWriter(db, at: now, kind: .reversal, key: "reconcile:file:\(fileID):reverse", batch: batch.id, by: user,
                                           memo: "Carrier reversed \(reversed.count) payment(s) of \(what) and returned the funds")
            var perCarrier: [String: Int64] = [:]
            for index in reversed.lazy.map(Int.init) {
                let amount = Money(dong: items.amount(at: index))
                try writer.append(.credit(.payable, amount, beneficiary: BeneficiaryID(items.beneficiary(at: index)), item: BatchItemID(items.id(at: index))))
                perCarrier[items.carrier(at: index)!, default: 0] += amount.dong
            }
            for (carrier, amount) in perCarrier.sorted(by: { $0.key < $1.key }) {
                try writer.append(.debit(.carrierClearing, Money(dong: amount), sub: carrier))
                try writer.append(.credit(.carrierClearing, Money(dong: amount), sub: carrier))
                try writer.append(.debit(.treasury, Money(dong: amount)))
            }
            entries.append(try writer.finish())
        }
        if !refunded.isEmpty {
            let writer = try JournalWriter(db, at: now, kind: .refund, key: "reconcile:file:\(fileID):refund", batch: batch.id, by: user,
                                           memo: "Carrier returned the funds of \(refunded.count) failed payment(s) of \(what)")
            var perCarrier: [String: Int64] = [:]
            for index in refunded.lazy.map(Int.init) {
                let amount = Money(dong: items.amount(at: index))
                try writer.append(.debit(.treasury, amount, item: BatchItemID(items.id(at: index))))
                perCarrier[items.carrier(at: index)!, default: 0] += amount.dong
            }
            for (carrier, amount) in perCarrier.sorted(by: { $0.key < $1.key }) {
                try writer.append(.credit(.carrierClearing, Money(dong: amount), sub: carrier))
            }
            entries.append(try writer.finish())
        }
        // In the order the effects happened: a payment settled and reversed in one file ends failed.
        for (effect, from, to) in [("settle", "open", "paid"), ("reverse", "paid", "failed"), ("refund", "open", "failed")] {
            try db.execute(sql: """
                UPDATE batch_item SET state = ?
                WHERE id IN (SELECT item_id FROM result_line WHERE file_id = ? AND effect = ?) AND state = ?
                """, arguments: [to, fileID, effect, from])
        }
        return entries
    }
}

extension ItemReference {
    /// The reference as `batch create` writes it.
    var canonical: String {
        let year = periodCompact / 100
        let month = periodCompact % 100
        guard let period = Period(year: year, month: month) else {
            return "AL-\(periodCompact)-\(pad(Int(batch.rawValue), 6))-\(pad(Int(seq), 7))"
        }
        return Store.itemReference(period: period, batch: batch, seq: seq)
    }
}

extension Store {
    /// Reconciles one carrier result file against a batch in one transaction: `body` reads and matches the file
    /// and records each line through the session; the postings and state changes follow, and all of it commits
    /// together or not at all. A file reconciled against the batch before changes nothing.
    public func reconcile(batch id: BatchID, file: ResultFileInfo, by user: UserName,
                          _ body: (ReconciliationSession) throws -> Void) throws -> ReconciliationResult {
        try write { db in
            let batch: Batch
            do { batch = try Self.fetchBatch(db, id) } catch let error as BatchError { throw ReconcileError.batch(error) }
            guard batch.status == .exported || batch.status == .closed else { throw ReconcileError.notExported(id, batch.status) }
            if let row = try Row.fetchOne(db, sql: "SELECT id, imported_at, imported_by, lines FROM result_file WHERE batch_id = ? AND sha256 = ?",
                                          arguments: [id.rawValue, file.sha256.hex]) {
                let fileID: Int64 = row[0]
                var totals = OutcomeTotals()
                var conflicting = 0
                for line in try Row.fetchAll(db, sql: """
                    SELECT outcome, COUNT(*), COALESCE(SUM(amount), 0), SUM(conflicting) FROM result_line WHERE file_id = ? GROUP BY outcome
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
                                                SELECT COALESCE(SUM(amount), 0) FROM result_line WHERE file_id = ? AND outcome = 'paid'
                                                """, arguments: [fileID])!),
                                            clearingOpen: try Self.clearingOpen(db, batch: id), entries: [])
            }
            let now = clock.now()
            try db.execute(sql: """
                INSERT INTO result_file(batch_id, sha256, file_name, byte_size, profile, imported_at, imported_by, lines) VALUES (?, ?, ?, ?, ?, ?, ?, 0)
                """, arguments: [id.rawValue, file.sha256.hex, file.name, file.byteSize, file.profile, now.description, user.value])
            let fileID = db.lastInsertedRowID
            let items = try ReconcileItems(db, batch: batch)
            let session = try ReconciliationSession(db, items: items, fileID: fileID, fileName: file.name)
            try body(session)
            let entries = try session.finish(at: now, by: user)
            try db.execute(sql: "UPDATE result_file SET lines = ? WHERE id = ?", arguments: [session.lines, fileID])
            var totals = session.totals
            var missing = (count: 0, amount: Int64(0))
            for index in 0..<items.count where items.wasSent(at: index) && !items.isNamed(at: index) {
                missing.count += 1
                missing.amount += items.amount(at: index)
            }
            totals.add(.missing, amount: missing.amount, count: missing.count)
            return ReconciliationResult(batch: id, file: file.name, sha256: file.sha256.hex, fileID: fileID, alreadyImported: false,
                                        importedAt: now.description, importedBy: user.value, lines: session.lines, totals: totals,
                                        conflictingDuplicates: session.conflictingDuplicates, settled: totals.amount(.paid),
                                        clearingOpen: try Self.clearingOpen(db, batch: id), entries: entries)
        }
    }

    /// Mobile-money items whose funds went to the carrier and that no readable result line has named.
    static func missingItems(_ db: Database, batch: BatchID) throws -> (count: Int, amount: Int64) {
        let row = try Row.fetchOne(db, sql: """
            SELECT COUNT(*), COALESCE(SUM(i.amount), 0) FROM batch_item i
            WHERE i.batch_id = ?1 AND i.method = 'mobile_money'
              AND EXISTS (SELECT 1 FROM journal_entry e WHERE e.idempotency_key = 'transfer:batch:' || ?1 || ':' || i.carrier)
              AND NOT EXISTS (SELECT 1 FROM result_line r WHERE r.item_id = i.id AND r.outcome <> 'invalid_line')
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
