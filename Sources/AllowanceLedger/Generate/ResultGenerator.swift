/// How often each outcome appears in a generated result file, as relative weights.
public struct ResultMix: Sendable, Equatable, CustomStringConvertible {
    public var weights: [(outcome: ReconcileOutcome, weight: Int)]

    /// 97 % paid, 2 % failed and a few of every exception real files carry.
    public static let realistic = ResultMix(weights: [
        (.paid, 9_700), (.failed, 200), (.pending, 30), (.reversed, 10), (.amountMismatch, 10), (.msisdnMismatch, 10),
        (.unknownReference, 10), (.duplicate, 20), (.invalidLine, 10), (.missing, 10),
    ])

    public init(weights: [(outcome: ReconcileOutcome, weight: Int)]) { self.weights = weights }

    public static func == (lhs: ResultMix, rhs: ResultMix) -> Bool { lhs.description == rhs.description }

    /// `paid=97,failed=2,missing=1`: outcomes not named get weight 0.
    public init(parsing text: String) throws(FieldError) {
        var weights: [(outcome: ReconcileOutcome, weight: Int)] = []
        for part in text.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map { String($0).trimmingSpaces }
            guard pair.count == 2, let outcome = ReconcileOutcome(rawValue: pair[0]) else {
                throw FieldError("mix \"\(part)\" is not OUTCOME=WEIGHT; outcomes are \(ReconcileOutcome.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard let weight = Int(pair[1]), weight >= 0, weight <= 1_000_000 else { throw FieldError("mix weight \"\(pair[1])\" must be a whole number from 0 to 1000000") }
            guard !weights.contains(where: { $0.outcome == outcome }) else { throw FieldError("mix names \(outcome.rawValue) twice") }
            weights.append((outcome, weight))
        }
        guard weights.contains(where: { $0.weight > 0 }) else { throw FieldError("mix needs at least one weight above 0") }
        self.weights = weights
    }

    public var description: String { weights.map { "\($0.outcome.rawValue)=\($0.weight)" }.joined(separator: ",") }
}

/// The order of a generated result file's lines.
public enum ResultOrder: String, Sendable, CaseIterable {
    /// As a carrier sends its report: by completion time across its payment workers (`CarrierClock`), then a later
    /// run with the repeats, reversals and strays, also by time.
    case carrier
    /// Item by item in the batch's order, then the repeats, reversals and strays: the best case for the ledger's
    /// indexes, and the order the demo and the samples were made in.
    case batch
}

/// When a carrier's payment workers complete each item of a batch, in milliseconds after midnight of the batch's
/// last day: eight workers take the batch in chunks of 200 items from one queue, each when it is free, and spread the
/// batch over the working day (07:00 to about 19:00). Most payments complete as they are sent; a wallet that confirms
/// late, a queued retry, a failure retried twice before it is reported or a reversal days of work later land
/// minutes to hours after their turn, so the report is in completion order, not the batch's.
package struct CarrierClock {
    package enum Kind { case paid, failed, reversal }

    static let workers = 8
    static let chunkItems = 200
    static let dayStartMilliseconds: Int64 = 7 * 3_600_000
    static let dayEndMilliseconds: Int64 = 86_400_000 - 1_000

    private var random: SeededRandom
    private var workerClocks = [Int64](repeating: dayStartMilliseconds, count: workers)
    private var worker = 0
    private var chunkLeft = 0
    /// A worker's mean time per item: the whole batch in about twelve hours.
    private let serviceMilliseconds: Int64
    /// When the current item was sent to its wallet.
    package private(set) var submitted: Int64 = dayStartMilliseconds
    /// The last completion time given: a reversal comes after the payment it undoes.
    private var completed: Int64 = dayStartMilliseconds

    package init(seed: UInt64, items: Int) {
        random = SeededRandom(seed: seed ^ 0x4341_5252_4945_5221)
        serviceMilliseconds = max(2, 12 * 3_600_000 * Int64(Self.workers) / Int64(max(1, items)))
    }

    /// The next item of the batch goes to its worker: the one that took the current chunk, or the first one free.
    package mutating func dispatch() {
        if chunkLeft == 0 {
            worker = workerClocks.indices.min { workerClocks[$0] < workerClocks[$1] }!
            chunkLeft = Self.chunkItems
        }
        chunkLeft -= 1
        workerClocks[worker] += serviceMilliseconds / 2 + Int64(random.below(Int(serviceMilliseconds)))
        submitted = workerClocks[worker]
    }

    /// When the current item's line says it completed.
    package mutating func completion(_ kind: Kind) -> Int64 {
        let delay: Int64
        switch kind {
        case .failed:
            // Two retries, 10 to 40 minutes apart, before the failure is reported.
            delay = Int64(20 * 60_000 + random.below(60 * 60_000))
        case .reversal:
            completed = min(completed + Int64(3_600_000 + random.below(6 * 3_600_000)), Self.dayEndMilliseconds)
            return completed
        case .paid:
            let roll = random.below(100)
            delay = roll < 88 ? Int64(random.below(3_000))
                : roll < 97 ? Int64(60_000 + random.below(44 * 60_000))
                : Int64(3_600_000 + random.below(3 * 3_600_000))
        }
        completed = min(submitted + delay, Self.dayEndMilliseconds)
        return completed
    }

    /// `HH:MM:SS`.
    package static func clockText(_ milliseconds: Int64) -> String {
        let seconds = Int(milliseconds / 1_000)
        return "\(pad(seconds / 3_600, 2)):\(pad(seconds / 60 % 60, 2)):\(pad(seconds % 60, 2))"
    }

    /// Milliseconds after midnight of a `yyyy-mm-dd HH:MM:SS` completion time; 0 for none.
    package static func time(of text: String) -> Int64 {
        let parts = text.split(separator: " ").last?.split(separator: ":").compactMap { Int64($0) } ?? []
        guard parts.count == 3 else { return 0 }
        return ((parts[0] * 60 + parts[1]) * 60 + parts[2]) * 1_000
    }
}

/// Encoded lines waiting to be written in completion order; equal times keep the order they were added in.
package struct TimedRows {
    private var bytes: [UInt8] = []
    private var rows: [(at: Int64, added: Int, start: Int, end: Int, count: Int)] = []

    package init() {}

    package mutating func add(_ cells: [String], at time: Int64, blankAfter: Bool) {
        let start = bytes.count
        for (index, cell) in cells.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            CSVWriter.appendText(cell, to: &bytes, neutralise: false)
        }
        bytes.append(contentsOf: [0x0D, 0x0A])
        if blankAfter { bytes.append(contentsOf: [0x0D, 0x0A]) }
        rows.append((time, rows.count, start, bytes.count, blankAfter ? 2 : 1))
    }

    /// Writes the lines added since the last call, by time, and forgets them.
    package mutating func write(to writer: CSVWriter) throws(FileError) {
        rows.sort { ($0.at, $0.added) < ($1.at, $1.added) }
        var chunk: [UInt8] = []
        var count = 0
        for row in rows {
            chunk.append(contentsOf: bytes[row.start..<row.end])
            count += row.count
            if chunk.count >= 1 << 16 {
                try writer.append(encodedRows: chunk, count: count)
                chunk.removeAll(keepingCapacity: true)
                count = 0
            }
        }
        if !chunk.isEmpty { try writer.append(encodedRows: chunk, count: count) }
        bytes.removeAll()
        rows.removeAll()
    }
}

extension String {
    package func replacingDots(with separator: Character) -> String { String(map { $0 == "." ? separator : $0 }) }
}

/// Writes a synthetic carrier result file for a batch, in the generic profile's columns and with the quirks real
/// files have: a BOM, CRLF, digit grouping, phone numbers in mixed spellings, Vietnamese and English status words,
/// quoted reasons with commas, blank lines, repeats and reversals arriving late. The same seed, batch and order give
/// the same bytes; both orders hold the same lines but for the completion times.
public struct ResultGenerator: Sendable {
    public var seed: UInt64
    public var mix: ResultMix = .realistic
    public var order: ResultOrder = .carrier

    public init(seed: UInt64) { self.seed = seed }

    public static let header = ["reference", "msisdn", "amount", "status", "carrier_txn_id", "completed_at", "reason_code", "reason_text"]

    package static let paidWords = ["SUCCESS", "Thành công", "success", "OK", "PAID", "COMPLETED", "Succeeded"]
    package static let failedWords = ["FAILED", "Thất bại", "REJECTED", "ERROR", "fail"]
    package static let pendingWords = ["PENDING", "Đang xử lý", "PROCESSING"]
    package static let reversedWords = ["REVERSED", "Hoàn tiền", "REFUNDED"]
    package static let failures = [
        ("E101", "Thuê bao không tồn tại"),
        ("E102", "Tài khoản ví chưa kích hoạt, vui lòng liên hệ nhà mạng"),
        ("E205", "Account locked"),
        ("E301", "Sai thông tin chủ tài khoản \"họ tên\""),
        ("E900", "Timeout, no response from wallet"),
    ]

    /// What was written: lines per intended outcome (a duplicate's first line counts as paid).
    public struct Summary: Sendable, Equatable {
        public var lines = 0
        public var intended: [ReconcileOutcome: Int] = [:]

        package init() {}
    }
}
