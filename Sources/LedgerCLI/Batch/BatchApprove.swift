import AllowanceLedger
import AllowanceViews
import AllowanceOffice
import ArgumentParser

extension Allowance.Batch {
    struct Approve: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Approve a batch (not its creator) and post the entitlements: Dr 5000 / Cr 2000 per item.")

        @OptionGroup var store: StoreOptions
        @Argument(help: "Batch number.") var batch: BatchID
        @OptionGroup var user: UserOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let ledger = try store.open()
            let result = try ledger.payouts.approveBatch(batch, by: try user.user())
            let changes = try ledger.payouts.numberChanges(batch)
            if output.json {
                BatchView.approved(result.batch, entry: result.entry, total: result.total, numberChanges: changes).print()
            } else {
                print("Batch \(result.batch.id) approved by \(result.batch.approvedBy ?? ""); entitlements of \(result.total.shown) posted (entry \(result.entry)).")
                if let text = Show.text(changes) { print(text) }
            }
        }
    }
}
