import AllowanceLedger

extension PostgresStorage: ReportsStorage {
    func writeStamp() throws -> [Int64] {
        try store.read { db in
            try db.query("""
                SELECT (SELECT COALESCE(MAX(id), 0) FROM journal_entry), (SELECT COALESCE(MAX(id), 0) FROM register_link),
                       (SELECT COALESCE(MAX(id), 0) FROM result_file)
                """)[0].map { Int64($0!)! }
        }
    }

    func communeNames() throws -> [String: String] {
        try store.read { db in
            Dictionary(try db.query("SELECT code, name FROM commune").map { ($0[0]!, $0[1]!) }, uniquingKeysWith: { first, _ in first })
        }
    }

    /// The rule `Reports.nonCash` states, summed where the items are: one pass over the period's items groups them by
    /// key, by own key and by month at once (grouping sets); the failure reasons and the register's coverage are two
    /// more statements. `NonCashReport.assemble` does the rest, as it does for SQLite.
    func nonCashReport(from: Period, to: Period, grouping: NonCashGrouping, target: Share, failureReasonsMax: Int) throws -> NonCashReport {
        try store.read { db in
            let key = { (alias: String) in
                switch grouping {
                case .commune: "\(alias).commune_code"
                case .category: "\(alias).category"
                case .carrier: "COALESCE(\(alias).carrier, 'CASH')"
                }
            }
            // Each item of an approved month's batch (a one-off is no monthly recipient) with what it adds: a recipient
            // and the amount owed by the month's first item, a payment by a mobile-money item settled as paid, and that
            // item's failed or reversed payments. A retry counts under the first item's key, its failures under its own
            // carrier's. An item that adds nothing makes no row.
            let items = """
                WITH counted AS (
                    SELECT id FROM batch WHERE status IN ('approved', 'exported', 'closed') AND period >= $1 AND period <= $2 AND one_off IS NULL),
                -- The few lines that moved funds back, by item (the partial index that holds just them).
                moved_back AS (
                    SELECT item_id, COUNT(*) AS lines FROM result_line WHERE item_id IS NOT NULL AND (effect = 'refund' OR effect = 'reverse')
                    GROUP BY item_id),
                facts AS (
                    SELECT i.period, \(key("i")) AS own,
                           CASE WHEN i.attempt = 1 THEN \(key("i")) ELSE COALESCE((
                               SELECT \(key("o")) FROM batch_item o WHERE o.beneficiary_id = i.beneficiary_id AND o.period = i.period
                                 AND o.attempt = 1 AND o.one_off = i.one_off LIMIT 1), \(key("i"))) END AS key,
                           CASE WHEN i.attempt = 1 THEN 1 ELSE 0 END AS recipients,
                           CASE WHEN i.attempt = 1 THEN i.amount ELSE 0 END AS amount_total,
                           CASE WHEN i.method = 'mobile_money' AND s.state = 'paid' THEN 1 ELSE 0 END AS noncash,
                           CASE WHEN i.method = 'mobile_money' AND s.state = 'paid' THEN i.amount ELSE 0 END AS noncash_amount,
                           CASE WHEN i.method = 'mobile_money' THEN COALESCE(f.lines, 0) ELSE 0 END AS failed
                    FROM batch_item i JOIN counted c ON c.id = i.batch_id LEFT JOIN item_state s ON s.item_id = i.id
                    LEFT JOIN moved_back f ON f.item_id = i.id),
                adding AS (SELECT * FROM facts WHERE recipients + amount_total + noncash + noncash_amount + failed > 0)
                """
            var byKey: [String: NonCashFigures] = [:]
            var byMonth: [String: NonCashFigures] = [:]
            var total = NonCashFigures()
            func figures(_ row: [String?], from column: Int) -> NonCashFigures {
                NonCashFigures(recipients: Int64(row[column]!)!, noncashRecipients: Int64(row[column + 2]!)!, amountTotal: Int64(row[column + 1]!)!,
                               noncashAmount: Int64(row[column + 3]!)!, failedMobileMoney: Int64(row[column + 4]!)!)
            }
            let parameters = [from.description, to.description]
            for row in try db.query("""
                \(items) SELECT GROUPING(key, own, period), key, own, period,
                                SUM(recipients), SUM(amount_total), SUM(noncash), SUM(noncash_amount), SUM(failed)
                FROM adding GROUP BY GROUPING SETS ((key), (own), (period))
                """, parameters) {
                let sums = figures(row, from: 4)
                // GROUPING's bits say which columns a row is not grouped by: 0b011 is by key, 0b101 by own, 0b110 by month.
                switch Int(row[0]!)! {
                case 0b011:
                    var byItsKey = sums
                    // A failure belongs to the carrier that failed, even when a retry went through another.
                    if grouping == .carrier { byItsKey.failedMobileMoney = 0 }
                    byKey[row[1]!, default: NonCashFigures()].add(byItsKey)
                case 0b101 where grouping == .carrier:
                    byKey[row[2]!, default: NonCashFigures()].add(NonCashFigures(failedMobileMoney: sums.failedMobileMoney))
                case 0b110:
                    byMonth[row[3]!] = sums
                    total.add(sums)
                default: break
                }
            }
            var reasonCounts: [String: Int64] = [:]
            for row in try db.query("""
                WITH counted AS (
                    SELECT id FROM batch WHERE status IN ('approved', 'exported', 'closed') AND period >= $1 AND period <= $2 AND one_off IS NULL)
                SELECT btrim(r.reason_code || ' ' || r.reason_text), COUNT(*)
                FROM result_line r JOIN batch_item i ON i.id = r.item_id JOIN counted c ON c.id = i.batch_id
                WHERE (r.effect = 'refund' OR r.effect = 'reverse') AND i.method = 'mobile_money'
                GROUP BY 1
                """, parameters) {
                reasonCounts[row[0]!, default: 0] += Int64(row[1]!)!
            }
            var coverageByCommune: [String: Coverage] = [:]
            for row in try db.query("""
                SELECT commune_code, COUNT(*), COUNT(*) - COUNT(msisdn) FROM beneficiary WHERE status = 'active' GROUP BY commune_code
                """) {
                let active = Int64(row[1]!)!
                coverageByCommune[row[0]!] = Coverage(active: active, withMobileMoney: active - Int64(row[2]!)!)
            }
            return NonCashReport.assemble(from: from, to: to, grouping: grouping, byKey: byKey, byMonth: byMonth, total: total,
                                          coverageByCommune: coverageByCommune, reasonCounts: reasonCounts,
                                          failureReasonsMax: failureReasonsMax, target: target)
        }
    }
}

extension PostgresStore {
    /// Reports on this ledger.
    public var reports: Reports { Reports(storage: PostgresStorage(store: self)) }
}
