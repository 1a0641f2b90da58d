/// Reports for officials: the share of recipients paid non-cash, by commune, category or carrier and month. Never
/// personal data.
public struct Reports: Sendable {
    let storage: any ReportsStorage
    /// Reports already computed, kept until the ledger changes.
    private let memo = StampedMemo<NonCashQuestion, NonCashReport>()

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
        let question = NonCashQuestion(from: from, to: to, grouping: grouping, target: [target.part, target.whole])
        let report = try memo.value(for: question, stamp: try storage.writeStamp()) {
            try storage.nonCashReport(from: from, to: to, grouping: grouping, target: target, failureReasonsMax: Self.failureReasonsMax)
        }
        // Names change with a commune list, not with the ledger's writes: looked up on every question.
        guard grouping == .commune else { return report }
        return report.naming(try storage.communeNames())
    }
}

struct NonCashQuestion: Hashable {
    let from: Period, to: Period, grouping: NonCashGrouping, target: [Int64]
}

/// What reports need of a ledger's storage. The report counts a national month's items in one pass, so a backend
/// computes it where the items are, by the rule `Reports.nonCash` states; `NonCashReportTests` hold each backend to it.
package protocol ReportsStorage: Sendable {
    /// Changes whenever a write could change a report: the journal's head, the register chain's head (every register
    /// change is sealed by a link), the last result file.
    func writeStamp() throws -> [Int64]
    func nonCashReport(from: Period, to: Period, grouping: NonCashGrouping, target: Share, failureReasonsMax: Int) throws -> NonCashReport
    /// The listed communes' names by code (`commune import`); empty when no list is loaded.
    func communeNames() throws -> [String: String]
}
