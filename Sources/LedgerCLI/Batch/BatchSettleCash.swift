import AllowanceLedger
import AllowanceViews
import AllowanceOffice
import ArgumentParser

extension Allowance.Batch {
    struct SettleCash: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "settle-cash",
            abstract: "Record cash items paid at the commune: Dr 2000 / Cr 1200 (per commune cash desk).",
            discussion: "--file takes a CSV with a `reference` column, or one reference per line.")

        @OptionGroup var store: StoreOptions
        @Argument(help: "Batch number.") var batch: BatchID
        @Flag(help: "Every open cash item of the batch.") var all = false
        @Option(help: "An item reference (repeat for several).") var reference: [String] = []
        @Option(help: "A file of references.") var file: String?
        @OptionGroup var user: UserOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            let chosen = (all ? 1 : 0) + (reference.isEmpty ? 0 : 1) + (file == nil ? 0 : 1)
            guard chosen == 1 else { throw ValidationError("give exactly one of --all, --reference or --file") }
        }

        func run() throws {
            let selection: CashSelection
            if all {
                selection = .all
            } else if let file {
                selection = .references(try Self.references(in: file))
            } else {
                selection = .references(reference.map { CashReference($0, origin: "--reference") })
            }
            let result = try store.open().payouts.settleCash(batch, selection, by: try user.user())
            for problem in result.problems { Terminal.error(problem) }
            if output.json {
                JSON.object([("batch", .int(result.batch.rawValue)), ("settled", .int(result.settled)), ("amount", .int(result.amount.dong)),
                             ("already_settled", .int(result.alreadySettled)), ("entry", result.entry.map { .int($0.rawValue) } ?? .null),
                             ("problems", .array(result.problems.map(JSON.string)))]).print()
            } else {
                print("Settled \(result.settled) cash item(s) of batch \(result.batch): \(result.amount.shown)"
                    + (result.entry.map { " (entry \($0))" } ?? "") + "."
                    + (result.alreadySettled > 0 ? " \(result.alreadySettled) were already settled." : ""))
            }
            for (commune, short) in result.desksShort.sorted(by: { $0.key < $1.key }) {
                Terminal.warning("commune \(commune)'s cash desk paid out \(short.shown) more than it was handed; record the cash with `allowance batch advance-cash`")
            }
            // The good references are settled and stay settled; the bad ones make the exit code 1.
            if !result.problems.isEmpty { throw ExitCode(1) }
        }

        /// The file's references; each line that holds none is printed as an error of its own.
        static func references(in path: String) throws -> [CashReference] {
            do {
                return try CashReference.read(from: path)
            } catch CashReferenceFileError.badLines(let lines) {
                for line in lines { Terminal.error(line.description(in: Terminal.wording)) }
                throw ExitCode(1)
            }
        }
    }
}

