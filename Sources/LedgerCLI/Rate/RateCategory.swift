import AllowanceLedger
import AllowanceViews
import AllowanceOffice
import ArgumentParser

extension Allowance.Rate {
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
                try store.open().registry.addCategory(parsedCode, description: description, coefficient: parsedCoefficient, from: from, by: try user.user())
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
                try store.open().registry.setCoefficient(parsedCoefficient, of: parsedCode, from: from, by: try user.user())
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
