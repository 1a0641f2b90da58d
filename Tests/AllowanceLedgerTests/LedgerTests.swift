import Foundation
import GRDB
import Testing
@testable import AllowanceLedger
@testable import LedgerSQLite

@Suite struct LedgerTests {
    @Test func fundingIsIdempotentByReference() throws {
        let fixture = try Fixture()
        let first = try fixture.store.journal.fund(amount: Money(dong: 1_000_000_000), reference: "QD-12/2026", by: user("head"))
        #expect(!first.alreadyRecorded)
        let again = try fixture.store.journal.fund(amount: Money(dong: 1_000_000_000), reference: "QD-12/2026", by: user("head"))
        #expect(again.alreadyRecorded && again.entryID == first.entryID)
        #expect(throws: LedgerError.idempotencyConflict(key: "QD-12/2026")) {
            try fixture.store.journal.fund(amount: Money(dong: 5), reference: "QD-12/2026", by: user("head"))
        }
        #expect(throws: LedgerError.notPositive) { try fixture.store.journal.fund(amount: .zero, reference: "QD-13", by: user("head")) }
        #expect(throws: LedgerError.notPositive) { try fixture.store.journal.fund(amount: Money(dong: -1), reference: "QD-13", by: user("head")) }
        let balances = try fixture.store.journal.balances()
        #expect(balances.map { "\($0.account.rawValue):\($0.balance.dong)" } == ["1000:1000000000", "3000:1000000000"])
    }

    @Test func balancesAsOfADayCountOnlyEntriesUpToItsEnd() throws {
        let fixture = try Fixture()
        _ = try fixture.store.journal.fund(amount: Money(dong: 100), reference: "A", by: user("head"))
        // 16:59:59 UTC is 23:59:59 in Vietnam, still the 21st; 17:00 UTC is already the 22nd there.
        fixture.time.set("2026-11-21T16:59:59Z")
        _ = try fixture.store.journal.fund(amount: Money(dong: 20), reference: "B", by: user("head"))
        fixture.time.set("2026-11-21T17:00:00Z")
        _ = try fixture.store.journal.fund(amount: Money(dong: 3), reference: "C", by: user("head"))
        func treasury(_ day: String?) throws -> Int64 {
            try fixture.store.journal.balances(asOf: day.map { try CalendarDate(parsing: $0) }).first { $0.account == .treasury }?.balance.dong ?? 0
        }
        #expect(try treasury("2026-11-19") == 0)
        #expect(try treasury("2026-11-20") == 100)
        #expect(try treasury("2026-11-21") == 120)
        #expect(try treasury(nil) == 123)
    }

    @Test func anEntryMustBalanceAndHaveTwoLegsOrNothingLands() throws {
        let fixture = try Fixture()
        let at = fixture.time.clock.now()
        #expect(throws: LedgerError.unbalanced(Money(dong: 1))) {
            try fixture.store.write { db in
                try SQLiteTransaction(db: db).post(at: at, kind: .fund, key: "k1", batch: nil, by: user("x"), memo: "",
                               postings: [.debit(.treasury, Money(dong: 11)), .credit(.budget, Money(dong: 10))])
            }
        }
        #expect(throws: LedgerError.tooFewPostings) {
            try fixture.store.write { db in
                try SQLiteTransaction(db: db).post(at: at, kind: .fund, key: "k2", batch: nil, by: user("x"), memo: "", postings: [.debit(.treasury, Money(dong: 5))])
            }
        }
        #expect(throws: LedgerError.tooFewPostings) {
            try fixture.store.write { db in try SQLiteTransaction(db: db).post(at: at, kind: .fund, key: "k3", batch: nil, by: user("x"), memo: "", postings: []) }
        }
        #expect(throws: LedgerError.zeroAmount) {
            try fixture.store.write { db in
                try SQLiteTransaction(db: db).post(at: at, kind: .fund, key: "k4", batch: nil, by: user("x"), memo: "",
                               postings: [.debit(.treasury, .zero), .credit(.budget, .zero)])
            }
        }
        #expect(throws: LedgerError.overflow) {
            try fixture.store.write { db in
                try SQLiteTransaction(db: db).post(at: at, kind: .fund, key: "k5", batch: nil, by: user("x"), memo: "",
                               postings: [.debit(.treasury, Money(dong: .max)), .debit(.treasury, Money(dong: .max)), .credit(.budget, Money(dong: 1))])
            }
        }
        let counts = try fixture.store.read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM journal_entry")!, try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM posting")!)
        }
        #expect(counts == (0, 0))
    }

    /// A ledger with a few entries, for tampering.
    func populated() throws -> Fixture {
        let fixture = try Fixture()
        try fixture.importLines(Sample.all)
        _ = try fixture.store.journal.fund(amount: Money(dong: 10_000_000), reference: "QD-1", by: user("head"))
        let batch = try fixture.store.payouts.createBatch(BatchCreateOptions(period: try Period(parsing: "2026-11"), by: user("maker")))
        _ = try fixture.store.payouts.approveBatch(batch.batch.id, by: user("checker"))
        _ = try fixture.store.payouts.exportBatch(batch.batch.id, to: fixture.directory.file("i.csv"), by: user("maker"))
        _ = try fixture.store.journal.fund(amount: Money(dong: 5), reference: "QD-2", by: user("head"))
        return fixture
    }

    /// Runs SQL with the sqlite3 command-line tool, as someone editing the file behind the tool's back would.
    func sqlite3(_ path: String, _ sql: String) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [path, sql]
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Approval re-reads each item beside its register row: an item whose beneficiary row was deleted by hand is
    /// refused, not credited to nobody.
    @Test func approvalRefusesAnItemWhoseBeneficiaryWasDeletedByHand() throws {
        let fixture = try Fixture()
        try fixture.importLines(Sample.all)
        let batch = try fixture.store.payouts.createBatch(BatchCreateOptions(period: try Period(parsing: "2026-11"), by: user("maker")))
        #expect(try sqlite3(fixture.directory.file("ledger.sqlite"), "DELETE FROM beneficiary WHERE id = 2;") == 0)
        #expect(throws: BatchError.staleItems(batch: batch.batch.id, count: 1, examples: ["beneficiary 2 is missing from the register"])) {
            try fixture.store.payouts.approveBatch(batch.batch.id, by: user("checker"))
        }
    }

    @Test func verifyFindsNothingWrongInAnHonestLedger() throws {
        let fixture = try populated()
        let result = try fixture.store.journal.verify()
        #expect(result.isIntact)
        #expect(result.entries == 6)
        #expect(result.postings == 2 + 5 + 6 + 2)
        #expect(result.headHash == (try fixture.store.read { try String.fetchOne($0, sql: "SELECT hash FROM journal_entry ORDER BY id DESC LIMIT 1")! }))
    }

    @Test func anAlteredAmountIsCaughtAtItsEntry() throws {
        let fixture = try populated()
        let path = fixture.directory.file("ledger.sqlite")
        // The triggers stop a plain edit.
        #expect(try sqlite3(path, "UPDATE posting SET amount = amount + 1000 WHERE entry_id = 2 AND leg = 2;") != 0)
        #expect(try sqlite3(path, "DROP TRIGGER posting_no_update; UPDATE posting SET amount = amount + 1000 WHERE entry_id = 2 AND leg = 2;") == 0)
        let result = try fixture.store.journal.verify()
        #expect(!result.isIntact)
        #expect(result.firstBrokenEntry == 2)
        #expect(Set(result.problems.map(\.kind)) == [.hashMismatch, .unbalanced, .entitlementMismatch, .itemStateMismatch])
    }

    @Test func aBalancedRewriteIsStillCaught() throws {
        let fixture = try populated()
        let path = fixture.directory.file("ledger.sqlite")
        // Move money between two beneficiaries' payables: balanced, but the hash no longer matches.
        #expect(try sqlite3(path, """
            DROP TRIGGER posting_no_update;
            UPDATE posting SET amount = amount - 1000 WHERE entry_id = 2 AND leg = 2;
            UPDATE posting SET amount = amount + 1000 WHERE entry_id = 2 AND leg = 3;
            """) == 0)
        let result = try fixture.store.journal.verify()
        #expect(result.problems.map(\.kind) == [.hashMismatch, .itemStateMismatch, .itemStateMismatch])
        #expect(result.firstBrokenEntry == 2)
    }

    @Test func deletingTheNewestEntryIsCaughtByTheHead() throws {
        let fixture = try populated()
        let path = fixture.directory.file("ledger.sqlite")
        #expect(try sqlite3(path, "PRAGMA foreign_keys = OFF; DELETE FROM posting WHERE entry_id = 6;") != 0)
        #expect(try sqlite3(path, """
            DROP TRIGGER journal_entry_no_delete; DROP TRIGGER posting_no_delete;
            DELETE FROM posting WHERE entry_id = 6; DELETE FROM journal_entry WHERE id = 6;
            """) == 0)
        let result = try fixture.store.journal.verify()
        #expect(result.problems.map(\.kind) == [.headMismatch])
        #expect(result.problems.first?.message.contains("records 6 entries ending at entry 6, but the journal holds 5 ending at entry 5") == true)
        // Rolling the head back is refused while its trigger stands.
        #expect(try sqlite3(path, "UPDATE journal_head SET entry_id = 5, entries = 5;") != 0)
    }

    @Test func aPayeeRedirectedAfterApprovalIsCaught() throws {
        let fixture = try populated()
        let path = fixture.directory.file("ledger.sqlite")
        #expect(try sqlite3(path, "UPDATE batch_item SET msisdn = '84999999999' WHERE seq = 1;") != 0)
        #expect(try sqlite3(path, "DROP TRIGGER batch_item_no_update; UPDATE batch_item SET msisdn = '84999999999', account_name = 'Kẻ Gian' WHERE seq = 1;") == 0)
        let result = try fixture.store.journal.verify()
        #expect(result.problems.map(\.kind) == [.batchSealBroken])
        #expect(result.problems.first?.message.contains("items no longer match what was approved") == true)
    }

    @Test func aRenamedApproverIsCaught() throws {
        let fixture = try populated()
        let path = fixture.directory.file("ledger.sqlite")
        #expect(try sqlite3(path, "DROP TRIGGER batch_frozen; UPDATE batch SET approved_by = 'somebody' WHERE id = 1;") == 0)
        let result = try fixture.store.journal.verify()
        #expect(Set(result.problems.map(\.kind)) == [.approverMismatch, .batchSealBroken])
    }

    @Test func aPaidItemResetToOpenIsCaughtBeforeItIsPaidTwice() throws {
        let fixture = try populated()
        _ = try fixture.store.payouts.settleCash(BatchID(1), .all, by: user("maker"))
        let path = fixture.directory.file("ledger.sqlite")
        // The state table refuses to send an item back to open while its trigger stands.
        #expect(try sqlite3(path, "DELETE FROM item_state WHERE state = 'paid_cash';") != 0)
        #expect(try sqlite3(path, "UPDATE item_state SET state = 'failed' WHERE state = 'paid_cash';") != 0)
        #expect(try sqlite3(path, "DROP TRIGGER item_state_no_delete; DELETE FROM item_state WHERE state = 'paid_cash';") == 0)
        let result = try fixture.store.journal.verify()
        #expect(result.problems.map(\.kind) == [.itemStateMismatch])
        #expect(result.problems.first?.message.contains("is marked open but its payment is posted") == true)
    }

    @Test func aDeletedEntryBreaksTheChain() throws {
        let fixture = try populated()
        let path = fixture.directory.file("ledger.sqlite")
        #expect(try sqlite3(path, """
            PRAGMA foreign_keys = OFF; DROP TRIGGER journal_entry_no_delete; DROP TRIGGER posting_no_delete;
            DELETE FROM posting WHERE entry_id = 3; DELETE FROM journal_entry WHERE id = 3;
            """) == 0)
        let result = try fixture.store.journal.verify()
        #expect(!result.isIntact)
        #expect(result.firstBrokenEntry == 4)
        #expect(result.problems.first?.kind == .chainBroken)
    }

    @Test func aRewrittenHeaderAndADeletedPostingAreCaught() throws {
        let fixture = try populated()
        let path = fixture.directory.file("ledger.sqlite")
        #expect(try sqlite3(path, "DROP TRIGGER journal_entry_no_update; UPDATE journal_entry SET created_by = 'someone else' WHERE id = 1;") == 0)
        var result = try fixture.store.journal.verify()
        #expect(result.problems.map(\.kind) == [.hashMismatch])
        #expect(result.firstBrokenEntry == 1)
        #expect(try sqlite3(path, "DROP TRIGGER posting_no_delete; DELETE FROM posting WHERE entry_id = 6 AND leg = 1;") == 0)
        result = try fixture.store.journal.verify()
        #expect(result.problems.contains { $0.entryID == 6 && $0.kind == .tooFewPostings })
        #expect(result.problems.contains { $0.entryID == 6 && $0.kind == .unbalanced })
    }

    /// An entry's item legs reach `posting_item` sorted a run at a time, whatever order they were appended in, and
    /// `ledger verify` holds the table to the postings.
    @Test func itemLegsAreKeptBesideThePostingsAndVerifyHoldsThemToIt() throws {
        let fixture = try populated()
        let items = try fixture.store.read { db in try Int64.fetchAll(db, sql: "SELECT id FROM batch_item ORDER BY id DESC") }
        #expect(items.count > 3)
        let entry = try fixture.store.write { db in
            let writer = try JournalWriter(db, at: try Timestamp(parsing: "2026-11-21T08:00:00Z"), kind: .refund, key: "test:item-legs",
                                           batch: BatchID(1), by: user("auditor"), memo: "item legs in three runs")
            writer.itemLegsPerRun = 2
            for item in items { try writer.append(.debit(.treasury, Money(dong: 1), item: BatchItemID(item))) }
            try writer.append(.credit(.treasury, Money(dong: Int64(items.count))))
            return try writer.finish().rawValue
        }
        let mirrored = try fixture.store.read { db in
            try Row.fetchAll(db, sql: "SELECT item_id, leg FROM posting_item WHERE entry_id = ? ORDER BY item_id", arguments: [entry])
                .map { "\($0[0] as Int64):\($0[1] as Int64)" }
        }
        #expect(mirrored == items.enumerated().map { "\($0.element):\($0.offset + 1)" }.reversed())
        #expect(try fixture.store.read { db in
            try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM (SELECT item_id, entry_id, leg FROM posting WHERE item_id IS NOT NULL
                                      EXCEPT SELECT item_id, entry_id, leg FROM posting_item)
                """)
        } == 0)
        #expect(try fixture.store.journal.verify().isIntact)

        let path = fixture.directory.file("ledger.sqlite")
        #expect(try sqlite3(path, "DELETE FROM posting_item WHERE entry_id = \(entry) AND leg = 1;") != 0)
        #expect(try sqlite3(path, "UPDATE posting_item SET item_id = item_id + 1 WHERE entry_id = \(entry) AND leg = 1;") != 0)
        #expect(try sqlite3(path, "DROP TRIGGER posting_item_no_update; UPDATE posting_item SET leg = 2 WHERE entry_id = \(entry) AND leg = 1;") == 0)
        var result = try fixture.store.journal.verify()
        #expect(result.problems.map(\.kind) == [.itemLegsMismatch])
        #expect(result.problems.first?.message.contains("a row was altered") == true)
        let held = try fixture.store.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM posting_item")! }
        #expect(try sqlite3(path, "DROP TRIGGER posting_item_no_delete; DELETE FROM posting_item WHERE entry_id = \(entry);") == 0)
        result = try fixture.store.journal.verify()
        #expect(result.problems.map(\.kind) == [.itemLegsMismatch])
        #expect(result.problems.first?.message.contains("posting_item holds \(held - items.count) item leg(s), the postings \(held)") == true,
                "\(result.problems)")
    }

    /// A ledger made before v18 had the item legs in an index; the upgrade copies them into the table.
    @Test func theUpgradeFillsPostingItemFromThePostings() throws {
        let fixture = try populated()
        let path = fixture.directory.file("ledger.sqlite")
        let legs = try fixture.store.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM posting WHERE item_id IS NOT NULL")! }
        #expect(legs > 0)
        let balances = try fixture.store.journal.balances(beneficiary: BeneficiaryID(1))
        #expect(!balances.isEmpty)
        #expect(try sqlite3(path, """
            DROP TABLE posting_item; CREATE INDEX posting_item ON posting(item_id) WHERE item_id IS NOT NULL;
            DELETE FROM grdb_migrations WHERE identifier = 'v18-posting-item-table';
            """) == 0)
        let upgraded = try Store(path: path, clock: .fixed(try Timestamp(parsing: "2026-11-25T08:00:00Z")))
        #expect(try upgraded.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM posting_item")! } == legs)
        #expect(try upgraded.journal.verify().isIntact)
        #expect(try upgraded.journal.balances(beneficiary: BeneficiaryID(1)) == balances)
    }

    @Test func aCashItemMarkedPaidWithoutPostingIsCaught() throws {
        let fixture = try populated()
        let path = fixture.directory.file("ledger.sqlite")
        #expect(try sqlite3(path, "INSERT INTO item_state(item_id, state) SELECT id, 'paid_cash' FROM batch_item WHERE method = 'cash';") == 0)
        let result = try fixture.store.journal.verify()
        #expect(result.problems.map(\.kind) == [.itemStateMismatch])
    }
}
