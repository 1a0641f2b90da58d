import AllowanceLedger
import AllowanceViews
import AllowanceOffice
import ArgumentParser

extension Allowance.Report {
    struct BatchReport: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "batch",
            abstract: "A batch's lifecycle (created, approved, exported, by whom), its items, postings and reconciliation state.")

        @OptionGroup var store: StoreOptions
        @Argument(help: "Batch number.") var batch: BatchID
        @OptionGroup var output: OutputOptions

        func run() throws {
            let ledger = try store.open()
            let summary = try ledger.payouts.batchSummary(batch)
            let status = try ledger.reconciliation.status(batch: batch)
            if output.json {
                JSON.object([("batch", BatchView.show(summary, numberChanges: try ledger.payouts.numberChanges(summary.batch.id))), ("reconciliation", Allowance.ReconcileCommand.Status.json(status))]).print()
            } else {
                print(Allowance.Batch.Show.text(summary))
                print("")
                print(Allowance.ReconcileCommand.Status.text(status))
            }
        }
    }
}
