import AllowanceLedger

/// Decides what one result line comes to against the batch's items (README, "Reconciliation outcomes").
public struct ResultLineMatcher {
    public init() {}

    /// Matches a parsed line against `items`. Reads nothing from the database: a reference of another batch is left
    /// for the session to look up when it stores the line (`otherBatchReference`).
    public func match(_ parsed: ParsedResultLine, items: ReconcileItems, fileID: Int64, fileName: String) -> ResultLineRecord {
        var record = ResultLineRecord(line: parsed.line, outcome: .invalidLine)
        record.reference = parsed.referenceText
        record.status = parsed.status
        record.statusWord = parsed.statusWord
        record.msisdn = parsed.msisdn
        record.msisdnText = parsed.msisdnText
        record.amount = parsed.amount
        record.carrierTxnID = parsed.carrierTxnID
        record.completedAt = parsed.completedAt
        record.reasonCode = parsed.reasonCode
        record.reasonText = parsed.reasonText
        guard parsed.problems.isEmpty, let status = parsed.status, let amount = parsed.amount else {
            record.note = parsed.problems.joined(separator: "; ")
            if record.reference == nil, let reference = parsed.reference { record.reference = reference.canonical }
            // An unreadable line whose reference reads still names its item: the item is not missing, so it is
            // neither counted as unpaid nor retried while the carrier's word on it is unclear.
            if let reference = parsed.reference, let index = items.index(of: reference), items.wasSent(at: index) {
                record.itemIndex = index
            }
            return record
        }

        // A readable line: find its item.
        record.outcome = .unknownReference
        guard let reference = parsed.reference else {
            record.note = "reference \"\(redactIdentifiers(parsed.referenceText ?? ""))\" is not an item reference (AL-yyyymm-batch-seq)"
            return record
        }
        guard let index = items.index(of: reference) else {
            if record.reference == nil { record.reference = reference.canonical }
            record.note = "reference names no item of batch \(items.batch.id)"
            if reference.batch != items.batch.id { record.otherBatchReference = reference }
            return record
        }
        if items.isCash(at: index) {
            if record.reference == nil { record.reference = reference.canonical }
            record.note = "reference is a cash item of batch \(items.batch.id); cash is paid at the commune, not by the carrier"
            return record
        }
        guard items.wasSent(at: index) else {
            if record.reference == nil { record.reference = reference.canonical }
            record.note = "the item was never sent: no transfer to \(items.carrier(at: index) ?? "?") is posted for batch \(items.batch.id) (`allowance batch export`)"
            return record
        }
        // When it is spelled as `batch create` wrote it, the stored line need not repeat the reference.
        record.itemIndex = index
        let state = items.state(at: index)
        let expected = items.amount(at: index)

        func mismatch() -> Bool {
            let amountDiffers = amount != expected
            let msisdnDiffers = parsed.msisdn != items.msisdn(at: index)
            guard amountDiffers || msisdnDiffers else { return false }
            let reportedNumber = maskTail(String(parsed.msisdn)), itemNumber = maskTail(String(items.msisdn(at: index)))
            // Masked alike, the two would read as the same number.
            let numberNote = reportedNumber == itemNumber
                ? "msisdn \(reportedNumber) is not the item's number (they differ before the last 3 digits)"
                : "msisdn \(reportedNumber) is not the item's \(itemNumber)"
            if amountDiffers {
                record.outcome = .amountMismatch
                record.note = "amount \(Money(dong: amount).grouped) đồng is not the item's \(Money(dong: expected).grouped) đồng"
                    + (msisdnDiffers ? "; \(numberNote)" : "") + "; nothing was posted"
            } else {
                record.outcome = .msisdnMismatch
                record.note = "\(numberNote); nothing was posted"
            }
            return true
        }

        // Already final: a reversal of a payment, or a further line that repeats or contradicts the first.
        if state != .open {
            if status == .reversed && state == .paid {
                if mismatch() { return record }
                record.outcome = .reversed
                record.effect = .reverse
                record.note = "the carrier reversed the payment and returned the funds; the item is open for a retry"
                return record
            }
            record.outcome = .duplicate
            if let first = items.finalLine(at: index, currentFile: (fileID, fileName)) {
                let paid = items.paidLineBeforeReversal(at: index, currentFile: (fileID, fileName))
                if first.fingerprint == record.fingerprint {
                    record.note = "repeats \(first.place)"
                } else if let paid, paid.fingerprint == record.fingerprint {
                    record.note = "repeats \(paid.place), which the carrier later reversed"
                } else {
                    record.conflicting = true
                    record.note = "conflicts with \(first.place), which made the item \(state.rawValue); the first line stands"
                }
            } else {
                record.conflicting = true
                record.note = "the item is already \(state.rawValue); the line was not applied"
            }
            return record
        }
        if mismatch() { return record }
        switch status {
        case .paid:
            if let retry = items.retriedAs(at: index) {
                record.outcome = .duplicate
                record.conflicting = true
                record.note = "the item was retried as \(retry); the carrier now reports this one paid too: recover one of the two payments"
                return record
            }
            record.outcome = .paid
            record.effect = .settle
        case .failed:
            record.outcome = .failed
            record.effect = .refund
        case .pending:
            record.outcome = .pending
        case .reversed:
            record.outcome = .reversed
            record.note = "the carrier reports a reversal, but the item was never reported paid; nothing was posted"
        }
        return record
    }
}
