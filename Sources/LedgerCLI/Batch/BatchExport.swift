import AllowanceLedger
import AllowanceViews
import AllowanceOffice
import ArgumentParser

extension Allowance.Batch {
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the payment instruction file for the carrier and record the funds sent (Dr 1100 / Cr 1000).",
            discussion: """
            Header: reference,msisdn,account_name,amount,narrative. Exporting again rewrites the same bytes and posts nothing twice.             As xlsx (--format xlsx, or --out ending .xlsx): references and numbers as text cells, amounts as numbers.
            """)

        @OptionGroup var store: StoreOptions
        @Argument(help: "Batch number.") var batch: BatchID
        @Option(help: "The instruction file to write.") var out: String
        @Option(help: "Only this carrier's items (one file per carrier).") var carrier: String?
        @Option(help: ArgumentHelp("csv or xlsx (default: xlsx when --out ends .xlsx, else csv).", valueName: "FORMAT"))
        var format: TableFormat?
        @OptionGroup var user: UserOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let code = try carrier.map { text in try parsed { () throws(FieldError) in try Code(parsing: text, field: "carrier", uppercase: true) } }
            try refuseLedgerPath(out, ledger: store.path, what: "the instructions")
            let result = try store.open().payouts.exportBatch(batch, to: out, carrier: code, format: format, by: try user.user())
            if output.json {
                JSON.object([
                    ("batch", .int(result.batch.id.rawValue)), ("file", .string(result.path)), ("lines", .int(result.lines)),
                    ("total", .int(result.total.dong)),
                    ("transfers_posted", .object(result.transfersPosted.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value.dong)) })),
                    ("transfers_already_posted", .object(result.transfersAlreadyPosted.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value.dong)) })),
                    ("treasury_balance", .int(result.treasuryBalance.dong)),
                ]).print()
            } else {
                print("Wrote \(result.lines) payment instructions (\(result.total.shown)) to \(result.path).")
                for (code, amount) in result.transfersPosted.sorted(by: { $0.key < $1.key }) {
                    print("Recorded \(amount.shown) sent to \(code).")
                }
                if !result.transfersAlreadyPosted.isEmpty {
                    print("Transfers to \(result.transfersAlreadyPosted.keys.sorted().joined(separator: ", ")) were recorded by an earlier export; nothing posted twice.")
                }
            }
            if result.treasuryBalance.dong < 0 {
                Terminal.warning("the treasury is \(result.treasuryBalance.negated.shown) short; record the budget received with `allowance fund`")
            }
        }
    }
}

extension TableFormat: ExpressibleByArgument {}
