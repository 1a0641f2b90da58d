import AllowanceLedger
import GRDB

extension SQLiteTransaction: PayoutsTransaction {
    func batch(_ id: BatchID) throws -> Batch {
        try Store.fetchBatch(db, id)
    }

    func batches(period: Period?) throws -> [Batch] {
        try Row.fetchAll(db, sql: "SELECT \(Store.batchColumns) FROM batch \(period == nil ? "" : "WHERE period = ?") ORDER BY id",
                         arguments: period.map { [$0.description] } ?? []).map(Store.batch(from:))
    }

    func summary(of batch: Batch) throws -> BatchSummary {
        try Store.batchSummary(db, batch)
    }

    func numberChanges(batch: BatchID) throws -> [NumberChange] {
        try Store.numberChanges(db, batch: batch)
    }

    // MARK: Making a batch

    /// `?1` batch, `?2` period, `?3` compact period, `?4` the one-off's name ('' for a month's benefits); communes from
    /// `?5` on. Every statement names `?1` to `?4`, since SQLite counts parameters up to the highest one used.
    private func scopeSQL(_ scope: BatchScope) -> String {
        (scope.communes.isEmpty ? "" : "AND b.commune_code IN (\(scope.communes.indices.map { "?\($0 + 5)" }.joined(separator: ", ")))")
            + (scope.categories.isEmpty ? "" : " AND b.category IN (\(scope.categories.map { Self.literal($0) }.joined(separator: ", ")))")
    }

    private func arguments(batch: Int64, _ scope: BatchScope) -> StatementArguments {
        StatementArguments([batch, scope.period.description, scope.period.compact, scope.oneOff?.name ?? ""] as [any DatabaseValueConvertible])
            + StatementArguments(scope.communes.map(\.value))
    }

    /// The month's first batch for a scope need not probe for items already made: that probe is a million index
    /// look-ups at national scale.
    private func candidateSQL(_ scope: BatchScope, skipMade: Bool) -> String {
        "b.status = 'active' \(scopeSQL(scope)) " + (skipMade ? """
            AND NOT EXISTS (SELECT 1 FROM batch_item i WHERE i.beneficiary_id = b.id AND i.period = ?2 AND i.attempt = 1 AND i.one_off = ?4)
            """ : "AND ?2 IS NOT NULL AND ?4 IS NOT NULL")
    }

    func itemsAlreadyMade(_ scope: BatchScope) throws -> [(batch: BatchID, items: Int, example: BeneficiaryID)] {
        try Row.fetchAll(db, sql: """
            SELECT i.batch_id, COUNT(*), MIN(i.beneficiary_id) FROM batch_item i JOIN beneficiary b ON b.id = i.beneficiary_id
            WHERE ?1 IS NOT NULL AND ?3 IS NOT NULL AND i.period = ?2 AND i.attempt = 1 AND i.one_off = ?4 AND b.status = 'active' \(scopeSQL(scope))
            GROUP BY i.batch_id ORDER BY i.batch_id
            """, arguments: arguments(batch: 0, scope)).map { (BatchID($0[0]), $0[1], BeneficiaryID($0[2])) }
    }

    func insertBatch(_ scope: BatchScope, retryOf: BatchID?, at: Timestamp, by: UserName) throws -> BatchID {
        try db.execute(sql: """
            INSERT INTO batch(period, scope, status, retry_of, created_by, created_at, one_off, one_off_amount) VALUES (?, ?, 'created', ?, ?, ?, ?, ?)
            """, arguments: [scope.period.description, scope.communes.isEmpty ? "*" : scope.communes.map(\.value).joined(separator: ","),
                             retryOf?.rawValue, by.value, at.description, scope.oneOff?.name, scope.oneOff?.amount.dong])
        return BatchID(db.lastInsertedRowID)
    }

    func oneOffBatches() throws -> [Batch] {
        try Row.fetchAll(db, sql: "SELECT \(Store.batchColumns) FROM batch WHERE one_off IS NOT NULL AND status <> 'cancelled' ORDER BY id")
            .map(Store.batch(from:))
    }

    func reachedLater(_ scope: BatchScope, plan: BenefitPlan) throws -> (beneficiary: BeneficiaryID, from: Code, to: Code)? {
        for step in plan.steps {
            if let id = try Int64.fetchOne(db, sql: """
                SELECT b.id FROM beneficiary b WHERE ?1 IS NOT NULL AND ?3 IS NOT NULL AND \(candidateSQL(scope, skipMade: false))
                  AND b.category = \(Self.literal(step.to)) AND b.date_of_birth >= \(Self.literal(bound: step.bornBefore)) ORDER BY b.id LIMIT 1
                """, arguments: arguments(batch: 0, scope)) {
                return (BeneficiaryID(id), step.from, step.to)
            }
        }
        return nil
    }

    func candidateCategory(among categories: [Code], _ scope: BatchScope, skipMade: Bool) throws -> Code? {
        try String.fetchOne(db, sql: """
            SELECT b.category FROM beneficiary b WHERE ?1 IS NOT NULL AND ?3 IS NOT NULL AND \(candidateSQL(scope, skipMade: skipMade))
              AND b.category IN (\(categories.map { Self.literal($0) }.joined(separator: ", "))) LIMIT 1
            """, arguments: arguments(batch: 0, scope)).map(Code.init(trusted:))
    }

    /// A category code as an SQL literal: codes are checked identifiers ([A-Z0-9_-]), so they are safe to write in.
    private static func literal(_ code: Code) -> String {
        precondition(code.value.utf8.allSatisfy { (byte: UInt8) -> Bool in
            (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || byte == 95 || byte == 45
        }, "category codes are checked identifiers")
        return "'\(code.value)'"
    }

    /// A birth-month bound (`YYYY-MM`, made by `BenefitPlan.bornBefore`) as an SQL literal.
    private static func literal(bound: String) -> String {
        precondition(bound.utf8.count == 7 && bound.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || $0 == 45 }, "a birth-month bound is YYYY-MM")
        return "'\(bound)'"
    }

    /// Whether `b` qualifies for an age category in the plan's period (`lastPeriod`: in the period before).
    private static func qualifiesSQL(_ category: BenefitPlan.AgeCategory, lastPeriod: Bool = false) -> String {
        var terms: [String] = []
        if let bound = lastPeriod ? category.bornBeforeLastPeriod : category.bornBefore {
            terms.append("b.date_of_birth < \(literal(bound: bound))")
        }
        if let bound = lastPeriod ? category.bornBeforePoorHouseholdLastPeriod : category.bornBeforePoorHousehold {
            terms.append("(b.household_status IS NOT NULL AND b.date_of_birth < \(literal(bound: bound)))")
        }
        return terms.isEmpty ? "0" : "(" + terms.joined(separator: " OR ") + ")"
    }

    /// The beneficiary's pricing zone: its province's number in `temp.commune_zone`, or NULL for the nation.
    private static let zoneSQL = "(SELECT z.zone FROM temp.commune_zone z WHERE z.commune_code = b.commune_code)"

    /// The monthly amount of the category `categorySQL` names, in the beneficiary's pricing zone: a province with its
    /// own base level (numbered from 1 in `temp.commune_zone`), else the nation.
    private static func priceSQL(_ categorySQL: String, plan: BenefitPlan) -> String {
        func byCategory(_ zone: String) -> String {
            "CASE \(categorySQL)" + (plan.prices[zone] ?? [:]).sorted { $0.key.value < $1.key.value }
                .map { " WHEN \(literal($0.key)) THEN \($0.value.dong)" }.joined() + " END"
        }
        let provinces = plan.provinces
        if provinces.isEmpty { return byCategory("") }
        return "CASE \(zoneSQL)"
            + provinces.enumerated().map { " WHEN \($0.offset + 1) THEN (\(byCategory($0.element)))" }.joined()
            + " ELSE (\(byCategory(""))) END"
    }

    /// One pass over the register for the people whose age may change something this period; `BenefitPlan.changes`
    /// says what. (A pass per rule cost a tenth of a second each per million.)
    func benefitChanges(_ scope: BatchScope, plan: BenefitPlan) throws -> [BenefitChange] {
        var conditions: [String] = []
        for step in plan.steps {
            conditions.append("(b.category = \(Self.literal(step.from)) AND b.date_of_birth < \(Self.literal(bound: step.bornBefore)))")
        }
        for category in plan.ageCategories {
            // New this period: qualifies now, not in the period before (or the benefit had no amount then).
            let new = category.pricedLastPeriod ? " AND NOT \(Self.qualifiesSQL(category, lastPeriod: true))" : ""
            conditions.append("(b.category <> \(Self.literal(category.code)) AND \(Self.qualifiesSQL(category))\(new))")
        }
        guard !conditions.isEmpty else { return [] }
        let rows = try Row.fetchCursor(db, sql: """
            SELECT b.id, b.full_name, b.commune_code, b.date_of_birth, b.category, b.household_status FROM beneficiary b
            WHERE ?1 IS NOT NULL AND ?3 IS NOT NULL AND \(candidateSQL(scope, skipMade: false)) AND (\(conditions.joined(separator: " OR ")))
            ORDER BY b.id
            """, arguments: arguments(batch: 0, scope))
        var changes: [BenefitChange] = []
        while let row = try rows.next() {
            changes += plan.changes(beneficiary: BeneficiaryID(row[0]), name: row[1], commune: row[2], born: try CalendarDate(parsing: row[3]),
                                    category: Code(trusted: row[4]), household: (row[5] as String?).flatMap(HouseholdStatus.init(rawValue:)))
        }
        return changes
    }

    func makeItems(batch: BatchID, _ scope: BatchScope, plan: BenefitPlan?, holds: [BeneficiaryID: [FlagKind]],
                   skipMade: Bool) throws -> MadeItems {
        let candidates = candidateSQL(scope, skipMade: skipMade)
        let bound = arguments(batch: batch.rawValue, scope)
        try db.execute(sql: """
            CREATE TEMP TABLE IF NOT EXISTS batch_held(beneficiary_id INTEGER PRIMARY KEY, reason TEXT NOT NULL);
            DROP TABLE IF EXISTS temp.batch_order;
            CREATE TEMP TABLE batch_order(seq INTEGER PRIMARY KEY, beneficiary_id INTEGER NOT NULL, amount INTEGER, mobile INTEGER NOT NULL,
                                          category TEXT, two INTEGER NOT NULL);
            CREATE TEMP TABLE IF NOT EXISTS commune_zone(commune_code TEXT PRIMARY KEY, zone INTEGER NOT NULL);
            DELETE FROM temp.batch_held;
            DELETE FROM temp.commune_zone;
            """)
        if let plan {
            for (index, province) in plan.provinces.enumerated() {
                try db.execute(sql: "INSERT INTO temp.commune_zone(commune_code, zone) SELECT code, ? FROM commune WHERE province_code = ?",
                               arguments: [index + 1, province])
            }
        }
        // A month's item pays the highest of the registered category's amount (`a0`) and each age category's the
        // person qualifies for (`a1`, …; 0 when not), the registered category on a tie; a one-off's pays its amount.
        // Amounts per category as CASE expressions: cheaper per row than a join. `category` is the benefit by age
        // paid instead of the registered one, NULL for the registered one (most rows: nothing to store).
        let columns: (amount: String, category: String, two: String)
        var byAgeCanWin = false
        if let oneOff = scope.oneOff {
            columns = ("\(oneOff.amount.dong)", "NULL", "0")
        } else if let plan, plan.ageCategories.count == 1 {
            // One benefit by age (the social pension): per zone its price is a constant, so whether it beats the
            // registered category is whether that category is one of the cheaper ones, known before the pass. Only a
            // qualifying person in a cheaper category is paid the benefit by age.
            let benefit = plan.ageCategories[0]
            let code = Self.literal(benefit.code)
            let registered = Self.priceSQL("b.category", plan: plan)
            let qualifies = Self.qualifiesSQL(benefit)
            func cheaper(_ zone: String) -> String {
                guard let mine = plan.price(benefit.code, zone: zone) else { return "0" }
                let codes = (plan.prices[""] ?? [:]).keys.sorted().filter { (plan.price($0, zone: zone)?.dong ?? Int64.max) < mine.dong }
                return codes.isEmpty ? "0" : "b.category IN (\(codes.map { Self.literal($0) }.joined(separator: ", ")))"
            }
            let zones = [""] + plan.provinces
            let byZone = zones.map(cheaper)
            let beats = plan.provinces.isEmpty ? byZone[0] : "CASE \(Self.zoneSQL)"
                + plan.provinces.indices.map { " WHEN \($0 + 1) THEN \(byZone[$0 + 1])" }.joined() + " ELSE \(byZone[0]) END"
            if byZone.allSatisfy({ $0 == "0" }) {
                columns = (registered, "NULL", "(b.category <> \(code) AND \(qualifies))")
            } else {
                byAgeCanWin = true
                let wins = "(\(beats) AND \(qualifies))"
                let price = Set(zones.map { plan.price(benefit.code, zone: $0) }).count == 1
                    ? "\(plan.price(benefit.code, zone: "")!.dong)" : Self.priceSQL(code, plan: plan)
                columns = ("CASE WHEN \(wins) THEN \(price) ELSE \(registered) END", "CASE WHEN \(wins) THEN \(code) END",
                           "(b.category <> \(code) AND \(qualifies))")
            }
        } else if let plan, !plan.ageCategories.isEmpty {
            let registered = Self.priceSQL("b.category", plan: plan)
            let byAge = plan.ageCategories.map { "CASE WHEN \(Self.qualifiesSQL($0)) THEN \(Self.priceSQL(Self.literal($0.code), plan: plan)) ELSE 0 END" }
            let amounts = [registered] + byAge
            var choice = "CASE"
            for (index, category) in plan.ageCategories.enumerated() {
                let mine = amounts[index + 1]
                let beats = amounts.indices.filter { $0 != index + 1 }.map { other in "(\(mine)) \(other <= index ? ">" : ">=") (\(amounts[other]))" }
                choice += " WHEN b.category <> \(Self.literal(category.code)) AND \(beats.joined(separator: " AND ")) THEN \(Self.literal(category.code))"
            }
            choice += " END"
            byAgeCanWin = true
            let two = plan.ageCategories.enumerated().map { "(b.category <> \(Self.literal($0.element.code)) AND (\(amounts[$0.offset + 1])) > 0)" }
                .joined(separator: " OR ")
            columns = ("max(\(amounts.map { "(\($0))" }.joined(separator: ", ")))", choice, "(\(two))")
        } else {
            columns = (plan.map { Self.priceSQL("b.category", plan: $0) } ?? "NULL", "NULL", "0")
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
            WHERE ?3 IS NOT NULL AND \(candidates)
            """, arguments: bound)
        // Number the items first (ids, amounts and methods only), then insert them in one statement; a window
        // function over whole rows took several times longer. Items follow the register's order: reading
        // beneficiaries in commune order jumped around the table. The batch's totals are summed from this in-memory
        // table, not by reading the million items back.
        try db.execute(sql: """
            INSERT INTO temp.batch_order(beneficiary_id, amount, mobile, category, two)
            SELECT b.id, \(columns.amount), b.payment_method = 'mobile_money', \(columns.category), \(columns.two) FROM beneficiary b
            WHERE ?1 IS NOT NULL AND ?3 IS NOT NULL AND \(candidates)
              AND b.id NOT IN (SELECT beneficiary_id FROM temp.batch_held)
            ORDER BY b.id
            """, arguments: bound)
        // The reference from `allowance_item_reference` (Sources/CSQLiteTuning), as `ItemReference.canonical` spells it:
        // SQLite's `printf` took a microsecond an item.
        try db.execute(sql: """
            INSERT INTO batch_item(batch_id, seq, reference, beneficiary_id, period, commune_code, category, method,
                                   carrier, msisdn, account_name, amount, one_off)
            SELECT ?1, o.seq, allowance_item_reference(?2, ?1, o.seq), b.id, ?2, b.commune_code, COALESCE(o.category, b.category), b.payment_method,
                   CASE WHEN b.payment_method = 'mobile_money' THEN b.carrier END,
                   CASE WHEN b.payment_method = 'mobile_money' THEN b.msisdn END,
                   b.full_name, o.amount, ?3
            FROM temp.batch_order o JOIN beneficiary b ON b.id = o.beneficiary_id
            ORDER BY o.seq
            """, arguments: [batch.rawValue, scope.period.description, scope.oneOff?.name ?? ""])

        var made = MadeItems()
        for row in try Row.fetchAll(db, sql: "SELECT reason, COUNT(*) FROM batch_hold WHERE batch_id = ? GROUP BY reason",
                                    arguments: [batch.rawValue]) {
            let count: Int = row[1]
            made.heldOut += count
            for kind in (row[0] as String).split(separator: ",") { made.heldOutByKind[String(kind), default: 0] += count }
        }
        let totals = try Row.fetchOne(db, sql: "SELECT COUNT(*), COALESCE(SUM(amount), 0), COALESCE(SUM(mobile), 0), COALESCE(SUM(two), 0) FROM temp.batch_order")!
        made.items = totals[0]
        made.total = Money(dong: totals[1])
        made.mobileMoney = totals[2]
        made.twoBenefits = totals[3]
        if byAgeCanWin {
            for row in try Row.fetchAll(db, sql: "SELECT category, COUNT(*) FROM temp.batch_order WHERE category IS NOT NULL GROUP BY category") {
                made.paidByAge[Code(trusted: row[0]), default: 0] += row[1] as Int
            }
        }
        try db.execute(sql: "UPDATE batch SET held_out = ? WHERE id = ?", arguments: [made.heldOut, batch.rawValue])
        return made
    }

    /// The items go without SQLite's per-item key check, which would read every outcome line once per item (the lines
    /// have no item index, v8): whether anything names them is asked here, each table once.
    func cancel(_ batch: BatchID, at: Timestamp, by: UserName, reason: String) throws {
        try db.execute(sql: "DELETE FROM batch_hold WHERE batch_id = ?", arguments: [batch.rawValue])
        let items = "SELECT id FROM batch_item WHERE batch_id = ?1"
        for (table, column) in Store.itemReferences {
            if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM \(table) WHERE \(column) IN (\(items)))", arguments: [batch.rawValue]) == true {
                throw DatabaseError(resultCode: .SQLITE_CONSTRAINT_FOREIGNKEY, message: """
                    batch \(batch) cannot be cancelled: \(table).\(column) names one of its items, which an unapproved batch's items never are; \
                    the ledger was edited by hand (`allowance ledger verify`)
                    """)
            }
        }
        try db.execute(sql: "DELETE FROM batch_item WHERE batch_id = ?", arguments: [batch.rawValue])
        try db.execute(sql: "UPDATE batch SET status = 'cancelled', cancelled_at = ?, cancelled_by = ?, cancel_reason = ? WHERE id = ?",
                       arguments: [at.description, by.value, reason, batch.rawValue])
    }

    // MARK: Approving

    func approvalScan(batch id: BatchID, flagsOpenSince since: Timestamp) throws -> ApprovalScan {
        var stale: [ApprovalScan.Stale] = []
        var credits: [PayableLeg] = []
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
            credits.append(PayableLeg(beneficiary: items.int64(1), item: items.int64(7), amount: items.int64(6)))
            let accountChanged = items.int64(10) == 1
            if accountChanged || !items.withText(9, { $0.elementsEqual(BeneficiaryStatus.active.rawValue.utf8) }) {
                stale.append(ApprovalScan.Stale(beneficiary: items.int64(1), status: items.string(9), accountChanged: accountChanged,
                                                seq: items.int64(8)))
            }
        }
        // Flags are few: look each flagged beneficiary up in the batch rather than probe flags for every item
        // (`CROSS JOIN` and `+` keep SQLite from walking the batch's million items and probing the flags instead).
        let flagged = try Row.fetchAll(db, sql: """
            SELECT i.beneficiary_id, i.seq
            FROM (SELECT DISTINCT f.beneficiary_id FROM flag f WHERE \(Store.openFlagCondition)) o
            CROSS JOIN batch_item i ON i.beneficiary_id = o.beneficiary_id AND +i.batch_id = ?
            """, arguments: [since.description, id.rawValue]).map { (beneficiary: $0[0] as Int64, seq: $0[1] as Int64) }
        return ApprovalScan(seal: sealer.finish(), credits: credits, stale: stale, flagged: flagged)
    }

    func markApproved(batch: BatchID, at: Timestamp, by: UserName, seal: ItemSeal) throws {
        try db.execute(sql: """
            UPDATE batch SET status = 'approved', approved_by = ?, approved_at = ?, item_count = ?, item_total = ?, item_digest = ?
            WHERE id = ?
            """, arguments: [by.value, at.description, seal.count, seal.total, seal.digest, batch.rawValue])
    }

    // MARK: Instruction files

    /// Written from the columns' bytes and summed per carrier by number: a million items made four million strings
    /// and hashed a carrier code each.
    func writeInstructions(batch: BatchID, carrier: Code?, into rows: inout InstructionRows) throws -> [String: Money] {
        let items = try FastStatement(db, """
            SELECT reference, msisdn, account_name, amount, carrier FROM batch_item
            WHERE batch_id = ? AND method = 'mobile_money' \(carrier == nil ? "" : "AND carrier = ?") ORDER BY seq
            """)
        defer { items.reset() }
        items.bind(1, batch.rawValue)
        if let carrier { items.bind(2, carrier.value) }
        var carrierNumbers = InternedTexts()
        var carrierTotals: [Money] = []
        while try items.step() {
            let amount = Money(dong: items.int64(3))
            try rows.add(reference: items.bytes(0), msisdn: items.bytes(1), name: items.bytes(2), amount: amount)
            let number = carrierNumbers.number(items, 4)
            if number == carrierTotals.count { carrierTotals.append(.zero) }
            carrierTotals[number] = try carrierTotals[number].adding(amount)
        }
        return Dictionary(uniqueKeysWithValues: zip(carrierNumbers.texts, carrierTotals))
    }

    func markExported(batch: BatchID, at: Timestamp) throws {
        try db.execute(sql: "UPDATE batch SET status = 'exported', exported_at = ? WHERE id = ?", arguments: [at.description, batch.rawValue])
    }

    // MARK: Cash

    func cashTotalsByCommune(batch: BatchID) throws -> [String: Money] {
        var perCommune: [String: Money] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT commune_code, SUM(amount) FROM batch_item WHERE batch_id = ? AND method = 'cash'
            GROUP BY commune_code ORDER BY commune_code
            """, arguments: [batch.rawValue]) {
            perCommune[row[0]] = Money(dong: row[1])
        }
        return perCommune
    }

    func cashItemCount(batch: BatchID, state: ItemState) throws -> Int {
        try Int.fetchOne(db, sql: """
            SELECT COUNT(*) FROM batch_item i WHERE i.batch_id = ? AND i.method = 'cash' AND \(Store.itemStateSQL("i")) = ?
            """, arguments: [batch.rawValue, state.rawValue])!
    }

    func openCashItems(batch: BatchID) throws -> [CashItem] {
        let rows = try FastStatement(db, """
            SELECT i.id, i.beneficiary_id, i.commune_code, i.amount FROM batch_item i
            WHERE i.batch_id = ? AND i.method = 'cash' AND \(Store.itemStateSQL("i")) = 'open' ORDER BY i.seq
            """)
        defer { rows.reset() }
        rows.bind(1, batch.rawValue)
        var items: [CashItem] = []
        while try rows.step() {
            items.append(CashItem(item: rows.int64(0), beneficiary: rows.int64(1), commune: rows.string(2), amount: rows.int64(3)))
        }
        return items
    }

    func item(reference: String) throws -> (item: CashItem, batch: BatchID, method: PaymentMethod, state: ItemState)? {
        guard let arguments = Store.referenceArguments(reference), let row = try Row.fetchOne(db, sql: """
            SELECT i.id, i.beneficiary_id, i.commune_code, i.amount, i.batch_id, i.method, \(Store.itemStateSQL("i"))
            FROM batch_item i WHERE \(Store.itemByReferenceSQL("i"))
            """, arguments: arguments) else { return nil }
        return (CashItem(item: row[0], beneficiary: row[1], commune: row[2], amount: row[3]), BatchID(row[4]),
                PaymentMethod(rawValue: row[5]) ?? .cash, ItemState(rawValue: row[6]) ?? .open)
    }

    /// An open item has no state row yet, so a second settlement of it would fail on the key.
    func markPaidCash(_ item: Int64) throws {
        try db.execute(sql: "INSERT INTO item_state(item_id, state) VALUES (?, 'paid_cash')", arguments: [item])
        precondition(db.lastChanges == 1, "item \(item) changed state under a write lock")
    }

    func shortCashDesks() throws -> [String: Money] {
        var short: [String: Money] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT sub_account, SUM(amount) FROM posting WHERE account = '1200' GROUP BY sub_account HAVING SUM(amount) < 0
            """) {
            short[row[0]] = Money(dong: -(row[1] as Int64))
        }
        return short
    }

    // MARK: Retries

    func resultFileCount(batch: BatchID) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM result_file WHERE batch_id = ?", arguments: [batch.rawValue])!
    }

    func retryCandidates(batch: BatchID) throws -> [RetryCandidate] {
        try Row.fetchAll(db, sql: """
            SELECT o.id, o.beneficiary_id, o.amount, o.attempt, COALESCE(s.state, 'open'), o.commune_code, o.category,
                   b.status, b.payment_method, b.carrier, b.msisdn, b.full_name
            FROM batch_item o JOIN beneficiary b ON b.id = o.beneficiary_id LEFT JOIN item_state s ON s.item_id = o.id
            WHERE o.batch_id = ?1 AND o.method = 'mobile_money'
              AND NOT EXISTS (SELECT 1 FROM batch_item r WHERE r.retry_of_item = o.id)
              AND (s.state = 'failed'
                   OR (s.state IS NULL
                       AND \(Store.itemSentSQL("o")) AND \(Store.itemUnnamedSQL("o"))))
            ORDER BY o.seq
            """, arguments: [batch.rawValue]).map { row in
            RetryCandidate(item: row[0], beneficiary: row[1], amount: row[2], attempt: row[3], state: ItemState(rawValue: row[4]) ?? .open,
                           commune: row[5], category: row[6], status: row[7], method: row[8], carrier: row[9], msisdn: row[10],
                           name: row[11])
        }
    }

    func insertRetryItems(batch: BatchID, period: Period, oneOff: String?, _ items: [RetryCandidate]) throws {
        let insert = try FastStatement(db, """
            INSERT INTO batch_item(batch_id, seq, reference, beneficiary_id, period, commune_code, category, method, carrier, msisdn,
                                   account_name, amount, retry_of_item, attempt, one_off)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for (offset, item) in items.enumerated() {
            let seq = Int64(offset + 1)
            let isMobile = item.method == PaymentMethod.mobileMoney.rawValue
            insert.bind(1, batch.rawValue)
            insert.bind(2, seq)
            insert.bind(3, ItemReference(period: period, batch: batch, seq: seq).canonical)
            insert.bind(4, item.beneficiary)
            insert.bind(5, period.description)
            insert.bind(6, item.commune)
            insert.bind(7, item.category)
            insert.bind(8, item.method)
            insert.bind(9, isMobile ? item.carrier : nil)
            insert.bind(10, isMobile ? item.msisdn : nil)
            insert.bind(11, item.name)
            insert.bind(12, item.amount)
            insert.bind(13, item.item)
            insert.bind(14, item.attempt + 1)
            insert.bind(15, oneOff ?? "")
            try insert.run()
        }
    }
}
