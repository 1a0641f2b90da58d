import AllowanceLedger
import AllowanceViews
import AllowanceOffice
import ArgumentParser

extension Allowance.Batch {
    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the month's batch: one item per active, unflagged beneficiary in scope.",
            discussion: "A beneficiary already in a batch for the period is refused, naming that batch (or left out with --skip-existing).")

        @OptionGroup var store: StoreOptions
        @Option(help: "The month, e.g. 2026-11.", transform: periodArgument) var period: Period
        @Option(help: "Only these communes (repeat for several).") var commune: [String] = []
        @Flag(help: "Leave out beneficiaries already in a batch for the period instead of refusing.") var skipExisting = false
        @OptionGroup var user: UserOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let communes = try commune.map { text in try parsed { () throws(FieldError) in try Code(parsing: text, field: "commune", uppercase: false) } }
            // Opened first: the ledger's actor mode decides who the default actor is.
            let ledger = try store.open()
            var options = BatchCreateOptions(period: period, by: try user.user())
            options.communes = communes
            options.skipExisting = skipExisting
            let result = try ledger.payouts.createBatch(options)
            if output.json {
                BatchView.created(result).print()
                return
            }
            print("Created batch \(result.batch.id) for \(result.batch.period): \(result.items) items, \(result.total.shown) "
                + "(\(result.mobileMoneyItems) mobile money, \(result.cashItems) cash).")
            if result.batch.heldOut > 0 {
                let reasons = result.heldOutByKind.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
                print("Held out: \(result.batch.heldOut) flagged beneficiar\(result.batch.heldOut == 1 ? "y" : "ies") (\(reasons)); see `allowance beneficiary flags`.")
            }
            if result.skippedExisting > 0 { print("Left out \(result.skippedExisting) already in a batch for \(result.batch.period).") }
            print("Next: a different person approves it with `allowance batch approve \(result.batch.id) --by NAME`.")
        }
    }
}
