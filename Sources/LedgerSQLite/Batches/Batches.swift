import AllowanceLedger
import GRDB

extension Store {
    static func batch(from row: Row) throws -> Batch {
        let scope: String = row[2]
        return Batch(id: BatchID(row[0]), period: try Period(parsing: row[1]),
                     communes: scope == "*" ? [] : scope.split(separator: ",").map { Code(trusted: String($0)) },
                     status: BatchStatus(rawValue: row[3]) ?? .created, retryOf: (row[4] as Int64?).map(BatchID.init),
                     createdBy: row[5], createdAt: row[6], approvedBy: row[7], approvedAt: row[8], exportedAt: row[9], heldOut: row[10])
    }

    static let batchColumns = "id, period, scope, status, retry_of, created_by, created_at, approved_by, approved_at, exported_at, held_out"

    static func fetchBatch(_ db: Database, _ id: BatchID) throws -> Batch {
        guard let row = try Row.fetchOne(db, sql: "SELECT \(batchColumns) FROM batch WHERE id = ?", arguments: [id.rawValue]) else {
            throw BatchError.notFound(id.description)
        }
        return try batch(from: row)
    }

    public func batch(_ id: BatchID) throws -> Batch { try read { try Self.fetchBatch($0, id) } }

    public func batches(period: Period? = nil) throws -> [Batch] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.batchColumns) FROM batch \(period == nil ? "" : "WHERE period = ?") ORDER BY id",
                             arguments: period.map { [$0.description] } ?? []).map(Self.batch(from:))
        }
    }

    /// SQL finding the item whose reference is exactly a text (`alias` the item table), through the (batch, seq) index:
    /// the reference has no index of its own (Migrations.itemReferenceV7). Bound with `referenceArguments`.
    static func itemByReferenceSQL(_ alias: String) -> String {
        "\(alias).batch_id = ? AND \(alias).seq = ? AND \(alias).reference = ?"
    }

    /// The arguments of `itemByReferenceSQL`; nil when the text cannot be any item's reference.
    static func referenceArguments(_ text: String) -> StatementArguments? {
        guard let parsed = ItemReference(text) else { return nil }
        return [parsed.batch.rawValue, parsed.seq, text]
    }

    /// Creates the month's batch: one item per active, unflagged beneficiary in scope, cash ones included, with
    /// the amount from the rates in effect in the period and the account snapshotted into the item.
    ///
    /// The items go in with one `INSERT … SELECT`: a million items never pass through Swift one by one.
    public func createBatch(_ options: BatchCreateOptions) throws -> BatchCreateResult {
        // Every item is made from a beneficiary row read in this transaction, for the batch it inserts.
        try writeWithKeysFromTransaction { db in
            let now = clock.now()
            let period = options.period
            try Self.raiseFlags(db, at: now)
            let holds = try Self.openFlags(db, at: now)
            let rates = try Self.loadRates(db)

            let communes = Array(Set(options.communes)).sorted()
            // ?1 batch, ?2 period, ?3 compact period; communes from ?4 on. Every statement names ?1 to ?3, since
            // SQLite counts parameters up to the highest one used.
            let scopeSQL = communes.isEmpty ? "" : "AND b.commune_code IN (\(communes.indices.map { "?\($0 + 4)" }.joined(separator: ", ")))"
            let notYetInBatchSQL = """
                AND NOT EXISTS (SELECT 1 FROM batch_item i WHERE i.beneficiary_id = b.id AND i.period = ?2 AND i.attempt = 1)
                """
            func arguments(batch: Int64) -> StatementArguments {
                StatementArguments([batch, period.description, period.compact] as [any DatabaseValueConvertible])
                    + StatementArguments(communes.map(\.value))
            }

            let existing = try Row.fetchAll(db, sql: """
                SELECT i.batch_id, COUNT(*), MIN(i.beneficiary_id) FROM batch_item i JOIN beneficiary b ON b.id = i.beneficiary_id
                WHERE ?1 IS NOT NULL AND ?3 IS NOT NULL AND i.period = ?2 AND i.attempt = 1 AND b.status = 'active' \(scopeSQL)
                GROUP BY i.batch_id ORDER BY i.batch_id
                """, arguments: arguments(batch: 0))
            let skippedExisting = existing.reduce(0) { $0 + ($1[1] as Int) }
            if !existing.isEmpty && !options.skipExisting {
                throw BatchError.alreadyInBatch(period: period, batches: existing.map { (BatchID($0[0]), $0[1]) },
                                                example: BeneficiaryID(existing[0][2]))
            }
            // The month's first batch for this scope need not probe for items already made: that probe is a
            // million index look-ups at national scale.
            let candidateSQL = "b.status = 'active' \(scopeSQL) " + (existing.isEmpty ? "AND ?2 IS NOT NULL" : notYetInBatchSQL)

            try db.execute(sql: """
                INSERT INTO batch(period, scope, status, created_by, created_at) VALUES (?, ?, 'created', ?, ?)
                """, arguments: [period.description, communes.isEmpty ? "*" : communes.map(\.value).joined(separator: ","),
                                 options.by.value, now.description])
            let batchID = BatchID(db.lastInsertedRowID)

            try db.execute(sql: """
                CREATE TEMP TABLE IF NOT EXISTS batch_held(beneficiary_id INTEGER PRIMARY KEY, reason TEXT NOT NULL);
                CREATE TEMP TABLE IF NOT EXISTS batch_order(seq INTEGER PRIMARY KEY, beneficiary_id INTEGER NOT NULL, amount INTEGER, mobile INTEGER NOT NULL);
                DELETE FROM temp.batch_held;
                DELETE FROM temp.batch_order;
                """)
            // Amount per category as a CASE expression: cheaper per row than a join. Codes are checked
            // identifiers ([A-Z0-9_-]), so they are safe to write into the SQL.
            var amountSQL = "CASE b.category"
            var unpriced: [String: RateError] = [:]
            for category in rates.categories.keys.map(\.value).sorted() {
                precondition(category.utf8.allSatisfy { (byte: UInt8) -> Bool in
                    (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || byte == 95 || byte == 45
                }, "category codes are checked identifiers")
                switch Result(catching: { () throws(RateError) in try rates.monthlyAmount(category: Code(trusted: category), period: period) }) {
                case .success(let amount): amountSQL += " WHEN '\(category)' THEN \(amount.dong)"
                case .failure(let error): unpriced[category] = error
                }
            }
            amountSQL += " END"
            // A category without a rate in the period matters only if someone in scope has it.
            if !unpriced.isEmpty {
                let list = unpriced.keys.sorted().map { "'\($0)'" }.joined(separator: ", ")
                if let category = try String.fetchOne(db, sql: """
                    SELECT b.category FROM beneficiary b WHERE ?1 IS NOT NULL AND ?3 IS NOT NULL AND \(candidateSQL)
                      AND b.category IN (\(list)) LIMIT 1
                    """, arguments: arguments(batch: batchID.rawValue)) {
                    throw BatchError.rate(unpriced[category]!)
                }
            }
            let insertHeld = try FastStatement(db, "INSERT INTO temp.batch_held(beneficiary_id, reason) VALUES (?, ?)")
            for (beneficiary, kinds) in holds {
                insertHeld.bind(1, beneficiary.rawValue)
                insertHeld.bind(2, Array(Set(kinds.map(\.rawValue))).sorted().joined(separator: ","))
                try insertHeld.run()
            }

            // From the few held beneficiaries to their register rows (`CROSS JOIN` keeps that order): SQLite otherwise
            // walked the whole register and probed the holds, 0.4 s per million.
            try db.execute(sql: """
                INSERT INTO batch_hold(batch_id, beneficiary_id, reason)
                SELECT ?1, b.id, h.reason FROM temp.batch_held h CROSS JOIN beneficiary b ON b.id = h.beneficiary_id
                WHERE ?3 IS NOT NULL AND \(candidateSQL)
                """, arguments: arguments(batch: batchID.rawValue))
            // Number the items first (ids, amounts and methods only), then insert them in one statement; a window
            // function over whole rows took several times longer. Items follow the register's order: reading
            // beneficiaries in commune order jumped around the table and doubled the time at a million. The batch's
            // totals are summed from this in-memory table, not by reading the million items back (0.3 – 0.5 s).
            try db.execute(sql: """
                INSERT INTO temp.batch_order(beneficiary_id, amount, mobile)
                SELECT b.id, \(amountSQL), b.payment_method = 'mobile_money' FROM beneficiary b
                WHERE ?1 IS NOT NULL AND ?3 IS NOT NULL AND \(candidateSQL)
                  AND b.id NOT IN (SELECT beneficiary_id FROM temp.batch_held)
                ORDER BY b.id
                """, arguments: arguments(batch: batchID.rawValue))
            // The reference from `allowance_item_reference` (Sources/CSQLiteTuning), as `ItemReference.canonical` spells it: SQLite's
            // `printf` took a microsecond an item.
            try db.execute(sql: """
                INSERT INTO batch_item(batch_id, seq, reference, beneficiary_id, period, commune_code, category, method,
                                       carrier, msisdn, account_name, amount)
                SELECT ?1, o.seq, allowance_item_reference(?2, ?1, o.seq), b.id, ?2, b.commune_code, b.category, b.payment_method,
                       CASE WHEN b.payment_method = 'mobile_money' THEN b.carrier END,
                       CASE WHEN b.payment_method = 'mobile_money' THEN b.msisdn END,
                       b.full_name, o.amount
                FROM temp.batch_order o JOIN beneficiary b ON b.id = o.beneficiary_id
                ORDER BY o.seq
                """, arguments: [batchID.rawValue, period.description])

            let held = try Row.fetchAll(db, sql: "SELECT reason, COUNT(*) FROM batch_hold WHERE batch_id = ? GROUP BY reason",
                                        arguments: [batchID.rawValue])
            var heldByKind: [String: Int] = [:]
            var heldOut = 0
            for row in held {
                let count: Int = row[1]
                heldOut += count
                for kind in (row[0] as String).split(separator: ",") { heldByKind[String(kind), default: 0] += count }
            }
            let totals = try Row.fetchOne(db, sql: "SELECT COUNT(*), COALESCE(SUM(amount), 0), COALESCE(SUM(mobile), 0) FROM temp.batch_order")!
            let items: Int = totals[0]
            guard items > 0 else { throw BatchError.noEligible(period: period, heldOut: heldOut) }
            let mobile: Int = totals[2]
            try db.execute(sql: "UPDATE batch SET held_out = ? WHERE id = ?", arguments: [heldOut, batchID.rawValue])
            return BatchCreateResult(batch: try Self.fetchBatch(db, batchID), items: items, total: Money(dong: totals[1]),
                                     mobileMoneyItems: mobile, cashItems: items - mobile, heldOutByKind: heldByKind,
                                     skippedExisting: options.skipExisting ? skippedExisting : 0)
        }
    }

    /// Cancels a batch nobody has approved yet: its items are removed (so the month can be made again) and the batch
    /// row stays, marked cancelled, with who, when and why.
    public func cancelBatch(_ id: BatchID, reason: String, by user: UserName) throws -> Batch {
        let reason = reason.trimmingSpaces
        guard !reason.isEmpty else { throw RegistryError.reasonRequired }
        // The items go without SQLite's per-item key check, which would read every outcome line once per item (the lines
        // have no item index, v8): whether anything names them is asked here, each table once.
        return try writeWithKeysFromTransaction { db in
            let batch = try Self.fetchBatch(db, id)
            guard batch.status == .created else {
                throw BatchError.wrongStatus(batch: id, status: batch.status, action: "cancel it; only an unapproved batch can be cancelled")
            }
            try db.execute(sql: "DELETE FROM batch_hold WHERE batch_id = ?", arguments: [id.rawValue])
            let items = "SELECT id FROM batch_item WHERE batch_id = ?1"
            for (table, column) in Self.itemReferences {
                if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM \(table) WHERE \(column) IN (\(items)))", arguments: [id.rawValue]) == true {
                    throw DatabaseError(resultCode: .SQLITE_CONSTRAINT_FOREIGNKEY, message: """
                        batch \(id) cannot be cancelled: \(table).\(column) names one of its items, which an unapproved batch's items never are; \
                        the ledger was edited by hand (`allowance ledger verify`)
                        """)
                }
            }
            try db.execute(sql: "DELETE FROM batch_item WHERE batch_id = ?", arguments: [id.rawValue])
            try db.execute(sql: "UPDATE batch SET status = 'cancelled', cancelled_at = ?, cancelled_by = ?, cancel_reason = ? WHERE id = ?",
                           arguments: [clock.now().description, user.value, reason, id.rawValue])
            return try Self.fetchBatch(db, id)
        }
    }

    /// Every column that names a batch item (`REFERENCES batch_item(id)`): what `cancelBatch` checks before the items go.
    static let itemReferences = [("posting", "item_id"), ("result_line", "item_id"), ("item_state", "item_id"), ("batch_item", "retry_of_item")]

    /// The entitlement entry's memo carries the items' digest, so the hash chain covers every payee too.
    static func entitlementMemo(batch: BatchID, period: String, createdBy: String, approvedBy: String, digest: String) -> String {
        "Entitlements of batch \(batch) for \(period), created by \(createdBy), approved by \(approvedBy); items sha256 \(digest)"
    }

    /// The row ids of a batch's items, when they run without gaps from its first item to its last in seq order, as
    /// they do for every batch made by one insert: a scan of that id range reads the items in table order, twice as
    /// fast as going through the (batch_id, seq) index. Found with two index look-ups; nil when the ids do not fit. A
    /// reader of the range still checks what it read (reconcile: each row is the batch's next item; the report: it found
    /// as many of the batches' items as the runs hold) and reads through the index if not.
    static func itemIDRun(_ db: Database, batch: BatchID) throws -> ClosedRange<Int64>? {
        // The first item must be seq 1: with seqs from 1 to the last one, unique per batch, the run's length is the
        // batch's item count, which a reader that only counts (the report) relies on.
        guard let first = try Row.fetchOne(db, sql: "SELECT id, seq FROM batch_item WHERE batch_id = ? ORDER BY seq LIMIT 1",
                                           arguments: [batch.rawValue]),
              (first[1] as Int64) == 1,
              let last = try Row.fetchOne(db, sql: "SELECT id, seq FROM batch_item WHERE batch_id = ? ORDER BY seq DESC LIMIT 1",
                                          arguments: [batch.rawValue]),
              (last[0] as Int64) - (first[0] as Int64) + 1 == (last[1] as Int64) else { return nil }
        return (first[0] as Int64)...(last[0] as Int64)
    }


    static func itemSeal(_ db: Database, batch: BatchID) throws -> ItemSeal {
        let items = try FastStatement(db, """
            SELECT reference, beneficiary_id, method, carrier, msisdn, account_name, amount FROM batch_item WHERE batch_id = ? ORDER BY seq
            """)
        defer { items.reset() }
        items.bind(1, batch.rawValue)
        var sealer = ItemSealer()
        while try items.step() { try sealer.add(row: items) }
        return sealer.finish()
    }

    /// Approves a batch as its checker and posts the entitlements (Dr expense / Cr payable, per item).
    ///
    /// The approver must differ from the creator; the database refuses it too, whatever writes the row.
    public func approveBatch(_ id: BatchID, by user: UserName) throws -> (batch: Batch, entry: JournalEntryID, total: Money) {
        // Every credit names an item (and its beneficiary) of the batch, read in this transaction.
        try writeWithKeysFromTransaction { db in
            let batch = try Self.fetchBatch(db, id)
            guard batch.status == .created else { throw BatchError.wrongStatus(batch: id, status: batch.status, action: "approve it again") }
            if let creator = try? UserName(parsing: batch.createdBy), creator.isSamePerson(as: user) {
                throw BatchError.makerIsChecker(batch: id, user: batch.createdBy)
            }
            let now = clock.now()
            // What changed in the register since the batch was made: the checker must not approve a payment to
            // someone who died, or to a number that is no longer theirs.
            let since = now.adding(days: -(try Self.changeWindowDays(db)))
            // One pass over the items in seq order, beside their register rows, seals them, keeps their credits (hashed
            // below without a second read) and finds what changed in the register since the batch was made.
            struct Stale {
                let beneficiary: Int64
                let status: String
                let accountChanged: Bool
                let seq: Int64
            }
            var stale: [Stale] = []
            var credits: [JournalWriter.PayableLeg] = []
            var sealer = ItemSealer()
            let items = try FastStatement(db, """
                SELECT i.reference, i.beneficiary_id, i.method, i.carrier, i.msisdn, i.account_name, i.amount, i.id, i.seq,
                       COALESCE(b.status, 'missing from the register'),
                       i.method = 'mobile_money' AND (b.msisdn IS NOT i.msisdn OR b.carrier IS NOT i.carrier)
                FROM batch_item i LEFT JOIN beneficiary b ON b.id = i.beneficiary_id WHERE i.batch_id = ? ORDER BY i.seq
                """)
            defer { items.reset() }
            items.bind(1, id.rawValue)
            while try items.step() {
                try sealer.add(row: items)
                precondition(items.int64(8) == Int64(credits.count + 1), "batch item seq runs 1, 2, 3, … without gaps")
                credits.append(JournalWriter.PayableLeg(beneficiary: items.int64(1), item: items.int64(7), amount: items.int64(6)))
                let accountChanged = items.int64(10) == 1
                if accountChanged || !items.withText(9, { $0.elementsEqual(BeneficiaryStatus.active.rawValue.utf8) }) {
                    stale.append(Stale(beneficiary: items.int64(1), status: items.string(9), accountChanged: accountChanged, seq: items.int64(8)))
                }
            }
            let seal = sealer.finish()
            // Flags are few: look each flagged beneficiary up in the batch rather than probe flags for every item
            // (`CROSS JOIN` and `+` keep SQLite from walking the batch's million items and probing the flags instead).
            let flagged = try Row.fetchAll(db, sql: """
                SELECT i.beneficiary_id, i.seq
                FROM (SELECT DISTINCT f.beneficiary_id FROM flag f WHERE \(Self.openFlagCondition)) o
                CROSS JOIN batch_item i ON i.beneficiary_id = o.beneficiary_id AND +i.batch_id = ?
                """, arguments: [since.description, id.rawValue])
            let staleIDs = Set(stale.map(\.beneficiary))
            stale += flagged.filter { !staleIDs.contains($0[0] as Int64) }.map { Stale(beneficiary: $0[0], status: "", accountChanged: false, seq: $0[1]) }
            stale.sort { $0.seq < $1.seq }
            if !stale.isEmpty {
                let examples = stale.prefix(3).map { item -> String in
                    let who = "beneficiary \(item.beneficiary)"
                    if !item.status.isEmpty && item.status != BeneficiaryStatus.active.rawValue { return "\(who) is \(item.status)" }
                    if item.accountChanged { return "\(who)'s account changed after the batch was created" }
                    return "\(who) has an open fraud flag"
                }
                throw BatchError.staleItems(batch: id, count: stale.count, examples: Array(examples))
            }
            let total = Money(dong: seal.total)
            try db.execute(sql: """
                UPDATE batch SET status = 'approved', approved_by = ?, approved_at = ?, item_count = ?, item_total = ?, item_digest = ?
                WHERE id = ?
                """, arguments: [user.value, now.description, seal.count, seal.total, seal.digest, id.rawValue])
            let writer = try JournalWriter(db, at: now, kind: .entitlement, key: "entitlement:batch:\(id)", batch: id, by: user,
                                           memo: Self.entitlementMemo(batch: id, period: batch.period.description, createdBy: batch.createdBy,
                                                                      approvedBy: user.value, digest: seal.digest))
            if batch.retryOf == nil {
                try writer.append(.debit(.expense, total))
            } else {
                try writer.appendRetryCarryOver(batch: id)
            }
            try writer.appendItemCredits(batch: id, read: credits)
            let entry = try writer.finish()
            return (try Self.fetchBatch(db, id), entry, total)
        }
    }
}

extension ItemSealer {
    mutating func add(row: FastStatement) throws {
        let amount = row.int64(6)
        try count(amount)
        field(row.bytes(0))
        field(row.int64(1))
        field(row.bytes(2))
        if row.isNull(3) { Self.dash.withUnsafeBufferPointer { field($0) } } else { field(row.bytes(3)) }
        if row.isNull(4) { Self.dash.withUnsafeBufferPointer { field($0) } } else { field(row.bytes(4)) }
        field(row.bytes(5))
        field(amount)
        endItem()
    }
}
