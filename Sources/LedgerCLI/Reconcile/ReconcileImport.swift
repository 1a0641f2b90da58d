import AllowanceLedger
import AllowanceViews
import AllowanceOffice
import ArgumentParser
import Reconcile

extension Allowance.ReconcileCommand {
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reconcile a carrier result file against a batch (the default: `allowance reconcile BATCH FILE`).",
            discussion: """
            Columns (any order, case-insensitive, extra ones ignored): reference, msisdn, amount, status, and usually carrier_txn_id, \
            completed_at, reason_code, reason_text; a profile maps a carrier's own names. Every non-blank line gets one outcome: paid, \
            failed, pending, reversed, amount_mismatch, msisdn_mismatch, unknown_reference, duplicate or invalid_line; items no file \
            has named yet count as missing. The same file again changes nothing.
            """)

        @OptionGroup var store: StoreOptions
        @Argument(help: "Batch number.") var batch: BatchID
        @Argument(help: "The carrier's result file: CSV, or an Excel workbook (xlsx), taken by its content.") var file: String
        @Option(help: ArgumentHelp("The workbook's sheet to read (default: the first with the profile's columns).", valueName: "NAME"))
        var sheet: String?
        @Option(help: ArgumentHelp("Carrier profile: generic, a NAME.profile in ALLOWANCE_PROFILES or profiles/ beside the ledger, or a path.", valueName: "NAME"))
        var profile = "generic"
        @Option(help: ArgumentHelp("Write one row per outcome (this file's lines, then the batch's missing items).", valueName: "FILE.csv"))
        var report: String?
        @OptionGroup var user: UserOptions
        @OptionGroup var output: OutputOptions

        static let exceptionsShown = 20

        func run() throws {
            if let report { try refuseLedgerPath(report, ledger: store.path, option: "--report") }
            let ledger = try store.open()
            if report != nil { try output.recordReveal(ledger, "reconcile \(batch) \(file): report whole", by: try user.user()) }
            let carrierProfile = try parsed { () throws(ProfileError) in
                try CarrierProfile.load(profile, searching: ReconcileView.profileDirectories(ledger: store.path))
            }
            var options = ReconcileOptions(by: try user.user())
            options.profile = carrierProfile
            options.sheet = sheet
            let size = fileSize(path: file) ?? 0
            let result = try ledger.reconciliation.reconcileResultFile(file, batch: batch, options: options) { bytes in
                if size > 0 { Terminal.progress("Reconciling \(file): \(bytes * 100 / size) %") }
            }
            Terminal.endProgress()
            var reportRows: Int?
            if let report {
                reportRows = try ReconcileReport.write(to: report, reconciliation: ledger.reconciliation, batch: batch, fileID: result.fileID, reveal: output.reveal)
            }
            if !result.alreadyImported && result.exceptions > 0 {
                try ledger.reconciliation.reportRows(batch: batch, fileID: result.fileID, includeMissing: false, exceptionsOnly: true,
                                               limit: Self.exceptionsShown) { row in
                    let reason = ReconcileReport.reason(of: row)
                    Terminal.note("\(row.file):\(row.line ?? 0): \(row.outcome.rawValue): \(output.reveal ? reason : redactIdentifiers(reason))")
                }
                if result.exceptions > Self.exceptionsShown {
                    Terminal.note("… and \(result.exceptions - Self.exceptionsShown) more; \(report == nil ? "--report FILE.csv lists them all" : "\(report!) lists them all")")
                }
            }
            if output.json {
                ReconcileJSON.result(result, report: report).print()
            } else {
                if result.alreadyImported {
                    print("\(result.file) was already reconciled against batch \(batch) on \(result.importedAt) by \(result.importedBy); nothing changed.")
                } else {
                    print("Reconciled \(result.file) against batch \(batch): \(Money(dong: Int64(result.lines)).grouped) lines, sha256 \(result.sha256.prefix(16))….")
                }
                print(ReconcileView.table(result.totals, label: "outcome"))
                print("Settled \(result.settled.shown). Carrier clearing still open for the batch: \(ReconcileView.clearingText(result.clearingOpen)).")
                if result.exceptions > 0 {
                    print("\(result.exceptions) exception\(result.exceptions == 1 ? "" : "s") to work.")
                }
                if let report, let reportRows { print("Wrote \(reportRows) report rows to \(report).") }
            }
            if !result.alreadyImported && result.exceptions > 0 { throw ExitCode(2) }
        }
    }
}
