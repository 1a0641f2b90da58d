import Foundation
import Synchronization
@testable import AllowanceLedger
@testable import LedgerPostgres
@testable import LedgerSQLite
import Testing

/// The journal on PostgreSQL: the same operations give the same chain as on SQLite, big entries go in by COPY,
/// concurrent writers in several connections append one after another, and what is altered behind the tool is found.
@Suite(.serialized) struct PostgresJournalTests {
    static let clock = Clock.fixed(try! Timestamp(parsing: "2026-11-25T08:00:00Z"))

    /// A SQLite ledger in a folder of its own, removed with the value.
    final class SQLiteLedger {
        let folder: String
        let store: Store
        init() throws {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("pg-journal-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            store = try Store(path: folder + "/ledger.sqlite", clock: PostgresJournalTests.clock)
        }
        deinit { try? FileManager.default.removeItem(atPath: folder) }
    }

    /// Posts the same entries through any backend's journal: funding, an idempotent repeat, and an entry of `legs`
    /// treasury legs whose sub-accounts hold Vietnamese text, a tab, a backslash and a newline (COPY's escapes).
    static func post(_ journal: Journal, _ write: ((any JournalTransaction) throws -> Void) throws -> Void, legs: Int) throws {
        _ = try journal.fund(amount: Money(dong: 5_000_000_000), reference: "QĐ-12/2026", by: try! UserName(parsing: "kế toán"))
        #expect(try journal.fund(amount: Money(dong: 5_000_000_000), reference: "QĐ-12/2026", by: try! UserName(parsing: "kế toán")).alreadyRecorded)
        try write { tx in
            let entry = try tx.journalEntry(at: clock.now(), kind: .carrierTransfer, key: "test:many-legs", batch: nil,
                                            by: try! UserName(parsing: "auditor"), memo: "many legs\twith a tab")
            let subs = ["Xã Hòa\tBình", "a\\b", "line\nbreak", "", "VIETTEL"]
            for leg in 1...legs {
                try entry.append(.debit(.carrierClearing, Money(dong: Int64(leg)), sub: subs[leg % subs.count]))
            }
            try entry.append(.credit(.treasury, Money(dong: Int64(legs) * Int64(legs + 1) / 2)))
            try entry.finish()
        }
        _ = try journal.fund(amount: Money(dong: 7), reference: "QĐ-13/2026", by: try! UserName(parsing: "kế toán"))
    }

    @Test func theSameEntriesGiveTheSameHeadHashOnBothBackends() throws {
        guard let scratch = try ScratchDatabase() else { return }
        let server = try PostgresStore(scratch.location, clock: Self.clock)
        let file = try SQLiteLedger()
        // More legs than one COPY takes, so that an entry crosses chunks.
        let legs = PostgresJournalWriter.postingsPerCopy + 1_000
        try Self.post(server.journal, { body in try PostgresStorage(store: server).write { try body($0) } }, legs: legs)
        try Self.post(file.store.journal, { body in try SQLiteStorage(store: file.store).write { try body($0) } }, legs: legs)

        let (onServer, onFile) = (try server.journal.verify(), try file.store.journal.verify())
        #expect(onServer.problems.isEmpty, "\(onServer.problems)")
        #expect(onServer.entries == 3 && onServer.postings == 2 + legs + 1 + 2)
        #expect(onServer.headHash == onFile.headHash)
        #expect(try server.journal.balances() == file.store.journal.balances())
        #expect(try PostgresStorage(store: server).read { try $0.head() } == SQLiteStorage(store: file.store).read { try $0.head() })
    }

    @Test func concurrentWritersInSeveralConnectionsChainOneAfterAnother() throws {
        guard let scratch = try ScratchDatabase() else { return }
        let stores = try (0..<4).map { _ in try PostgresStore(scratch.location, clock: Self.clock) }
        let perWriter = 25
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: stores.count) { writer in
            for index in 0..<perWriter {
                do {
                    _ = try stores[writer].journal.fund(amount: Money(dong: Int64(1 + index)), reference: "W\(writer)-\(index)",
                                                        by: try! UserName(parsing: "officer \(writer)"))
                } catch {
                    failures.withLock { $0.append("\(writer)/\(index): \(error)") }
                }
            }
        }
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
        let result = try stores[0].journal.verify()
        #expect(result.problems.isEmpty, "\(result.problems)")
        #expect(result.entries == stores.count * perWriter)
        let ids = try stores[0].connection.query("SELECT MIN(id), MAX(id), COUNT(DISTINCT id) FROM journal_entry")
        #expect(ids == [["1", String(stores.count * perWriter), String(stores.count * perWriter)]])
    }

    @Test func anEntryDatedBeforeTheHeadIsRefusedAndNothingIsWritten() throws {
        guard let scratch = try ScratchDatabase() else { return }
        let later = try PostgresStore(scratch.location, clock: .fixed(try Timestamp(parsing: "2026-11-25T08:00:00Z")))
        let earlier = try PostgresStore(scratch.location, clock: .fixed(try Timestamp(parsing: "2026-11-10T08:00:00Z")))
        _ = try later.journal.fund(amount: Money(dong: 10), reference: "A", by: try! UserName(parsing: "head"))
        #expect(throws: LedgerError.self) { try earlier.journal.fund(amount: Money(dong: 10), reference: "B", by: try! UserName(parsing: "head")) }
        #expect(try later.connection.query("SELECT COUNT(*) FROM posting") == [["2"]])
        #expect(try later.journal.verify().problems.isEmpty)
    }

    @Test func whatIsAlteredBehindTheToolIsFound() throws {
        guard let scratch = try ScratchDatabase() else { return }
        let server = try PostgresStore(scratch.location, clock: Self.clock)
        for reference in ["A", "B", "C"] {
            _ = try server.journal.fund(amount: Money(dong: 1_000), reference: reference, by: try! UserName(parsing: "head"))
        }
        // The triggers refuse the edit; only the table's owner switching them off gets past.
        #expect(throws: PGError.self) { try server.connection.execute("UPDATE posting SET amount = 2000 WHERE entry_id = 2 AND leg = 1") }
        try server.connection.execute("""
            ALTER TABLE posting DISABLE TRIGGER USER;
            UPDATE posting SET amount = 2000 WHERE entry_id = 2 AND leg = 1;
            UPDATE posting SET amount = -2000 WHERE entry_id = 2 AND leg = 2;
            ALTER TABLE posting ENABLE TRIGGER USER;
            """)
        var result = try server.journal.verify()
        #expect(result.problems.map(\.kind) == [.hashMismatch])
        #expect(result.problems.first?.entryID == 2)

        // Each its own transaction: a table with pending deferred key checks cannot be altered.
        try server.connection.execute("ALTER TABLE posting DISABLE TRIGGER USER; ALTER TABLE journal_entry DISABLE TRIGGER USER")
        try server.connection.execute("DELETE FROM posting WHERE entry_id = 3; DELETE FROM journal_entry WHERE id = 3")
        try server.connection.execute("ALTER TABLE posting ENABLE TRIGGER USER; ALTER TABLE journal_entry ENABLE TRIGGER USER")
        result = try server.journal.verify()
        #expect(result.problems.map(\.kind) == [.hashMismatch, .headMismatch])
    }

    @Test func copyTextEscapesWhatWouldSplitAField() {
        var buffer: [UInt8] = []
        CopyText.appendRow(["a\tb", nil, "c\\d\ne\r", "Hòa"], to: &buffer)
        [UInt8(0x00), 0xAB, 0xFF].withUnsafeBytes { CopyText.appendBytes($0, to: &buffer) }
        #expect(String(decoding: buffer, as: UTF8.self) == "a\\tb\t\\N\tc\\\\d\\ne\\r\tHòa\n\\\\x00abff")
    }
}
