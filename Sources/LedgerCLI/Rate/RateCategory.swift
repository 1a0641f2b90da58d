import AllowanceLedger
import AllowanceViews
import AllowanceOffice
import ArgumentParser

/// `--coefficient X` or `--amount N`, exactly one: how a category's monthly amount is set.
struct CategoryAmountOptions: ParsableArguments {
    @Option(help: "Coefficient of the base level, e.g. 1.5.") var coefficient: String?
    @Option(help: "A fixed monthly amount in whole đồng instead (the social pension's 500000).") var amount: String?
    @Option(help: "The law or decision it rests on, e.g. \"Decree 176/2025/ND-CP\".") var basis = ""

    func parsedAmount() throws -> Registry.CategoryAmount {
        switch (coefficient, amount) {
        case (let text?, nil): return .coefficient(try parsed { () throws(CoefficientError) in try Coefficient(parsing: text) })
        case (nil, let text?):
            let money = try parsed { () throws(MoneyError) in try Money(parsing: text) }
            try parsed { () throws(RateError) in try Registry.checkBaseLevel(money) }
            return .fixed(money)
        default: throw ValidationError(RateError.coefficientOrAmount.description)
        }
    }

    static func json(_ amount: Registry.CategoryAmount) -> [(String, JSON)] {
        switch amount {
        case .coefficient(let coefficient): [("coefficient", .string(coefficient.description)), ("fixed_amount", .null)]
        case .fixed(let money): [("coefficient", .null), ("fixed_amount", .int(money.dong))]
        }
    }

    static func text(_ amount: Registry.CategoryAmount) -> String {
        switch amount {
        case .coefficient(let coefficient): "coefficient \(coefficient)"
        case .fixed(let money): "a fixed \(money.shown)/month"
        }
    }
}

extension Allowance.Rate {
    struct Category: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a category or give one a new coefficient or amount.", subcommands: [Add.self, Set.self])

        struct Add: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Add a category of a programme with its coefficient or fixed amount, and its rules of age.",
                discussion: """
                    --qualifies-from-age makes people of that age qualify without being registered in it (the social pension's 75; \
                    --qualifies-from-age-poor the same for poor and near-poor households, 70). --becomes CODE --at-age N moves people \
                    registered in it to CODE on reaching N (ELDERLY_POOR becomes ELDERLY_POOR_80 at 80).
                    """)
            @OptionGroup var store: StoreOptions
            @Argument(help: "Category code, e.g. ELDERLY_POOR_LOCAL.") var code: String
            @OptionGroup var amount: CategoryAmountOptions
            @Option(help: "First day it applies (YYYY-MM-DD).", transform: dateArgument) var from: CalendarDate
            @Option(help: "What the category covers.") var description: String
            @Option(help: "Its programme (`allowance rate list` shows them).") var programme = "SOCIAL_ALLOWANCE"
            @Option(name: .customLong("qualifies-from-age"), help: "People this old or older qualify without being registered in it.") var qualifiesFromAge: Int?
            @Option(name: .customLong("qualifies-from-age-poor"), help: "The same, for poor and near-poor households.") var qualifiesFromAgePoor: Int?
            @Option(help: "The category people registered in it move to on reaching --at-age.") var becomes: String?
            @Option(name: .customLong("at-age"), help: "The age at which they move to --becomes.") var atAge: Int?
            @OptionGroup var user: UserOptions
            @OptionGroup var output: OutputOptions

            func run() throws {
                let parsedCode = try parsed { () throws(FieldError) in try Code(parsing: code, field: "category", uppercase: true) }
                let parsedProgramme = try parsed { () throws(FieldError) in try Code(parsing: programme, field: "programme", uppercase: true) }
                let parsedBecomes = try becomes.map { text in try parsed { () throws(FieldError) in try Code(parsing: text, field: "becomes", uppercase: true) } }
                guard (parsedBecomes == nil) == (atAge == nil) else { throw ValidationError("give --becomes and --at-age together") }
                for age in [qualifiesFromAge, qualifiesFromAgePoor, atAge].compactMap({ $0 }) where !(0...150).contains(age) {
                    throw ValidationError("an age is a whole number of years from 0 to 150, not \(age)")
                }
                let parsedAmount = try amount.parsedAmount()
                let category = RateTable.Category(code: parsedCode, description: description, programme: parsedProgramme,
                                                  qualifiesFromAge: qualifiesFromAge, qualifiesFromAgePoorHousehold: qualifiesFromAgePoor,
                                                  becomes: parsedBecomes, becomesAtAge: atAge)
                try store.open().registry.addCategory(category, amount: parsedAmount, from: from, basis: amount.basis, by: try user.user())
                if output.json {
                    JSON.object([("category", .string(parsedCode.value)), ("programme", .string(parsedProgramme.value))]
                                + CategoryAmountOptions.json(parsedAmount) + [("effective_from", .string(from.description))]).print()
                } else {
                    print("Added category \(parsedCode) (\(parsedProgramme)) with \(CategoryAmountOptions.text(parsedAmount)) from \(from).")
                }
            }
        }

        struct Set: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Give a category a new coefficient or fixed amount from a date.")
            @OptionGroup var store: StoreOptions
            @Argument(help: "Category code.") var code: String
            @OptionGroup var amount: CategoryAmountOptions
            @Option(help: "First day it applies (YYYY-MM-DD).", transform: dateArgument) var from: CalendarDate
            @OptionGroup var user: UserOptions
            @OptionGroup var output: OutputOptions

            func run() throws {
                let parsedCode = try parsed { () throws(FieldError) in try Code(parsing: code, field: "category", uppercase: true) }
                let parsedAmount = try amount.parsedAmount()
                try store.open().registry.setRate(parsedAmount, of: parsedCode, from: from, basis: amount.basis, by: try user.user())
                if output.json {
                    JSON.object([("category", .string(parsedCode.value))] + CategoryAmountOptions.json(parsedAmount)
                                + [("effective_from", .string(from.description))]).print()
                } else {
                    print("Category \(parsedCode): \(CategoryAmountOptions.text(parsedAmount)) from \(from).")
                }
            }
        }
    }
}
