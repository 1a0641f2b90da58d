import GRDB

/// How the non-cash report's rows are grouped.
public enum NonCashGrouping: String, Sendable, CaseIterable {
    case commune, category, carrier
}

/// A share as a whole number of basis points (1/10,000), rounded half up; nil when there is nothing to divide by.
public struct Share: Sendable, Equatable, Comparable {
    public let basisPoints: Int64

    public init?(_ part: Int64, of whole: Int64) {
        guard whole > 0 else { return nil }
        basisPoints = (part * 20_000 + whole) / (2 * whole)
    }

    public init(basisPoints: Int64) { self.basisPoints = basisPoints }

    public static func < (lhs: Share, rhs: Share) -> Bool { lhs.basisPoints < rhs.basisPoints }

    /// `0.5234`: four decimals, for files.
    public var decimal: String {
        let whole = basisPoints / 10_000
        let fraction = String(basisPoints % 10_000)
        return "\(whole).\(String(repeating: "0", count: 4 - fraction.count))\(fraction)"
    }

    /// `52,3 %`: Vietnamese style, one decimal, rounded half up.
    public var vietnamese: String {
        let tenths = (basisPoints + 5) / 10
        return "\(tenths / 10),\(tenths % 10) %"
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

    public var noncashShare: Share? { Share(noncashRecipients, of: recipients) }
    public var amountShare: Share? { Share(noncashAmount, of: amountTotal) }

    mutating func add(_ other: NonCashFigures) {
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
    public var share: Share? { Share(withMobileMoney, of: active) }
}

public struct NonCashRow: Sendable, Equatable {
    public let key: String
    public let figures: NonCashFigures
    /// Only when rows are communes.
    public let coverage: Coverage?
}

public struct NonCashMonth: Sendable, Equatable {
    public let period: Period
    public let figures: NonCashFigures
}

public struct FailureReason: Sendable, Equatable {
    public let reason: String
    public let count: Int64
}

/// The share of allowance recipients paid non-cash, from the ledger's batches and their payment states.
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

    public var periodLabel: String { from == to ? from.description : "\(from)..\(to)" }
}

extension Store {
    public static let failureReasonsMax = 5

    /// The non-cash report over `from…to` (months), grouped by commune, category or carrier (of the month's first item
    /// for a recipient, `CASH` when it was cash; a retry counts under its recipient's first item).
    ///
    /// A recipient counts as non-cash when one of their mobile-money items of the month was settled as paid: a failed
    /// mobile-money payment later paid in cash counts as cash, and a reversed one (its item back to failed) not at all.
    public func nonCashReport(from: Period, to: Period, grouping: NonCashGrouping, target: Share) throws -> NonCashReport {
        precondition(from <= to, "the range runs forward")
        return try read { db in
            let fromText = from.description, toText = to.description
            // The batches that count: approved (exported and closed ones too) and of a month in the range.
            let batches = try Int64.fetchAll(db, sql: """
                SELECT id FROM batch WHERE (status = 'approved' OR status = 'exported' OR status = 'closed') AND period >= ? AND period <= ?
                """, arguments: [fromText, toText])
            let inBatches = "batch_id IN (\(batches.map(String.init).joined(separator: ",")))"
            // A retry counts under its recipient's first item: commune, category and carrier of the month's first item.
            var firstItemKey: [Int64: String] = [:]
            let keyColumn = switch grouping {
            case .commune: "o.commune_code"
            case .category: "o.category"
            case .carrier: "COALESCE(o.carrier, 'CASH')"
            }
            for row in try Row.fetchAll(db, sql: """
                SELECT r.id, \(keyColumn) FROM batch_item r
                JOIN batch_item o ON o.beneficiary_id = r.beneficiary_id AND o.period = r.period AND o.attempt = 1
                WHERE r.attempt > 1 AND r.\(inBatches)
                """) {
                firstItemKey[row[0]] = row[1]
            }
            // Failed and reversed lines are few: their reasons are gathered per item first, in one pass.
            var failures: [Int64: [String]] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT item_id, TRIM(reason_code || ' ' || reason_text) FROM result_line
                WHERE item_id IS NOT NULL AND (outcome = 'failed' OR outcome = 'reversed')
                """) {
                failures[row[0], default: []].append(row[1])
            }
            var reasonCounts: [String: Int64] = [:]
            // One pass over the items: a recipient is counted by the month's first item, paid non-cash by the item
            // (first or retry) the carrier settled; at most one item a month is ever settled as paid.
            var byKey: [String: NonCashFigures] = [:]
            var byMonth: [String: NonCashFigures] = [:]
            var total = NonCashFigures()
            let items = try FastStatement(db, """
                SELECT id, period, commune_code, category, COALESCE(carrier, 'CASH'), method = 'mobile_money' AND state = 'paid', amount, attempt,
                       method = 'mobile_money'
                FROM batch_item WHERE \(inBatches)
                """)
            defer { items.reset() }
            let keyIndex: Int32 = switch grouping {
            case .commune: 2
            case .category: 3
            case .carrier: 4
            }
            while try items.step() {
                let id = items.int64(0)
                let first = items.int64(7) == 1
                var figures = NonCashFigures()
                if first {
                    figures.recipients = 1
                    figures.amountTotal = items.int64(6)
                }
                if items.int64(5) == 1 {
                    figures.noncashRecipients = 1
                    figures.noncashAmount = items.int64(6)
                }
                if let reasons = failures[id], items.int64(8) == 1 {
                    figures.failedMobileMoney = Int64(reasons.count)
                    for reason in reasons { reasonCounts[reason.isEmpty ? "(no reason given)" : reason, default: 0] += 1 }
                }
                guard figures != NonCashFigures() else { continue }
                let key = first ? items.string(keyIndex) : firstItemKey[id] ?? items.string(keyIndex)
                byKey[key, default: NonCashFigures()].add(figures)
                byMonth[items.string(1), default: NonCashFigures()].add(figures)
                total.add(figures)
            }
            var coverageByCommune: [String: Coverage] = [:]
            var coverage = Coverage()
            for row in try Row.fetchAll(db, sql: """
                SELECT commune_code, COUNT(*), SUM(payment_method = 'mobile_money') FROM beneficiary WHERE status = 'active' GROUP BY commune_code
                """) {
                let commune = Coverage(active: row[1], withMobileMoney: row[2])
                coverageByCommune[row[0]] = commune
                coverage.active += commune.active
                coverage.withMobileMoney += commune.withMobileMoney
            }
            let ranked = byKey.map { key, figures in
                NonCashRow(key: key, figures: figures, coverage: grouping == .commune ? coverageByCommune[key] ?? Coverage() : nil)
            }.sorted { ($0.figures.noncashShare?.basisPoints ?? -1, $0.key) < ($1.figures.noncashShare?.basisPoints ?? -1, $1.key) }
            var months: [NonCashMonth] = []
            var month = from
            while month <= to {
                months.append(NonCashMonth(period: month, figures: byMonth[month.description] ?? NonCashFigures()))
                month = month.next
            }
            // What a carrier wrote may hold a number or an ID.
            let reasons = reasonCounts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.prefix(Self.failureReasonsMax).map {
                FailureReason(reason: redactIdentifiers($0.key), count: $0.value)
            }
            return NonCashReport(from: from, to: to, grouping: grouping, total: total, rows: ranked, months: months, coverage: coverage,
                                 failureReasons: reasons, target: target)
        }
    }
}

extension Period {
    /// The month after this one.
    public var next: Period { month == 12 ? Period(year: year + 1, month: 1)! : Period(year: year, month: month + 1)! }
}
