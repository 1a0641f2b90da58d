/// What one line of a carrier's result file came to, or (`missing`) that no line has named an item yet.
public enum ReconcileOutcome: String, Sendable, CaseIterable {
    case paid
    case failed
    case pending
    case reversed
    case amountMismatch = "amount_mismatch"
    case msisdnMismatch = "msisdn_mismatch"
    case unknownReference = "unknown_reference"
    case duplicate
    case invalidLine = "invalid_line"
    case missing

    /// Outcomes an auditor has to work. A duplicate is one only when it disagrees with the line it repeats.
    public var isException: Bool {
        switch self {
        case .paid, .failed, .pending, .missing, .duplicate: false
        case .reversed, .amountMismatch, .msisdnMismatch, .unknownReference, .invalidLine: true
        }
    }
}

/// What the carrier says happened to a payment, after its status word is read through the profile.
public enum CarrierStatus: String, Sendable, CaseIterable {
    case paid, failed, pending, reversed

    /// The status's place in `allCases`; stored fingerprints depend on it.
    var ordinal: Int {
        switch self {
        case .paid: 0
        case .failed: 1
        case .pending: 2
        case .reversed: 3
        }
    }
}

/// The posting a result line causes.
public enum ReconcileEffect: String, Sendable {
    /// Dr beneficiary payable / Cr carrier clearing: the money reached the beneficiary.
    case settle
    /// Dr treasury / Cr carrier clearing: the payment failed and the funds came back; the payable stays open.
    case refund
    /// Dr treasury / Cr beneficiary payable: the payment came back from the beneficiary's wallet and the carrier
    /// returned the funds (the clearing's two movements cancel), so the payable reopens.
    case reverse
}

/// Where a batch item stands, as the ledger records it.
public enum ItemState: String, Sendable {
    case open
    case paid
    case failed
    case paidCash = "paid_cash"
}

/// The parts of an item reference `AL-<yyyymm>-<batch>-<seq>`, read from bytes without building a string.
public struct ItemReference: Sendable, Hashable {
    public let periodCompact: Int
    public let batch: BatchID
    public let seq: Int64
    /// Written exactly as `batch create` writes it (`AL-`, zero-padded numbers, nothing around it).
    public let isCanonicalSpelling: Bool

    /// Reads `AL-202611-000001-0000001` (any letter case, spaces around it); nil when the text is not one.
    public init?(_ field: UnsafeBufferPointer<UInt8>) {
        let text = field.trimmingSpaces
        let end = text.count
        guard end >= 3 + 6 + 1 + 1 + 1 + 1, end <= 40,
              text[0] | 0x20 == UInt8(ascii: "a"), text[1] | 0x20 == UInt8(ascii: "l"), text[2] == UInt8(ascii: "-")
        else { return nil }
        // Three numbers in locals: this runs once per line of a million-line file.
        var period: Int64 = 0, batch: Int64 = 0, seq: Int64 = 0
        var periodDigits = 0, batchDigits = 0, seqDigits = 0
        var part = 0
        var index = 3
        while index < end {
            let byte = text[index]
            index += 1
            if byte == UInt8(ascii: "-") {
                part += 1
                if part > 2 { return nil }
                continue
            }
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            let digit = Int64(byte - 0x30)
            switch part {
            case 0: period = period * 10 + digit; periodDigits += 1
            case 1: batch = batch * 10 + digit; batchDigits += 1
            default: seq = seq * 10 + digit; seqDigits += 1
            }
            if periodDigits > 6 || batchDigits > 12 || seqDigits > 12 { return nil }
        }
        guard part == 2, periodDigits == 6, batchDigits >= 1, seqDigits >= 1 else { return nil }
        self.periodCompact = Int(period)
        self.batch = BatchID(batch)
        self.seq = seq
        func digitCount(_ value: Int64) -> Int { value < 10 ? 1 : 1 + digitCount(value / 10) }
        isCanonicalSpelling = text.count == field.count && text[0] == UInt8(ascii: "A") && text[1] == UInt8(ascii: "L")
            && batchDigits == max(6, digitCount(batch)) && seqDigits == max(7, digitCount(seq))
    }

    public init?(_ text: String) {
        var text = text
        guard let parsed = text.withUTF8({ ItemReference($0) }) else { return nil }
        self = parsed
    }

    /// The reference of item `seq` of `batch`, paying `period`.
    public init(period: Period, batch: BatchID, seq: Int64) {
        periodCompact = period.year * 100 + period.month
        self.batch = batch
        self.seq = seq
        isCanonicalSpelling = true
    }

    /// `AL-202611-000001-0000001`: the one place a reference is written. `batch create` (through the SQL function
    /// `allowance_item_reference`, tested against this), retries, the instruction file and every message spell it so.
    public var canonical: String {
        let period = Period(year: periodCompact / 100, month: periodCompact % 100).map(\.compact) ?? String(periodCompact)
        return "AL-\(period)-\(pad(Int(batch.rawValue), 6))-\(pad(Int(seq), 7))"
    }
}

/// FNV-1a over the fields that make two reports of one payment the same (status, amount, number, carrier
/// transaction): stable across runs and machines, so a line can be compared with one imported months ago.
public func resultLineFingerprint(status: CarrierStatus?, amount: Int64?, msisdn: UInt64, carrierTxnID: String) -> Int64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    func mix(_ byte: UInt8) {
        hash ^= UInt64(byte)
        hash = hash &* 0x0000_0100_0000_01B3
    }
    func mix(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { mix(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }
    // The status's place in `allCases`, plus one (0 for none), spelled out: building `allCases` to search it cost more
    // than the rest of the hash. A test holds the two to each other.
    mix(UInt8(status.map { $0.ordinal + 1 } ?? 0))
    mix(amount.map { UInt64(bitPattern: $0) } ?? UInt64.max)
    mix(msisdn)
    for byte in carrierTxnID.utf8 { mix(byte) }
    return Int64(bitPattern: hash)
}

extension ReconcileOutcome {
    /// The outcome's place in `allCases`.
    package var ordinal: Int {
        switch self {
        case .paid: 0
        case .failed: 1
        case .pending: 2
        case .reversed: 3
        case .amountMismatch: 4
        case .msisdnMismatch: 5
        case .unknownReference: 6
        case .duplicate: 7
        case .invalidLine: 8
        case .missing: 9
        }
    }
}

extension ReconcileOutcome: StaticText {
    package var staticText: StaticString {
        switch self {
        case .paid: "paid"
        case .failed: "failed"
        case .pending: "pending"
        case .reversed: "reversed"
        case .amountMismatch: "amount_mismatch"
        case .msisdnMismatch: "msisdn_mismatch"
        case .unknownReference: "unknown_reference"
        case .duplicate: "duplicate"
        case .invalidLine: "invalid_line"
        case .missing: "missing"
        }
    }
}

extension CarrierStatus: StaticText {
    package var staticText: StaticString {
        switch self {
        case .paid: "paid"
        case .failed: "failed"
        case .pending: "pending"
        case .reversed: "reversed"
        }
    }
}

extension ReconcileEffect: CaseIterable, StaticText {
    package var staticText: StaticString {
        switch self {
        case .settle: "settle"
        case .refund: "refund"
        case .reverse: "reverse"
        }
    }
}

extension ItemState: CaseIterable, StaticText {
    package var staticText: StaticString {
        switch self {
        case .open: "open"
        case .paid: "paid"
        case .failed: "failed"
        case .paidCash: "paid_cash"
        }
    }
}
