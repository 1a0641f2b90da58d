import AllowanceLedger
import ArgumentParser

extension Allowance {
    struct Rate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Base level and category coefficients, each with an effective date.",
            subcommands: [List.self, BaseLevel.self, Category.self], defaultSubcommand: List.self)
    }
}

extension Allowance.Rate {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the rates and the monthly amount per category for a period.")
        @OptionGroup var store: StoreOptions
        @Option(help: "The month to compute amounts for (default: the current month).", transform: periodArgument) var period: Period?
        @OptionGroup var output: OutputOptions

        func run() throws {
            let ledger = try store.open()
            let rates = try ledger.rates()
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

    struct BaseLevel: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "base-level", abstract: "Add a base level from a date.")
        @OptionGroup var store: StoreOptions
        @Option(help: "Amount in whole đồng per month.") var amount: String
        @Option(help: "First day it applies (YYYY-MM-DD).", transform: dateArgument) var from: CalendarDate
        @OptionGroup var user: UserOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let money = try parsed { () throws(MoneyError) in try Money(parsing: amount) }
            guard money.dong > 0 else { throw CommandError("--amount must be positive") }
            try store.open().setBaseLevel(money, from: from, by: try user.user())
            if output.json {
                JSON.object([("amount", .int(money.dong)), ("effective_from", .string(from.description))]).print()
            } else {
                print("Base level \(money.shown)/month from \(from).")
            }
        }
    }

    struct Category: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a category or give one a new coefficient.", subcommands: [Add.self, Set.self])

        struct Add: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Add a category with its coefficient.")
            @OptionGroup var store: StoreOptions
            @Argument(help: "Category code, e.g. ELDERLY_POOR_LOCAL.") var code: String
            @Option(help: "Coefficient, e.g. 1.5.") var coefficient: String
            @Option(help: "First day it applies (YYYY-MM-DD).", transform: dateArgument) var from: CalendarDate
            @Option(help: "What the category covers.") var description: String
            @OptionGroup var user: UserOptions
            @OptionGroup var output: OutputOptions

            func run() throws {
                let parsedCode = try parsed { () throws(FieldError) in try Code(parsing: code, field: "category", uppercase: true) }
                let parsedCoefficient = try parsed { () throws(CoefficientError) in try Coefficient(parsing: coefficient) }
                try store.open().addCategory(parsedCode, description: description, coefficient: parsedCoefficient, from: from, by: try user.user())
                if output.json {
                    JSON.object([("category", .string(parsedCode.value)), ("coefficient", .string(parsedCoefficient.description)),
                                 ("effective_from", .string(from.description))]).print()
                } else {
                    print("Added category \(parsedCode) with coefficient \(parsedCoefficient) from \(from).")
                }
            }
        }

        struct Set: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Give a category a new coefficient from a date.")
            @OptionGroup var store: StoreOptions
            @Argument(help: "Category code.") var code: String
            @Option(help: "Coefficient, e.g. 1.5.") var coefficient: String
            @Option(help: "First day it applies (YYYY-MM-DD).", transform: dateArgument) var from: CalendarDate
            @OptionGroup var user: UserOptions
            @OptionGroup var output: OutputOptions

            func run() throws {
                let parsedCode = try parsed { () throws(FieldError) in try Code(parsing: code, field: "category", uppercase: true) }
                let parsedCoefficient = try parsed { () throws(CoefficientError) in try Coefficient(parsing: coefficient) }
                try store.open().setCoefficient(parsedCoefficient, of: parsedCode, from: from, by: try user.user())
                if output.json {
                    JSON.object([("category", .string(parsedCode.value)), ("coefficient", .string(parsedCoefficient.description)),
                                 ("effective_from", .string(from.description))]).print()
                } else {
                    print("Category \(parsedCode): coefficient \(parsedCoefficient) from \(from).")
                }
            }
        }
    }
}
