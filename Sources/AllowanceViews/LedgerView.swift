import AllowanceLedger

/// `ledger verify` as `--json` prints it and the API answers; `verdict` names the first key (`intact` in the CLI, `ok`
/// in the API, as each contract says).
public enum LedgerView {
    public static func verification(_ result: LedgerVerification, verdict: String) -> [(String, JSON)] {
        [
            (verdict, .bool(result.isIntact)), ("entries", .int(result.entries)), ("postings", .int(result.postings)),
            ("head_hash", .string(result.headHash)), ("register_links", .int(result.registerLinks)),
            ("register_head_hash", .string(result.registerHeadHash)), ("first_broken_entry", result.firstBrokenEntry.map { .int($0) } ?? .null),
            ("problem_count", .int(result.problemCount)),
            ("problems", .array(result.problems.map { .object([("kind", .string($0.kind.rawValue)), ("entry", $0.entryID.map { .int($0) } ?? .null),
                                                               ("message", .string($0.message))]) })),
        ]
    }
}
