import Foundation
/// Reports for officials: the share of recipients paid non-cash, by commune, category or carrier and month. Never
/// personal data.
public struct Reports: Sendable {
    let storage: any ReportsStorage
    /// Reports already computed, by their question and the ledger's write stamp: a dashboard asked by many is computed
    /// once per change to the ledger, not once per request.
    private let memo = ReportMemo()

    package init(storage: any ReportsStorage) { self.storage = storage }

    /// The most failure reasons a report lists, most frequent first.
    public static let failureReasonsMax = 5

    /// The non-cash report over `from…to` (months, at most `NonCashReport.monthsMax`), grouped by commune, category
    /// or carrier of the month's first item for a recipient (`CASH` when it was cash; a retry counts under its
    /// recipient's first item).
    ///
    /// A recipient counts as non-cash when one of their mobile-money items of the month was settled as paid: a failed
    /// mobile-money payment later paid in cash counts as cash, and a reversed one (its item back to failed) not at all.
    /// Only approved batches (exported and closed ones too) count.
    public func nonCash(from: Period, to: Period, grouping: NonCashGrouping, target: Share) throws -> NonCashReport {
        try NonCashReport.checkRange(from: from, to: to)
        // The stamp is read before the report: a write in between leaves a newer report under an older stamp, which the
        // next question recomputes; never an older report under a newer stamp.
        let key = ReportMemo.Key(from: from, to: to, grouping: grouping, target: [target.part, target.whole], stamp: try storage.writeStamp())
        if let known = memo[key] { return known }
        let report = try storage.nonCashReport(from: from, to: to, grouping: grouping, target: target, failureReasonsMax: Self.failureReasonsMax)
        memo[key] = report
        return report
    }
}

/// The last reports asked, kept while the ledger's write stamp stays the same.
final class ReportMemo: @unchecked Sendable {
    struct Key: Hashable {
        let from: Period, to: Period, grouping: NonCashGrouping, target: [Int64], stamp: [Int64]
    }

    private let lock = NSLock()
    private var reports: [Key: NonCashReport] = [:]
    static let kept = 64

    subscript(key: Key) -> NonCashReport? {
        get { lock.withLock { reports[key] } }
        set {
            lock.withLock {
                // A new stamp makes every older report useless.
                reports = reports.filter { $0.key.stamp == key.stamp }
                if reports.count >= Self.kept { reports.removeAll() }
                reports[key] = newValue
            }
        }
    }
}

/// What reports need of a ledger's storage. The report counts a national month's items in one pass, so a backend
/// computes it where the items are, by the rule `Reports.nonCash` states; `NonCashReportTests` hold each backend to it.
package protocol ReportsStorage: Sendable {
    /// Changes whenever a write could change a report: the journal's head, the register chain's head (every register
    /// change is sealed by a link), the last result file.
    func writeStamp() throws -> [Int64]
    func nonCashReport(from: Period, to: Period, grouping: NonCashGrouping, target: Share, failureReasonsMax: Int) throws -> NonCashReport
}
