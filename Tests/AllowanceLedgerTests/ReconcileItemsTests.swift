import Foundation
import GRDB
import Testing
@testable import AllowanceLedger
@testable import LedgerSQLite
@testable import Reconcile

/// Reconcile loads a big batch's items in two halves at once, the second through a read-only connection of its own;
/// the items must come out as one connection reads them.
@Suite struct ReconcileItemsTests {
    /// A generated register of a few hundred (cash and three carriers, in register order) in one approved batch.
    func generatedBatch(_ fixture: Fixture) throws -> BatchID {
        let register = fixture.directory.file("register.csv")
        _ = try RegisterGenerator(count: 301, seed: 9).write(to: register)
        var options = RegisterImportOptions(by: user("officer"))
        options.skipInvalid = true
        _ = try fixture.store.registry.importRegister(path: register, options: options)
        let batch = try fixture.store.payouts.createBatch(BatchCreateOptions(period: try Period(parsing: "2026-11"), by: user("maker"))).batch.id
        _ = try fixture.store.payouts.approveBatch(batch, by: user("checker"))
        return batch
    }

    /// The items as reconcile loads them, inside a write transaction; `path` "main" is the writer's own file.
    func load(_ fixture: Fixture, _ batch: BatchID, path: String?, splitLoadMinimum: Int = ReconcileItems.splitLoadMinimum) throws -> ReconcileItems {
        try fixture.store.write { db in
            try ReconcileItems.load(db, batch: try Store.fetchBatch(db, batch), path: path == "main" ? Store.mainFile(db) : path,
                               splitLoadMinimum: splitLoadMinimum)
        }
    }

    func expectSame(_ items: ReconcileItems, _ expected: ReconcileItems, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(items.count == expected.count, sourceLocation: sourceLocation)
        #expect(items.ids == expected.ids, sourceLocation: sourceLocation)
        #expect(items.beneficiaries == expected.beneficiaries, sourceLocation: sourceLocation)
        #expect(items.amounts == expected.amounts, sourceLocation: sourceLocation)
        #expect(items.msisdns == expected.msisdns, sourceLocation: sourceLocation)
        #expect(items.carriers == expected.carriers, sourceLocation: sourceLocation)
        #expect(items.carrierIndexes == expected.carrierIndexes, sourceLocation: sourceLocation)
    }

    @Test func twoConnectionsLoadABatchAsOneDoes() throws {
        let fixture = try Fixture()
        let batch = try generatedBatch(fixture)
        let one = try load(fixture, batch, path: nil)
        let two = try load(fixture, batch, path: "main", splitLoadMinimum: 2)
        expectSame(two, one)
        #expect(one.connections == 1 && two.connections == 2)

        // Each item as the table has it: the halves number their carriers as they meet them, and the second half's
        // first carrier is not the first half's.
        let rows = try fixture.store.read { db in
            try Row.fetchAll(db, sql: "SELECT id, beneficiary_id, amount, msisdn, carrier FROM batch_item WHERE batch_id = ? ORDER BY seq",
                             arguments: [batch.rawValue])
        }
        #expect(rows.count == two.count && rows.count > 250)
        for (index, row) in rows.enumerated() {
            #expect(two.id(at: index) == row[0])
            #expect(two.beneficiary(at: index) == row[1])
            #expect(two.amount(at: index) == row[2])
            #expect(two.msisdn(at: index) == ((row[3] as String?).flatMap { UInt64($0) } ?? 0))
            #expect(two.carrier(at: index) == row[4])
        }
        func firstSeen(_ rows: ArraySlice<Row>) -> [String] {
            var seen: [String] = []
            for case let code? in rows.map({ $0[4] as String? }) where !seen.contains(code) { seen.append(code) }
            return seen
        }
        let carriers = firstSeen(rows[...])
        #expect(carriers.count >= 3)
        #expect(firstSeen(rows[..<(rows.count / 2)]) != firstSeen(rows[(rows.count / 2)...]))
        #expect(two.carriers == carriers.sorted())
    }

    @Test func aSecondConnectionThatCannotOpenLeavesTheWholeLoadToTheFirst() throws {
        let fixture = try Fixture()
        let batch = try generatedBatch(fixture)
        let one = try load(fixture, batch, path: nil)
        let fallback = try load(fixture, batch, path: fixture.directory.file("no-such-ledger.sqlite"), splitLoadMinimum: 2)
        expectSame(fallback, one)
        #expect(fallback.connections == 1)
        #expect(!FileManager.default.fileExists(atPath: fixture.directory.file("no-such-ledger.sqlite")))
    }

    @Test func aBatchBelowTheMinimumIsReadByOneConnection() throws {
        let fixture = try Fixture()
        let batch = try generatedBatch(fixture)
        // A path no connection can open: only the writer's reads the items, so the load still succeeds.
        let small = try load(fixture, batch, path: fixture.directory.file("no-such-ledger.sqlite"), splitLoadMinimum: 100_000)
        expectSame(small, try load(fixture, batch, path: nil))
        #expect(small.connections == 1)
    }

    @Test func outsideAWriteTransactionOneConnectionReads() throws {
        let fixture = try Fixture()
        let batch = try generatedBatch(fixture)
        let read = try fixture.store.read { db in
            try ReconcileItems.load(db, batch: try Store.fetchBatch(db, batch), path: Store.mainFile(db), splitLoadMinimum: 2)
        }
        #expect(read.connections == 1)
        expectSame(read, try load(fixture, batch, path: nil))
    }

    /// Halves that do not add up to the batch's seal (here the seal is what was edited) are read again by the writer's
    /// connection alone.
    @Test func halvesThatMissTheSealAreReadAgainByOneConnection() throws {
        let fixture = try Fixture()
        let batch = try generatedBatch(fixture)
        let one = try load(fixture, batch, path: nil)
        try fixture.store.write { db in
            try db.execute(sql: "DROP TRIGGER batch_frozen")
            try db.execute(sql: "UPDATE batch SET item_total = item_total + 1 WHERE id = ?", arguments: [batch.rawValue])
        }
        let again = try load(fixture, batch, path: "main", splitLoadMinimum: 2)
        #expect(again.connections == 1)
        expectSame(again, one)
    }
}
