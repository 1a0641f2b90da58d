import AllowanceLedger

/// Records one result file's lines inside the write transaction, with their postings; the clearing legs and the
/// state changes follow when the file ends.
///
/// Two threads share a file, each with its own half: the matching thread `record`s each line here (the items'
/// states, the file's totals and the hash of its legs, no database) and hands the lines over with `takeRecorded`; the
/// transaction's thread `store`s them and their legs through the storage's `ResultLineWriter`, which posts the entry
/// and the states once the matching thread is done. A million lines spent 40 % of one thread matching and bookkeeping
/// beside the database's inserts.
///
/// A file's postings form one journal entry: a leg per settled, refunded or reversed item (two for a reversal) in
/// line order, then one carrier-clearing leg per carrier.
public final class ReconciliationSession {
    public let items: ReconcileItems
    public let fileID: Int64
    public let fileName: String
    /// The file's entry's hasher: this half hashes the item legs as it records them, the storage inserts them as it
    /// stores the lines.
    private let hasher: ChainHasher
    private var pending = RecordedLines()
    /// Legs the file's entry has so far (a reversal takes two).
    package private(set) var legs: Int64 = 0
    /// Paid out plus returned, per carrier (by its number in `items.carriers`, which is in code order): what the file
    /// takes out of each carrier's clearing.
    private lazy var clearing = [Int64](repeating: 0, count: items.carriers.count)
    package private(set) var totals = OutcomeTotals()
    package private(set) var lines = 0
    package private(set) var conflictingDuplicates = 0

    package init(items: ReconcileItems, fileID: Int64, fileName: String, hasher: ChainHasher) {
        self.items = items
        self.fileID = fileID
        self.fileName = fileName
        self.hasher = hasher
    }

    /// The settlement entry's memo: which file, which batch, what it does.
    package static func memo(file: ResultFileInfo, batch: Batch) -> String {
        "Carrier result file \(file.name) (sha256 \(file.sha256.hex.prefix(16))…) for batch \(batch.id) (\(batch.period)): "
            + "payments settled, failures refunded, reversals undone"
    }

    /// What the file takes out of each carrier's clearing, in code order, once the matching thread is done.
    package var clearingByCarrier: [(carrier: String, amount: Int64)] {
        zip(items.carriers, clearing).map { ($0, $1) }
    }

    /// Whether every recorded line was taken for storing.
    package var allTaken: Bool { pending.lines.isEmpty }

    private func takeFromClearing(_ index: Int) throws {
        let carrier = items.carrierNumber(at: index)!
        let (sum, overflow) = clearing[carrier].addingReportingOverflow(items.amount(at: index))
        guard !overflow else { throw ReconcileError.overflow }
        clearing[carrier] = sum
    }

    /// Applies the line's effect to its item, hashes its legs and keeps both for `takeRecorded`. Matching thread only.
    public func record(_ record: ResultLineRecord) throws {
        precondition(record.outcome != .missing, "missing is not a line")
        precondition(record.effect == nil || record.itemIndex != nil, "an effect needs an item")
        let fingerprint = record.fingerprint
        var leg: Int64?
        if let index = record.itemIndex {
            // An unreadable line that names its item counts too: the item is not missing, and not retried.
            items.markNamed(index)
            if let effect = record.effect {
                let state = items.state(at: index)
                switch effect {
                case .settle, .refund:
                    guard state == .open, items.wasSent(at: index) else { throw ReconcileError.effectNotAllowed(line: record.line, effect: effect, state: state) }
                    try takeFromClearing(index)
                case .reverse:
                    guard state == .paid else { throw ReconcileError.effectNotAllowed(line: record.line, effect: effect, state: state) }
                }
                items.setFinal(index, state: effect == .settle ? .paid : .failed, fingerprint: fingerprint, file: fileID, line: record.line)
                pending.effects.append((Int32(index), effect))
                leg = legs + 1
                Self.forEachLeg(of: index, effect, items: items) { posting in
                    legs += 1
                    hasher.posting(leg: legs, posting)
                }
            }
        }
        lines += 1
        // An unreadable line's amount counts only when it reads as a payment.
        totals.add(record.outcome, amount: record.outcome == .invalidLine ? max(0, record.amount ?? 0) : record.amount ?? 0)
        if record.outcome == .duplicate && record.conflicting { conflictingDuplicates += 1 }

        // What the line says that its item does not already say.
        var reference = record.reference
        var itemsNumber = false
        var amount = record.amount
        if let index = record.itemIndex, record.outcome != .invalidLine {
            itemsNumber = record.msisdn == items.msisdn(at: index)
            if amount == items.amount(at: index) { amount = nil }
        } else if reference == nil {
            reference = ""
        }
        pending.add(StoredLine(line: Int64(record.line), outcome: record.outcome, effect: record.effect, status: record.status,
                               itemID: record.itemIndex.map { items.id(at: $0) }, amount: amount, fingerprint: fingerprint,
                               conflicting: record.outcome == .duplicate && record.conflicting, leg: leg,
                               reference: pending.text(reference),
                               msisdn: itemsNumber ? .null : record.msisdn == 0 ? pending.text(record.msisdnText) : pending.number(record.msisdn),
                               carrierTxnID: pending.text(record.carrierTxnID), completedAt: pending.text(record.completedAt),
                               reasonCode: pending.text(record.reasonCode), reasonText: pending.text(record.reasonText),
                               note: pending.text(record.note), otherBatchReference: record.otherBatchReference,
                               // The word as written, unless it is the status's own name (the generic profile's).
                               statusWord: record.statusWord.isEmpty || record.statusWord == record.status?.rawValue
                                   ? .null : pending.text(record.statusWord)))
    }

    /// The lines recorded since the last call, for `store`. Matching thread only.
    public func takeRecorded() -> RecordedLines {
        defer { pending = RecordedLines(reservingFor: pending) }
        return pending
    }

    /// Lines recorded and not yet stored, handed from the matching thread to the transaction's: numbers in place, and
    /// every text back to back in one byte buffer that the inserts bind in place. As strings, each line's texts were
    /// made on one thread, copied by SQLite and freed on the other: a tenth of the storing thread's work.
    public struct RecordedLines: Sendable {
        package var lines: [StoredLine] = []
        package var bytes: [UInt8] = []
        /// The items these lines settled, refunded or reversed, in leg order.
        package var effects: [(index: Int32, effect: ReconcileEffect)] = []

        init() {}

        fileprivate init(reservingFor previous: RecordedLines) {
            lines.reserveCapacity(previous.lines.count)
            bytes.reserveCapacity(previous.bytes.count)
            effects.reserveCapacity(previous.effects.count)
        }

        fileprivate mutating func add(_ line: StoredLine) { lines.append(line) }

        fileprivate mutating func text(_ text: String?) -> TextSpan {
            guard let text else { return .null }
            let start = bytes.count
            bytes.append(contentsOf: text.utf8)
            return TextSpan(start: start, count: bytes.count - start)
        }

        /// `84912345678` as digits, as `String(number)` writes them.
        fileprivate mutating func number(_ number: UInt64) -> TextSpan {
            guard let value = Int64(exactly: number) else { return text(String(number)) }
            let start = bytes.count
            withDecimalDigits(of: value) { bytes.append(contentsOf: $0) }
            return TextSpan(start: start, count: bytes.count - start)
        }
    }

    /// Where a text is in `RecordedLines.bytes`; a negative count is NULL.
    package struct TextSpan: Sendable {
        package let start: Int
        package let count: Int
        package static let null = TextSpan(start: 0, count: -1)
    }

    /// A line as it is stored.
    package struct StoredLine: Sendable {
        package let line: Int64
        package let outcome: ReconcileOutcome
        package let effect: ReconcileEffect?
        package let status: CarrierStatus?
        package let itemID: Int64?
        package let amount: Int64?
        package let fingerprint: Int64
        package let conflicting: Bool
        package let leg: Int64?
        package let reference: TextSpan
        package let msisdn: TextSpan
        package let carrierTxnID: TextSpan
        package let completedAt: TextSpan
        package let reasonCode: TextSpan
        package let reasonText: TextSpan
        package let note: TextSpan
        package let otherBatchReference: ItemReference?
        package let statusWord: TextSpan
    }

    /// The item legs of a line's effect, in leg order. settle: Dr payable; refund: Dr treasury; reverse: Cr payable,
    /// then Dr treasury (paid out and back again: the payable reopens and the treasury has the money; the clearing's
    /// two movements cancel).
    package static func forEachLeg(of index: Int, _ effect: ReconcileEffect, items: ReconcileItems,
                                   _ body: (Posting) throws -> Void) rethrows {
        let item = BatchItemID(items.id(at: index))
        let amount = Money(dong: items.amount(at: index))
        switch effect {
        case .settle:
            try body(.debit(.payable, amount, beneficiary: BeneficiaryID(items.beneficiary(at: index)), item: item))
        case .refund:
            try body(.debit(.treasury, amount, item: item))
        case .reverse:
            try body(.credit(.payable, amount, beneficiary: BeneficiaryID(items.beneficiary(at: index)), item: item))
            try body(.debit(.treasury, amount, item: item))
        }
    }
}
