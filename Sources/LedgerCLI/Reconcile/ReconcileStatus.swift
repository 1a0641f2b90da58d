import AllowanceLedger
import AllowanceViews
import AllowanceOffice
import ArgumentParser
import Reconcile

extension Allowance.ReconcileCommand {
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Where a batch stands across every result file imported so far.",
            discussion: "Each mobile-money item counts once, by the latest line naming it (missing when none does). Exit 0 whatever the state.")

        @OptionGroup var store: StoreOptions
        @Argument(help: "Batch number.") var batch: BatchID
        @Option(help: ArgumentHelp("Write one row per outcome over every file, then the missing items.", valueName: "FILE.csv"))
        var report: String?
        @OptionGroup var output: OutputOptions

        func run() throws {
            if let report { try refuseLedgerPath(report, ledger: store.path, option: "--report") }
            let ledger = try store.open()
            if report != nil { try output.recordReveal(ledger, "reconcile status \(batch): report whole") }
            let status = try ledger.reconciliation.status(batch: batch)
            if let report {
                try ReconcileReport.write(to: report, reconciliation: ledger.reconciliation, batch: batch, fileID: nil, reveal: output.reveal)
            }
            if output.json {
                Self.json(status).print()
            } else {
                print(Self.text(status))
            }
        }

        static func json(_ status: ReconcileStatus) -> JSON {
            JSON.object([
                ("batch", .int(status.batch.id.rawValue)), ("status", .string(status.batch.status.rawValue)),
                ("files", .array(status.files.map { file in
                    .object([("file", .string(file.name)), ("sha256", .string(file.sha256)), ("bytes", .int(Int(file.byteSize))),
                             ("profile", .string(file.profile)), ("lines", .int(file.lines)), ("imported_at", .string(file.importedAt)),
                             ("imported_by", .string(file.importedBy))])
                })),
                ("items", ReconcileView.outcomes(status.items)), ("item_amounts", ReconcileView.amounts(status.items)),
                ("lines", ReconcileView.outcomes(status.lines)), ("not_sent", .int(status.notSent)),
                ("clearing_open", ReconcileView.clearing(status.clearingOpen)), ("settled", .bool(status.isSettled)),
            ])
        }

        static func text(_ status: ReconcileStatus) -> String {
            let batch = status.batch.id
            var out = ["Batch \(batch) (\(status.batch.period), \(status.batch.status.rawValue)): \(status.files.count) result file\(status.files.count == 1 ? "" : "s") imported."]
            if !status.files.isEmpty {
                var files = Table(["file", "lines", "profile", "imported", "by", "sha256"], rightAligned: [1])
                for file in status.files {
                    files.add([file.name, Money(dong: Int64(file.lines)).grouped, file.profile, file.importedAt, file.importedBy, String(file.sha256.prefix(16)) + "…"])
                }
                out.append(files.render())
            }
            out.append(ReconcileView.table(status.items, label: "items"))
            if status.notSent > 0 { out.append("\(status.notSent) mobile-money item(s) were never sent to their carrier.") }
            out.append("Carrier clearing still open: \(ReconcileView.clearingText(status.clearingOpen)).")
            out.append(status.isSettled ? "Every item is paid or failed and the carriers hold nothing for this batch."
                                        : "Not settled yet: work the items above that are not paid or failed.")
            return out.joined(separator: "\n")
        }
    }
}
