import AllowanceLedger
import Reconcile

/// A reconciliation as `reconcile --json` prints it and the API answers.
public enum ReconcileJSON {
    public static func result(_ result: ReconciliationResult, report: String? = nil) -> JSON {
        var fields: [(String, JSON)] = [
            ("batch", .int(result.batch.rawValue)), ("file", .string(result.file)), ("file_sha256", .string(result.sha256)),
            ("lines", .int(result.lines)), ("already_imported", .bool(result.alreadyImported)),
            ("outcomes", outcomes(result.totals)), ("amounts", amounts(result.totals)),
            ("exceptions", .int(result.exceptions)), ("conflicting_duplicates", .int(result.conflictingDuplicates)),
            ("settled", .int(result.settled.dong)), ("clearing_open", clearing(result.clearingOpen)),
            ("imported_at", .string(result.importedAt)), ("imported_by", .string(result.importedBy)),
        ]
        if let report { fields.append(("report", .string(report))) }
        return .object(fields)
    }

    /// `{"paid": n, …}` with every outcome key, in the contract's order.
    public static func outcomes(_ totals: OutcomeTotals) -> JSON {
        .object(ReconcileOutcome.allCases.map { ($0.rawValue, .int(totals.count($0))) })
    }

    public static func amounts(_ totals: OutcomeTotals) -> JSON {
        .object(ReconcileOutcome.allCases.map { ($0.rawValue, .int(totals.amount($0).dong)) })
    }

    public static func clearing(_ open: [String: Money]) -> JSON {
        .object(open.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value.dong)) })
    }
}
