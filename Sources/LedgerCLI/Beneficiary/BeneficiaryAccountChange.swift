import AllowanceLedger
import ArgumentParser

extension Allowance.Beneficiary.Account {
    struct Change: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace the linked account by a new one.",
            discussion: "A change within the account-change window before a batch flags the beneficiary until an officer clears it.")
        @OptionGroup var options: AccountOptions
        @OptionGroup var account: NewAccount
        func run() throws { try options.apply(.change(try account.account()), verb: "changed") }
    }
}
