import AllowanceLedger
import AllowanceViews
import AllowanceOffice
import ArgumentParser

extension Allowance.Beneficiary {
    struct Due: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Who a month changes by age, before its batch is made: category steps and new qualifications.",
            discussion: "Nothing is written; `batch create` for the month applies the same changes and records them in each history.")

        @OptionGroup var store: StoreOptions
        @Option(help: "The month, e.g. 2026-12.", transform: periodArgument) var period: Period
        @Option(help: "Only these communes (repeat for several).") var commune: [String] = []
        @OptionGroup var output: OutputOptions

        func run() throws {
            let communes = try commune.map { text in try parsed { () throws(FieldError) in try Code(parsing: text, field: "commune", uppercase: false) } }
            let ledger = try store.open()
            let (rule, changes) = try ledger.payouts.dueChanges(period: period, communes: communes)
            if output.json {
                JSON.object([("period", .string(period.description)), ("age_rule", .string(rule.rawValue)),
                             ("changes", BatchView.changes(changes))]).print()
                return
            }
            let when = rule == .nextMonth ? "birthdays before \(period)" : "birthdays up to the end of \(period)"
            if changes.isEmpty {
                print("No changes by age in \(period) (\(when)).")
                return
            }
            print("Changes by age in \(period) (\(when)):")
            var table = Table(["beneficiary", "name", "commune", "born", "change", "age"], rightAligned: [0, 5])
            for change in changes {
                table.add([change.beneficiary.description, change.name, change.commune, change.dateOfBirth.description,
                           change.kind == .category ? "\(change.from) → \(change.to)" : "qualifies for \(change.to) (registered \(change.from))",
                           String(change.age)])
            }
            print(table.render())
            let steps = changes.filter { $0.kind == .category }.count
            print("\(steps) category change\(steps == 1 ? "" : "s"), \(changes.count - steps) new qualification\(changes.count - steps == 1 ? "" : "s"); "
                + "`allowance batch create --period \(period)` applies them.")
        }
    }
}
