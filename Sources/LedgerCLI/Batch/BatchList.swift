import AllowanceLedger
import AllowanceViews
import AllowanceOffice
import ArgumentParser

extension Allowance.Batch {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List batches with their counts and totals.")

        @OptionGroup var store: StoreOptions
        @Option(help: "Only this month.", transform: periodArgument) var period: Period?
        @OptionGroup var output: OutputOptions

        func run() throws {
            let ledger = try store.open()
            let summaries = try ledger.payouts.batches(period: period).map { try ledger.payouts.batchSummary($0.id) }
            if output.json {
                JSON.array(summaries.map { summary in
                    guard case .object(var pairs) = BatchView.json(summary.batch) else { return .null }
                    pairs += [("items", .int(summary.items)), ("total", .int(summary.total.dong)), ("by_method", BatchView.lines(summary.byMethod))]
                    return .object(pairs)
                }).print()
                return
            }
            var table = Table(["batch", "period", "payment", "status", "items", "total", "mobile money", "cash", "held out", "created by", "approved by"],
                              rightAligned: [0, 4, 5, 6, 7, 8])
            for s in summaries {
                let mobile = s.byMethod.first { $0.key == PaymentMethod.mobileMoney.rawValue }
                let cash = s.byMethod.first { $0.key == PaymentMethod.cash.rawValue }
                table.add([s.batch.id.description, s.batch.period.description,
                           s.batch.oneOff.map { "one-off: \($0.name)" } ?? "monthly", s.batch.status.rawValue, String(s.items), s.total.shown,
                           String(mobile?.items ?? 0), String(cash?.items ?? 0), String(s.batch.heldOut), s.batch.createdBy, s.batch.approvedBy ?? ""])
            }
            print(table.render())
        }
    }
}
