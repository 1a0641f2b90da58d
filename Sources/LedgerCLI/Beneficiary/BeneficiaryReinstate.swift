import AllowanceLedger
import ArgumentParser

extension Allowance.Beneficiary {
    struct Reinstate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reinstate a suspended beneficiary.")
        @OptionGroup var options: StatusChangeOptions
        func run() throws { try options.apply(.active, verb: "is active again") }
    }
}
