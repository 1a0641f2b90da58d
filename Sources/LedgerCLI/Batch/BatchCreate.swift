import AllowanceLedger
import AllowanceViews
import AllowanceOffice
import ArgumentParser

extension Allowance.Batch {
    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the month's batch: one item per active, unflagged beneficiary in scope.",
            discussion: """
                A beneficiary already in a batch for the period is refused, naming that batch (or left out with --skip-existing). \
                A month's batch first moves people whose age changes their category (written to the register with its history) \
                and pays each person the highest monthly benefit they qualify for, once. With --one-off NAME --amount N it pays \
                a one-off (a Tết gift) instead: the same amount to each person in scope, once a person.
                """)

        @OptionGroup var store: StoreOptions
        @Option(help: "The month, e.g. 2026-11.", transform: periodArgument) var period: Period
        @Option(help: "Only these communes (repeat for several).") var commune: [String] = []
        @Flag(help: "Leave out beneficiaries already in a batch for the period instead of refusing.") var skipExisting = false
        @Option(name: .customLong("one-off"), help: "A one-off payment's name, e.g. \"Quà Tết Bính Ngọ 2026\" (with --amount).") var oneOff: String?
        @Option(help: "The one-off's amount per person in whole đồng.") var amount: String?
        @Option(help: "Only beneficiaries registered in these categories (repeat for several; with --one-off).") var category: [String] = []
        @OptionGroup var user: UserOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let communes = try commune.map { text in try parsed { () throws(FieldError) in try Code(parsing: text, field: "commune", uppercase: false) } }
            let categories = try category.map { text in try parsed { () throws(FieldError) in try Code(parsing: text, field: "category", uppercase: true) } }
            var payment: OneOffPayment?
            switch (oneOff, amount) {
            case (let name?, let text?):
                let money = try parsed { () throws(MoneyError) in try Money(parsing: text) }
                payment = try parsed { () throws(FieldError) in try OneOffPayment(name: name, amount: money) }
            case (nil, nil): break
            default: throw ValidationError("give --one-off NAME and --amount N together")
            }
            // Opened first: the ledger's actor mode decides who the default actor is.
            let ledger = try store.open()
            var options = BatchCreateOptions(period: period, by: try user.user())
            options.communes = communes
            options.skipExisting = skipExisting
            options.oneOff = payment
            options.categories = categories
            let result = try ledger.payouts.createBatch(options)
            if output.json {
                BatchView.created(result).print()
                return
            }
            let what = result.batch.oneOff.map { "one-off \"\($0.name)\" (\($0.amount.shown) each) for \(result.batch.period)" } ?? "for \(result.batch.period)"
            print("Created batch \(result.batch.id) \(what): \(result.items) items, \(result.total.shown) "
                + "(\(result.mobileMoneyItems) mobile money, \(result.cashItems) cash).")
            if !result.changes.isEmpty {
                print("Changes by age this month (recorded in each beneficiary's history):")
                var table = Table(["beneficiary", "commune", "born", "change", "age"], rightAligned: [0, 4])
                for change in result.changes {
                    table.add([change.beneficiary.description, change.commune, change.dateOfBirth.description,
                               change.kind == .category ? "\(change.from) → \(change.to)" : "qualifies for \(change.to)", String(change.age)])
                }
                print(table.render())
            }
            if result.twoBenefits > 0 {
                let byAge = result.paidByAge.values.reduce(0, +)
                print("One benefit a person: \(result.twoBenefits) qualified for two monthly benefits and were paid the higher once "
                    + "(\(byAge) the benefit by age, \(result.twoBenefits - byAge) their registered category).")
            }
            if result.batch.heldOut > 0 {
                let reasons = result.heldOutByKind.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
                print("Held out: \(result.batch.heldOut) flagged beneficiar\(result.batch.heldOut == 1 ? "y" : "ies") (\(reasons)); see `allowance beneficiary flags`.")
            }
            if result.skippedExisting > 0 {
                print("Left out \(result.skippedExisting) already in \(result.batch.oneOff == nil ? "a batch for \(result.batch.period)" : "this one-off").")
            }
            print("Next: a different person approves it with `allowance batch approve \(result.batch.id) --by NAME`.")
        }
    }
}
