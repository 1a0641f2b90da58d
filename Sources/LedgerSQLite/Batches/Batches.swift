import AllowanceLedger
import GRDB

extension Store {
    static func batch(from row: Row) throws -> Batch {
        let scope: String = row[2]
        return Batch(id: BatchID(row[0]), period: try Period(parsing: row[1]),
                     communes: scope == "*" ? [] : scope.split(separator: ",").map { Code(trusted: String($0)) },
                     status: BatchStatus(rawValue: row[3]) ?? .created, retryOf: (row[4] as Int64?).map(BatchID.init),
                     createdBy: row[5], createdAt: row[6], approvedBy: row[7], approvedAt: row[8], exportedAt: row[9], heldOut: row[10],
                     oneOff: (row[11] as String?).map { OneOffPayment(trusted: $0, amount: Money(dong: row[12] ?? 0)) })
    }

    static let batchColumns = "id, period, scope, status, retry_of, created_by, created_at, approved_by, approved_at, exported_at, held_out, one_off, one_off_amount"

    static func fetchBatch(_ db: Database, _ id: BatchID) throws -> Batch {
        guard let row = try Row.fetchOne(db, sql: "SELECT \(batchColumns) FROM batch WHERE id = ?", arguments: [id.rawValue]) else {
            throw BatchError.notFound(id.description)
        }
        return try batch(from: row)
    }

    /// SQL finding the item whose reference is exactly a text (`alias` the item table), through the (batch, seq) index:
    /// the reference has no index of its own (Migrations.itemReferenceV7). Bound with `referenceArguments`.
    static func itemByReferenceSQL(_ alias: String) -> String {
        "\(alias).batch_id = ? AND \(alias).seq = ? AND \(alias).reference = ?"
    }

    /// The arguments of `itemByReferenceSQL`; nil when the text cannot be any item's reference.
    static func referenceArguments(_ text: String) -> StatementArguments? {
        guard let parsed = ItemReference(text) else { return nil }
        return [parsed.batch.rawValue, parsed.seq, text]
    }

    /// Every column that names a batch item (`REFERENCES batch_item(id)`): what `cancelBatch` checks before the items go.
    static let itemReferences = [("posting", "item_id"), ("posting_item", "item_id"), ("result_line", "item_id"), ("item_state", "item_id"), ("batch_item", "retry_of_item")]

    /// The row ids of a batch's items, when they run without gaps from its first item to its last in seq order, as
    /// they do for every batch made by one insert: a scan of that id range reads the items in table order, twice as
    /// fast as going through the (batch_id, seq) index. Found with two index look-ups; nil when the ids do not fit. A
    /// reader of the range still checks what it read (reconcile: each row is the batch's next item; the report: it found
    /// as many of the batches' items as the runs hold) and reads through the index if not.
    static func itemIDRun(_ db: Database, batch: BatchID) throws -> ClosedRange<Int64>? {
        // The first item must be seq 1: with seqs from 1 to the last one, unique per batch, the run's length is the
        // batch's item count, which a reader that only counts (the report) relies on.
        guard let first = try Row.fetchOne(db, sql: "SELECT id, seq FROM batch_item WHERE batch_id = ? ORDER BY seq LIMIT 1",
                                           arguments: [batch.rawValue]),
              (first[1] as Int64) == 1,
              let last = try Row.fetchOne(db, sql: "SELECT id, seq FROM batch_item WHERE batch_id = ? ORDER BY seq DESC LIMIT 1",
                                          arguments: [batch.rawValue]),
              (last[0] as Int64) - (first[0] as Int64) + 1 == (last[1] as Int64) else { return nil }
        return (first[0] as Int64)...(last[0] as Int64)
    }

    static func itemSeal(_ db: Database, batch: BatchID) throws -> ItemSeal {
        let items = try FastStatement(db, """
            SELECT reference, beneficiary_id, method, carrier, msisdn, account_name, amount FROM batch_item WHERE batch_id = ? ORDER BY seq
            """)
        defer { items.reset() }
        items.bind(1, batch.rawValue)
        var sealer = ItemSealer()
        while try items.step() { try sealer.add(row: items) }
        return sealer.finish()
    }

}

extension ItemSealer {
    mutating func add(row: FastStatement) throws {
        let amount = row.int64(6)
        try count(amount)
        field(row.bytes(0))
        field(row.int64(1))
        field(row.bytes(2))
        if row.isNull(3) { Self.dash.withUnsafeBufferPointer { field($0) } } else { field(row.bytes(3)) }
        if row.isNull(4) { Self.dash.withUnsafeBufferPointer { field($0) } } else { field(row.bytes(4)) }
        field(row.bytes(5))
        field(amount)
        endItem()
    }
}
