/// Reports for officials: the share of recipients paid non-cash, by commune, category or carrier and month. Never
/// personal data.
public struct Reports: Sendable {
    let storage: any ReportsStorage

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
        return try storage.nonCashReport(from: from, to: to, grouping: grouping, target: target, failureReasonsMax: Self.failureReasonsMax)
    }
}

/// What reports need of a ledger's storage. The report counts a national month's items in one pass, so a backend
/// computes it where the items are, by the rule `Reports.nonCash` states; `NonCashReportTests` hold each backend to it.
package protocol ReportsStorage: Sendable {
    func nonCashReport(from: Period, to: Period, grouping: NonCashGrouping, target: Share, failureReasonsMax: Int) throws -> NonCashReport
}
