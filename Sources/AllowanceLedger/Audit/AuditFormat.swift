/// The audit export's format (`allowance-audit-export/v1`, documented in the README): its files, their columns in
/// order, and the control totals the manifest carries for each. The exporter and the verifier both read it here.
public enum AuditFormat {
    public static let version = "allowance-audit-export/v1"
    /// Prefixed to the manifest's canonical bytes before they are signed, so that a signature made for this purpose
    /// can never pass for one over some other message under the same key.
    public static let signatureDomain = "allowance-audit-export/v1\n"
    public static let manifestName = "manifest.json"
    public static let hmacName = "manifest.sig"
    public static let ed25519Name = "manifest.ed25519.sig"

    /// A control total: the sum of one integer column over the file's rows (of positive values only, or of the
    /// negated negative values only, for debits and credits).
    struct Total: Sendable {
        enum Sign: Sendable { case any, positive, negative }
        let name: String
        let column: String
        let sign: Sign
    }

    package struct FileSpec: Sendable {
        package let name: String
        package let columns: [String]
        let totals: [Total]

        func column(_ name: String) -> Int {
            guard let index = columns.firstIndex(of: name) else { preconditionFailure("\(self.name) has no column \(name)") }
            return index
        }
    }

    package static let journal = FileSpec(name: "journal_entries.csv", columns: [
        "entry_id", "at", "kind", "idempotency_key", "batch_id", "memo", "created_by", "prev_hash", "hash", "postings_included",
    ], totals: [])
    package static let postings = FileSpec(name: "postings.csv", columns: [
        "entry_id", "leg", "account", "sub_account", "beneficiary_id", "item_id", "amount",
    ], totals: [Total(name: "debits", column: "amount", sign: .positive), Total(name: "credits", column: "amount", sign: .negative)])
    package static let batches = FileSpec(name: "batches.csv", columns: [
        "batch_id", "period", "scope", "status", "retry_of", "created_by", "created_at", "approved_by", "approved_at", "exported_at",
        "held_out", "item_count", "item_total", "item_digest", "cancelled_at", "cancelled_by", "cancel_reason",
    ], totals: [Total(name: "item_count", column: "item_count", sign: .any), Total(name: "item_total", column: "item_total", sign: .any)])
    package static let items = FileSpec(name: "batch_items.csv", columns: [
        "item_id", "batch_id", "seq", "reference", "beneficiary_id", "person", "period", "commune_code", "category", "method", "carrier",
        "msisdn", "account_name", "amount", "retry_of_item", "attempt", "state",
    ], totals: [Total(name: "amount", column: "amount", sign: .any)])
    package static let resultFiles = FileSpec(name: "result_files.csv", columns: [
        "file_id", "batch_id", "file_name", "sha256", "byte_size", "profile", "profile_sha256", "imported_at", "imported_by", "lines",
    ], totals: [Total(name: "byte_size", column: "byte_size", sign: .any), Total(name: "lines", column: "lines", sign: .any)])
    package static let reconciliation = FileSpec(name: "reconciliation.csv", columns: [
        "file_id", "line", "batch_id", "outcome", "effect", "item_id", "reference", "status", "msisdn", "amount", "carrier_txn_id",
        "completed_at", "reason_code", "reason_text", "note", "conflicting", "leg",
    ], totals: [Total(name: "amount", column: "amount", sign: .any)])
    package static let accountChanges = FileSpec(name: "account_changes.csv", columns: [
        "event_id", "beneficiary_id", "person", "at", "by", "kind", "old_value", "new_value", "reason",
    ], totals: [])
    package static let flagClearances = FileSpec(name: "flag_clearances.csv", columns: [
        "flag_id", "beneficiary_id", "person", "kind", "evidence", "evidence_at", "detail", "raised_at", "cleared_at", "cleared_by", "clear_reason",
    ], totals: [])

    /// Every data file, in the order the manifest lists them.
    static let files: [FileSpec] = [journal, postings, batches, items, resultFiles, reconciliation, accountChanges, flagClearances]

    /// The name of every data file, in manifest order.
    public static var fileNames: [String] { files.map(\.name) }
}

/// Control totals of one file, summed as rows go by; a sum that overflows is an error, never a wrapped number.
package struct ControlTotals {
    let spec: AuditFormat.FileSpec
    /// For each column, the totals it feeds.
    private let byColumn: [[Int]]
    private(set) var values: [Int64]
    private(set) var overflowed = false

    package init(_ spec: AuditFormat.FileSpec) {
        self.spec = spec
        var byColumn = [[Int]](repeating: [], count: spec.columns.count)
        for (index, total) in spec.totals.enumerated() { byColumn[spec.column(total.column)].append(index) }
        self.byColumn = byColumn
        self.values = [Int64](repeating: 0, count: spec.totals.count)
    }

    var hasTotals: Bool { !values.isEmpty }

    package func feeds(column: Int) -> Bool { !byColumn[column].isEmpty }

    package mutating func add(column: Int, _ value: Int64) {
        for index in byColumn[column] {
            let amount: Int64
            switch spec.totals[index].sign {
            case .any: amount = value
            case .positive: amount = value > 0 ? value : 0
            case .negative: amount = value < 0 ? (value == .min ? 0 : -value) : 0
            }
            let (sum, overflow) = values[index].addingReportingOverflow(amount)
            if overflow || (spec.totals[index].sign == .negative && value == .min) { overflowed = true }
            values[index] = sum
        }
    }

    /// Name and value of each total, in the spec's order.
    var named: [(name: String, value: Int64)] { zip(spec.totals, values).map { ($0.name, $1) } }
}
