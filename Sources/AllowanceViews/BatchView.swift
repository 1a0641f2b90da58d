import AllowanceLedger

/// A batch as `--json` prints it and the API answers.
public enum BatchView {
    public static func json(_ batch: AllowanceLedger.Batch) -> JSON {
        .object([
            ("batch", .int(batch.id.rawValue)), ("period", .string(batch.period.description)),
            ("communes", .array(batch.communes.map { .string($0.value) })), ("status", .string(batch.status.rawValue)),
            ("created_by", .string(batch.createdBy)), ("created_at", .string(batch.createdAt)),
            ("approved_by", .optional(batch.approvedBy)), ("approved_at", .optional(batch.approvedAt)),
            ("exported_at", .optional(batch.exportedAt)), ("held_out", .int(batch.heldOut)),
            ("retry_of", batch.retryOf.map { .int($0.rawValue) } ?? .null),
            ("one_off", batch.oneOff.map { .object([("name", .string($0.name)), ("amount", .int($0.amount.dong))]) } ?? .null),
        ])
    }

    /// The benefit changes a month brings by age (`batch create`, `beneficiary due`).
    public static func changes(_ changes: [BenefitChange]) -> JSON {
        .array(changes.map { change in
            .object([("beneficiary", .int(change.beneficiary.rawValue)), ("name", .string(change.name)), ("commune", .string(change.commune)),
                     ("date_of_birth", .string(change.dateOfBirth.description)), ("kind", .string(change.kind.rawValue)),
                     ("from", .string(change.from.value)), ("to", .string(change.to.value)), ("age", .int(Int64(change.age)))])
        })
    }

    public static func lines(_ lines: [BatchSummary.Line]) -> JSON {
        .array(lines.map { .object([("key", .string($0.key)), ("items", .int($0.items)), ("amount", .int($0.amount.dong))]) })
    }

    /// `batch show --json`: the batch, its breakdowns and entries, and the payees whose number changed.
    public static func show(_ summary: BatchSummary, numberChanges changes: [NumberChange]) -> JSON {
        guard case .object(var pairs) = json(summary.batch) else { preconditionFailure("a batch renders as an object") }
        pairs += [("items", .int(summary.items)), ("total", .int(summary.total.dong)),
                  ("by_method", lines(summary.byMethod)), ("by_carrier", lines(summary.byCarrier)),
                  ("by_commune", lines(summary.byCommune)), ("by_state", lines(summary.byState)),
                  ("held_out_by_reason", .object(summary.heldOutByReason.map { ($0.key, .int($0.items)) })),
                  ("entries", .array(summary.entries.map { .object([("id", .int($0.id)), ("kind", .string($0.kind)),
                                                                     ("at", .string($0.at)), ("amount", .int($0.amount.dong))]) })),
                  ("number_changes", numberChanges(changes))]
        return JSON.object(pairs)
    }

    /// The payees to be paid on another number than last time, masked.
    public static func numberChanges(_ changes: [NumberChange]) -> JSON {
        .array(changes.map { .object([("seq", .int($0.seq)), ("beneficiary", .int($0.beneficiary.rawValue)),
                                      ("msisdn", .string(maskTail($0.msisdn))), ("last_paid_msisdn", .string(maskTail($0.lastPaidMSISDN))),
                                      ("last_paid_period", .string($0.lastPaidPeriod))]) })
    }

    /// `batch create --json`.
    public static func created(_ result: BatchCreateResult) -> JSON {
        .object([
            ("batch", .int(result.batch.id.rawValue)), ("period", .string(result.batch.period.description)),
            ("items", .int(result.items)), ("total", .int(result.total.dong)),
            ("mobile_money_items", .int(result.mobileMoneyItems)), ("cash_items", .int(result.cashItems)),
            ("held_out", .int(result.batch.heldOut)),
            ("held_out_by_reason", .object(result.heldOutByKind.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })),
            ("skipped_existing", .int(result.skippedExisting)), ("status", .string(result.batch.status.rawValue)),
            ("one_off", result.batch.oneOff.map { .object([("name", .string($0.name)), ("amount", .int($0.amount.dong))]) } ?? .null),
            ("changes", changes(result.changes)), ("two_benefits", .int(result.twoBenefits)),
            ("paid_by_age", .object(result.paidByAge.sorted { $0.key < $1.key }.map { ($0.key.value, .int($0.value)) })),
        ])
    }

    /// `batch approve --json`.
    public static func approved(_ batch: Batch, entry: JournalEntryID, total: Money, numberChanges changes: [NumberChange]) -> JSON {
        .object([("batch", .int(batch.id.rawValue)), ("status", .string(batch.status.rawValue)),
                 ("approved_by", .optional(batch.approvedBy)), ("entry", .int(entry.rawValue)),
                 ("total", .int(total.dong)), ("number_changes", numberChanges(changes))])
    }
}
