import AllowanceLedger
import AllowanceOffice
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

            func apply(_ action: Registry.AccountAction, verb: String) throws {
                let ledger = try store.open()
                let changed = try ledger.registry.updateAccount(of: beneficiary, action, reason: reason, by: try user.user())
                try output.recordReveal(ledger, "beneficiary account: beneficiary \(changed.id)", by: try user.user())
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
    }
}
