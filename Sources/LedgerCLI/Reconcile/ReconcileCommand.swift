import AllowanceLedger
import AllowanceViews
import ArgumentParser
import Foundation
import Reconcile

extension Allowance {
    /// `allowance reconcile BATCH FILE` (the default subcommand, `import`) and `allowance reconcile status BATCH`.
    struct ReconcileCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reconcile",
            abstract: "Match the carrier's result file against a batch, settle the ledger, list the exceptions.",
            discussion: """
            allowance reconcile BATCH RESULT_FILE [--profile NAME] [--report FILE.csv] [--json]
            allowance reconcile status BATCH
            Exit codes: 0 when every line is paid, failed, pending or a harmless repeat (or the file was reconciled before);
            2 when there are exceptions to work; 1 on an error.
            """,
            subcommands: [Import.self, Status.self],
            defaultSubcommand: Import.self)
    }
}

enum ReconcileView {
    static func outcomes(_ totals: OutcomeTotals) -> JSON { ReconcileJSON.outcomes(totals) }
    static func amounts(_ totals: OutcomeTotals) -> JSON { ReconcileJSON.amounts(totals) }
    static func clearing(_ open: [String: Money]) -> JSON { ReconcileJSON.clearing(open) }

    static func table(_ totals: OutcomeTotals, label: String) -> String {
        var table = Table([label, "count", "amount"], rightAligned: [1, 2])
        for outcome in ReconcileOutcome.allCases where totals.count(outcome) > 0 || [.paid, .failed, .pending, .missing].contains(outcome) {
            table.add([outcome.rawValue, Money(dong: Int64(totals.count(outcome))).grouped, totals.amount(outcome).shown])
        }
        return table.render()
    }

    static func clearingText(_ open: [String: Money]) -> String {
        open.isEmpty ? "nothing sent" : open.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.shown)" }.joined(separator: ", ")
    }

    /// Where `--profile NAME` looks for `NAME.profile`: ALLOWANCE_PROFILES (colon-separated), then `profiles/` beside
    /// the ledger; never the working folder.
    static func profileDirectories(ledger: String) -> [String] {
        CarrierProfile.searchDirectories(listed: ProcessInfo.processInfo.environment["ALLOWANCE_PROFILES"], ledger: ledger)
    }
}
