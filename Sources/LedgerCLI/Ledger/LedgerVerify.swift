import AllowanceLedger
import AllowanceOffice
import ArgumentParser

extension Allowance.Ledger {
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-check every entry's balance and the whole hash chain; name the first broken entry.",
            discussion: "Exit 0 when intact, 2 when anything is broken.")

        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let result = try store.open().journal.verify { count in Terminal.progress("verifying: \(count) entries") }
            Terminal.endProgress()
            if output.json {
                JSON.object([
                    ("intact", .bool(result.isIntact)), ("entries", .int(result.entries)), ("postings", .int(result.postings)),
                    ("head_hash", .string(result.headHash)), ("first_broken_entry", result.firstBrokenEntry.map { .int($0) } ?? .null),
                    ("problem_count", .int(result.problemCount)),
                    ("problems", .array(result.problems.map { .object([("kind", .string($0.kind.rawValue)),
                                                                       ("entry", $0.entryID.map { .int($0) } ?? .null),
                                                                       ("message", .string($0.message))]) })),
                ]).print()
            } else if result.isIntact {
                print("Ledger intact: \(result.entries) entries, \(result.postings) postings, every entry balanced, chain unbroken.")
                print("Chain head: \(result.headHash)")
            } else {
                print("Ledger BROKEN: \(result.problemCount) problem(s) in \(result.entries) entries.")
                if let first = result.firstBrokenEntry { print("First broken entry: \(first)") }
                for problem in result.problems { print("  \(problem)") }
            }
            if result.entries == 0 {
                Terminal.warning("the ledger at \(store.path) holds no journal entries; is --db (or ALLOWANCE_DB) the right file?")
            }
            if !result.isIntact { throw ExitCode(2) }
        }
    }
}
