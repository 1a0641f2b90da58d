import AllowanceLedger
import AllowanceOffice
import Foundation
@testable import LedgerPostgres
@testable import LedgerSQLite
import Testing

/// The non-cash report on both backends: the demo's ledger (retries, failures and reversals, cash, a Tết one-off,
/// several communes and carriers) copied to a server gives the same report, row for row, in every grouping.
@Suite(.serialized) struct ReportsOnBothBackendsTests {
    @Test func theDemosLedgerGivesTheSameNonCashReportOnTheServer() throws {
        guard let scratch = try ScratchDatabase() else { return }
        let folder = try StoreCopyTests.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(try StoreCopyTests.allowance(["demo", "--dir", "demo"], in: folder).status == 0)
        let path = folder + "/demo/allowance.sqlite"
        _ = try StoreCopy.copy(from: path, to: scratch.location.uri)
        let clock = Clock.fixed(try Timestamp(parsing: "2027-01-05T08:00:00Z"))
        let file = try Store(path: path, clock: clock)
        let server = try PostgresStore(scratch.location, clock: clock)
        let target = Share(80, of: 100)!
        var compared = 0
        for (from, to) in [("2026-11", "2026-11"), ("2026-12", "2026-12"), ("2026-01", "2026-12"), ("2026-12", "2027-02")] {
            for grouping in NonCashGrouping.allCases {
                let range = (try Period(parsing: from), try Period(parsing: to))
                let onFile = try file.reports.nonCash(from: range.0, to: range.1, grouping: grouping, target: target)
                let onServer = try server.reports.nonCash(from: range.0, to: range.1, grouping: grouping, target: target)
                #expect(onServer == onFile, "\(from)..\(to) by \(grouping)")
                if onFile.total.recipients > 0 { compared += 1 }
            }
        }
        // The demo's months have recipients, failures and more than one row in each grouping: the comparison compared something.
        #expect(compared >= 6)
        // The demo pays the month of its clock (ALLOWANCE_NOW, 2026-11-25 here).
        let month = try file.reports.nonCash(from: try Period(parsing: "2026-11"), to: try Period(parsing: "2026-11"), grouping: .carrier,
                                             target: target)
        #expect(month.total.failedMobileMoney > 0 && month.rows.count > 1 && !month.failureReasons.isEmpty, "\(month)")
    }
}
