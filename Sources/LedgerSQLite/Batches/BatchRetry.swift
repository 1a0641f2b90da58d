import AllowanceLedger
import GRDB

extension Store {
    /// Creates a follow-up batch for a reconciled batch's failed and missing mobile-money items. Each retry item
    /// pays the same amount to the beneficiary's account as the register holds it now (cash if they no longer have
    /// mobile money), and is approved by a second person like any batch; approval moves the payable over from the
    /// original item instead of spending again.
    public func retryBatch(_ id: BatchID, by user: UserName) throws -> BatchRetryResult {
        try write { db in
            let original = try Self.fetchBatch(db, id)
            guard original.status == .exported || original.status == .closed else {
                throw BatchError.wrongStatus(batch: id, status: original.status, action: "retry it before its payments went to the carrier")
            }
            guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM result_file WHERE batch_id = ?", arguments: [id.rawValue])! > 0 else {
                throw BatchError.nothingToRetry(id, "no result file has been reconciled for it yet (`allowance reconcile \(id) FILE`)")
            }
            let now = clock.now()
            try Self.raiseFlags(db, at: now)
            let held = Set(try Self.openFlags(db, at: now).keys)
            let candidates = try Row.fetchAll(db, sql: """
                SELECT o.id, o.beneficiary_id, o.amount, o.attempt, COALESCE(s.state, 'open'), o.commune_code, o.category,
                       b.status, b.payment_method, b.carrier, b.msisdn, b.full_name
                FROM batch_item o JOIN beneficiary b ON b.id = o.beneficiary_id LEFT JOIN item_state s ON s.item_id = o.id
                WHERE o.batch_id = ?1 AND o.method = 'mobile_money'
                  AND NOT EXISTS (SELECT 1 FROM batch_item r WHERE r.retry_of_item = o.id)
                  AND (s.state = 'failed'
                       OR (s.state IS NULL
                           AND \(Self.itemSentSQL("o")) AND \(Self.itemUnnamedSQL("o"))))
                ORDER BY o.seq
                """, arguments: [id.rawValue])
            var leftOut: [String: Int] = [:]
            var chosen: [Row] = []
            for row in candidates {
                let status: String = row[7]
                if status != BeneficiaryStatus.active.rawValue {
                    leftOut["beneficiary \(status)", default: 0] += 1
                } else if held.contains(BeneficiaryID(row[1])) {
                    leftOut["open fraud flag", default: 0] += 1
                } else {
                    chosen.append(row)
                }
            }
            guard !chosen.isEmpty else {
                let why = candidates.isEmpty ? "every item is paid, pending, in an exception, or already retried"
                    : "the \(candidates.count) failed or missing item(s) belong to beneficiaries no longer active or held by a flag"
                throw BatchError.nothingToRetry(id, why)
            }
            try db.execute(sql: """
                INSERT INTO batch(period, scope, status, retry_of, created_by, created_at) VALUES (?, ?, 'created', ?, ?, ?)
                """, arguments: [original.period.description, original.communes.isEmpty ? "*" : original.communes.map(\.value).joined(separator: ","),
                                 id.rawValue, user.value, now.description])
            let batchID = BatchID(db.lastInsertedRowID)
            let insert = try FastStatement(db, """
                INSERT INTO batch_item(batch_id, seq, reference, beneficiary_id, period, commune_code, category, method, carrier, msisdn,
                                       account_name, amount, retry_of_item, attempt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            var total = Money.zero
            var failed = 0
            var mobile = 0
            for (offset, row) in chosen.enumerated() {
                let seq = Int64(offset + 1)
                let method: String = row[8]
                let isMobile = method == PaymentMethod.mobileMoney.rawValue
                let amount = Money(dong: row[2])
                insert.bind(1, batchID.rawValue)
                insert.bind(2, seq)
                insert.bind(3, ItemReference(period: original.period, batch: batchID, seq: seq).canonical)
                insert.bind(4, row[1] as Int64)
                insert.bind(5, original.period.description)
                insert.bind(6, row[5] as String)
                insert.bind(7, row[6] as String)
                insert.bind(8, method)
                insert.bind(9, isMobile ? row[9] as String? : nil)
                insert.bind(10, isMobile ? row[10] as String? : nil)
                insert.bind(11, row[11] as String)
                insert.bind(12, amount.dong)
                insert.bind(13, row[0] as Int64)
                insert.bind(14, (row[3] as Int64) + 1)
                try insert.run()
                total = try total.adding(amount)
                if (row[4] as String) == ItemState.failed.rawValue { failed += 1 }
                if isMobile { mobile += 1 }
            }
            return BatchRetryResult(batch: try Self.fetchBatch(db, batchID), retryOf: id, items: chosen.count, total: total, failed: failed,
                                    missing: chosen.count - failed, mobileMoneyItems: mobile, cashItems: chosen.count - mobile, leftOut: leftOut)
        }
    }
}
