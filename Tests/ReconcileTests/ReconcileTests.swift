@testable import AllowanceLedger
@testable import LedgerSQLite
import Foundation
import GRDB
import Testing
@testable import Reconcile

@Suite struct ReconcileOutcomeTests {
    /// Every input quirk and every outcome in one file: BOM, CRLF, columns in another order and case, an extra column,
    /// quoted fields with commas, doubled quotes and a line break, Vietnamese status words in any case, blank lines
    /// (also `,,,,`), trailing spaces, phone numbers and amounts in every spelling, and lines that are simply wrong.
    @Test func goldenQuirksFile() throws {
        let paid = try PaidBatch()
        let result = try paid.store.reconciliation.reconcileResultFile(Golden.path("quirks.csv"), batch: paid.batch,
                                                        options: { var o = ReconcileOptions(by: user("auditor")); o.displayName = "quirks.csv"; return o }())
        #expect(result.lines == 19)
        let expected: [ReconcileOutcome: Int] = [.paid: 3, .failed: 1, .pending: 1, .reversed: 2, .amountMismatch: 1, .msisdnMismatch: 1,
                                                 .unknownReference: 3, .duplicate: 2, .invalidLine: 5, .missing: 0]
        for outcome in ReconcileOutcome.allCases {
            #expect(result.count(outcome) == expected[outcome], "\(outcome)")
        }
        #expect(result.conflictingDuplicates == 1)
        #expect(result.exceptions == 2 + 1 + 1 + 3 + 1 + 5)
        #expect(result.settled == Money(dong: 2_250_000))
        // Items 8, 9 and 10 are named only by unreadable lines: not missing, so not retried behind the carrier's back.
        #expect(result.totals.amount(.missing) == .zero)
        // VIETTEL was sent nine items; items 1 and 11 left it (11 paid, then reversed and refunded to the treasury).
        #expect(result.clearingOpen == ["MOBIFONE": .zero, "VIETTEL": Money(dong: 5_250_000), "VNPT": .zero])
        Golden.expect(try paid.report(fileID: result.fileID), matches: "quirks.expected.csv")
        let verification = try paid.verify()
        #expect(verification.isIntact, "\(verification.problems)")
        // One entry for the file (its settlements, refund and reversal) after the month's entitlement, budget and
        // three carrier transfers.
        #expect(verification.entries == 1 + 1 + 3 + 1)
    }

    /// The quirks file again, with the batch's items read by two connections at once (as a batch of 50,000 or more
    /// is): every outcome, report row, posting and hash as when one connection reads them.
    @Test func itemsReadInTwoHalvesReconcileAsItemsReadInOne() throws {
        func reconciled(splitFrom: Int) throws -> (PaidBatch, ReconciliationResult) {
            let paid = try PaidBatch()
            var options = ReconcileOptions(by: user("auditor"))
            options.displayName = "quirks.csv"
            options.splitItemLoadFrom = splitFrom
            return (paid, try paid.store.reconciliation.reconcileResultFile(Golden.path("quirks.csv"), batch: paid.batch, options: options))
        }
        let (one, byOne) = try reconciled(splitFrom: ReconcileItems.splitLoadMinimum)
        let (two, byTwo) = try reconciled(splitFrom: 2)
        #expect(byTwo == byOne)
        #expect(try two.report(fileID: byTwo.fileID) == one.report(fileID: byOne.fileID))
        Golden.expect(try two.report(fileID: byTwo.fileID), matches: "quirks.expected.csv")
        #expect(try RefusedWriteTests.footprint(two.store) == RefusedWriteTests.footprint(one.store))
        let postings = "SELECT entry_id, leg, account, sub_account, beneficiary_id, item_id, amount FROM posting ORDER BY entry_id, leg"
        #expect(try two.store.read { try Row.fetchAll($0, sql: postings) } == one.store.read { try Row.fetchAll($0, sql: postings) })
        #expect(try two.verify().isIntact)
    }

    @Test func reconcilingTheSameFileAgainChangesNothing() throws {
        let paid = try PaidBatch()
        let text = "reference,msisdn,amount,status\n\(PaidBatch.reference(1)),0912345678,750000,SUCCESS\n\(PaidBatch.reference(3)),0987654321,750000,FAILED\n"
        let first = try paid.reconcile(text)
        let entries = try paid.verify().entries
        let again = try paid.reconcile(text, name: "copy-of-result.csv")
        #expect(!first.alreadyImported)
        #expect(again.alreadyImported)
        #expect(again.fileID == first.fileID)
        #expect(again.importedBy == "auditor")
        #expect(again.lines == 2)
        #expect(again.count(.paid) == 1 && again.count(.failed) == 1 && again.count(.missing) == first.count(.missing))
        #expect(again.entries.isEmpty)
        #expect(try paid.verify().entries == entries)
        #expect(try paid.store.reconciliation.resultFiles(batch: paid.batch).count == 1)
    }

    @Test func partialFilesSettleTheBatchAndTheClearingNetsToZero() throws {
        let paid = try PaidBatch()
        let first = try paid.reconcile("""
            reference,msisdn,amount,status,carrier_txn_id
            \(PaidBatch.reference(1)),0912345678,750000,SUCCESS,T1
            \(PaidBatch.reference(3)),0987654321,750000,PENDING,T3

            """, name: "part-1.csv")
        #expect(first.count(.paid) == 1 && first.count(.pending) == 1 && first.count(.missing) == 9)
        var second = "reference,msisdn,amount,status,carrier_txn_id\n"
        second += "\(PaidBatch.reference(1)),0912345678,750000,SUCCESS,T1\n"   // the same report again: harmless
        second += "\(PaidBatch.reference(3)),0987654321,750000,SUCCESS,T3\n"   // pending before, paid now
        second += "\(PaidBatch.reference(4)),0701234567,750000,FAILED,T4\n"
        for seq in 5...12 { second += "\(PaidBatch.reference(seq)),09120000\(seq < 10 ? "0" : "")\(seq),750000,OK,T\(seq)\n" }
        second += "\(PaidBatch.reference(4)),0701234567,750000,SUCCESS,T4b\n" // contradicts the failure: the first line stands
        let result = try paid.reconcile(second, name: "part-2.csv")
        #expect(result.count(.paid) == 9)
        #expect(result.count(.failed) == 1)
        #expect(result.count(.duplicate) == 2)
        #expect(result.conflictingDuplicates == 1)
        #expect(result.count(.missing) == 0)
        #expect(result.clearingOpen.values.allSatisfy { $0 == .zero })
        let status = try paid.store.reconciliation.status(batch: paid.batch)
        #expect(status.isSettled)
        #expect(status.items.count(.paid) == 10 && status.items.count(.failed) == 1)
        #expect(status.files.map(\.name) == ["part-1.csv", "part-2.csv"])
        #expect(try paid.verify().isIntact)
        let report = try paid.report(fileID: result.fileID)
        #expect(report.contains("part-2.csv,2,AL-202611-000001-0000001,duplicate,repeats part-1.csv:2,paid,750000,750000"))
        #expect(report.contains("part-2.csv,13,AL-202611-000001-0000004,duplicate,\"conflicts with part-2.csv:4, which made the item failed; the first line stands\""))
    }

    @Test func aReferenceOfAnotherBatchSaysWhichBatch() throws {
        let paid = try PaidBatch()
        // A second batch, for December, so that batch 2 exists.
        let december = try paid.store.payouts.createBatch(BatchCreateOptions(period: try Period(parsing: "2026-12"), by: user("maker")))
        let result = try paid.reconcile("reference,msisdn,amount,status\nAL-202612-000002-0000001,0912345678,750000,SUCCESS\n")
        #expect(december.batch.id == BatchID(2))
        #expect(result.count(.unknownReference) == 1)
        #expect(try paid.report(fileID: result.fileID).contains("reference belongs to batch 2, not batch 1; reconcile this line against batch 2"))
    }

    @Test func fileLevelProblemsRecordNothing() throws {
        let paid = try PaidBatch()
        #expect(throws: ResultFileError.emptyFile("empty.csv")) { try paid.reconcile("\n\n", name: "empty.csv") }
        #expect(throws: ResultFileError.missingColumns("no-status.csv", [.status], profile: "generic")) {
            try paid.reconcile("reference,msisdn,amount\n\(PaidBatch.reference(1)),0912345678,750000\n", name: "no-status.csv")
        }
        #expect(throws: ResultFileError.duplicateColumn("twice.csv", .amount, ["amount", "AMOUNT"])) {
            try paid.reconcile("reference,msisdn,amount,status,AMOUNT\n", name: "twice.csv")
        }
        #expect(throws: FileError.self) {
            try paid.store.reconciliation.reconcileResultFile(paid.folder.file("absent.csv"), batch: paid.batch, options: ReconcileOptions(by: user("auditor")))
        }
        #expect(throws: ReconcileError.batch(.notFound("9"))) { try paid.reconcile("reference,msisdn,amount,status\n", batch: BatchID(9)) }
        let created = try paid.store.payouts.createBatch(BatchCreateOptions(period: try Period(parsing: "2026-12"), by: user("maker")))
        #expect(throws: ReconcileError.notExported(created.batch.id, .created)) {
            try paid.reconcile("reference,msisdn,amount,status\n", batch: created.batch.id)
        }
        #expect(try paid.store.reconciliation.resultFiles(batch: paid.batch).isEmpty)
        #expect(try paid.verify().entries == 5)
    }

    @Test func aCarrierProfileMapsItsColumnsStatusesAndTimes() throws {
        let paid = try PaidBatch()
        let profile = try CarrierProfile(parsing: """
            name = carrier-x
            delimiter = ;
            date_format = dd/MM/yyyy HH:mm
            column.reference = Mã GD
            column.msisdn = SĐT
            column.amount = Số tiền
            column.status = KQ
            column.completed_at = Lúc
            status.paid = 00
            status.failed = 01 | 02
            """, file: "x.profile")
        let result = try paid.reconcile("""
            MÃ GD;sđt;SỐ TIỀN;kq;lúc
            \(PaidBatch.reference(1));0912345678;750.000;00;30/11/2026 09:15
            \(PaidBatch.reference(3));0987654321;750.000;02;30/11/2026 09:16
            \(PaidBatch.reference(4));0701234567;750.000;Thành công;31/11/2026 09:16
            """, profile: profile)
        #expect(result.count(.paid) == 1 && result.count(.failed) == 1 && result.count(.invalidLine) == 1)
        var rows: [ReconcileReportRow] = []
        try paid.store.reconciliation.reportRows(batch: paid.batch, fileID: result.fileID, includeMissing: false) { rows.append($0) }
        #expect(rows[0].completedAt == "2026-11-30T09:15:00")
        #expect(rows[2].note == "completed_at \"31/11/2026 09:16\" does not match profile carrier-x's date format dd/MM/yyyy HH:mm")
    }
}

@Suite struct RetryTests {
    @Test func failedAndMissingItemsAreRetriedOnceAndPaidWithoutSpendingTwice() throws {
        let paid = try PaidBatch()
        var text = "reference,msisdn,amount,status,reason_code,reason_text\n"
        text += "\(PaidBatch.reference(1)),0912345678,750000,SUCCESS,,\n"
        text += "\(PaidBatch.reference(3)),0987654321,750000,FAILED,E101,Thuê bao không tồn tại\n"
        for seq in 5...11 { text += "\(PaidBatch.reference(seq)),09120000\(seq < 10 ? "0" : "")\(seq),750000,SUCCESS,,\n" }
        // Item 4 failed and item 12 is missing.
        text += "\(PaidBatch.reference(4)),0701234567,750000,Thất bại,E205,Account locked\n"
        let reconciled = try paid.reconcile(text)
        #expect(reconciled.count(.missing) == 1)
        let expenseBefore = try paid.store.journal.balances().first { $0.account == .expense }!.balance

        let retry = try paid.store.payouts.retryBatch(paid.batch, by: user("maker"))
        #expect(retry.items == 3 && retry.failed == 2 && retry.missing == 1)
        #expect(retry.total == Money(dong: 2_250_000))
        #expect(retry.batch.retryOf == paid.batch)
        // Nothing is retried twice.
        #expect(throws: BatchError.nothingToRetry(paid.batch, "every item is paid, pending, in an exception, or already retried")) {
            try paid.store.payouts.retryBatch(paid.batch, by: user("maker"))
        }
        #expect(throws: BatchError.makerIsChecker(batch: retry.batch.id, user: "maker")) {
            try paid.store.payouts.approveBatch(retry.batch.id, by: user("maker"))
        }
        _ = try paid.store.payouts.approveBatch(retry.batch.id, by: user("checker"))
        // Approval moved the payable to the retry items: no new expense.
        #expect(try paid.store.journal.balances().first { $0.account == .expense }!.balance == expenseBefore)
        #expect(try paid.verify().isIntact)

        let instructions = paid.folder.file("retry.csv")
        _ = try paid.store.payouts.exportBatch(retry.batch.id, to: instructions, by: user("officer"))
        var retryText = "reference,msisdn,amount,status\n"
        for seq in 1...3 {
            let line = try String(contentsOfFile: instructions, encoding: .utf8).split(separator: "\n")[seq].split(separator: ",")
            retryText += "\(line[0]),\(line[1]),\(line[3]),SUCCESS\n"
        }
        let second = try paid.reconcile(retryText, name: "retry-result.csv", batch: retry.batch.id)
        #expect(second.count(.paid) == 3 && second.count(.missing) == 0)
        #expect(second.clearingOpen.values.allSatisfy { $0 == .zero })
        // The original batch's carrier still holds item 12's funds until it says what happened to it; a late "paid"
        // for an item already retried is an exception, not a second settlement.
        let late = try paid.reconcile("reference,msisdn,amount,status\n\(PaidBatch.reference(12)),0912000012,750000,SUCCESS\n", name: "late.csv")
        #expect(late.count(.duplicate) == 1 && late.conflictingDuplicates == 1 && late.count(.paid) == 0)
        let lateFailure = try paid.reconcile("reference,msisdn,amount,status\n\(PaidBatch.reference(12)),0912000012,750000,FAILED\n", name: "late-2.csv")
        #expect(lateFailure.count(.failed) == 1)
        #expect(lateFailure.clearingOpen.values.allSatisfy { $0 == .zero })
        let verification = try paid.verify()
        #expect(verification.isIntact, "\(verification.problems)")
        // Every beneficiary's payable for November is settled.
        #expect(try paid.store.journal.balances().first { $0.account == .payable }!.balance == Money(dong: 500_000))  // Hùng's cash, unpaid
    }

    @Test func aBatchWithoutResultsHasNothingToRetry() throws {
        let paid = try PaidBatch()
        #expect(throws: BatchError.nothingToRetry(paid.batch, "no result file has been reconciled for it yet (`allowance reconcile 1 FILE`)")) {
            try paid.store.payouts.retryBatch(paid.batch, by: user("maker"))
        }
    }
}

@Suite struct ItemOrderTests {
    /// PaidBatch's month, with the items' ids rewritten by `newID` (SQL over the batch's `seq` and `id`, from a copy of
    /// the items) before approval, then approved, funded and exported.
    static func exportedBatch(newID: String) throws -> (store: Store, batch: BatchID, folder: Folder) {
        let folder = Folder()
        let store = try Store(path: folder.file("ledger.sqlite"), clock: .fixed(try Timestamp(parsing: "2026-11-30T08:00:00Z")))
        let register = folder.write("register.csv", PaidBatch.header + PaidBatch.lines.joined(separator: "\n") + "\n")
        _ = try store.registry.importRegister(path: register, options: RegisterImportOptions(by: user("officer")))
        let batch = try store.payouts.createBatch(BatchCreateOptions(period: try Period(parsing: "2026-11"), by: user("maker"))).batch.id
        let columns = "batch_id, seq, reference, beneficiary_id, period, commune_code, category, method, carrier, msisdn, account_name, amount, retry_of_item, attempt"
        try store.write { db in
            try db.execute(sql: """
                CREATE TEMP TABLE saved AS SELECT id, \(columns) FROM batch_item WHERE batch_id = \(batch);
                DELETE FROM batch_item WHERE batch_id = \(batch);
                INSERT INTO batch_item(id, \(columns)) SELECT \(newID), \(columns) FROM temp.saved;
                DROP TABLE temp.saved;
                """)
        }
        _ = try store.payouts.approveBatch(batch, by: user("checker"))
        _ = try store.journal.fund(amount: Money(dong: 100_000_000), reference: "QD-2026-11", by: user("officer"))
        _ = try store.payouts.exportBatch(batch, to: folder.file("instructions.csv"), by: user("officer"))
        return (store, batch, folder)
    }

    static let result = """
        reference,msisdn,amount,status
        \(PaidBatch.reference(3)),0987654321,750000,SUCCESS
        \(PaidBatch.reference(4)),0701234567,750000,FAILED
        \(PaidBatch.reference(5)),0912000005,750000,SUCCESS

        """

    /// Reconcile reads a batch's items by id range when their ids run with seq (every batch the tool makes). Here two
    /// items swap ids before approval, so the range still spans the batch but is not in seq order: the read notices at
    /// the first row out of place and goes through the index instead, and every line lands on its own item.
    @Test func itemsWhoseIdsDoNotFollowTheirSeqStillReconcile() throws {
        let (store, batch, folder) = try Self.exportedBatch(newID: """
            CASE seq WHEN 3 THEN (SELECT id FROM temp.saved WHERE seq = 4) WHEN 4 THEN (SELECT id FROM temp.saved WHERE seq = 3) ELSE id END
            """)
        // The range test alone would take these ids for a run; only the rows themselves show they are not.
        #expect(try store.read { try Store.itemIDRun($0, batch: batch) } != nil)
        let path = folder.write("result.csv", Self.result)
        let result = try store.reconciliation.reconcileResultFile(path, batch: batch, options: ReconcileOptions(by: user("auditor")))
        #expect(result.count(.paid) == 2 && result.count(.failed) == 1)
        #expect(result.count(.msisdnMismatch) == 0 && result.count(.missing) == 8)
        let states = try store.read { db in
            try String.fetchAll(db, sql: """
                SELECT i.seq || '=' || s.state FROM item_state s JOIN batch_item i ON i.id = s.item_id ORDER BY i.seq
                """)
        }
        #expect(states == ["3=paid", "4=failed", "5=paid"])
        #expect(try store.journal.verify().isIntact)
    }

    /// The non-cash report scans the id range from a batch's first item to its last, and counts what it found: here
    /// one item's id lies past the batch's last, so the scan finds one item too few, and the report is read again
    /// through the batch index. It must equal the report of the same month with its ids in order.
    @Test func theReportCountsAnItemWhoseIdLiesOutsideItsBatchsRun() throws {
        let moved = try Self.exportedBatch(newID: "CASE seq WHEN 3 THEN 9999 ELSE id END")
        let plain = try Self.exportedBatch(newID: "id")
        #expect(try moved.store.read { try Store.itemIDRun($0, batch: moved.batch) } != nil)
        var reports: [NonCashReport] = []
        for ledger in [moved, plain] {
            let path = ledger.folder.write("result.csv", Self.result)
            _ = try ledger.store.reconciliation.reconcileResultFile(path, batch: ledger.batch, options: ReconcileOptions(by: user("auditor")))
            reports.append(try ledger.store.reports.nonCash(from: try Period(parsing: "2026-11"), to: try Period(parsing: "2026-11"),
                                                          grouping: .commune, target: Share(9, of: 10)!))
        }
        #expect(reports[0] == reports[1])
        #expect(reports[0].total.recipients == 12 && reports[0].total.noncashRecipients == 2)
        #expect(reports[0].total.failedMobileMoney == 1)
    }
}

@Suite struct ItemStateMigrationTests {
    /// A ledger written before item states had their own table (v4) keeps every state through the v5 migration:
    /// the ledger below is taken back to v4 by hand (the column restored from item_state, the table dropped), then
    /// reopened.
    @Test func statesMoveOutOfTheItemRowsIntact() throws {
        let paid = try PaidBatch()
        try paid.reconcile("""
            reference,msisdn,amount,status
            \(PaidBatch.reference(1)),0912345678,750000,SUCCESS
            \(PaidBatch.reference(3)),0987654321,750000,FAILED
            \(PaidBatch.reference(4)),0701234567,750000,SUCCESS
            \(PaidBatch.reference(4)),0701234567,750000,REVERSED

            """)
        _ = try paid.store.payouts.settleCash(paid.batch, .all, by: user("officer"))
        func states(_ store: Store) throws -> [String] {
            try store.read { db in
                try String.fetchAll(db, sql: """
                    SELECT i.seq || '=' || COALESCE(s.state, 'open') FROM batch_item i LEFT JOIN item_state s ON s.item_id = i.id ORDER BY i.seq
                    """)
            }
        }
        let before = try states(paid.store)
        #expect(before.prefix(5) == ["1=paid", "2=paid_cash", "3=failed", "4=failed", "5=open"])
        let path = paid.folder.file("ledger.sqlite")
        try Self.backToV4(paid.store)
        let reopened = try Store(path: path)
        #expect(try states(reopened) == before)
        let columns = try reopened.read { db in try Row.fetchAll(db, sql: "PRAGMA table_info(batch_item)").map { $0["name"] as String } }
        #expect(!columns.contains("state"))
        #expect(try reopened.journal.verify().isIntact)
        // Items are now immutable outright, and a state never goes back to open.
        #expect(throws: DatabaseError.self) { try reopened.write { db in try db.execute(sql: "UPDATE batch_item SET attempt = attempt") } }
        #expect(throws: DatabaseError.self) { try reopened.write { db in try db.execute(sql: "DELETE FROM item_state") } }
        #expect(throws: DatabaseError.self) {
            try reopened.write { db in try db.execute(sql: "UPDATE item_state SET state = 'paid' WHERE state = 'failed'") }
        }
    }

    /// An older ledger whose item names a beneficiary that is gone stops at v5's key check, which GRDB makes: the
    /// refusal names the tables and columns, not the item's payee (GRDB's own message prints the whole row).
    @Test func aDanglingKeyBeforeV5StopsTheUpgradeWithoutPrintingTheRow() throws {
        let paid = try PaidBatch()
        try Self.backToV4(paid.store, extra: """
            DROP TRIGGER batch_item_frozen;
            UPDATE batch_item SET beneficiary_id = 9999 WHERE seq = 1;
            CREATE TRIGGER batch_item_frozen BEFORE UPDATE OF beneficiary_id ON batch_item BEGIN SELECT RAISE(ABORT, 'frozen'); END;
            """)
        let error = paid.reopeningError()
        #expect(error.contains("cannot upgrade the ledger: a row names a row that does not exist (FOREIGN KEY constraint violation - from batch_item(beneficiary_id) to beneficiary(id))"),
                "\(error)")
        #expect(!error.contains("Lan") && !error.contains("912345678") && !error.contains(", in "), "\(error)")
    }

    /// Takes a ledger back to v4 by hand: back to v6 first (`ItemReferenceMigrationTests.itemTableV6`), then the `state`
    /// column restored from item_state, the table and v5's triggers dropped, v6's index put back, and both migrations
    /// forgotten. `extra` runs last, in the same transaction.
    static func backToV4(_ store: Store, extra: String = "") throws {
        try store.writer.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA foreign_keys = OFF")
            try db.inTransaction {
                try db.execute(sql: ItemReferenceMigrationTests.itemTableV6)
                try db.execute(sql: """
                    ALTER TABLE batch_item ADD COLUMN state TEXT NOT NULL DEFAULT 'open'
                        CHECK(state = 'open' OR state = 'paid' OR state = 'failed' OR state = 'paid_cash');
                    DROP TRIGGER batch_item_no_update;
                    UPDATE batch_item SET state = (SELECT s.state FROM item_state s WHERE s.item_id = batch_item.id)
                    WHERE id IN (SELECT item_id FROM item_state);
                    DROP TABLE item_state;
                    CREATE TRIGGER batch_item_frozen BEFORE UPDATE OF id, batch_id, seq, reference, beneficiary_id, period, commune_code,
                        category, method, carrier, msisdn, account_name, amount, retry_of_item, attempt ON batch_item
                    BEGIN SELECT RAISE(ABORT, 'a batch item cannot change once created; only its payment state moves'); END;
                    CREATE INDEX posting_beneficiary ON posting(beneficiary_id) WHERE beneficiary_id IS NOT NULL;
                    DELETE FROM grdb_migrations WHERE identifier IN ('v5-item-state', 'v6-posting-indexes');
                    \(extra)
                    """)
                return .commit
            }
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
    }

    /// A v4 ledger with a state written by hand outside the four is not upgraded with SQLite's bare CHECK message:
    /// the upgrade says which item and what to do.
    @Test func anUnknownStateStopsTheUpgradeWithAClearMessage() throws {
        let paid = try PaidBatch()
        try Self.backToV4(paid.store, extra: """
            PRAGMA ignore_check_constraints = ON;
            UPDATE batch_item SET state = 'pxid' WHERE seq = 6;
            """)
        let error = paid.reopeningError()
        #expect(error.contains("cannot upgrade the ledger: 1 batch item(s) have a payment state that is none of open, paid, failed, paid_cash"), "\(error)")
        #expect(error.contains("\"pxid\""), "\(error)")
    }
}

@Suite struct ItemReferenceMigrationTests {
    /// SQL taking the item table back to v6 by hand, inside a transaction with keys off: v7's own rebuild with the
    /// reference's UNIQUE put back (the ids, the stored references, indexes and triggers as they were), and v7 forgotten.
    /// `referencesSurviveTheUpgradeAndStillFindTheirItems` checks the index came back.
    static let itemTableV6 = Migrations.itemReferenceV7
        .replacingOccurrences(of: "reference TEXT NOT NULL CHECK", with: "reference TEXT NOT NULL UNIQUE CHECK")
        .replacingOccurrences(of: "batch_item_v7", with: "batch_item_v6")
        + "DELETE FROM grdb_migrations WHERE identifier = 'v7-item-reference-derived';"

    static func backToV6(_ store: Store, extra: String = "") throws {
        try store.writer.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA foreign_keys = OFF")
            try db.inTransaction {
                try db.execute(sql: itemTableV6 + extra)
                return .commit
            }
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
    }

    static func indexes(_ store: Store) throws -> Int? {
        try store.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM pragma_index_list('batch_item')") }
    }

    static func items(_ store: Store) throws -> [String] {
        try store.read { db in try String.fetchAll(db, sql: "SELECT id || ' ' || batch_id || ' ' || seq || ' ' || reference FROM batch_item ORDER BY id") }
    }

    /// A v6 ledger, with a retry batch and reconciled lines naming its items, keeps every item, id and reference
    /// through v7, which drops the reference's unique index; what the items' postings and lines name is unchanged, and a
    /// reference still finds its item.
    @Test func referencesSurviveTheUpgradeAndStillFindTheirItems() throws {
        let paid = try PaidBatch()
        try paid.reconcile("""
            reference,msisdn,amount,status
            \(PaidBatch.reference(1)),0912345678,750000,SUCCESS
            \(PaidBatch.reference(3)),0987654321,750000,FAILED
            """)
        let retry = try paid.store.payouts.retryBatch(paid.batch, by: user("maker")).batch.id
        let before = try Self.items(paid.store)
        #expect(before.contains("13 \(retry) 1 AL-202611-00000\(retry)-0000001"), "\(before)")
        try Self.backToV6(paid.store)
        #expect(try Self.items(paid.store) == before)
        #expect(try Self.indexes(paid.store) == 4)
        let reopened = try Store(path: paid.folder.file("ledger.sqlite"))
        #expect(try Self.items(reopened) == before)
        #expect(try reopened.journal.verify().isIntact)
        // No index of its own any more: the item table keeps (batch_id, seq)'s, the month's and the retries'.
        #expect(try Self.indexes(reopened) == 3)
        // A repeat of the paid line is a repeat, found by its reference through (batch, seq).
        let again = try reopened.reconciliation.reconcileResultFile(paid.folder.write("again.csv", """
            reference,msisdn,amount,status
            \(PaidBatch.reference(1)),0912345678,750000,SUCCESS
            AL-202611-00000\(retry)-0000001,0987654321,750000,SUCCESS
            """), batch: paid.batch, options: ReconcileOptions(by: user("auditor")))
        #expect(again.count(.duplicate) == 1)
        #expect(again.count(.unknownReference) == 1)
        #expect(try reopened.read { db in try String.fetchOne(db, sql: "SELECT note FROM result_line WHERE outcome = 'unknown_reference'") }?
            .contains("batch \(retry)") == true)
        #expect(throws: DatabaseError.self) { try reopened.write { db in try db.execute(sql: "UPDATE batch_item SET seq = seq") } }
    }

    /// A reference finds its item through (batch, seq) and must then be the item's own, exactly: another month's reference
    /// with the same batch and seq, or the right one in small letters, names no item (as with the reference's own index).
    @Test func aReferenceMustBeTheItemsOwnExactly() throws {
        let paid = try PaidBatch()
        let wrong = try paid.store.payouts.settleCash(paid.batch, .references(["AL-202612-000001-0000002", "al-202611-000001-0000002",
                                                                         "AL-202611-1-2"]), by: user("officer"))
        #expect(wrong.settled == 0)
        #expect(wrong.problems.count == 3 && wrong.problems.allSatisfy { $0.contains("names no batch item") }, "\(wrong.problems)")
        let right = try paid.store.payouts.settleCash(paid.batch, .references([CashReference(PaidBatch.reference(2))]), by: user("officer"))
        #expect(right.settled == 1 && right.problems.isEmpty, "\(right.problems)")
    }

    /// A v6 ledger whose stored reference was edited by hand is not upgraded: without the reference's own index, its item
    /// could no longer be found by it, and rewriting what a payee was paid under is not for an upgrade. The upgrade says
    /// which item and what to do.
    @Test func aReferenceEditedByHandStopsTheUpgrade() throws {
        let paid = try PaidBatch()
        try Self.backToV6(paid.store, extra: """
            DROP TRIGGER batch_item_no_update;
            UPDATE batch_item SET reference = 'AL-202611-000001-0000099' WHERE seq = 2;
            """)
        let error = paid.reopeningError()
        #expect(error.contains("cannot upgrade the ledger: 1 batch item(s) have a reference that is not made from their month, batch and seq"),
                "\(error)")
        #expect(error.contains("(item 2: \"AL-202611-000001-0000099\")"), "\(error)")
    }

    /// The rebuilt item table's own keys are checked, and a broken one is named: an item whose beneficiary is gone stops
    /// the upgrade, and the ledger stays at v6.
    @Test func anItemNamingAMissingBeneficiaryStopsTheUpgradeSayingWhich() throws {
        let paid = try PaidBatch()
        try Self.backToV6(paid.store, extra: """
            DROP TRIGGER batch_item_no_update;
            UPDATE batch_item SET beneficiary_id = 9999 WHERE seq = 2;
            """)
        let error = paid.reopeningError()
        #expect(error.contains("cannot upgrade the ledger: 1 row(s) of batch_item name a row that does not exist (batch_item row 2 names a missing beneficiary row)"),
                "\(error)")
        // The item's payee is not in the message (GRDB's own prints the whole row, name included).
        #expect(!error.contains("Hùng"), "\(error)")
        #expect(try Self.indexes(paid.store) == 4)
        #expect(try paid.store.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM grdb_migrations WHERE identifier = 'v7-item-reference-derived'") } == 0)
    }

    /// Migrations sort through temporary files; every command after them sorts in memory again.
    @Test func theWriterSortsInMemoryOnceTheMigrationsAreDone() throws {
        let paid = try PaidBatch()
        try Self.backToV6(paid.store)
        let reopened = try Store(path: paid.folder.file("ledger.sqlite"))
        #expect(try reopened.writer.write { try Int.fetchOne($0, sql: "PRAGMA temp_store") } == 2)
        #expect(try reopened.read { try Int.fetchOne($0, sql: "PRAGMA temp_store") } == 2)
    }

    /// A dangling key elsewhere (a posting naming a beneficiary that is gone) is not the upgrade's to judge: v7 only
    /// rebuilds the item table, and once read every key in the ledger, so that such a file could not be opened at all.
    @Test func aDanglingKeyOutsideTheItemsDoesNotStopTheUpgrade() throws {
        let paid = try PaidBatch()
        let before = try Self.items(paid.store)
        try Self.backToV6(paid.store, extra: """
            DROP TRIGGER posting_no_update;
            UPDATE posting SET beneficiary_id = 9999 WHERE beneficiary_id IS NOT NULL;
            """)
        let reopened = try Store(path: paid.folder.file("ledger.sqlite"))
        #expect(try Self.items(reopened) == before)
        #expect(try Self.indexes(reopened) == 3)
        #expect(try reopened.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM pragma_foreign_key_check('posting')") } ?? 0 > 0)
    }
}

@Suite struct ItemReferenceVerifyTests {
    /// `ledger verify` holds each item's reference to the one its month, batch and seq make: with no unique index behind
    /// it since v7, an item edited by hand to carry another item's reference is reported by name, and only that one.
    @Test func verifyReportsAReferenceEditedByHand() throws {
        let paid = try PaidBatch()
        #expect(try paid.verify().isIntact)
        try paid.store.write { db in
            try db.execute(sql: "DROP TRIGGER batch_item_no_update")
            try db.execute(sql: "UPDATE batch_item SET reference = ? WHERE seq = 3", arguments: [PaidBatch.reference(5)])
        }
        let problems = try paid.verify().problems.filter { $0.kind == .itemReferenceMismatch }
        #expect(problems.count == 1)
        #expect(problems.first?.message.contains(
            "seq 3) has the reference \"\(PaidBatch.reference(5))\" where its month, batch and seq make \(PaidBatch.reference(3))") == true)
    }
}

@Suite struct StoreSettingsTests {
    /// A new ledger has 16 KiB pages, and the writer syncs every commit (GRDB sets NORMAL when it turns WAL on).
    @Test func aNewLedgerHasLargePagesAndFullSync() throws {
        let paid = try PaidBatch()
        #expect(try paid.store.read { db in try Int.fetchOne(db, sql: "PRAGMA page_size") } == 16384)
        #expect(try paid.store.writer.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") } == 2)
        #expect(try paid.store.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") } == "wal")
        let reopened = try Store(path: paid.folder.file("ledger.sqlite"))
        #expect(try reopened.writer.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") } == 2)
    }

    /// A ledger made with SQLite's 4 KiB pages keeps them, and works as before.
    @Test func anExistingLedgerKeepsItsPages() throws {
        let folder = Folder()
        let path = folder.file("old.sqlite")
        try DatabaseQueue(path: path).writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA page_size = 4096; PRAGMA journal_mode = WAL; CREATE TABLE x(a); DROP TABLE x;")
        }
        let store = try Store(path: path)
        #expect(try store.read { db in try Int.fetchOne(db, sql: "PRAGMA page_size") } == 4096)
        #expect(try store.journal.verify().isIntact)
    }
}

@Suite struct ClearingInvariantTests {
    @Test func verifyCatchesAnItemMarkedPaidWithoutItsSettlement() throws {
        let paid = try PaidBatch()
        try paid.reconcile("reference,msisdn,amount,status\n\(PaidBatch.reference(1)),0912345678,750000,SUCCESS\n")
        #expect(try paid.verify().isIntact)
        try paid.store.write { db in try db.execute(sql: "INSERT INTO item_state(item_id, state) SELECT id, 'paid' FROM batch_item WHERE seq = 5") }
        let kinds = Set(try paid.verify().problems.map(\.kind))
        #expect(kinds.contains(.clearingMismatch))
        #expect(kinds.contains(.itemStateMismatch))
    }

    @Test func verifyReportsAStateThatIsNoStateAtAll() throws {
        let paid = try PaidBatch()
        try paid.store.write { db in
            try db.execute(sql: "PRAGMA ignore_check_constraints = ON")
            try db.execute(sql: "INSERT INTO item_state(item_id, state) SELECT id, 'pxid' FROM batch_item WHERE seq = 6")
        }
        let problems = try paid.verify().problems
        #expect(problems.contains { $0.kind == .itemStateMismatch && $0.message.contains("unknown state \"pxid\"") })
    }

    @Test func verifyReportsAStateForNoItemAndAStoredOpen() throws {
        let paid = try PaidBatch()
        try paid.store.writer.writeWithoutTransaction { db in
            try db.execute(sql: """
                PRAGMA foreign_keys = OFF; PRAGMA ignore_check_constraints = ON;
                INSERT INTO item_state(item_id, state) VALUES (999999, 'paid');
                INSERT INTO item_state(item_id, state) SELECT id, 'open' FROM batch_item WHERE seq = 7;
                PRAGMA foreign_keys = ON; PRAGMA ignore_check_constraints = OFF;
                """)
        }
        let problems = try paid.verify().problems
        #expect(problems.contains { $0.kind == .itemStateMismatch && $0.message.contains("item 999999, which is no batch item") }, "\(problems)")
        #expect(problems.contains { $0.kind == .itemStateMismatch && $0.message.contains("has a state row saying \"open\"; an open item has none") }, "\(problems)")
    }
}

@Suite struct ReviewFindingTests {
    /// A carrier that resends its whole list after reversing a payment: the paid line again is a harmless repeat.
    @Test func resendingAPaymentAfterItsReversalIsAHarmlessRepeat() throws {
        let paid = try PaidBatch()
        let payment = "\(PaidBatch.reference(1)),0912345678,750000,SUCCESS,T1"
        let reversal = "\(PaidBatch.reference(1)),0912345678,750000,REVERSED,T1R"
        try paid.reconcile("reference,msisdn,amount,status,carrier_txn_id\n\(payment)\n", name: "a.csv")
        try paid.reconcile("reference,msisdn,amount,status,carrier_txn_id\n\(payment)\n\(reversal)\n", name: "b.csv")
        let third = try paid.reconcile("reference,msisdn,amount,status,carrier_txn_id\n\(payment)\n\(reversal)\n\(PaidBatch.reference(3)),0987654321,750000,OK,T3\n",
                                       name: "c.csv")
        #expect(third.count(.duplicate) == 2)
        #expect(third.conflictingDuplicates == 0)
        #expect(third.exceptions == 0)
        let report = try paid.report(fileID: third.fileID)
        #expect(report.contains("c.csv,2,AL-202611-000001-0000001,duplicate,\"repeats a.csv:2, which the carrier later reversed\""))
        #expect(report.contains("c.csv,3,AL-202611-000001-0000001,duplicate,repeats b.csv:3"))
        #expect(try paid.verify().isIntact)
    }

    /// Two numbers that end alike would be masked alike: the note says they differ instead of showing the same mask twice.
    @Test func aNumberMismatchEndingAlikeSaysTheyDiffer() throws {
        let paid = try PaidBatch()
        let result = try paid.reconcile("reference,msisdn,amount,status,carrier_txn_id\n\(PaidBatch.reference(1)),0922345678,750000,SUCCESS,T1\n")
        #expect(result.count(.msisdnMismatch) == 1)
        let report = try paid.report(fileID: result.fileID)
        #expect(report.contains("msisdn ********678 is not the item's number (they differ before the last 3 digits); nothing was posted"), "\(report)")
    }

    /// Paid and reversed in one file, next to items only paid or only failed: each item ends in the state of its
    /// last line (the states are written from the session's memory, one row per item the file moved).
    @Test func aPaymentPaidAndReversedInOneFileEndsFailed() throws {
        let paid = try PaidBatch()
        let result = try paid.reconcile("""
            reference,msisdn,amount,status,carrier_txn_id
            \(PaidBatch.reference(1)),0912345678,750000,SUCCESS,T1
            \(PaidBatch.reference(3)),0987654321,750000,OK,T3
            \(PaidBatch.reference(1)),0912345678,750000,REVERSED,T1R
            \(PaidBatch.reference(4)),0701234567,750000,FAILED,T4

            """)
        #expect(result.count(.paid) == 2 && result.count(.reversed) == 1 && result.count(.failed) == 1)
        let states = try paid.store.read { db in
            try Row.fetchAll(db, sql: """
                SELECT i.seq, COALESCE(s.state, 'open') FROM batch_item i LEFT JOIN item_state s ON s.item_id = i.id
                WHERE i.seq IN (1, 3, 4, 5) ORDER BY i.seq
                """).map { "\($0[0] as Int64)=\($0[1] as String)" }
        }
        #expect(states == ["1=failed", "3=paid", "4=failed", "5=open"])
        #expect(try paid.verify().isIntact)
    }

    /// Read once under a profile that lacked the carrier's status words, the same file can be read again under
    /// the corrected profile; the item its unreadable lines named was never missing, so never retried meanwhile.
    @Test func theSameFileUnderACorrectedProfileIsReadAgain() throws {
        let paid = try PaidBatch()
        let text = "ref;msisdn;amount;status\n\(PaidBatch.reference(1));0912345678;750.000;00\n\(PaidBatch.reference(3));0987654321;750.000;01\n"
        let incomplete = try CarrierProfile(parsing: "name = x\ndelimiter = ;\ncolumn.reference = ref\n", file: "x.profile")
        let first = try paid.reconcile(text, name: "x.csv", profile: incomplete)
        #expect(first.count(.invalidLine) == 2 && first.count(.paid) == 0)
        // The items the unreadable lines name are not missing: a retry now would leave them out.
        #expect(first.count(.missing) == 9)
        let corrected = try CarrierProfile(parsing: "name = x\ndelimiter = ;\ncolumn.reference = ref\nstatus.paid = 00\nstatus.failed = 01\n", file: "x.profile")
        let second = try paid.reconcile(text, name: "x.csv", profile: corrected)
        #expect(!second.alreadyImported)
        #expect(second.count(.paid) == 1 && second.count(.failed) == 1)
        let third = try paid.reconcile(text, name: "x.csv", profile: corrected)
        #expect(third.alreadyImported)
        #expect(try paid.verify().isIntact)
    }

    @Test func whateverTheCarrierWroteIsMaskedInTheReport() throws {
        let paid = try PaidBatch()
        let result = try paid.reconcile("""
            reference,msisdn,amount,status,carrier_txn_id,completed_at,reason_code
            \(PaidBatch.reference(1)),0912345678,750000,SUCCESS,0912345678,call 0987654321,079040000002
            al-202611-1-3,0987654321,750000,SUCCESS,T3,,
            \(PaidBatch.reference(4)),0701234567,750000,FAILED,TX-84320758950,,CCCD:049193383771

            """)
        #expect(result.count(.invalidLine) == 1 && result.count(.paid) == 1)
        let report = try paid.report(fileID: result.fileID)
        for whole in ["912345678", "987654321", "079040000002", "84320758950", "049193383771"] {
            #expect(!report.contains(whole), "\(whole) in the report")
        }
        // Inside a code only the number is masked; the code stays readable.
        #expect(report.contains("TX-********950") && report.contains("CCCD:*********771"))
        // A reference is not a phone number: shown as written.
        #expect(report.contains("result.csv,3,al-202611-1-3,paid"))
    }

    @Test(arguments: ["0.750", "0,750", "00.750", "0 750"])
    func aLeadingZeroIsNotDigitGrouping(text: String) {
        var text = text
        #expect(text.withUTF8 { Money.wholeDong($0) } == nil)
        #expect(throws: MoneyError.self) { try Money(parsing: text) }
    }
}

/// Reconcile matches on one thread and stores on another: a write the ledger refuses part-way through a file stops
/// the file, whichever table refuses it and however far the matching thread has read, and nothing of it lands.
/// In the small batch a refused outcome row stops the file mid-stream; its eleven legs and states go in when the file
/// ends, so those two refusals come after the matching thread is done. The generated month refuses a leg mid-stream.
@Suite struct RefusedWriteTests {
    /// What a reconciled file adds, counted, with the chain's head.
    static func footprint(_ store: Store) throws -> [String] {
        try store.read { db in
            try ["result_file", "result_line", "journal_entry", "posting", "item_state"].map { table in
                "\(table)=\(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)")!)"
            } + ["head=\(try String.fetchOne(db, sql: "SELECT hash FROM journal_head") ?? "-")"]
        }
    }

    /// Every mobile-money item paid, then 20,000 repeats of item 1: ten chunks of lines, more than the four the channel
    /// holds, so that the storing thread meets the refusal while the matching thread waits to hand over more.
    static let file: String = {
        let items = [(1, "0912345678"), (3, "0987654321"), (4, "0701234567")] + (5...12).map { ($0, "09120000\($0 < 10 ? "0" : "")\($0)") }
        let paid = items.map { "\(PaidBatch.reference($0.0)),\($0.1),750000,SUCCESS,T\($0.0)" }
        let repeats = Array(repeating: "\(PaidBatch.reference(1)),0912345678,750000,SUCCESS,T1", count: 20_000)
        return (["reference,msisdn,amount,status,carrier_txn_id"] + paid + repeats).joined(separator: "\n") + "\n"
    }()

    @Test(arguments: [
        ("result_line", "NEW.line = 5000"),
        ("posting", "NEW.leg = 7"),
        ("item_state", "1"),
    ])
    func aRefusedWriteLeavesTheLedgerAsItWas(table: String, when condition: String) throws {
        let paid = try PaidBatch()
        let before = try Self.footprint(paid.store)
        try paid.store.write { db in
            try db.execute(sql: "CREATE TRIGGER refuse BEFORE INSERT ON \(table) WHEN \(condition) BEGIN SELECT RAISE(ABORT, 'refused by the test'); END")
        }
        let error = #expect(throws: (any Error).self) { try paid.reconcile(Self.file) }
        #expect(error.map { "\($0)".contains("refused by the test") } == true)
        #expect(try Self.footprint(paid.store) == before)

        // The connection is usable and out of any transaction; once the refusal goes, the same file reconciles in full.
        try paid.store.write { db in try db.execute(sql: "DROP TRIGGER refuse") }
        let result = try paid.reconcile(Self.file)
        #expect(!result.alreadyImported && result.lines == 20_011)
        #expect(result.count(.paid) == 11 && result.count(.duplicate) == 20_000 && result.count(.missing) == 0)
        #expect(try paid.verify().isIntact)
    }

    /// A generated month of about 3,000 mobile-money items whose result file runs on with 20,000 repeats: its legs go
    /// in 128 at a time as the lines are stored, so the refused 1,000th leg stops the file while the matching thread
    /// still has most of it to read.
    @Test func aLegRefusedMidStreamLeavesTheLedgerAsItWas() throws {
        let month = try GeneratedMonth(count: 6000)
        let (folder, store, batch) = (month.folder, month.store, month.batch)
        _ = try store.journal.fund(amount: Money(dong: 100_000_000_000), reference: "QD-2026-11", by: user("officer"))
        _ = try store.payouts.exportBatch(batch, to: folder.file("instructions.csv"), by: user("officer"))
        let results = folder.file("results.csv")
        _ = try ResultGenerator(seed: 7).write(store: store, batch: batch, to: results)
        let generated = try String(contentsOfFile: results, encoding: .utf8)
        let firstLine = generated.split(whereSeparator: \.isNewline)[1]
        let text = generated + Array(repeating: String(firstLine), count: 20_000).joined(separator: "\r\n") + "\r\n"
        let file = folder.write("long.csv", text)
        func reconcile() throws -> ReconciliationResult {
            var options = ReconcileOptions(by: user("auditor"))
            options.displayName = "long.csv"
            return try store.reconciliation.reconcileResultFile(file, batch: batch, options: options)
        }

        let before = try Self.footprint(store)
        try store.write { db in
            try db.execute(sql: "CREATE TRIGGER refuse BEFORE INSERT ON posting WHEN NEW.leg = 1000 BEGIN SELECT RAISE(ABORT, 'refused by the test'); END")
        }
        let error = #expect(throws: (any Error).self) { try reconcile() }
        #expect(error.map { "\($0)".contains("refused by the test") } == true)
        #expect(try Self.footprint(store) == before)

        try store.write { db in try db.execute(sql: "DROP TRIGGER refuse") }
        let result = try reconcile()
        #expect(result.count(.paid) > 1000 && result.count(.duplicate) >= 20_000)
        #expect(try store.journal.verify().isIntact)
    }
}
