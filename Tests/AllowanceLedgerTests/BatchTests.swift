import Foundation
import GRDB
import Testing
@testable import AllowanceLedger
@testable import LedgerSQLite

@Suite struct BatchTests {
    let november = try! Period(parsing: "2026-11")

    func createApproved(_ fixture: Fixture, period: String = "2026-11") throws -> BatchID {
        let created = try fixture.store.payouts.createBatch(BatchCreateOptions(period: try Period(parsing: period), by: user("maker")))
        _ = try fixture.store.payouts.approveBatch(created.batch.id, by: user("checker"))
        return created.batch.id
    }

    @Test func itemsCarryTheAmountOfTheRatesInEffectInThePeriod() throws {
        let fixture = try Fixture()
        try fixture.importLines(Sample.all)
        let november = try fixture.store.payouts.createBatch(BatchCreateOptions(period: november, by: user("maker")))
        #expect(november.items == 4)
        #expect(november.total == Money(dong: 750_000 + 500_000 + 750_000 + 750_000))
        #expect(november.mobileMoneyItems == 3 && november.cashItems == 1)
        let before = try fixture.store.payouts.createBatch(BatchCreateOptions(period: try Period(parsing: "2024-06"), by: user("maker")))
        #expect(before.total == Money(dong: 540_000 + 360_000 + 540_000 + 540_000))
        #expect(throws: BatchError.rate(.noBaseLevel(try Period(parsing: "2021-06")))) {
            try fixture.store.payouts.createBatch(BatchCreateOptions(period: try Period(parsing: "2021-06"), by: user("maker")))
        }
        // New rates are data: a new base level from 2027-01 applies from then on.
        try fixture.store.registry.setBaseLevel(Money(dong: 600_000), from: try CalendarDate(parsing: "2027-01-01"), by: user("head"))
        #expect(throws: RateError.alreadySet("the base level from 2027-01-01")) {
            try fixture.store.registry.setBaseLevel(Money(dong: 650_000), from: try CalendarDate(parsing: "2027-01-01"), by: user("head"))
        }
        #expect(throws: RateError.notPositive) {
            try fixture.store.registry.setBaseLevel(Money(dong: 0), from: try CalendarDate(parsing: "2027-02-01"), by: user("head"))
        }
        let january = try fixture.store.payouts.createBatch(BatchCreateOptions(period: try Period(parsing: "2027-01"), by: user("maker")))
        #expect(january.total == Money(dong: 900_000 + 600_000 + 900_000 + 900_000))
    }

    @Test func anOfficeCanAddACategory() throws {
        let fixture = try Fixture()
        try fixture.store.registry.addCategory(Code(trusted: "LOCAL_SUPPORT"), description: "Provincial top-up", coefficient: try Coefficient(parsing: "0.75"),
                                      from: try CalendarDate(parsing: "2026-01-01"), by: user("head"))
        #expect(throws: RateError.categoryExists(Code(trusted: "LOCAL_SUPPORT"))) {
            try fixture.store.registry.addCategory(Code(trusted: "LOCAL_SUPPORT"), description: "x", coefficient: Coefficient(milli: 1000),
                                          from: try CalendarDate(parsing: "2026-01-01"), by: user("head"))
        }
        // Born 1960: too young for the social pension, so the category's own amount is paid.
        try fixture.importLines(["001160000031,Đỗ Thị Hoa,1960-02-02,F,26734,local_support,cash,,"])
        let batch = try fixture.store.payouts.createBatch(BatchCreateOptions(period: november, by: user("maker")))
        #expect(batch.total == Money(dong: 375_000))
        #expect(batch.twoBenefits == 0)
        try fixture.store.registry.setCoefficient(try Coefficient(parsing: "1"), of: Code(trusted: "LOCAL_SUPPORT"), from: try CalendarDate(parsing: "2026-12-01"), by: user("head"))
        #expect(try fixture.store.registry.rates().monthlyAmount(category: Code(trusted: "LOCAL_SUPPORT"), period: try Period(parsing: "2026-12")) == Money(dong: 500_000))
        #expect(throws: RateError.unknownCategory(Code(trusted: "NOPE"))) {
            try fixture.store.registry.setCoefficient(Coefficient(milli: 1000), of: Code(trusted: "NOPE"), from: try CalendarDate(parsing: "2026-12-01"), by: user("head"))
        }
    }

    @Test func aBeneficiaryAlreadyInABatchForThePeriodIsRefusedNamingThatBatch() throws {
        let fixture = try Fixture()
        try fixture.importLines(Sample.all)
        var first = BatchCreateOptions(period: november, by: user("maker"))
        first.communes = [Code(trusted: "26734")]
        let one = try fixture.store.payouts.createBatch(first)
        #expect(one.items == 2)
        #expect(one.batch.communes == [Code(trusted: "26734")])
        let everyone = BatchCreateOptions(period: november, by: user("maker"))
        #expect(throws: BatchError.alreadyInBatch(period: november, batches: [(BatchID(1), 2)], example: BeneficiaryID(1))) {
            try fixture.store.payouts.createBatch(everyone)
        }
        do {
            _ = try fixture.store.payouts.createBatch(everyone)
        } catch {
            #expect("\(error)".contains("already in batch 1 for 2026-11"))
        }
        var rest = everyone
        rest.skipExisting = true
        let two = try fixture.store.payouts.createBatch(rest)
        #expect(two.items == 2)
        #expect(two.skippedExisting == 2)
        #expect(throws: BatchError.noEligible(period: november, heldOut: 0)) { try fixture.store.payouts.createBatch(rest) }
        // Another month is free.
        #expect(try fixture.store.payouts.createBatch(BatchCreateOptions(period: try Period(parsing: "2026-12"), by: user("maker"))).items == 4)
    }

    /// `batch create` sums its totals from its own numbering instead of reading the items back: they must be the items'
    /// own sums, also when part of the register is in a batch already (skipped) and flagged beneficiaries are held out.
    @Test func aBatchsTotalsAreItsItemsSums() throws {
        let fixture = try Fixture()
        let register = fixture.directory.file("generated.csv")
        _ = try RegisterGenerator(count: 3000, seed: 5).write(to: register)
        var importOptions = RegisterImportOptions(by: user("officer"))
        importOptions.skipInvalid = true
        _ = try fixture.store.registry.importRegister(path: register, displayName: "generated.csv", options: importOptions)
        var first = BatchCreateOptions(period: november, by: user("maker"))
        first.communes = [Code(trusted: "26734"), Code(trusted: "26737")]
        _ = try fixture.store.payouts.createBatch(first)
        var rest = BatchCreateOptions(period: november, by: user("maker"))
        rest.skipExisting = true
        let created = try fixture.store.payouts.createBatch(rest)
        #expect(created.skippedExisting > 0 && created.batch.heldOut > 0 && created.cashItems > 0 && created.mobileMoneyItems > 0)
        let sums = try fixture.store.read { db in
            try Row.fetchOne(db, sql: """
                SELECT COUNT(*), SUM(amount), SUM(method = 'mobile_money'), SUM(method = 'cash') FROM batch_item WHERE batch_id = ?
                """, arguments: [created.batch.id.rawValue])!
        }
        #expect(created.items == sums[0] as Int && created.total == Money(dong: sums[1]))
        #expect(created.mobileMoneyItems == sums[2] as Int && created.cashItems == sums[3] as Int)
    }

    @Test func onlyActiveBeneficiariesGetItemsAndTheAccountIsSnapshotted() throws {
        let fixture = try Fixture()
        try fixture.importLines(Sample.all)
        _ = try fixture.store.registry.setStatus(of: "2", to: .suspended, reason: "x", by: user("a"))
        _ = try fixture.store.registry.setStatus(of: "3", to: .deceased, reason: "x", by: user("a"))
        let batch = try fixture.store.payouts.createBatch(BatchCreateOptions(period: november, by: user("maker")))
        #expect(batch.items == 2)
        fixture.time.advance(days: 10)
        _ = try fixture.store.registry.updateAccount(of: "1", .change(MobileMoneyAccount(carrier: Code(trusted: "VNPT"), msisdn: try MSISDN(parsing: "0911000002"))),
                                            reason: "new SIM", by: user("officer"))
        let items = try fixture.store.read { try Row.fetchAll($0, sql: "SELECT reference, msisdn, carrier FROM batch_item ORDER BY seq") }
        #expect(items[0][1] as String == "84912345678")
        #expect(items[0][2] as String == "VIETTEL")
        let references = items.map { $0[0] as String }
        #expect(references == ["AL-202611-000001-0000001", "AL-202611-000001-0000002"])
        #expect(references.allSatisfy { $0.count <= 32 && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") } })
    }

    @Test func theCheckerMustNotBeTheMakerEvenWritingTheDatabaseDirectly() throws {
        let fixture = try Fixture()
        try fixture.importLines(Sample.all)
        let batch = try fixture.store.payouts.createBatch(BatchCreateOptions(period: november, by: user("Lan.Officer")))
        #expect(throws: BatchError.makerIsChecker(batch: batch.batch.id, user: "Lan.Officer")) {
            try fixture.store.payouts.approveBatch(batch.batch.id, by: user("lan.officer"))
        }
        #expect(throws: DatabaseError.self) {
            try fixture.store.write { db in
                try db.execute(sql: "UPDATE batch SET status = 'approved', approved_by = ' LAN.OFFICER', approved_at = 'x' WHERE id = 1")
            }
        }
        #expect(try fixture.store.payouts.batch(batch.batch.id).status == .created)
        let approved = try fixture.store.payouts.approveBatch(batch.batch.id, by: user("head"))
        #expect(approved.total == batch.total)
        #expect(throws: BatchError.wrongStatus(batch: batch.batch.id, status: .approved, action: "approve it again")) {
            try fixture.store.payouts.approveBatch(batch.batch.id, by: user("other"))
        }
        #expect(throws: BatchError.notFound("9")) { try fixture.store.payouts.approveBatch(BatchID(9), by: user("head")) }
    }

    @Test func anApprovedBatchAndItsItemsCannotChange() throws {
        let fixture = try Fixture()
        try fixture.importLines(Sample.all)
        _ = try createApproved(fixture)
        for sql in ["UPDATE batch_item SET amount = amount + 1", "UPDATE batch_item SET msisdn = '84900000000'", "DELETE FROM batch_item",
                    "UPDATE batch SET period = '2026-12'", "UPDATE batch SET approved_by = 'someone'", "DELETE FROM batch",
                    "UPDATE batch SET item_total = 1",
                    "UPDATE posting SET amount = 1", "DELETE FROM journal_entry"] {
            #expect(throws: DatabaseError.self, "\(sql)") { try fixture.store.write { try $0.execute(sql: sql) } }
        }
    }

    @Test func anItemSlippedIntoAnApprovedBatchIsCaughtByVerify() throws {
        let fixture = try Fixture()
        try fixture.importLines(Sample.all)
        _ = try createApproved(fixture)
        try fixture.store.write { db in
            try db.execute(sql: """
                INSERT INTO batch_item(batch_id, seq, reference, beneficiary_id, period, commune_code, category, method, account_name, amount)
                VALUES (1, 9, 'X-1', 1, '2026-10', '26734', 'ORPHAN', 'cash', 'x', 1)
                """)
        }
        let result = try fixture.store.journal.verify()
        // Its reference, X-1, is not the one its month, batch and seq make either.
        #expect(result.problems.map(\.kind) == [.batchSealBroken, .batchSealBroken, .itemReferenceMismatch, .entitlementMismatch, .itemStateMismatch])
        #expect(result.problems.first?.message.contains("approved with 4 items of 2750000 đồng but now holds 5 items") == true)
    }

    @Test func approvalPostsTheEntitlementsPerItem() throws {
        let fixture = try Fixture()
        try fixture.importLines(Sample.all)
        _ = try createApproved(fixture)
        let balances = try fixture.store.journal.balances()
        #expect(balances.first { $0.account == .expense }?.balance == Money(dong: 2_750_000))
        #expect(balances.first { $0.account == .payable }?.balance == Money(dong: 2_750_000))
        let lan = try fixture.store.journal.balances(beneficiary: BeneficiaryID(1))
        #expect(lan.map(\.account) == [.payable])
        #expect(lan[0].balance == Money(dong: 750_000))
        #expect(try fixture.store.journal.verify().isIntact)
    }

    @Test func exportWritesTheInstructionFileOnceAndPostsTheTransfersOnce() throws {
        let fixture = try Fixture()
        try fixture.importLines(Sample.all)
        let unapproved = try fixture.store.payouts.createBatch(BatchCreateOptions(period: try Period(parsing: "2026-10"), by: user("maker")))
        #expect(throws: BatchError.wrongStatus(batch: unapproved.batch.id, status: .created, action: "export it before it is approved")) {
            try fixture.store.payouts.exportBatch(unapproved.batch.id, to: fixture.directory.file("x.csv"), by: user("maker"))
        }
        let id = try createApproved(fixture)
        let path = fixture.directory.file("instructions.csv")
        let first = try fixture.store.payouts.exportBatch(id, to: path, by: user("maker"))
        #expect(first.lines == 3)
        #expect(first.transfersPosted == ["VIETTEL": Money(dong: 750_000), "VNPT": Money(dong: 750_000), "MOBIFONE": Money(dong: 750_000)])
        let expected = try String(contentsOfFile: try golden("instructions.expected.csv"), encoding: .utf8)
        let written = fixture.directory.read("instructions.csv")
        #expect(written == expected.replacingOccurrences(of: "000001-", with: "00000\(id)-"))
        #expect(try fixture.store.payouts.batch(id).status == .exported)

        fixture.time.advance(days: 1)
        let again = try fixture.store.payouts.exportBatch(id, to: path, by: user("maker"))
        #expect(again.transfersPosted.isEmpty)
        #expect(again.transfersAlreadyPosted.count == 3)
        #expect(fixture.directory.read("instructions.csv") == written)
        let clearing = try fixture.store.journal.balances().filter { $0.account == .carrierClearing }
        #expect(clearing.map(\.subAccount) == ["MOBIFONE", "VIETTEL", "VNPT"])
        #expect(clearing.allSatisfy { $0.balance == Money(dong: 750_000) })
        #expect(first.treasuryBalance == Money(dong: -2_250_000))

        let viettelOnly = try fixture.store.payouts.exportBatch(id, to: fixture.directory.file("viettel.csv"), carrier: Code(trusted: "VIETTEL"), by: user("maker"))
        #expect(viettelOnly.lines == 1)
        #expect(throws: BatchError.noMobileMoneyItems(id, carrier: Code(trusted: "ZALO"))) {
            try fixture.store.payouts.exportBatch(id, to: fixture.directory.file("z.csv"), carrier: Code(trusted: "ZALO"), by: user("maker"))
        }
        #expect(try fixture.store.journal.verify().isIntact)
    }

    @Test func cashItemsAreAdvancedAndSettledOnceEach() throws {
        let fixture = try Fixture()
        try fixture.importLines(Sample.all + ["001160000041,Võ Thị Cúc,1960-05-05,F,26737,DISABLED_SEVERE,cash,,"])
        let id = try createApproved(fixture)
        let advance = try fixture.store.payouts.advanceCash(id, by: user("maker"))
        #expect(advance.perCommune == ["26734": Money(dong: 500_000), "26737": Money(dong: 750_000)])
        #expect(try fixture.store.payouts.advanceCash(id, by: user("maker")).alreadyRecorded)

        let problems = try fixture.store.payouts.settleCash(id, .references(["AL-202611-000001-0000002", "AL-202611-000001-0000001",
                                                                    CashReference("NOPE-1", origin: "refs.csv:4")]), by: user("maker"))
        #expect(problems.settled == 1)
        #expect(problems.amount == Money(dong: 500_000))
        #expect(problems.problems == ["reference AL-202611-000001-0000001 is a mobile-money item; the carrier's result file settles it (`allowance reconcile`)",
                                      "refs.csv:4: reference NOPE-1 names no batch item"])
        #expect(problems.desksShort.isEmpty)
        let rest = try fixture.store.payouts.settleCash(id, .all, by: user("maker"))
        #expect(rest.settled == 1)
        #expect(rest.alreadySettled == 1)
        let none = try fixture.store.payouts.settleCash(id, .all, by: user("maker"))
        #expect(none.settled == 0 && none.entry == nil && none.alreadySettled == 2)
        let again = try fixture.store.payouts.settleCash(id, .references(["AL-202611-000001-0000002"]), by: user("maker"))
        #expect(again.settled == 0 && again.alreadySettled == 1)

        let balances = try fixture.store.journal.balances()
        #expect(balances.filter { $0.account == .cashDisbursement }.allSatisfy { $0.balance == .zero })
        #expect(try fixture.store.journal.balances(beneficiary: BeneficiaryID(2)).first?.balance == .zero)
        // Paying cash no desk was handed shows as a shortfall.
        let january = try createApproved(fixture, period: "2027-01")
        let unadvanced = try fixture.store.payouts.settleCash(january, .all, by: user("maker"))
        #expect(unadvanced.desksShort == ["26734": Money(dong: 500_000), "26737": Money(dong: 750_000)])
        let other = try createApproved(fixture, period: "2026-12")
        let wrongBatch = try fixture.store.payouts.settleCash(other, .references(["AL-202611-000001-0000002"]), by: user("maker"))
        #expect(wrongBatch.problems == ["reference AL-202611-000001-0000002 belongs to batch 1, not batch \(other)"])
        #expect(try fixture.store.journal.verify().isIntact)
    }

    @Test func summariesCountByMethodCommuneAndState() throws {
        let fixture = try Fixture()
        try fixture.importLines(Sample.all)
        let id = try createApproved(fixture)
        _ = try fixture.store.payouts.settleCash(id, .all, by: user("maker"))
        let summary = try fixture.store.payouts.batchSummary(id)
        #expect(summary.items == 4)
        #expect(summary.total == Money(dong: 2_750_000))
        #expect(summary.byMethod.map { "\($0.key):\($0.items):\($0.amount.dong)" } == ["cash:1:500000", "mobile_money:3:2250000"])
        #expect(summary.byCommune.map { "\($0.key):\($0.items)" } == ["26734:2", "26737:2"])
        #expect(summary.byState.map { "\($0.key):\($0.items)" } == ["open:3", "paid_cash:1"])
        #expect(summary.entries.map(\.kind) == ["entitlement", "cash_settlement"])
    }
}

@Suite struct ApprovalRecheckTests {
    @Test func approvalRefusesItemsTheRegisterNoLongerBacksAndCancelLetsTheMonthBeMadeAgain() throws {
        let fixture = try Fixture()
        try fixture.importLines(Sample.all)
        let period = try Period(parsing: "2026-11")
        let batch = try fixture.store.payouts.createBatch(BatchCreateOptions(period: period, by: user("maker")))
        _ = try fixture.store.registry.setStatus(of: "2", to: .deceased, reason: "death certificate", by: user("officer"))
        _ = try fixture.store.registry.updateAccount(of: "3", .change(MobileMoneyAccount(carrier: Code(trusted: "VNPT"), msisdn: try MSISDN(parsing: "0911000002"))),
                                            reason: "new SIM", by: user("officer"))
        #expect(throws: BatchError.staleItems(batch: batch.batch.id, count: 2,
                                              examples: ["beneficiary 2 is deceased", "beneficiary 3's account changed after the batch was created"])) {
            try fixture.store.payouts.approveBatch(batch.batch.id, by: user("checker"))
        }
        #expect(throws: RegistryError.reasonRequired) { try fixture.store.payouts.cancelBatch(batch.batch.id, reason: " ", by: user("maker")) }
        let cancelled = try fixture.store.payouts.cancelBatch(batch.batch.id, reason: "register changed before approval", by: user("maker"))
        #expect(cancelled.status == .cancelled)
        #expect(throws: BatchError.wrongStatus(batch: batch.batch.id, status: .cancelled, action: "approve it again")) {
            try fixture.store.payouts.approveBatch(batch.batch.id, by: user("checker"))
        }
        // Made again: the deceased is left out, the changed account is held out by its flag.
        let again = try fixture.store.payouts.createBatch(BatchCreateOptions(period: period, by: user("maker")))
        #expect(again.items == 2)
        #expect(again.heldOutByKind == ["recent_account_change": 1])
        let approved = try fixture.store.payouts.approveBatch(again.batch.id, by: user("checker"))
        #expect(approved.batch.status == .approved)
        #expect(throws: BatchError.self) { try fixture.store.payouts.cancelBatch(again.batch.id, reason: "too late", by: user("maker")) }
        #expect(try fixture.store.journal.verify().isIntact)
    }
}

@Suite struct ApprovalFlagTests {
    @Test func aFlagRaisedAfterCreationStopsTheApproval() throws {
        let fixture = try Fixture()
        try fixture.importLines(Sample.all)
        let batch = try fixture.store.payouts.createBatch(BatchCreateOptions(period: try Period(parsing: "2026-11"), by: user("maker")))
        // A newcomer registers with Lan's number: both are flagged, and Lan is in the batch.
        try fixture.importLines(["001060000051,Hồ Văn Tư,1960-01-01,M,26734,ELDERLY_POOR,mobile_money,VIETTEL,0912345678"], name: "late.csv")
        #expect(throws: BatchError.staleItems(batch: batch.batch.id, count: 1, examples: ["beneficiary 1 has an open fraud flag"])) {
            try fixture.store.payouts.approveBatch(batch.batch.id, by: user("checker"))
        }
    }
}

/// `batch cancel` deletes an unapproved batch's items without SQLite's per-item key check (the outcome lines have no
/// item index since v8): it checks every column that names an item itself.
@Suite struct CancelKeyTests {
    @Test func theColumnsCancelChecksAreEveryColumnThatNamesAnItem() throws {
        let fixture = try Fixture()
        let declared = try fixture.store.read { db in
            try Row.fetchAll(db, sql: """
                SELECT m.name, k."from" FROM sqlite_master m, pragma_foreign_key_list(m.name) k
                WHERE m.type = 'table' AND k."table" = 'batch_item' ORDER BY 1, 2
                """).map { "\($0[0] as String).\($0[1] as String)" }
        }
        #expect(declared == Store.itemReferences.map { "\($0.0).\($0.1)" }.sorted())
        #expect(try fixture.store.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sqlite_master WHERE name = 'result_line_item'")
        } == 0)
    }

    @Test(arguments: Store.itemReferences.map { "\($0.0).\($0.1)" })
    func aCancelIsRefusedWhenSomethingNamesTheBatchsItems(column: String) throws {
        let fixture = try Fixture()
        try fixture.importLines(Sample.all)
        let batch = try fixture.store.payouts.createBatch(BatchCreateOptions(period: try Period(parsing: "2026-11"), by: user("maker"))).batch.id
        let item = try fixture.store.read { db in try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM batch_item")! }
        // Written by hand, as only a hand could: nothing the tool does names an unapproved batch's items.
        try fixture.store.writer.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA foreign_keys = OFF")
            try db.inTransaction {
                switch column {
                case "posting.item_id":
                    try db.execute(sql: "PRAGMA defer_foreign_keys = ON")
                    try db.execute(sql: "INSERT INTO posting(entry_id, leg, account, item_id, amount) VALUES (999, 1, '2000', ?, 1)", arguments: [item])
                case "result_line.item_id":
                    try db.execute(sql: """
                        INSERT INTO result_file(id, batch_id, sha256, file_name, byte_size, profile, profile_sha256, imported_at, imported_by, lines)
                        VALUES (77, ?, ?, 'f.csv', 1, 'generic', ?, 'now', 'x', 1)
                        """, arguments: [batch.rawValue, String(repeating: "a", count: 64), String(repeating: "b", count: 64)])
                    try db.execute(sql: """
                        INSERT INTO result_line(file_id, line, outcome, item_id, carrier_txn_id, completed_at, reason_code, reason_text, note, fingerprint)
                        VALUES (77, 2, 'pending', ?, '', '', '', '', '', 0)
                        """, arguments: [item])
                case "item_state.item_id":
                    try db.execute(sql: "INSERT INTO item_state(item_id, state) VALUES (?, 'paid')", arguments: [item])
                case "posting_item.item_id":
                    try db.execute(sql: "INSERT INTO posting_item(item_id, entry_id, leg) VALUES (?, 999, 1)", arguments: [item])
                default:
                    try db.execute(sql: "DROP TRIGGER batch_item_no_update")
                    try db.execute(sql: "UPDATE batch_item SET retry_of_item = ?, attempt = 2 WHERE id = ?", arguments: [item, item - 1])
                }
                return .commit
            }
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        let error = #expect(throws: DatabaseError.self) { try fixture.store.payouts.cancelBatch(batch, reason: "wrong month", by: user("maker")) }
        #expect(error?.message?.contains("\(column) names one of its items") == true, "\(String(describing: error))")
        #expect(try fixture.store.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM batch_item WHERE batch_id = ?", arguments: [batch.rawValue]) }
                == Sample.all.count)
        #expect(try fixture.store.payouts.batch(batch).status == .created)
    }
}
