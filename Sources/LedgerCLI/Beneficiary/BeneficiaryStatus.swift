import AllowanceLedger
import AllowanceOffice
import ArgumentParser

/// Suspend, reinstate and deceased share their options and differ only in the target status.
struct StatusChangeOptions: ParsableArguments {
    @OptionGroup var store: StoreOptions
    @Argument(help: "Beneficiary number or 12-digit national ID.") var beneficiary: String
    @Option(help: "Why; kept in the history.") var reason: String
    @OptionGroup var user: UserOptions
    @OptionGroup var output: OutputOptions

    func apply(_ status: BeneficiaryStatus, verb: String) throws {
        let ledger = try store.open()
        let changed = try ledger.registry.setStatus(of: beneficiary, to: status, reason: reason, by: try user.user())
        try output.recordReveal(ledger, "beneficiary \(status.rawValue): beneficiary \(changed.id)", by: try user.user())
        if output.json {
            BeneficiaryView.json(changed, reveal: output.reveal).print()
        } else {
            print("Beneficiary \(changed.id) (\(changed.details.fullName)) \(verb).")
        }
    }
}

extension Allowance.Beneficiary {
    struct Suspend: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Suspend payments to a beneficiary.")
        @OptionGroup var options: StatusChangeOptions
        func run() throws { try options.apply(.suspended, verb: "is suspended") }
    }
}
