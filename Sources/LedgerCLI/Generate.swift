import AllowanceLedger
import ArgumentParser

extension Allowance {
    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deterministic synthetic data in the formats offices and carriers bring.",
            subcommands: [Register.self])

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
