import AllowanceLedger
import AllowanceViews
import AllowanceOffice
import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

extension Allowance.Report {
    struct NonCash: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "noncash",
            abstract: "The share of allowance recipients paid non-cash, by commune, category or carrier, and month by month.",
            discussion: """
            Figures come from the ledger: recipients are beneficiaries with an item in an approved batch of the period; a
            recipient is non-cash when their mobile-money item was settled as paid (failed then paid in cash counts as cash;
            reversed does not count). Rows are ranked by share, lowest first. Without --period or --from/--to: this month.
            --format html writes one self-contained page (inline SVG charts, prints on A4).
            """)

        @OptionGroup var store: StoreOptions

        @Option(help: ArgumentHelp("One month.", valueName: "YYYY-MM"), transform: periodArgument)
        var period: Period?

        @Option(help: ArgumentHelp("First month of a range.", valueName: "YYYY-MM"), transform: periodArgument)
        var from: Period?

        @Option(help: ArgumentHelp("Last month of a range.", valueName: "YYYY-MM"), transform: periodArgument)
        var to: Period?

        @Option(help: ArgumentHelp("Rows by commune, category or carrier.", valueName: "GROUP"))
        var by: NonCashGrouping = .commune

        @Option(help: ArgumentHelp("table, csv, xlsx, json or html.", valueName: "FORMAT"))
        var format: Format = .table

        @Option(help: ArgumentHelp("Write to this file instead of the terminal.", valueName: "FILE"))
        var out: String?

        @Option(help: ArgumentHelp("The province's target share of recipients paid non-cash, in percent.", valueName: "PERCENT"))
        var target: Int = 70

        @Flag(name: .long, help: "Print one JSON object (as --format json).") var json = false

        enum Format: String, ExpressibleByArgument, CaseIterable { case table, csv, xlsx, json, html }

        func validate() throws {
            if period != nil && (from != nil || to != nil) { throw ValidationError("give --period or --from/--to, not both") }
            if (from == nil) != (to == nil) { throw ValidationError("--from and --to go together") }
            if let from, let to, from > to { throw ValidationError("--from \(from) is after --to \(to)") }
            if let from, let to {
                do { try NonCashReport.checkRange(from: from, to: to) } catch { throw ValidationError(Terminal.wording.words(for: error.problem)) }
            }
            if json && format != .json && format != .table { throw ValidationError("--json prints JSON; it cannot go with --format \(format.rawValue)") }
            if !(0...100).contains(target) { throw ValidationError("--target is a percentage from 0 to 100") }
            if (format == .csv || format == .xlsx) && out == nil { throw ValidationError("--format \(format.rawValue) writes a file: give --out FILE.\(format.rawValue)") }
        }

        func run() throws {
            if let out { try refuseLedgerPath(out, ledger: store.path) }
            let ledger = try store.open()
            let (first, last): (Period, Period)
            if let period {
                (first, last) = (period, period)
            } else if let from, let to {
                (first, last) = (from, to)
            } else {
                let month = try environmentClock().now().vietnamPeriod
                (first, last) = (month, month)
            }
            let report = try ledger.reports.nonCash(from: first, to: last, grouping: by, target: Share(basisPoints: Int64(target) * 100))
            if try ledger.payouts.batches().isEmpty {
                Terminal.warning("the ledger at \(store.path) holds no batch; is --db (or ALLOWANCE_DB) the right file?")
            }
            switch json ? .json : format {
            case .csv, .xlsx:
                guard let out else { throw ValidationError("--format \(format.rawValue) writes a file: give --out FILE.\(format.rawValue)") }
                try report.write(to: out, format: format == .xlsx ? .xlsx : .csv)
                print("Wrote \(report.rows.count) rows and the total to \(out).")
            case .json:
                try emit(report.json + "\n")
            case .html:
                try emit(report.html(office: try ledger.audit.officeName()))
                if let out { print("Wrote the report for \(report.periodLabel) to \(out).") }
            case .table:
                try emit(Self.text(report) + "\n")
            }
        }

        /// To `--out` (through a temporary file renamed into place) or to the terminal.
        private func emit(_ text: String) throws {
            guard let out else {
                print(text, terminator: "")
                return
            }
            do { try writeTextFile(text, to: out) } catch { throw CommandError(error.description) }
        }

        static func text(_ report: NonCashReport) -> String {
            func share(_ share: Share?) -> String { share.map { "\($0.vietnamese)" } ?? "—" }
            var out = ["Non-cash share, \(report.periodLabel), by \(report.grouping.rawValue) (target \(report.target.vietnamese)):"]
            out.append("  recipients   \(Money(dong: report.total.recipients).grouped), paid non-cash \(Money(dong: report.total.noncashRecipients).grouped): \(share(report.total.noncashShare))")
            out.append("  amount       \(Money(dong: report.total.amountTotal).shown), non-cash \(Money(dong: report.total.noncashAmount).shown): \(share(report.total.amountShare))")
            out.append("  coverage     \(Money(dong: report.coverage.withMobileMoney).grouped) of \(Money(dong: report.coverage.active).grouped) active beneficiaries have a mobile-money account: \(share(report.coverage.share))")
            out.append("  failed       \(Money(dong: report.total.failedMobileMoney).grouped) mobile-money payment(s) failed or reversed")
            out.append("")
            var table = Table([report.grouping.rawValue, "recipients", "non-cash", "share", "amount", "non-cash amount", "failed"], rightAligned: [1, 2, 3, 4, 5, 6])
            func count(_ value: Int64) -> String { Money(dong: value).grouped }
            for row in report.rows {
                table.add([row.label, count(row.figures.recipients), count(row.figures.noncashRecipients),
                           share(row.figures.noncashShare) + (report.isBelowTarget(row.figures) ? " *" : ""), Money(dong: row.figures.amountTotal).shown,
                           Money(dong: row.figures.noncashAmount).shown, count(row.figures.failedMobileMoney)])
            }
            out.append(table.render())
            if report.rows.contains(where: { report.isBelowTarget($0.figures) }) { out.append("* below the target") }
            if report.months.count > 1 {
                out.append("")
                var months = Table(["month", "recipients", "non-cash", "share"], rightAligned: [1, 2, 3])
                for month in report.months {
                    months.add([month.period.description, count(month.figures.recipients), count(month.figures.noncashRecipients), share(month.figures.noncashShare)])
                }
                out.append(months.render())
            }
            if !report.failureReasons.isEmpty {
                out.append("")
                out.append("Most common failure reasons: " + report.failureReasons.map { "\($0.reason) (\($0.count))" }.joined(separator: "; "))
            }
            return out.joined(separator: "\n")
        }
    }
}

extension NonCashGrouping: ExpressibleByArgument {}
