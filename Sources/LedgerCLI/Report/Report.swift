import AllowanceLedger
import ArgumentParser

extension Allowance {
    /// `allowance report noncash | batch | balances`.
    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reports for officials and auditors: the non-cash share, a batch's state, the balances.",
            subcommands: [NonCash.self, BatchReport.self, Balances.self])
    }
}
