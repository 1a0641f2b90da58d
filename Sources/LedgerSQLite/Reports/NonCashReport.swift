import AllowanceLedger
import GRDB

extension SQLiteStorage: ReportsStorage {
    func writeStamp() throws -> [Int64] {
        try store.read { try SQLiteTransaction(db: $0).writeStamp() }
    }

    func communeNames() throws -> [String: String] {
        try store.read { db in
            var names: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT code, name FROM commune") { names[row[0]] = row[1] }
            return names
        }
    }

    /// One pass over the months' items in table order, numbering keys and months as they come; the few retries and
    /// failed lines are read first through their partial indexes.
    func nonCashReport(from: Period, to: Period, grouping: NonCashGrouping, target: Share, failureReasonsMax: Int) throws -> NonCashReport {
        try store.read { db in
            let fromText = from.description, toText = to.description
            // The batches that count: approved (exported and closed ones too) and of a month in the range, a month's
            // benefits only: a one-off payment (a Tết gift) is no monthly recipient.
            let batches = try Int64.fetchAll(db, sql: """
                SELECT id FROM batch WHERE (status = 'approved' OR status = 'exported' OR status = 'closed') AND period >= ? AND period <= ?
                  AND one_off IS NULL
                """, arguments: [fromText, toText])
            let inBatches = "batch_id IN (\(batches.map(String.init).joined(separator: ",")))"
            // A retry counts under its recipient's first item: commune, category and carrier of the month's first item.
            var firstItemKey: [Int64: String] = [:]
            let keyColumn = switch grouping {
            case .commune: "o.commune_code"
            case .category: "o.category"
            case .carrier: "COALESCE(o.carrier, 'CASH')"
            }
            // Retries are the items with `retry_of_item` set (a CHECK ties it to attempt > 1): found through that
            // column's partial index, not a pass over every item in range (`+` keeps SQLite off the batch index).
            for row in try Row.fetchAll(db, sql: """
                SELECT r.id, \(keyColumn) FROM batch_item r CROSS JOIN batch_item o
                WHERE r.retry_of_item IS NOT NULL AND +r.\(inBatches)
                  AND o.beneficiary_id = r.beneficiary_id AND o.period = r.period AND o.attempt = 1 AND o.one_off = r.one_off
                """) {
                firstItemKey[row[0]] = row[1]
            }
            // Failed and reversed payments (lines that moved the funds back; a "reversed" for an item never paid posted
            // nothing and is not one) are few: their reasons are gathered per item first, from the partial index that
            // holds just those lines (`result_line_moved_back`; the WHERE must spell its condition the same way).
            var failures: [Int64: [String]] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT item_id, TRIM(reason_code || ' ' || reason_text) FROM result_line
                WHERE item_id IS NOT NULL AND (effect = 'refund' OR effect = 'reverse')
                """) {
                failures[row[0], default: []].append(row[1])
            }
            // Checked for every item before the dictionary, which hashed each id.
            let failedIDs = IDBitmap(failures.keys)
            let batchSet = IDBitmap(batches)
            // One pass over the items: a recipient is counted by the month's first item, paid non-cash by the item
            // (first or retry) the carrier settled; at most one item a month is ever settled as paid. Keys and months
            // are numbered as they come, so the million rows add into arrays.
            struct Sums {
                var reasonCounts: [String: Int64] = [:]
                var keyNumbers = InternedTexts(), monthNumbers = InternedTexts()
                // nil for a number no figure was added under (a retry's own commune, say).
                var byKeyNumber: [NonCashFigures?] = []
                var byMonthNumber: [NonCashFigures?] = []
                var total = NonCashFigures()
            }
            var sums = Sums()
            let columns = "id, period, commune_code, category, COALESCE(carrier, 'CASH'), amount, attempt, method = 'mobile_money'"
            let keyIndex: Int32 = switch grouping {
            case .commune: 2
            case .category: 3
            case .carrier: 4
            }
            func add(_ figures: NonCashFigures, to table: inout [NonCashFigures?], at number: Int) {
                while table.count <= number { table.append(nil) }
                var sum = table[number] ?? NonCashFigures()
                sum.add(figures)
                table[number] = sum
            }
            let paid = try PaidItems(db, batches: batches)
            /// Adds up the rows of `items` (`columns`); returns how many there were.
            func tally(_ items: FastStatement, batchColumn: Int32? = nil) throws -> Int {
                defer { items.reset() }
                var rows = 0
                while try items.step() {
                    if let batchColumn, !batchSet.contains(items.int64(batchColumn)) { continue }
                    rows += 1
                    let id = items.int64(0)
                    let first = items.int64(6) == 1
                    var figures = NonCashFigures()
                    if first {
                        figures.recipients = 1
                        figures.amountTotal = items.int64(5)
                    }
                    if items.int64(7) == 1, try paid.contains(id, db) {
                        figures.noncashRecipients = 1
                        figures.noncashAmount = items.int64(5)
                    }
                    var failed: Int64 = 0
                    if failedIDs.contains(id), let reasons = failures[id], items.int64(7) == 1 {
                        failed = Int64(reasons.count)
                        // Masked and counted by `NonCashReport.assemble`: the same reason naming two numbers is one reason.
                        for reason in reasons { sums.reasonCounts[reason, default: 0] += 1 }
                    }
                    if figures == NonCashFigures() && failed == 0 { continue }
                    let own = sums.keyNumbers.number(items, keyIndex)
                    let key = first ? own : firstItemKey[id].map { sums.keyNumbers.number(of: $0) } ?? own
                    add(figures, to: &sums.byKeyNumber, at: key)
                    // A failure belongs to the carrier that failed, even when a retry went through another.
                    var failure = NonCashFigures()
                    failure.failedMobileMoney = failed
                    add(failure, to: &sums.byKeyNumber, at: grouping == .carrier ? own : key)
                    figures.failedMobileMoney = failed
                    add(figures, to: &sums.byMonthNumber, at: sums.monthNumbers.number(items, 1))
                    sums.total.add(figures)
                }
                return rows
            }
            // When every batch's items run as one id range (Store.itemIDRun), the items are read by scanning the ids
            // from the lowest batch's first to the highest's last, in table order: the batch index took 1.3 s a million
            // items, the scan about half. A batch holds exactly its run's count of items, so when the scan found as many
            // of the batches' items as the runs add up to, it found them all; if not, it starts again through the index.
            let runs = try batches.map { try Store.itemIDRun(db, batch: BatchID($0)) }
            var tallied = false
            if !batches.isEmpty, runs.allSatisfy({ $0 != nil }) {
                // The batches are checked here, not in the SQL: SQLite would take the batch index for one batch, and for
                // several probe a temporary table of them on every row.
                let items = try FastStatement(db, "SELECT \(columns), batch_id FROM batch_item WHERE id BETWEEN ? AND ?")
                items.bind(1, runs.map { $0!.lowerBound }.min()!)
                items.bind(2, runs.map { $0!.upperBound }.max()!)
                tallied = try tally(items, batchColumn: 8) == runs.reduce(0) { $0 + $1!.count }
                if !tallied { sums = Sums() }
            }
            if !tallied {
                _ = try tally(try FastStatement(db, "SELECT \(columns) FROM batch_item WHERE \(inBatches)"))
            }
            var byKey: [String: NonCashFigures] = [:]
            for (number, figures) in sums.byKeyNumber.enumerated() { if let figures { byKey[sums.keyNumbers.texts[number]] = figures } }
            var byMonth: [String: NonCashFigures] = [:]
            for (number, figures) in sums.byMonthNumber.enumerated() { if let figures { byMonth[sums.monthNumbers.texts[number]] = figures } }
            var coverageByCommune: [String: Coverage] = [:]
            // From the commune index alone, which carries the status and `msisdn IS NULL` (spelled the same here).
            for row in try Row.fetchAll(db, sql: """
                SELECT commune_code, COUNT(*), SUM(msisdn IS NULL) FROM beneficiary WHERE status = 'active' GROUP BY commune_code
                """) {
                let active: Int64 = row[1]
                coverageByCommune[row[0]] = Coverage(active: active, withMobileMoney: active - (row[2] as Int64))
            }
            return NonCashReport.assemble(from: from, to: to, grouping: grouping, byKey: byKey, byMonth: byMonth, total: sums.total,
                                          coverageByCommune: coverageByCommune, reasonCounts: sums.reasonCounts,
                                          failureReasonsMax: failureReasonsMax, target: target)
        }
    }
}

/// The items settled as paid (`item_state`), for the batches a report covers: a bitmap over the ids from each batch's
/// first item to its last, filled by one range scan, instead of a lookup per item (a correlated lookup cost a second
/// per million items). A batch's items are numbered in seq order when it is created; an id outside the range is
/// looked up on its own.
struct PaidItems {
    private let low: Int64
    private let high: Int64
    private var bits: IDBitmap

    init(_ db: Database, batches: [Int64]) throws {
        var low = Int64.max, high = Int64.min
        for batch in batches {
            for order in ["", " DESC"] {
                if let id = try Int64.fetchOne(db, sql: "SELECT id FROM batch_item WHERE batch_id = ? ORDER BY seq\(order) LIMIT 1", arguments: [batch]) {
                    low = min(low, id)
                    high = max(high, id)
                }
            }
        }
        self.low = low
        self.high = high
        bits = IDBitmap(low: low, high: high)
        guard low <= high else { return }
        let rows = try FastStatement(db, "SELECT item_id FROM item_state WHERE item_id BETWEEN ? AND ? AND state = 'paid'")
        defer { rows.reset() }
        rows.bind(1, low)
        rows.bind(2, high)
        while try rows.step() { bits.insert(rows.int64(0)) }
    }

    func contains(_ id: Int64, _ db: Database) throws -> Bool {
        guard id >= low && id <= high else {
            return try String.fetchOne(db, sql: "SELECT state FROM item_state WHERE item_id = ?", arguments: [id]) == ItemState.paid.rawValue
        }
        return bits.contains(id)
    }
}

extension SQLiteTransaction {
    func writeStamp() throws -> [Int64] {
        let row = try Row.fetchOne(db, sql: """
            SELECT (SELECT IFNULL(MAX(id), 0) FROM journal_entry), (SELECT IFNULL(MAX(id), 0) FROM register_link),
                   (SELECT IFNULL(MAX(id), 0) FROM result_file)
            """)!
        return [row[0], row[1], row[2]]
    }
}
