import AllowanceLedger
import AllowanceOffice
import ArgumentParser

extension Allowance {
    struct Ledger: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check and read the double-entry journal.", subcommands: [Verify.self, Balances.self, Anchor.self])
    }
}
