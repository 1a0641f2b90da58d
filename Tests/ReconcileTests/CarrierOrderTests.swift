@testable import AllowanceLedger
@testable import LedgerSQLite
import Foundation
import GRDB
import Testing
@testable import Reconcile

/// A carrier returns its result file in completion order, not the batch's: the generator writes that order, and a
/// file's lines in any order (each item's own lines kept in theirs) come to the same ledger.
@Suite struct CarrierOrderTests {
    /// The data lines of a generated result file, each as its cells and its raw text, read with the CSV reader.
    static func lines(_ path: String) throws -> [(cells: [String], text: String)] {
        let reader = try CSVReader(path: path)
        var rows: [[String]] = []
        while try reader.next() {
            guard !reader.isBlank else { continue }
            rows.append((0..<reader.fieldCount).map { reader.string($0) ?? "" })
        }
        return rows.dropFirst().map { ($0, $0.joined(separator: "\u{1F}")) }
    }

    /// An exported month of about 1,500 mobile-money items, funded.
    static func exportedMonth() throws -> GeneratedMonth {
        let month = try GeneratedMonth(count: 3000)
        _ = try month.store.journal.fund(amount: Money(dong: 100_000_000_000), reference: "QD-2026-11", by: user("officer"))
        _ = try month.store.payouts.exportBatch(month.batch, to: month.folder.file("instructions.csv"), by: user("officer"))
        return month
    }

    static func generate(_ month: GeneratedMonth, _ order: ResultOrder, seed: UInt64 = 7, name: String) throws -> String {
        var generator = ResultGenerator(seed: seed)
        generator.order = order
        // Every exception often enough to meet it in a month this small.
        generator.mix = try ResultMix(parsing: "paid=80,failed=5,pending=2,reversed=3,amount_mismatch=1,msisdn_mismatch=1,unknown_reference=2,duplicate=4,invalid_line=1,missing=1")
        let path = month.folder.file(name)
        _ = try generator.write(store: month.store, batch: month.batch, to: path)
        return path
    }

    @Test func theCarrierOrderHoldsTheBatchOrdersLinesByCompletionTime() throws {
        let month = try Self.exportedMonth()
        let carrierPath = try Self.generate(month, .carrier, name: "carrier.csv")
        let carrier = try Self.lines(carrierPath)
        let batch = try Self.lines(try Self.generate(month, .batch, name: "batch.csv"))

        // The same lines but for the completion time (column 6).
        func withoutTime(_ lines: [(cells: [String], text: String)]) -> [String] {
            lines.map { line in line.cells.enumerated().map { $0.offset == 5 ? "" : $0.element }.joined(separator: "\u{1F}") }.sorted()
        }
        #expect(carrier.count == batch.count && carrier.count > 1_000)
        #expect(withoutTime(carrier) == withoutTime(batch))

        // Not the batch's order: many references come before a smaller one.
        let references = carrier.map(\.cells[0])
        let inversions = zip(references, references.dropFirst()).filter { $0 > $1 }.count
        #expect(inversions > carrier.count / 20)

        // The later run (repeats, reversals and strays) follows the first; each run is in completion order.
        var seen = Set<String>()
        var laterFrom = carrier.count
        for (index, line) in carrier.enumerated() {
            let stray = (line.cells[0].split(separator: "-").last.flatMap { Int($0) } ?? 0) >= 90_000_000
            let late = seen.contains(line.text) || ResultGenerator.reversedWords.contains(line.cells[3]) || stray
            if late { laterFrom = min(laterFrom, index) }
            seen.insert(line.text)
        }
        #expect(laterFrom < carrier.count)
        for run in [carrier[..<laterFrom], carrier[laterFrom...]] {
            let times = run.map(\.cells[5]).filter { !$0.isEmpty }
            #expect(times == times.sorted())
        }
        // A reversal comes after the payment it undoes.
        for (index, line) in carrier.enumerated() where ResultGenerator.reversedWords.contains(line.cells[3]) {
            let paid = carrier.firstIndex { $0.cells[0] == line.cells[0] && ResultGenerator.paidWords.contains($0.cells[3]) }
            #expect(paid.map { $0 < index && carrier[$0].cells[5] <= line.cells[5] } == true)
        }

        // The same seed writes the same bytes.
        let again = try Self.generate(month, .carrier, name: "carrier-again.csv")
        #expect(FileManager.default.contentsEqual(atPath: carrierPath, andPath: again))
    }

    /// Each item's lines in their order, the items' lines interleaved at random: what any carrier may send.
    static func shuffled(_ path: String, to target: String, seed: UInt64) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var rows = text.components(separatedBy: "\r\n")
        let header = rows.removeFirst()
        rows = rows.filter { !$0.isEmpty }
        var random = SeededRandom(seed: seed)
        var keys: [Substring: UInt64] = [:]
        for row in rows { keys[row.prefix { $0 != "," }, default: random.next()] += 0 }
        let key = rows.map { keys[$0.prefix { $0 != "," }]! }
        let order = rows.indices.sorted { (key[$0], $0) < (key[$1], $1) }
        try Data((([header] + order.map { rows[$0] }).joined(separator: "\r\n") + "\r\n").utf8).write(to: URL(fileURLWithPath: target))
    }

    /// What a reconciled file left in the ledger, with line numbers and leg numbers taken out: those follow the file's
    /// order, and the entry's hash with them (it covers the legs in order and the file's SHA-256).
    static func ledgerContent(_ store: Store) throws -> [String] {
        try store.read { db in
            try String.fetchAll(db, sql: "SELECT item_id || ':' || state FROM item_state ORDER BY item_id")
                + String.fetchAll(db, sql: """
                    SELECT COALESCE(item_id, '') || '|' || outcome || '|' || COALESCE(effect, '') || '|' || COALESCE(status, '') || '|'
                        || COALESCE(reference, '') || '|' || COALESCE(msisdn, '') || '|' || COALESCE(amount, '') || '|' || carrier_txn_id || '|'
                        || completed_at || '|' || reason_code || '|' || reason_text || '|' || fingerprint || '|' || conflicting || '|' || (leg IS NULL)
                    FROM result_line ORDER BY 1
                    """)
                + String.fetchAll(db, sql: """
                    SELECT account || '|' || sub_account || '|' || COALESCE(beneficiary_id, '') || '|' || COALESCE(item_id, '') || '|' || amount
                    FROM posting ORDER BY 1
                    """)
        }
    }

    @Test func aFileAndItsShuffledCopyComeToTheSameLedger() throws {
        let (one, two) = (try Self.exportedMonth(), try Self.exportedMonth())
        let file = try Self.generate(one, .carrier, name: "results.csv")
        let copy = two.folder.file("shuffled.csv")
        try Self.shuffled(file, to: copy, seed: 11)
        #expect(!FileManager.default.contentsEqual(atPath: file, andPath: copy))
        #expect(try Self.ledgerContent(one.store) == Self.ledgerContent(two.store))

        var options = ReconcileOptions(by: user("auditor"))
        options.displayName = "results.csv"
        let first = try one.store.reconciliation.reconcileResultFile(file, batch: one.batch, options: options)
        let second = try two.store.reconciliation.reconcileResultFile(copy, batch: two.batch, options: options)
        for outcome in ReconcileOutcome.allCases {
            #expect(first.count(outcome) == second.count(outcome), "\(outcome)")
            #expect(first.totals.amount(outcome) == second.totals.amount(outcome), "\(outcome)")
        }
        #expect(first.count(.reversed) > 0 && first.count(.duplicate) > 0 && first.count(.failed) > 0)
        #expect(first.settled == second.settled && first.clearingOpen == second.clearingOpen)
        #expect(first.conflictingDuplicates == second.conflictingDuplicates)
        #expect(try Self.ledgerContent(one.store) == Self.ledgerContent(two.store))
        #expect(try one.store.journal.balances() == two.store.journal.balances())
        #expect(try one.store.journal.verify().isIntact && two.store.journal.verify().isIntact)
    }

    /// The same file twice, on two ledgers made alike: the same bytes give the same head hash, whatever thread
    /// timing the two runs had.
    @Test func theSameCarrierOrderedFileGivesTheSameHeadHash() throws {
        let (one, two) = (try Self.exportedMonth(), try Self.exportedMonth())
        let file = try Self.generate(one, .carrier, name: "results.csv")
        var options = ReconcileOptions(by: user("auditor"))
        options.displayName = "results.csv"
        _ = try one.store.reconciliation.reconcileResultFile(file, batch: one.batch, options: options)
        _ = try two.store.reconciliation.reconcileResultFile(file, batch: two.batch, options: options)
        let heads = try [one.store, two.store].map { store in try store.read { db in try String.fetchOne(db, sql: "SELECT hash FROM journal_head") } }
        #expect(heads[0] != nil && heads[0] == heads[1])
    }
}
