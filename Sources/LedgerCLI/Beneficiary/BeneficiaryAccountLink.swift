import AllowanceLedger
import ArgumentParser

extension Allowance.Beneficiary.Account {
    struct Link: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Link a first account; the beneficiary is then paid by mobile money.")
        @OptionGroup var options: AccountOptions
        @OptionGroup var account: NewAccount
        func run() throws { try options.apply(.link(try account.account()), verb: "linked") }
    }
}
