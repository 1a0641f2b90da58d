import AllowanceLedger
import ArgumentParser

extension Allowance {
    struct Rate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Base level and category coefficients, each with an effective date.",
            subcommands: [List.self, BaseLevel.self, Category.self], defaultSubcommand: List.self)
    }
}
