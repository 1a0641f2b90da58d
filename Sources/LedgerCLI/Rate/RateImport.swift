import AllowanceLedger
import AllowanceViews
import AllowanceOffice
import ArgumentParser

extension Allowance.Rate {
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load base levels and category amounts from a rates file (CSV or xlsx): a change in law as data.",
            discussion: """
                Header: kind,code,effective_from,coefficient,amount (required), province, basis, programme, description, \
                qualifies_from_age, qualifies_from_age_poor, becomes, becomes_at_age. kind is base_level (an amount, national or \
                a province's) or category (a coefficient or a fixed amount; a new category also needs its description). A line \
                already loaded is unchanged; another value for a day already set is refused. Every bad line is reported as \
                FILE:LINE: reason and nothing is loaded. samples/rates.csv holds the seeded rates with their legal basis.
                """)
        @OptionGroup var store: StoreOptions
        @Argument(help: "The rates file.") var file: String
        @OptionGroup var user: UserOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let result = try store.open().registry.importRates(path: file, by: try user.user()) { problem in
                Terminal.note(problem.description(in: Terminal.wording))
            }
            if output.json {
                JSON.object([("file", .string(result.file)), ("lines", .int(result.lines)), ("base_levels", .int(result.baseLevels)),
                             ("categories", .int(result.categories)), ("rates", .int(result.rates)), ("unchanged", .int(result.unchanged))]).print()
            } else {
                print("Loaded \(result.file): \(result.lines) lines; \(result.baseLevels) base level(s), \(result.categories) new categor\(result.categories == 1 ? "y" : "ies"), "
                      + "\(result.rates) category amount(s) added; \(result.unchanged) already loaded.")
            }
        }
    }
}
