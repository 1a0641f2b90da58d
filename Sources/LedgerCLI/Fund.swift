import AllowanceLedger
import AllowanceViews
import AllowanceOffice
import ArgumentParser

extension Allowance {
    struct Fund: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record budget received: Dr 1000 Treasury / Cr 3000 Budget appropriation.",
            discussion: "The reference is the idempotency key: the same reference and amount again changes nothing.")

        @OptionGroup var store: StoreOptions
        @Option(help: "Amount in whole đồng (500000, 500.000 or 500,000).") var amount: String
        @Option(help: "The budget document's reference, e.g. QD-123/2026.") var reference: String
        @Option(help: "A note kept in the journal.") var memo: String?
        @OptionGroup var user: UserOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let money = try parsed { () throws(MoneyError) in try Money(parsing: amount) }
            let ledger = try store.open()
            let result = try ledger.journal.fund(amount: money, reference: reference, by: try user.user(), memo: memo)
            if output.json {
                JSON.object([("entry", .int(result.entryID.rawValue)), ("amount", .int(result.amount.dong)),
                             ("already_recorded", .bool(result.alreadyRecorded))]).print()
            } else if result.alreadyRecorded {
                print("Budget \(reference) of \(result.amount.shown) was already recorded as entry \(result.entryID); nothing changed.")
            } else {
                print("Recorded budget \(reference): \(result.amount.shown) into the treasury (entry \(result.entryID)).")
            }
        }
    }
}
