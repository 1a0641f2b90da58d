import AllowanceLedger

/// Decides what one result line comes to against the batch's items (README, "Reconciliation outcomes").
public struct ResultLineMatcher {
    public let profile: CarrierProfile
    /// Status words seen so far: a file uses a handful of spellings a million times.
    private var statusCache: [String: CarrierStatus?] = [:]

    public init(profile: CarrierProfile) { self.profile = profile }

    mutating func status(of word: String) -> CarrierStatus? {
        if let known = statusCache[word] { return known }
        let status = profile.status(of: word)
        if statusCache.count < 1024 { statusCache[word] = status }
        return status
    }

    /// Reads and checks the line's fields, then matches it against `items`; `owner` says which batch holds a
    /// reference of another batch.
    public mutating func match(_ raw: RawResultLine, items: ReconcileItems, fileID: Int64, fileName: String,
                               owner: (ItemReference) throws -> BatchID?) rethrows -> ResultLineRecord {
        var record = ResultLineRecord(line: raw.line, outcome: .invalidLine, reference: raw.reference)
        record.carrierTxnID = raw.carrierTxnID
        record.reasonCode = raw.reasonCode
        record.reasonText = raw.reasonText
        record.msisdn = raw.msisdn.isEmpty ? nil : raw.msisdn
        if let problem = raw.recordProblem {
            record.completedAt = raw.completedAt
            record.note = problem
            return record
        }

        var reasons: [String] = []
        if raw.reference.isEmpty { reasons.append("reference is empty") }
        var msisdn: UInt64 = 0
        do {
            let parsed = try MSISDN(parsing: raw.msisdn)
            record.msisdn = parsed.canonical
            msisdn = UInt64(parsed.canonical)!
        } catch {
            reasons.append(error.description)
        }
        do {
            let amount = try Money(parsing: raw.amount)
            record.amount = amount.dong
            if amount.dong <= 0 { reasons.append("amount \(amount.dong) is not a payment; amounts are whole đồng above 0") }
        } catch {
            reasons.append(error.description)
        }
        if raw.status.isEmpty {
            reasons.append("status is empty")
        } else if let status = status(of: raw.status) {
            record.status = status
        } else {
            reasons.append("status \"\(redactIdentifiers(raw.status))\" is not a status word of profile \(profile.name); "
                           + "add it to the profile as status.paid, status.failed, status.pending or status.reversed")
        }
        if !raw.completedAt.isEmpty {
            if let normalized = profile.dateFormat.normalize(raw.completedAt) {
                record.completedAt = normalized
            } else {
                record.completedAt = raw.completedAt
                reasons.append("completed_at \"\(redactIdentifiers(raw.completedAt))\" does not match profile \(profile.name)'s date format \(profile.dateFormat)")
            }
        }
        guard reasons.isEmpty, let status = record.status, let amount = record.amount else {
            record.note = reasons.joined(separator: "; ")
            return record
        }

        // A readable line: find its item.
        record.outcome = .unknownReference
        var text = raw.reference
        guard let reference = text.withUTF8({ ItemReference($0) }) else {
            record.note = "reference \"\(redactIdentifiers(raw.reference))\" is not an item reference (AL-yyyymm-batch-seq)"
            return record
        }
        guard let index = items.index(of: reference) else {
            if let other = try owner(reference) {
                record.note = "reference belongs to batch \(other), not batch \(items.batch.id); reconcile this line against batch \(other)"
            } else {
                record.note = "reference names no item of batch \(items.batch.id)"
            }
            return record
        }
        if items.isCash(at: index) {
            record.note = "reference is a cash item of batch \(items.batch.id); cash is paid at the commune, not by the carrier"
            return record
        }
        guard items.wasSent(at: index) else {
            record.note = "the item was never sent: no transfer to \(items.carrier(at: index) ?? "?") is posted for batch \(items.batch.id) (`allowance batch export`)"
            return record
        }
        record.itemIndex = index
        let state = items.state(at: index)
        let expected = items.amount(at: index)

        func mismatch() -> Bool {
            let amountDiffers = amount != expected
            let msisdnDiffers = msisdn != items.msisdn(at: index)
            guard amountDiffers || msisdnDiffers else { return false }
            let numberNote = "msisdn \(maskTail(String(msisdn))) is not the item's \(maskTail(String(items.msisdn(at: index))))"
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
                if first.fingerprint == record.fingerprint {
                    record.note = "repeats \(first.place)"
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
