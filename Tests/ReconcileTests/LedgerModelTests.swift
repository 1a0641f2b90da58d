import AllowanceLedger
import LedgerSQLite
import Foundation
import Synchronization
import GRDB
import PropertyBased
import Testing
@testable import Reconcile

/// Model-based: random sequences of ledger operations (funding, batch create, approve, export, cancel, reconcile,
/// and repeating the previous operation) run against the real store and a small in-memory model of what they must
/// do. After every step the store's balances equal the model's, debits equal credits, every item's state is the
/// model's and `ledger verify` passes; a repeated operation with the same key changes nothing. A failure prints
/// the seed that replays it (`.fixedSeed(…)`) and the operations, shrunk to a short sequence.
@Suite struct LedgerModelTests {
    enum Operation: Equatable, CustomStringConvertible {
        case fund(reference: String, amount: Int64)
        case create(Int)
        case approve(Int)
        case export(Int)
        case cancel(Int)
        /// Reconciles a file whose line for each mobile-money item is chosen by `pattern`.
        case reconcile(Int, pattern: Int)
        case repeatPrevious

        static let periods = ["2026-10", "2026-11"]
        static let fundAmounts: [Int64] = [1_000_000, 5_000_000, 20_000_000]

        /// Decodes one generated number: shrinking the numbers shrinks the operations too. A tenth of them take the
        /// month's batch one step further (create, approve, export, then reconcile), so that sequences reach
        /// reconciliation often, not only by luck.
        init(code: Int, model: Model) {
            let parameter = code / 10
            let period = parameter % 2
            switch code % 10 {
            case 0: self = .fund(reference: "QD-\(parameter % 3)", amount: Self.fundAmounts[(parameter / 3) % 3])
            case 1: self = .create(period)
            case 2: self = .approve(period)
            case 3: self = .export(period)
            case 4: self = .cancel(period)
            case 5, 6, 7: self = .reconcile(period, pattern: parameter / 2)
            case 8: self = .repeatPrevious
            default:
                switch model.batches[period]?.status {
                case nil: self = .create(period)
                case "created": self = .approve(period)
                case "approved": self = .export(period)
                default: self = .reconcile(period, pattern: parameter / 2)
                }
            }
        }

        var description: String {
            switch self {
            case .fund(let reference, let amount): "fund \(reference) \(amount)"
            case .create(let period): "create \(Self.periods[period])"
            case .approve(let period): "approve \(Self.periods[period])"
            case .export(let period): "export \(Self.periods[period])"
            case .cancel(let period): "cancel \(Self.periods[period])"
            case .reconcile(let period, let pattern): "reconcile \(Self.periods[period]) pattern \(pattern)"
            case .repeatPrevious: "repeat"
            }
        }
    }

    struct ModelItem {
        let id: Int64
        let reference: String
        let msisdn: String?
        let carrier: String?
        let amount: Int64
        var state: String
    }

    /// What the ledger must hold: balances by `account:sub`, funding by reference, each period's live batch.
    struct Model {
        var balances: [String: Int64] = [:]
        var funds: [String: Int64] = [:]
        var batches: [Int: (id: BatchID, status: String, items: [ModelItem])] = [:]
        var files = 0

        mutating func post(_ account: String, _ amount: Int64) { balances[account, default: 0] += amount }
    }

    final class Run {
        let folder = Folder()
        let store: Store
        var model = Model()
        var log: [String] = []
        /// Files that settled something: the sequences must reach reconciliation, not only fund and create.
        var reconciled = 0

        init() throws {
            store = try Store(path: folder.file("ledger.sqlite"), clock: .fixed(try! Timestamp(parsing: "2026-11-30T08:00:00Z")))
            let register = folder.write("register.csv", PaidBatch.header + PaidBatch.lines.joined(separator: "\n") + "\n")
            _ = try store.registry.importRegister(path: register, options: RegisterImportOptions(by: user("officer")))
        }

        /// Applies the operation to the store and, when the model says it must succeed, to the model; an operation
        /// the model refuses must be refused by the store and change nothing.
        func apply(_ operation: Operation, repeating: Bool = false) throws {
            log.append(operation.description + (repeating ? " (repeated)" : ""))
            switch operation {
            case .fund(let reference, let amount):
                let known = model.funds[reference]
                if known == nil || known == amount {
                    let result = try store.journal.fund(amount: Money(dong: amount), reference: reference, by: user("head"))
                    #expect(result.alreadyRecorded == (known != nil), "\(log)")
                    if known == nil {
                        model.funds[reference] = amount
                        model.post("1000:", amount)
                        model.post("3000:", -amount)
                    }
                } else {
                    #expect(throws: LedgerError.idempotencyConflict(key: reference), "\(log)") {
                        try self.store.journal.fund(amount: Money(dong: amount), reference: reference, by: user("head"))
                    }
                }
            case .create(let period):
                let options = BatchCreateOptions(period: try Period(parsing: Operation.periods[period]), by: user("maker"))
                if model.batches[period] != nil {
                    #expect(throws: BatchError.self, "\(log)") { try self.store.payouts.createBatch(options) }
                } else {
                    let created = try store.payouts.createBatch(options)
                    let items = try store.read { db in
                        try Row.fetchAll(db, sql: """
                            SELECT i.id, i.reference, i.msisdn, i.carrier, i.amount, COALESCE(s.state, 'open')
                            FROM batch_item i LEFT JOIN item_state s ON s.item_id = i.id WHERE i.batch_id = ? ORDER BY i.seq
                            """,
                                         arguments: [created.batch.id.rawValue]).map {
                            ModelItem(id: $0[0], reference: $0[1], msisdn: $0[2], carrier: $0[3], amount: $0[4], state: $0[5])
                        }
                    }
                    #expect(items.count == PaidBatch.lines.count, "\(log)")
                    model.batches[period] = (created.batch.id, "created", items)
                }
            case .approve(let period):
                guard let batch = model.batches[period], batch.status == "created" else {
                    if let batch = model.batches[period] {
                        #expect(throws: BatchError.self, "\(log)") { try self.store.payouts.approveBatch(batch.id, by: user("checker")) }
                    }
                    return
                }
                let total = try store.payouts.approveBatch(batch.id, by: user("checker")).total
                #expect(total.dong == batch.items.reduce(0) { $0 + $1.amount }, "\(log)")
                model.post("5000:", total.dong)
                model.post("2000:", -total.dong)
                model.batches[period]!.status = "approved"
            case .export(let period):
                guard let batch = model.batches[period] else { return }
                let path = folder.file("instructions-\(period).csv")
                guard batch.status == "approved" || batch.status == "exported" else {
                    #expect(throws: BatchError.self, "\(log)") { try self.store.payouts.exportBatch(batch.id, to: path, by: user("officer")) }
                    return
                }
                _ = try store.payouts.exportBatch(batch.id, to: path, by: user("officer"))
                if batch.status == "approved" {
                    for item in batch.items {
                        guard let carrier = item.carrier else { continue }
                        model.post("1100:\(carrier)", item.amount)
                        model.post("1000:", -item.amount)
                    }
                    model.batches[period]!.status = "exported"
                }
            case .cancel(let period):
                guard let batch = model.batches[period] else { return }
                guard batch.status == "created" else {
                    #expect(throws: BatchError.self, "\(log)") { try self.store.payouts.cancelBatch(batch.id, reason: "model", by: user("maker")) }
                    return
                }
                _ = try store.payouts.cancelBatch(batch.id, reason: "model", by: user("maker"))
                model.batches[period] = nil
            case .reconcile(let period, let pattern):
                guard let batch = model.batches[period] else { return }
                // One line per mobile-money item: none, paid, failed, pending or reversed, from the pattern.
                var text = "reference,msisdn,amount,status,carrier_txn_id\n"
                var random = UInt64(truncatingIfNeeded: pattern) &* 0x9E37_79B9_7F4A_7C15 | 1
                var planned: [(Int, String)] = []
                for (index, item) in batch.items.enumerated() where item.carrier != nil {
                    random ^= random << 13; random ^= random >> 7; random ^= random << 17
                    let status = ["", "SUCCESS", "FAILED", "PENDING", "REVERSED"][Int(random % 5)]
                    guard !status.isEmpty else { continue }
                    text += "\(item.reference),\(item.msisdn!),\(item.amount),\(status),T\(pattern)-\(index)\n"
                    planned.append((index, status))
                }
                let path = folder.write("results-\(period)-\(pattern).csv", text)
                guard batch.status == "exported" else {
                    #expect(throws: ReconcileError.self, "\(log)") {
                        try self.store.reconciliation.reconcileResultFile(path, batch: batch.id, options: ReconcileOptions(by: user("auditor")))
                    }
                    return
                }
                let result = try store.reconciliation.reconcileResultFile(path, batch: batch.id, options: ReconcileOptions(by: user("auditor")))
                guard !result.alreadyImported else { return }
                reconciled += 1
                for (index, status) in planned {
                    let item = batch.items[index]
                    let carrier = "1100:\(item.carrier!)"
                    switch (status, model.batches[period]!.items[index].state) {
                    case ("SUCCESS", "open"):
                        model.post("2000:", item.amount); model.post(carrier, -item.amount)
                        model.batches[period]!.items[index].state = "paid"
                    case ("FAILED", "open"):
                        model.post("1000:", item.amount); model.post(carrier, -item.amount)
                        model.batches[period]!.items[index].state = "failed"
                    case ("REVERSED", "paid"):
                        model.post("2000:", -item.amount); model.post("1000:", item.amount)
                        model.batches[period]!.items[index].state = "failed"
                    default:
                        break
                    }
                }
            case .repeatPrevious:
                break
            }
        }

        /// The store agrees with the model.
        func check() throws {
            var actual: [String: Int64] = [:]
            var debits: Int64 = 0, credits: Int64 = 0
            for balance in try store.journal.balances() {
                debits += balance.debits.dong
                credits += balance.credits.dong
                // Payables are kept per beneficiary; the model keeps their sum.
                if balance.net.dong != 0 { actual["\(balance.account.rawValue):\(balance.subAccount)", default: 0] += balance.net.dong }
            }
            #expect(debits == credits, "\(log)")
            #expect(actual == model.balances.filter { $0.value != 0 }, "\(log)")
            for (_, batch) in model.batches {
                let states = try store.read { db in
                    try String.fetchAll(db, sql: """
                        SELECT COALESCE(s.state, 'open') FROM batch_item i LEFT JOIN item_state s ON s.item_id = i.id WHERE i.batch_id = ? ORDER BY i.seq
                        """, arguments: [batch.id.rawValue])
                }
                #expect(states == batch.items.map(\.state), "\(log)")
            }
            let verification = try store.journal.verify()
            #expect(verification.isIntact, "\(verification.problems.prefix(3)) after \(log)")
        }
    }

    @Test func randomOperationSequencesKeepTheBooksTheModelKeeps() async {
        let reconciled = Mutex(0)
        await propertyCheck(count: 60, input: Gen.int(in: 0...19_999).array(of: 1...30)) { (codes: [Int]) throws in
            let run = try Run()
            defer { reconciled.withLock { $0 += run.reconciled } }
            var previous: Operation?
            for code in codes {
                let operation = Operation(code: code, model: run.model)
                if operation == .repeatPrevious {
                    guard let previous else { continue }
                    let before = try run.store.journal.balances()
                    try run.apply(previous, repeating: true)
                    // The same operation again, with the same key, changes nothing.
                    #expect(try run.store.journal.balances() == before, "\(run.log)")
                } else {
                    try run.apply(operation)
                    previous = operation
                }
                try run.check()
            }
        }
        #expect(reconciled.withLock { $0 } >= 10, "the sequences rarely reach reconciliation")
    }
}
