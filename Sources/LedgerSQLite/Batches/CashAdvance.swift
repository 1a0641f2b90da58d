import AllowanceLedger
import GRDB

extension Store {
    /// Records the cash handed to each commune's cash desk for the batch's cash items (Dr 1200 per commune /
    /// Cr 1000), so that paying them out leaves the desks at zero. Once per batch; again changes nothing.
    public func advanceCash(_ id: BatchID, by user: UserName) throws -> (perCommune: [String: Money], alreadyRecorded: Bool) {
        try write { db in
            let batch = try Self.fetchBatch(db, id)
            guard batch.status == .approved || batch.status == .exported else {
                throw BatchError.wrongStatus(batch: id, status: batch.status, action: "advance cash before it is approved")
            }
            var perCommune: [String: Money] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT commune_code, SUM(amount) FROM batch_item WHERE batch_id = ? AND method = 'cash'
                GROUP BY commune_code ORDER BY commune_code
                """, arguments: [id.rawValue]) {
                perCommune[row[0]] = Money(dong: row[1])
            }
            let key = "cash-advance:batch:\(id)"
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM journal_entry WHERE idempotency_key = ?", arguments: [key]) == true {
                return (perCommune, true)
            }
            guard !perCommune.isEmpty else { throw BatchError.noCashItems(id) }
            let writer = try JournalWriter(db, at: clock.now(), kind: .cashAdvance, key: key, batch: id, by: user,
                                           memo: "Cash for batch \(id) (\(batch.period)) handed to the commune cash desks")
            var total = Money.zero
            for (commune, amount) in perCommune.sorted(by: { $0.key < $1.key }) {
                try writer.append(.debit(.cashDisbursement, amount, sub: commune))
                total = try total.adding(amount)
            }
            try writer.append(.credit(.treasury, total))
            try writer.finish()
            return (perCommune, false)
        }
    }
}
