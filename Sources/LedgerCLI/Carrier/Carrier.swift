import AllowanceLedger
import ArgumentParser

extension Allowance {
    struct Carrier: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The mobile-money carriers the office pays through.",
            subcommands: [List.self, Add.self, Alias.self], defaultSubcommand: List.self)
    }
}
