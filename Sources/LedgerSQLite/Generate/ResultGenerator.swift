import AllowanceLedger
import GRDB

extension ResultGenerator {
    public func write(store: Store, batch: BatchID, to path: String) throws -> Summary {
        try store.read { db in
            let batchRow = try Store.fetchBatch(db, batch)
            var random = SeededRandom(seed: seed ^ 0x5245_5355_4C54_5321)
            let writer = try CSVWriter(path: path, neutralisesFormulas: false, crlf: true, byteOrderMark: true)
            try writer.row(Self.header)
            var summary = Summary()
            // Repeats and reversals come at the end, as carriers send them in a later run of their batch.
            var late: [(cells: [String], outcome: ReconcileOutcome)] = []
            // In carrier order each line is encoded here with its completion time, and written once all are sorted.
            var clock = order == .carrier
                ? CarrierClock(seed: seed, items: try Int.fetchOne(db, sql: """
                    SELECT COUNT(*) FROM batch_item WHERE batch_id = ? AND method = 'mobile_money'
                    """, arguments: [batch.rawValue]) ?? 0)
                : nil
            var timed = TimedRows()
            let items = try FastStatement(db, """
                SELECT i.seq, i.reference, i.msisdn, i.amount, i.carrier FROM batch_item i
                WHERE i.batch_id = ? AND i.method = 'mobile_money' ORDER BY i.seq
                """)
            defer { items.reset() }
            items.bind(1, batch.rawValue)
            let weights = mix.weights.filter { $0.weight > 0 }.map { ($0.outcome, $0.weight) }
            let day = batchRow.period.lastDay
            func spelling(_ canonical: String) -> String {
                let national = String(canonical.dropFirst(2))
                switch random.below(10) {
                case 0...4: return "0" + national
                case 5...6: return "84" + national
                case 7: return "+84" + national
                case 8: return "0" + national.prefix(2) + " " + national.dropFirst(2).prefix(3) + " " + national.dropFirst(5)
                default: return "(+84) " + national
                }
            }
            func amountText(_ amount: Int64) -> String {
                switch random.below(10) {
                case 0...5: return String(amount)
                case 6...7: return Money(dong: amount).grouped
                case 8: return Money(dong: amount).grouped.replacingDots(with: ",")
                default: return Money(dong: amount).grouped.replacingDots(with: " ")
                }
            }
            // The completion time the line carries, and when it sorts in carrier order: drawn from `random` in
            // either order, so that both orders hold the same other cells; in carrier order the clock's time is written.
            var completion: Int64 = 0
            func time(_ kind: CarrierClock.Kind = .paid) -> String {
                let hour = 7 + random.below(12)
                let drawn = "\(day) \(pad(hour, 2)):\(pad(random.below(60), 2)):\(pad(random.below(60), 2))"
                guard clock != nil else { return drawn }
                completion = clock!.completion(kind)
                return "\(day) \(CarrierClock.clockText(completion))"
            }
            func pick(_ words: [String]) -> String { words[random.below(words.count)] }
            func emit(_ cells: [String], _ outcome: ReconcileOutcome) throws {
                let blankAfter = random.below(5_000) == 0
                if clock != nil {
                    timed.add(cells, at: completion, blankAfter: blankAfter)
                } else {
                    try writer.row(cells)
                    if blankAfter { try writer.endRow() }
                }
                summary.lines += 1
                summary.intended[outcome, default: 0] += 1
            }
            var unknown = 0
            while try items.step() {
                let seq = items.int64(0)
                let reference = items.string(1)
                let msisdn = items.string(2)
                let amount = items.int64(3)
                let carrier = items.string(4)
                let txn = "\(carrier.prefix(2))\(batchRow.period.compact)\(pad(Int(batch.rawValue), 4))\(pad(Int(seq), 8))"
                let outcome = random.weighted(weights)
                clock?.dispatch()
                let paidLine = [reference, spelling(msisdn), amountText(amount), pick(Self.paidWords), txn, time(), "", ""]
                switch outcome {
                case .paid:
                    try emit(paidLine, .paid)
                case .failed:
                    let failure = Self.failures[random.below(Self.failures.count)]
                    try emit([reference, spelling(msisdn), amountText(amount), pick(Self.failedWords), txn, time(.failed), failure.0, failure.1], .failed)
                case .pending:
                    completion = clock?.submitted ?? 0
                    try emit([reference, spelling(msisdn), amountText(amount), pick(Self.pendingWords), txn, "", "", ""], .pending)
                case .reversed:
                    try emit(paidLine, .paid)
                    late.append(([reference, spelling(msisdn), amountText(amount), pick(Self.reversedWords), txn + "R", time(.reversal), "R01", "Giao dịch bị hoàn, ví đã đóng"],
                                 .reversed))
                case .amountMismatch:
                    try emit([reference, spelling(msisdn), amountText(amount + 1_000 * Int64(1 + random.below(50))), pick(Self.paidWords), txn, time(), "", ""],
                             .amountMismatch)
                case .msisdnMismatch:
                    let other = "849" + pad(random.below(100_000_000), 8)
                    try emit([reference, spelling(other), amountText(amount), pick(Self.paidWords), txn, time(), "", ""], .msisdnMismatch)
                case .unknownReference:
                    try emit(paidLine, .paid)
                    unknown += 1
                    let stray = ItemReference(period: batchRow.period, batch: batch, seq: Int64(90_000_000 + unknown)).canonical
                    late.append(([stray, spelling(msisdn), amountText(amount), pick(Self.paidWords), "X" + txn, time(), "", ""], .unknownReference))
                case .duplicate:
                    try emit(paidLine, .paid)
                    late.append((paidLine, .duplicate))
                case .invalidLine:
                    try emit([reference, spelling(msisdn), "\(amount / 1000),5", pick(Self.paidWords), txn, time(), "", ""], .invalidLine)
                case .missing:
                    summary.intended[.missing, default: 0] += 1
                }
            }
            if clock != nil { try timed.write(to: writer) }
            for (cells, outcome) in late {
                // A repeat or a stray carries the time its line was sent with; it sorts by it within the later run.
                completion = CarrierClock.time(of: cells[5])
                try emit(cells, outcome)
            }
            if clock != nil { try timed.write(to: writer) }
            try writer.endRow()
            try writer.commit()
            return summary
        }
    }
}
