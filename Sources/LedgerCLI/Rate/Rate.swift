import AllowanceLedger
import ArgumentParser

extension Allowance {
    struct Rate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Programmes, base levels (national and provincial), categories and their amounts, each with an effective date.",
            subcommands: [List.self, BaseLevel.self, Category.self, Import.self, AgeRule.self], defaultSubcommand: List.self)
    }
}
