import AllowanceLedger
import AllowanceViews
import AllowanceOffice
import ArgumentParser

extension Allowance.Rate {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the rates and the monthly amount per category for a period.")
        @OptionGroup var store: StoreOptions
        @Option(help: "The month to compute amounts for (default: the current month).", transform: periodArgument) var period: Period?
        @OptionGroup var output: OutputOptions

        func run() throws {
            let ledger = try store.open()
            let rates = try ledger.registry.rates()
            let today = ledger.clock.now().date
            let period = period ?? Period(year: today.year, month: today.month)!
            let categories = rates.categories.keys.sorted()
            if output.json {
                JSON.object([
                    ("period", .string(period.description)),
                    ("base_levels", .array(rates.baseLevels.map { .object([("effective_from", .string($0.effectiveFrom.description)), ("amount", .int($0.amount.dong))]) })),
                    ("categories", .array(categories.map { code in
                        let rate = rates.coefficient(of: code, on: period.firstDay)
                        let amount = try? rates.monthlyAmount(category: code, period: period)
                        return .object([("code", .string(code.value)), ("description", .string(rates.categories[code] ?? "")),
                                        ("coefficient", rate.map { .string($0.coefficient.description) } ?? .null),
                                        ("effective_from", rate.map { .string($0.effectiveFrom.description) } ?? .null),
                                        ("monthly_amount", amount.map { .int($0.dong) } ?? .null)])
                    })),
                ]).print()
                return
            }
            print("Base level:")
            for level in rates.baseLevels { print("  from \(level.effectiveFrom): \(level.amount.shown)/month") }
            print("\nCategories in \(period):")
            var table = Table(["category", "coefficient", "since", "monthly amount", "description"], rightAligned: [1, 3])
            for code in categories {
                let rate = rates.coefficient(of: code, on: period.firstDay)
                let amount = try? rates.monthlyAmount(category: code, period: period)
                table.add([code.value, rate?.coefficient.description ?? "-", rate?.effectiveFrom.description ?? "-",
                           amount?.shown ?? "-", rates.categories[code] ?? ""])
            }
            print(table.render())
        }
    }
}
