import AllowanceLedger
import AllowanceViews
import AllowanceOffice
import ArgumentParser

extension Allowance.Batch {
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A batch with counts and totals by method, carrier, commune and payment state.")

        @OptionGroup var store: StoreOptions
        @Argument(help: "Batch number.") var batch: BatchID
        @OptionGroup var output: OutputOptions

        func run() throws {
            let ledger = try store.open()
            let summary = try ledger.payouts.batchSummary(batch)
            let changes = try ledger.payouts.numberChanges(batch)
            if output.json {
                BatchView.show(summary, numberChanges: changes).print()
            } else {
                print(Self.text(summary))
                if let text = Self.text(changes) { print("\n" + text) }
            }
        }

        /// The payees to be paid on another number than last time, masked: what a checker looks at before approving.
        static func text(_ changes: [NumberChange], limit: Int = 50) -> String? {
            guard !changes.isEmpty else { return nil }
            var out = ["\(changes.count) payee(s) will be paid on another number than the one they were last paid on; check each before approving:"]
            var table = Table(["seq", "beneficiary", "number now", "last paid on", "in"], rightAligned: [0, 1])
            for change in changes.prefix(limit) {
                table.add([String(change.seq), String(change.beneficiary.rawValue), maskTail(change.msisdn), maskTail(change.lastPaidMSISDN),
                           change.lastPaidPeriod])
            }
            out.append(table.render())
            if changes.count > limit { out.append("… and \(changes.count - limit) more (--json lists every one)") }
            return out.joined(separator: "\n")
        }


        static func text(_ summary: BatchSummary) -> String {
            let b = summary.batch
            var out = ["Batch \(b.id) for \(b.period): \(b.status.rawValue)"]
            out.append("  scope        \(b.communes.isEmpty ? "all communes" : b.communes.map(\.value).joined(separator: ", "))")
            if let oneOff = b.oneOff { out.append("  one-off      \(oneOff.name), \(oneOff.amount.shown) each (not a monthly benefit)") }
            if let retryOf = b.retryOf { out.append("  retry of     batch \(retryOf) (its failed and missing items)") }
            out.append("  created      \(b.createdAt) by \(b.createdBy)")
            if let approvedBy = b.approvedBy { out.append("  approved     \(b.approvedAt ?? "") by \(approvedBy)") }
            if let exportedAt = b.exportedAt { out.append("  exported     \(exportedAt)") }
            out.append("  items        \(summary.items), \(summary.total.shown)")
            if b.heldOut > 0 {
                out.append("  held out     \(b.heldOut) (\(summary.heldOutByReason.map { "\($0.items) \($0.key)" }.joined(separator: ", ")))")
            }
            for (title, lines) in [("method", summary.byMethod), ("carrier", summary.byCarrier), ("state", summary.byState), ("commune", summary.byCommune)] {
                out.append("")
                var table = Table([title, "items", "amount"], rightAligned: [1, 2])
                for line in lines { table.add([line.key, String(line.items), line.amount.shown]) }
                out.append(table.render())
            }
            if !summary.entries.isEmpty {
                out.append("")
                var table = Table(["entry", "kind", "at", "amount"], rightAligned: [0, 3])
                for entry in summary.entries { table.add([String(entry.id), entry.kind, entry.at, entry.amount.shown]) }
                out.append(table.render())
            }
            return out.joined(separator: "\n")
        }
    }
}
