import AllowanceLedger
import AllowanceOffice
import ArgumentParser

extension Allowance.Report {
    struct Balances: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Balances per account and sub-account, from the journal (as `ledger balances`).")

        @OptionGroup var store: StoreOptions
        @Option(help: "Up to the end of this day (YYYY-MM-DD).", transform: dateArgument) var asOf: CalendarDate?
        @OptionGroup var output: OutputOptions

        func run() throws {
            let balances = try store.open().journal.balances(asOf: asOf)
            if output.json {
                Allowance.Ledger.Balances.json(balances, asOf: asOf, beneficiary: nil).print()
            } else {
                print(Allowance.Ledger.Balances.text(balances, asOf: asOf, beneficiary: nil))
            }
        }
    }
}
