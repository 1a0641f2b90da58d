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

    /// The non-cash report over `from…to` (months), grouped by commune, category or carrier.
    ///
    /// A recipient counts as non-cash when one of their mobile-money items of the month was settled as paid: a failed
    /// mobile-money payment later paid in cash counts as cash, and a reversed one (its item back to failed) not at all.
    public func nonCashReport(from: Period, to: Period, grouping: NonCashGrouping, target: Share) throws -> NonCashReport {
        precondition(from <= to, "the range runs forward")
        return try read { db in
            let key: String = switch grouping {
            case .commune: "commune"
            case .category: "category"
            case .carrier: "carrier"
            }
            // One row per recipient and month: its group (from its first item), whether it was paid non-cash, what it was
            // owed and what reached a mobile-money account, and how many of its mobile-money payments failed.
            let rows = try Row.fetchAll(db, sql: """
                WITH item AS (
                    SELECT i.id, i.beneficiary_id, i.period, i.commune_code, i.category, i.carrier, i.method, i.amount, i.attempt, i.state
                    FROM batch_item i JOIN batch b ON b.id = i.batch_id
                    WHERE (b.status = 'approved' OR b.status = 'exported' OR b.status = 'closed') AND i.period >= ?1 AND i.period <= ?2),
                recipient AS (
                    SELECT beneficiary_id, period,
                           MAX(CASE WHEN attempt = 1 THEN commune_code END) AS commune,
                           MAX(CASE WHEN attempt = 1 THEN category END) AS category,
                           COALESCE(MAX(CASE WHEN method = 'mobile_money' AND state = 'paid' THEN carrier END),
                                    MAX(CASE WHEN attempt = 1 AND method = 'mobile_money' THEN carrier END), 'CASH') AS carrier,
                           MAX(CASE WHEN method = 'mobile_money' AND state = 'paid' THEN 1 ELSE 0 END) AS noncash,
                           SUM(CASE WHEN attempt = 1 THEN amount ELSE 0 END) AS owed,
                           SUM(CASE WHEN method = 'mobile_money' AND state = 'paid' THEN amount ELSE 0 END) AS noncash_amount,
                           SUM((SELECT COUNT(*) FROM result_line l WHERE l.item_id = item.id AND (l.outcome = 'failed' OR l.outcome = 'reversed'))) AS failed
                    FROM item GROUP BY beneficiary_id, period)
                SELECT period, \(key), COUNT(*), SUM(noncash), SUM(owed), SUM(noncash_amount), SUM(failed)
                FROM recipient GROUP BY period, \(key) ORDER BY period, \(key)
                """, arguments: [from.description, to.description])
            var byKey: [String: NonCashFigures] = [:]
            var byMonth: [String: NonCashFigures] = [:]
            var total = NonCashFigures()
            for row in rows {
                let figures = NonCashFigures(recipients: row[2], noncashRecipients: row[3], amountTotal: row[4], noncashAmount: row[5],
                                             failedMobileMoney: row[6])
                byKey[row[1] ?? "", default: NonCashFigures()].add(figures)
                byMonth[row[0], default: NonCashFigures()].add(figures)
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
            let reasons = try Row.fetchAll(db, sql: """
                SELECT TRIM(l.reason_code || ' ' || l.reason_text), COUNT(*) FROM result_line l
                JOIN batch_item i ON i.id = l.item_id JOIN batch b ON b.id = i.batch_id
                WHERE (l.outcome = 'failed' OR l.outcome = 'reversed') AND i.method = 'mobile_money' AND i.period >= ? AND i.period <= ?
                  AND (b.status = 'approved' OR b.status = 'exported' OR b.status = 'closed')
                GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?
                """, arguments: [from.description, to.description, Self.failureReasonsMax]).map { row in
                // What a carrier wrote may hold a number or an ID.
                FailureReason(reason: redactIdentifiers((row[0] as String?).flatMap { $0.isEmpty ? nil : $0 } ?? "(no reason given)"), count: row[1])
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
