import AllowanceLedger
import GRDB
import Reconcile

extension SQLiteTransaction {
    /// Files are read in id order (`+` keeps SQLite off the batch's file index, whose order would need a sort of every
    /// line before the first row, a third of a second for the 20 exceptions shown after a 1M-line file).
    func reportRows(batch: BatchID, fileID: Int64?, includeMissing: Bool, exceptionsOnly: Bool, limit: Int?,
                    _ body: (ReconcileReportRow) throws -> Void) throws {
        let lines = try FastStatement(db, """
            SELECT f.file_name, r.line, COALESCE(r.reference, i.reference), r.outcome, r.conflicting, r.note, r.status, i.amount,
                   CASE WHEN r.outcome = 'invalid_line' THEN r.amount ELSE COALESCE(r.amount, i.amount) END,
                   CASE WHEN r.outcome = 'invalid_line' THEN r.msisdn ELSE COALESCE(r.msisdn, i.msisdn) END,
                   r.carrier_txn_id, r.completed_at, r.reason_code, r.reason_text
            FROM result_file f JOIN result_line r ON r.file_id = f.id LEFT JOIN batch_item i ON i.id = r.item_id
            WHERE +f.batch_id = ?1 AND (?2 IS NULL OR f.id = ?2)
              \(exceptionsOnly ? "AND r.outcome <> 'paid' AND r.outcome <> 'failed' AND r.outcome <> 'pending' AND NOT (r.outcome = 'duplicate' AND r.conflicting = 0)" : "")
            ORDER BY f.id, r.line LIMIT ?3
            """)
        defer { lines.reset() }
        lines.bind(1, batch.rawValue)
        lines.bind(2, fileID)
        lines.bind(3, Int64(limit ?? -1))
        while try lines.step() {
            try body(ReconcileReportRow(
                file: lines.string(0), line: Int(lines.int64(1)), reference: lines.string(2),
                outcome: ReconcileOutcome(rawValue: lines.string(3)) ?? .invalidLine, conflicting: lines.int64(4) != 0,
                note: lines.string(5), status: lines.stringOrNil(6).flatMap(CarrierStatus.init(rawValue:)),
                expectedAmount: lines.int64OrNil(7), reportedAmount: lines.int64OrNil(8), msisdn: lines.stringOrNil(9),
                carrierTxnID: lines.string(10), completedAt: lines.string(11), reasonCode: lines.string(12), reasonText: lines.string(13)))
        }
        guard includeMissing else { return }
        let missing = try FastStatement(db, """
            SELECT i.reference, i.amount, i.msisdn FROM batch_item i
            WHERE i.batch_id = ?1 AND i.method = 'mobile_money'
              AND \(Store.itemSentSQL("i")) AND \(Store.itemUnnamedSQL("i"))
            ORDER BY i.seq
            """)
        defer { missing.reset() }
        missing.bind(1, batch.rawValue)
        while try missing.step() {
            try body(ReconcileReportRow(
                file: "", line: nil, reference: missing.string(0), outcome: .missing, conflicting: false,
                note: "no result line names this item yet", status: nil, expectedAmount: missing.int64(1), reportedAmount: nil,
                msisdn: missing.stringOrNil(2), carrierTxnID: "", completedAt: "", reasonCode: "", reasonText: ""))
        }
    }

    func resultFiles(batch: BatchID) throws -> [ResultFileRecord] {
        try Row.fetchAll(db, sql: """
            SELECT id, file_name, sha256, byte_size, profile, imported_at, imported_by, lines FROM result_file WHERE batch_id = ? ORDER BY id
            """, arguments: [batch.rawValue]).map(Store.resultFile(from:))
    }

    /// Each sent item's outcome from its state and the latest line that named it, in one pass over the batch's items.
    func status(of batch: Batch) throws -> ReconcileStatus {
        let id = batch.id
        var items = OutcomeTotals()
        var notSent = 0
        // Each item's latest line (the last file's last line naming it), gathered once from the batch's files:
        // SQLite's MAX() gives the bare columns of the row holding it.
        let rows = try FastStatement(db, """
            SELECT i.amount, \(Store.itemStateSQL("i")),
                   \(Store.itemSentSQL("i")),
                   latest.said
            FROM batch_item i
            LEFT JOIN (SELECT r.item_id AS item_id, r.outcome || ':' || COALESCE(r.effect, '') AS said, MAX(r.file_id * 4294967296 + r.line)
                       FROM result_file f JOIN result_line r ON r.file_id = f.id
                       WHERE f.batch_id = ?1 AND r.item_id IS NOT NULL GROUP BY r.item_id) latest ON latest.item_id = i.id
            WHERE i.batch_id = ?1 AND i.method = 'mobile_money'
            """)
        defer { rows.reset() }
        rows.bind(1, id.rawValue)
        while try rows.step() {
            let amount = rows.int64(0)
            let state = ItemState(rawValue: rows.string(1)) ?? .open
            guard rows.int64(2) != 0 else {
                notSent += 1
                continue
            }
            let latest = rows.stringOrNil(3)
            let outcome: ReconcileOutcome
            switch state {
            case .paid, .paidCash: outcome = .paid
            case .failed: outcome = latest == "reversed:reverse" ? .reversed : .failed
            case .open:
                if let latest, let parsed = ReconcileOutcome(rawValue: String(latest.prefix { $0 != ":" })) {
                    outcome = parsed
                } else {
                    outcome = .missing
                }
            }
            items.add(outcome, amount: amount)
        }
        var lines = OutcomeTotals()
        for row in try Row.fetchAll(db, sql: """
            SELECT r.outcome, COUNT(*),
                   COALESCE(SUM(CASE WHEN r.outcome = 'invalid_line' THEN MAX(0, COALESCE(r.amount, 0)) ELSE COALESCE(r.amount, i.amount) END), 0)
            FROM result_file f JOIN result_line r ON r.file_id = f.id LEFT JOIN batch_item i ON i.id = r.item_id
            WHERE f.batch_id = ? GROUP BY r.outcome
            """, arguments: [id.rawValue]) {
            guard let outcome = ReconcileOutcome(rawValue: row[0]) else { continue }
            lines.add(outcome, amount: row[2], count: row[1])
        }
        return ReconcileStatus(batch: batch, files: try resultFiles(batch: id), items: items, lines: lines, notSent: notSent,
                               clearingOpen: try Store.clearingOpen(db, batch: id))
    }
}

extension Store {
    static func resultFile(from row: Row) -> ResultFileRecord {
        ResultFileRecord(id: row[0], name: row[1], sha256: row[2], byteSize: row[3], profile: row[4], importedAt: row[5], importedBy: row[6],
                         lines: row[7])
    }
}
