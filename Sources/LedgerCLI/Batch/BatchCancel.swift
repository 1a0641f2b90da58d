import AllowanceLedger
import AllowanceViews
import AllowanceOffice
import ArgumentParser

extension Allowance.Batch {
    struct Cancel: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cancel a batch nobody has approved yet, so the month can be made again; the batch stays on record.")

        @OptionGroup var store: StoreOptions
        @Argument(help: "Batch number.") var batch: BatchID
        @Option(help: "Why; kept with the batch.") var reason: String
        @OptionGroup var user: UserOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let cancelled = try store.open().payouts.cancelBatch(batch, reason: reason, by: try user.user())
            if output.json {
                BatchView.json(cancelled).print()
            } else {
                print("Batch \(cancelled.id) for \(cancelled.period) cancelled; its beneficiaries can go into a new batch.")
            }
        }
    }
}
