import AllowanceLedger
import ArgumentParser

extension Allowance.Beneficiary {
    struct Account: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Link, change or close a beneficiary's mobile-money account; every change keeps time, user and reason.",
            subcommands: [Link.self, Change.self, Close.self])

        struct AccountOptions: ParsableArguments {
            @OptionGroup var store: StoreOptions
            @Argument(help: "Beneficiary number or 12-digit national ID.") var beneficiary: String
            @Option(help: "Why; kept in the history.") var reason: String
            @OptionGroup var user: UserOptions
            @OptionGroup var output: OutputOptions

            func apply(_ action: Store.AccountAction, verb: String) throws {
                let changed = try store.open().updateAccount(of: beneficiary, action, reason: reason, by: try user.user())
                if output.json {
                    BeneficiaryView.json(changed, reveal: output.reveal).print()
                } else {
                    let account = changed.details.account.map { " to \($0.carrier) \($0.msisdn.shown(reveal: output.reveal))" } ?? ""
                    print("Beneficiary \(changed.id): account \(verb)\(account); paid by \(changed.details.paymentMethod.rawValue).")
                }
            }
        }

        struct NewAccount: ParsableArguments {
            @Option(help: "Carrier code.") var carrier: String
            @Option(help: "Mobile number.") var msisdn: String

            func account() throws -> MobileMoneyAccount {
                let code = try parsed { () throws(FieldError) in try Code(parsing: carrier, field: "carrier", uppercase: true) }
                let number = try parsed { () throws(MSISDNError) in try MSISDN(parsing: msisdn) }
                return MobileMoneyAccount(carrier: code, msisdn: number)
            }
        }

        struct Link: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Link a first account; the beneficiary is then paid by mobile money.")
            @OptionGroup var options: AccountOptions
            @OptionGroup var account: NewAccount
            func run() throws { try options.apply(.link(try account.account()), verb: "linked") }
        }

        struct Change: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Replace the linked account by a new one.",
                discussion: "A change within the account-change window before a batch flags the beneficiary until an officer clears it.")
            @OptionGroup var options: AccountOptions
            @OptionGroup var account: NewAccount
            func run() throws { try options.apply(.change(try account.account()), verb: "changed") }
        }

        struct Close: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Close the linked account; the beneficiary is then paid in cash.")
            @OptionGroup var options: AccountOptions
            func run() throws { try options.apply(.close, verb: "closed") }
        }
    }
}
