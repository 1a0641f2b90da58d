import AllowanceLedger
import ArgumentParser

extension Allowance.Beneficiary.Account {
    struct Close: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Close the linked account; the beneficiary is then paid in cash.")
        @OptionGroup var options: AccountOptions
        func run() throws { try options.apply(.close, verb: "closed") }
    }
}
