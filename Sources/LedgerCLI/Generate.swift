import AllowanceLedger
import AllowanceViews
import AllowanceOffice
import ArgumentParser

extension Allowance {
    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deterministic synthetic data in the formats offices and carriers bring.",
            subcommands: [Register.self, Results.self])

        struct Register: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Write a synthetic register CSV.")
            @Option(help: "Number of beneficiaries.") var count: Int
            @Option(help: "Seed; the same seed writes the same bytes.") var seed: UInt64 = 1
            @Option(help: "Share on mobile money, in percent.") var mobilePercent: Int = 50
            @Option(help: "Output file.") var out: String
            @OptionGroup var output: OutputOptions

            func run() throws {
                guard count > 0, count <= 10_000_000 else { throw CommandError("--count must be between 1 and 10,000,000") }
                guard (0...100).contains(mobilePercent) else { throw CommandError("--mobile-percent must be between 0 and 100") }
                var generator = RegisterGenerator(count: count, seed: seed)
                generator.mobileMoneyPercent = mobilePercent
                try generator.write(to: out)
                if output.json {
                    JSON.object([("file", .string(out)), ("count", .int(count)), ("seed", .string(String(seed)))]).print()
                } else {
                    print("Wrote \(count) beneficiaries to \(out) (seed \(seed)).")
                }
            }
        }
    }
}

extension ResultOrder: ExpressibleByArgument {}

extension Allowance.Generate {
    struct Results: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a synthetic carrier result file for an exported batch (generic profile, with real files' quirks).",
            discussion: "Mix weights are relative: --mix paid=97,failed=2,missing=1. Outcomes: \(ReconcileOutcome.allCases.map(\.rawValue).joined(separator: ", ")).")
        @OptionGroup var store: StoreOptions
        @Option(help: "Batch number.") var batch: BatchID
        @Option(help: "Seed; the same seed and batch write the same bytes.") var seed: UInt64 = 1
        @Option(help: ArgumentHelp("Relative weight per outcome (default \(ResultMix.realistic)).", valueName: "OUTCOME=N,…"))
        var mix: String?
        @Option(help: "carrier: by completion time across the carrier's payment workers, repeats and reversals in a later run; batch: item by item.")
        var order: ResultOrder = .carrier
        @Option(help: "Output file.") var out: String
        @OptionGroup var output: OutputOptions

        func run() throws {
            var generator = ResultGenerator(seed: seed)
            generator.order = order
            if let mix { generator.mix = try parsed { () throws(FieldError) in try ResultMix(parsing: mix) } }
            let summary = try store.open().writeResults(generator, batch: batch, to: out)
            if output.json {
                JSON.object([("file", .string(out)), ("batch", .int(batch.rawValue)), ("seed", .string(String(seed))), ("order", .string(order.rawValue)), ("lines", .int(summary.lines)),
                             ("intended", .object(ReconcileOutcome.allCases.map { ($0.rawValue, .int(summary.intended[$0] ?? 0)) }))]).print()
            } else {
                print("Wrote \(summary.lines) result lines for batch \(batch) to \(out) (seed \(seed)): "
                      + ReconcileOutcome.allCases.compactMap { outcome in summary.intended[outcome].map { "\(outcome.rawValue) \($0)" } }.joined(separator: ", "))
            }
        }
    }
}
