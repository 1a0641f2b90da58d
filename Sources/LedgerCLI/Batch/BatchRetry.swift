import AllowanceLedger
import AllowanceViews
import AllowanceOffice
import ArgumentParser

extension Allowance.Batch {
    struct Retry: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a follow-up batch for a reconciled batch's failed and missing mobile-money items.",
            discussion: """
            Each retry item pays the same amount to the account the register holds now (cash when the beneficiary has no mobile \
            money any more). A different person approves it; approval moves the payable over from the original item, so nothing \
            is spent twice.
            """)

        @OptionGroup var store: StoreOptions
        @Argument(help: "The batch whose failed and missing items to retry.") var batch: BatchID
        @OptionGroup var user: UserOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let result = try store.open().payouts.retryBatch(batch, by: try user.user())
            if output.json {
                JSON.object([
                    ("batch", .int(result.batch.id.rawValue)), ("retry_of", .int(result.retryOf.rawValue)),
                    ("period", .string(result.batch.period.description)), ("items", .int(result.items)), ("total", .int(result.total.dong)),
                    ("failed", .int(result.failed)), ("missing", .int(result.missing)),
                    ("mobile_money_items", .int(result.mobileMoneyItems)), ("cash_items", .int(result.cashItems)),
                    ("left_out", .object(result.leftOut.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })),
                    ("status", .string(result.batch.status.rawValue)),
                ]).print()
                return
            }
            print("Created retry batch \(result.batch.id) of batch \(batch) for \(result.batch.period): \(result.items) items, \(result.total.shown) "
                + "(\(result.failed) failed, \(result.missing) missing; \(result.mobileMoneyItems) mobile money, \(result.cashItems) cash).")
            for (reason, count) in result.leftOut.sorted(by: { $0.key < $1.key }) {
                print("Left out \(count): \(reason).")
            }
            print("Next: a different person approves it with `allowance batch approve \(result.batch.id) --by NAME`.")
        }
    }
}
