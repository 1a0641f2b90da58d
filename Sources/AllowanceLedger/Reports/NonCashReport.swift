/// How the non-cash report's rows are grouped.
public enum NonCashGrouping: String, Sendable, CaseIterable {
    case commune, category, carrier
}

/// A share: a part of a whole, kept exact, shown rounded half up; nil when there is nothing to divide by.
public struct Share: Sendable, Comparable {
    public let part: Int64
    public let whole: Int64

    public init?(_ part: Int64, of whole: Int64) {
        guard whole > 0, part >= 0 else { return nil }
        self.part = part
        self.whole = whole
    }

    /// A whole number of basis points (1/10,000).
    public init(basisPoints: Int64) { self.init(part: basisPoints, whole: 10_000) }

    private init(part: Int64, whole: Int64) {
        self.part = part
        self.whole = whole
    }

    /// `part / whole × scale`, rounded half up, in 128-bit arithmetic: no count or amount can overflow it.
    private func scaled(_ scale: Int64) -> Int64 {
        let doubled = (2 * part).multipliedFullWidth(by: scale)
        let (low, carry) = doubled.low.addingReportingOverflow(UInt64(whole))
        return (2 * whole).dividingFullWidth((high: doubled.high + (carry ? 1 : 0), low: low)).quotient
    }

    public var basisPoints: Int64 { scaled(10_000) }

    public static func == (lhs: Share, rhs: Share) -> Bool { lhs.part.multipliedFullWidth(by: rhs.whole) == rhs.part.multipliedFullWidth(by: lhs.whole) }

    public static func < (lhs: Share, rhs: Share) -> Bool {
        let left = lhs.part.multipliedFullWidth(by: rhs.whole), right = rhs.part.multipliedFullWidth(by: lhs.whole)
        return (left.high, left.low) < (right.high, right.low)
    }

    /// `0.5234`: four decimals, for files.
    public var decimal: String {
        let basisPoints = self.basisPoints
        let fraction = String(basisPoints % 10_000)
        return "\(basisPoints / 10_000).\(String(repeating: "0", count: 4 - fraction.count))\(fraction)"
    }

    /// `52,3 %`: Vietnamese style, one decimal rounded half up from the exact share (not from the basis points), a
    /// no-break space before the sign so that a line never ends between them.
    public var vietnamese: String {
        let tenths = scaled(1_000)
        return "\(tenths / 10),\(tenths % 10)\u{00A0}%"
    }
}

/// What the report counts, for the whole scope, one group or one month.
public struct NonCashFigures: Sendable, Equatable {
    /// Beneficiaries with an item in an approved batch of the period (a retry does not count twice).
    public var recipients: Int64 = 0
    /// Of those, the ones whose mobile-money item was settled as paid.
    public var noncashRecipients: Int64 = 0
    /// What the recipients were entitled to: their first item's amount (a retry carries the same debt over).
    public var amountTotal: Int64 = 0
    /// What was paid into mobile-money accounts.
    public var noncashAmount: Int64 = 0
    /// Mobile-money payments the carrier reported failed or reversed.
    public var failedMobileMoney: Int64 = 0

    package init(recipients: Int64 = 0, noncashRecipients: Int64 = 0, amountTotal: Int64 = 0,
                 noncashAmount: Int64 = 0, failedMobileMoney: Int64 = 0) {
        self.recipients = recipients
        self.noncashRecipients = noncashRecipients
        self.amountTotal = amountTotal
        self.noncashAmount = noncashAmount
        self.failedMobileMoney = failedMobileMoney
    }

    public var noncashShare: Share? { Share(noncashRecipients, of: recipients) }
    public var amountShare: Share? { Share(noncashAmount, of: amountTotal) }

    package mutating func add(_ other: NonCashFigures) {
        recipients += other.recipients
        noncashRecipients += other.noncashRecipients
        amountTotal += other.amountTotal
        noncashAmount += other.noncashAmount
        failedMobileMoney += other.failedMobileMoney
    }
}

/// Active beneficiaries with a mobile-money account, of all active ones (today's register).
public struct Coverage: Sendable, Equatable {
    public var active: Int64 = 0
    public var withMobileMoney: Int64 = 0

    package init(active: Int64 = 0, withMobileMoney: Int64 = 0) {
        self.active = active
        self.withMobileMoney = withMobileMoney
    }
    public var share: Share? { Share(withMobileMoney, of: active) }
}

/// One group of the report: a commune, a category or a carrier.
public struct NonCashRow: Sendable, Equatable {
    public let key: String
    /// The commune's name from the commune list, when rows are communes and the list names it.
    public let name: String?
    public let figures: NonCashFigures
    /// Only when rows are communes.
    public let coverage: Coverage?

    package init(key: String, name: String? = nil, figures: NonCashFigures, coverage: Coverage?) {
        self.key = key
        self.name = name
        self.figures = figures
        self.coverage = coverage
    }

    /// `26734 Phường Minh Phú`, or the key alone.
    public var label: String { name.map { "\(key) \($0)" } ?? key }
}

/// One month of the trend.
public struct NonCashMonth: Sendable, Equatable {
    public let period: Period
    public let figures: NonCashFigures

    package init(period: Period, figures: NonCashFigures) {
        self.period = period
        self.figures = figures
    }
}

/// A carrier's reason for failed payments (code and text, digit runs masked), and how many payments it stopped.
public struct FailureReason: Sendable, Equatable {
    public let reason: String
    public let count: Int64

    package init(reason: String, count: Int64) {
        self.reason = reason
        self.count = count
    }
}

/// The share of allowance recipients paid non-cash, from the ledger's batches and their payment states.
/// A range of months the non-cash report does not cover.
public enum NonCashRangeError: ProblemConvertible, Sendable, Equatable {
    case backwards(from: Period, to: Period)
    case tooLong(monthsMax: Int)

    public var problem: Problem {
        switch self {
        case .backwards(let from, let to): Problem("report.range_backwards", ["from": from.description, "to": to.description])
        case .tooLong(let max): Problem("report.range_too_long", ["months_max": String(max)])
        }
    }
}

extension NonCashReport {
    /// The longest range one report covers: ten years of months.
    public static let monthsMax = 120

    /// Refuses a range that runs backwards or covers more than `monthsMax` months.
    public static func checkRange(from: Period, to: Period) throws(NonCashRangeError) {
        guard from <= to else { throw .backwards(from: from, to: to) }
        guard (to.year - from.year) * 12 + to.month - from.month < monthsMax else { throw .tooLong(monthsMax: monthsMax) }
    }
}

public struct NonCashReport: Sendable, Equatable {
    public let from: Period
    public let to: Period
    public let grouping: NonCashGrouping
    public let total: NonCashFigures
    /// Ranked by non-cash share, lowest first: where it lags comes first.
    public let rows: [NonCashRow]
    /// Every month of the range, those without payments too.
    public let months: [NonCashMonth]
    public let coverage: Coverage
    public let failureReasons: [FailureReason]
    /// The province's target share of recipients paid non-cash.
    public let target: Share

    package init(from: Period, to: Period, grouping: NonCashGrouping, total: NonCashFigures, rows: [NonCashRow],
                 months: [NonCashMonth], coverage: Coverage, failureReasons: [FailureReason], target: Share) {
        self.from = from
        self.to = to
        self.grouping = grouping
        self.total = total
        self.rows = rows
        self.months = months
        self.coverage = coverage
        self.failureReasons = failureReasons
        self.target = target
    }

    public var periodLabel: String { from == to ? from.description : "\(from)..\(to)" }

    /// The report from what a backend summed over the period's items: figures by key and by month, the total, the
    /// active register's coverage by commune, and the failure reasons as the carriers wrote them with their counts. Every
    /// commune of the register is a row when grouping by commune (one without a batch lags most); rows go from the
    /// lowest share up; every month of the range appears; reasons are masked, then counted and ranked.
    package static func assemble(from: Period, to: Period, grouping: NonCashGrouping, byKey: [String: NonCashFigures],
                                 byMonth: [String: NonCashFigures], total: NonCashFigures, coverageByCommune: [String: Coverage],
                                 reasonCounts: [String: Int64], failureReasonsMax: Int, target: Share) -> NonCashReport {
        var byKey = byKey
        var coverage = Coverage()
        for commune in coverageByCommune.values {
            coverage.active += commune.active
            coverage.withMobileMoney += commune.withMobileMoney
        }
        if grouping == .commune {
            for commune in coverageByCommune.keys where byKey[commune] == nil { byKey[commune] = NonCashFigures() }
        }
        let ranked = byKey.map { key, figures in
            NonCashRow(key: key, figures: figures, coverage: grouping == .commune ? coverageByCommune[key] ?? Coverage() : nil)
        }.sorted { ($0.figures.noncashShare?.basisPoints ?? -1, $0.key) < ($1.figures.noncashShare?.basisPoints ?? -1, $1.key) }
        var months: [NonCashMonth] = []
        var month = from
        while true {
            months.append(NonCashMonth(period: month, figures: byMonth[month.description] ?? NonCashFigures()))
            // Stops at the last month before asking for the next: December 2999 has none.
            guard month < to, let next = month.next else { break }
            month = next
        }
        // What a carrier wrote may hold a number or an ID: counted by what it says once masked.
        var masked: [String: Int64] = [:]
        for (reason, count) in reasonCounts { masked[reason.isEmpty ? "(no reason given)" : redactIdentifiers(reason), default: 0] += count }
        let reasons = masked.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.prefix(failureReasonsMax).map {
            FailureReason(reason: redactIdentifiers($0.key), count: $0.value)
        }
        return NonCashReport(from: from, to: to, grouping: grouping, total: total, rows: ranked, months: months, coverage: coverage,
                             failureReasons: reasons, target: target)
    }

    /// The same report with each row's name from `names` (by key).
    package func naming(_ names: [String: String]) -> NonCashReport {
        guard !names.isEmpty else { return self }
        return NonCashReport(from: from, to: to, grouping: grouping, total: total,
                             rows: rows.map { NonCashRow(key: $0.key, name: names[$0.key], figures: $0.figures, coverage: $0.coverage) },
                             months: months, coverage: coverage, failureReasons: failureReasons, target: target)
    }

    /// Below the province's target; figures without any recipient are not (there is nothing to judge).
    public func isBelowTarget(_ figures: NonCashFigures) -> Bool {
        guard let share = figures.noncashShare else { return false }
        return share < target
    }
}

extension Period {
    /// The month after this one.
    public var next: Period? { month == 12 ? Period(year: year + 1, month: 1) : Period(year: year, month: month + 1) }
}

/// A set of ids close together (the items whose payment failed, the batches a report covers), as a bitmap from the
/// smallest to the largest: checked for each of a million items without hashing.
package struct IDBitmap {
    private let low: Int64
    private var bits: [UInt64] = []

    /// Empty, for ids from `low` to `high` (none when `high < low`).
    package init(low: Int64, high: Int64) {
        self.low = low
        guard low <= high else { return }
        bits = [UInt64](repeating: 0, count: Int((high - low) / 64) + 1)
    }

    package init(_ ids: some Collection<Int64>) {
        self.init(low: ids.min() ?? 0, high: ids.max() ?? -1)
        for id in ids { insert(id) }
    }

    /// Adds an id within the range the bitmap was made for.
    package mutating func insert(_ id: Int64) {
        let offset = id - low
        bits[Int(offset / 64)] |= 1 << UInt64(offset % 64)
    }

    package func contains(_ id: Int64) -> Bool {
        guard id >= low else { return false }
        let offset = id - low
        let word = Int(offset / 64)
        return word < bits.count && bits[word] & (1 << UInt64(offset % 64)) != 0
    }
}
