import Foundation
import GRDB
import Testing
@testable import AllowanceLedger
@testable import LedgerSQLite
@testable import Reconcile

/// November 2026 for eight beneficiaries, all ELDERLY_POOR (750,000 đồng a month), worked out by hand:
///
/// | who | commune | account | what happens | non-cash? |
/// | --- | --- | --- | --- | --- |
/// | A1 | 26734 | VIETTEL | paid in the first result file | yes |
/// | A2 | 26734 | VIETTEL | a "reversed" for a payment never made (nothing posted, not a failure), then paid in a later file | yes |
/// | A3 | 26734 | VNPT | failed, retried, the retry paid | yes |
/// | A4 | 26737 | VIETTEL | paid, then reversed by the carrier (its retry still open) | no |
/// | A5 | 26737 | cash | paid at the commune | no |
/// | A8 | 26737 | MOBIFONE | failed; account closed, so the retry is cash, paid at the commune | no |
/// | A6, A7 | 26740 | cash | a commune with only cash | no |
///
/// October has no batch at all.
struct HandWorkedMonth {
    let folder = Folder()
    let store: Store

    static let lines = [
        "001150000001,Người Một,1950-01-01,F,26734,ELDERLY_POOR,mobile_money,VIETTEL,0912000001",
        "001150000002,Người Hai,1950-01-01,F,26734,ELDERLY_POOR,mobile_money,VIETTEL,0912000002",
        "001150000003,Người Ba,1950-01-01,F,26734,ELDERLY_POOR,mobile_money,VNPT,0912000003",
        "001150000004,Người Bốn,1950-01-01,F,26737,ELDERLY_POOR,mobile_money,VIETTEL,0912000004",
        "001150000005,Người Năm,1950-01-01,F,26737,ELDERLY_POOR,cash,,",
        "001150000006,Người Sáu,1950-01-01,F,26740,ELDERLY_POOR,cash,,",
        "001150000007,Người Bảy,1950-01-01,F,26740,ELDERLY_POOR,cash,,",
        "001150000008,Người Tám,1950-01-01,F,26737,ELDERLY_POOR,mobile_money,MOBIFONE,0912000008",
    ]

    init() throws {
        store = try Store(path: folder.file("ledger.sqlite"), clock: .fixed(try Timestamp(parsing: "2026-11-25T08:00:00Z")))
        try store.audit.setOfficeName("UBND xã Thử Nghiệm", by: user("head"))
        let register = folder.write("register.csv", PaidBatch.header + Self.lines.joined(separator: "\n") + "\n")
        _ = try store.registry.importRegister(path: register, options: RegisterImportOptions(by: user("officer")))
        let batch = try store.payouts.createBatch(BatchCreateOptions(period: try Period(parsing: "2026-11"), by: user("maker"))).batch.id
        _ = try store.payouts.approveBatch(batch, by: user("checker"))
        _ = try store.journal.fund(amount: Money(dong: 100_000_000), reference: "QD-11", by: user("officer"))
        _ = try store.payouts.exportBatch(batch, to: folder.file("instructions.csv"), by: user("officer"))
        _ = try store.payouts.settleCash(batch, .all, by: user("officer"))
        let store = self.store
        let reference = { (who: Int) in try Self.reference(store, batch: batch, beneficiary: who) }
        try reconcile(batch, "first.csv", """
            reference,msisdn,amount,status,reason_code,reason_text
            \(reference(1)),0912000001,750000,SUCCESS,,
            \(reference(3)),0912000003,750000,FAILED,E101,Thuê bao không tồn tại
            \(reference(4)),0912000004,750000,SUCCESS,,
            \(reference(8)),0912000008,750000,FAILED,E205,Account locked
            \(reference(2)),0912000002,750000,REVERSED,E900,Reversed by the wallet

            """)
        try reconcile(batch, "second.csv", """
            reference,msisdn,amount,status,reason_code,reason_text
            \(reference(2)),0912000002,750000,SUCCESS,,
            \(reference(4)),0912000004,750000,REVERSED,E900,Reversed by the wallet

            """)
        _ = try store.registry.updateAccount(of: "8", .close, reason: "the number was lost; paid at the commune from now on", by: user("officer"))
        let retry = try store.payouts.retryBatch(batch, by: user("maker")).batch.id
        _ = try store.payouts.approveBatch(retry, by: user("checker"))
        _ = try store.payouts.exportBatch(retry, to: folder.file("retry.csv"), by: user("officer"))
        try reconcile(retry, "retry.csv", "reference,msisdn,amount,status\n\(try Self.reference(store, batch: retry, beneficiary: 3)),0912000003,750000,SUCCESS\n")
        _ = try store.payouts.settleCash(retry, .all, by: user("officer"))
        #expect(try store.journal.verify().isIntact)
    }

    static func reference(_ store: Store, batch: BatchID, beneficiary: Int) throws -> String {
        try store.read { db in
            try String.fetchOne(db, sql: "SELECT reference FROM batch_item WHERE batch_id = ? AND beneficiary_id = ?",
                                arguments: [batch.rawValue, beneficiary])!
        }
    }

    func reconcile(_ batch: BatchID, _ name: String, _ text: String) throws {
        var options = ReconcileOptions(by: user("auditor"))
        options.displayName = name
        _ = try store.reconciliation.reconcileResultFile(folder.write(name, text), batch: batch, options: options)
    }

    func report(_ from: String, _ to: String? = nil, by grouping: NonCashGrouping = .commune) throws -> NonCashReport {
        try store.reports.nonCash(from: try Period(parsing: from), to: try Period(parsing: to ?? from), grouping: grouping,
                                target: Share(basisPoints: 7_000))
    }
}

@Suite struct NonCashReportTests {
    func month() throws -> HandWorkedMonth { try HandWorkedMonth() }

    @Test func theFiguresAreTheOnesWorkedOutByHand() throws {
        let report = try month().report("2026-11")
        #expect(report.total == NonCashFigures(recipients: 8, noncashRecipients: 3, amountTotal: 6_000_000, noncashAmount: 2_250_000,
                                               failedMobileMoney: 3))
        #expect(report.total.noncashShare == Share(basisPoints: 3_750))
        #expect(report.total.amountShare == Share(basisPoints: 3_750))
        // Ranked lowest first; the two communes at 0 % by code.
        #expect(report.rows.map(\.key) == ["26737", "26740", "26734"])
        #expect(report.rows[0].figures == NonCashFigures(recipients: 3, noncashRecipients: 0, amountTotal: 2_250_000, noncashAmount: 0,
                                                         failedMobileMoney: 2))
        #expect(report.rows[1].figures == NonCashFigures(recipients: 2, noncashRecipients: 0, amountTotal: 1_500_000, noncashAmount: 0,
                                                         failedMobileMoney: 0))
        #expect(report.rows[2].figures == NonCashFigures(recipients: 3, noncashRecipients: 3, amountTotal: 2_250_000, noncashAmount: 2_250_000,
                                                         failedMobileMoney: 1))
        // Coverage is today's register: A8 closed the account.
        #expect(report.coverage == Coverage(active: 8, withMobileMoney: 4))
        #expect(report.rows.map { $0.coverage?.share?.basisPoints } == [3_333, 0, 10_000])
        #expect(report.failureReasons == [FailureReason(reason: "E101 Thuê bao không tồn tại", count: 1),
                                          FailureReason(reason: "E205 Account locked", count: 1),
                                          FailureReason(reason: "E900 Reversed by the wallet", count: 1)])
    }

    @Test func aMonthWithoutPaymentsHasNoShareAndTheTrendKeepsIt() throws {
        let october = try month().report("2026-10")
        #expect(october.total == NonCashFigures())
        // Every commune of the register is listed, with nothing to show.
        #expect(october.total.noncashShare == nil && october.rows.map(\.key) == ["26734", "26737", "26740"])
        #expect(october.rows.allSatisfy { $0.figures == NonCashFigures() && !october.isBelowTarget($0.figures) })
        let range = try month().report("2026-10", "2026-11")
        #expect(range.months.map(\.period.description) == ["2026-10", "2026-11"])
        #expect(range.months.map(\.figures.recipients) == [0, 8])
        #expect(range.periodLabel == "2026-10..2026-11")
    }

    @Test func byCarrierAFailedPaymentStaysWithItsCarrierAndCashIsItsOwnRow() throws {
        let report = try month().report("2026-11", by: .carrier)
        let rows = Dictionary(uniqueKeysWithValues: report.rows.map { ($0.key, ($0.figures.recipients, $0.figures.noncashRecipients)) })
        #expect(rows["VIETTEL"]! == (3, 2) && rows["VNPT"]! == (1, 1) && rows["MOBIFONE"]! == (1, 0) && rows["CASH"]! == (3, 0))
        #expect(report.rows.allSatisfy { $0.coverage == nil })
    }

    @Test func theLastMonthThereIsEndsTheTrend() throws {
        let report = try HandWorkedMonth().report("2999-11", "2999-12")
        #expect(report.months.map(\.period.description) == ["2999-11", "2999-12"])
    }

    @Test func sharesRoundHalfUpAndReadTheVietnameseWay() {
        #expect(Share(1, of: 3)?.basisPoints == 3_333 && Share(2, of: 3)?.basisPoints == 6_667)
        #expect(Share(1, of: 8)?.decimal == "0.1250" && Share(1, of: 1)?.decimal == "1.0000")
        #expect(Share(basisPoints: 5_234).vietnamese == "52,3\u{00A0}%" && Share(basisPoints: 5_235).vietnamese == "52,4\u{00A0}%")
        // Rounded once, from the exact share: 6 of 11 is 54.545… %, not 54.55 % rounded again.
        #expect(Share(6, of: 11)?.vietnamese == "54,5\u{00A0}%" && Share(6, of: 11)?.basisPoints == 5_455)
        #expect(Share(0, of: 0) == nil)
        // Sums of a country's đồng over years do not overflow.
        #expect(Share(Int64.max / 4, of: Int64.max / 2)?.basisPoints == 5_000)
        #expect(Share(1, of: 3)! < Share(basisPoints: 3_334) && Share(1, of: 2)! == Share(basisPoints: 5_000))
    }

    @Test func goldenCSVJSONAndHTML() throws {
        let month = try month()
        let report = try month.report("2026-10", "2026-11")
        let csv = month.folder.file("report.csv")
        try report.writeCSV(to: csv)
        Golden.expect(try String(contentsOfFile: csv, encoding: .utf8), matches: "noncash.expected.csv")
        Golden.expect(report.json + "\n", matches: "noncash.expected.json")
        let html = report.html(office: "UBND xã Thử Nghiệm")
        Golden.expect(html, matches: "noncash.expected.html")
        // One self-contained file: nothing fetched from outside, nothing run.
        for forbidden in ["http:", "https:", "<script", "<link", "@import", "url(", "@font-face", "<img"] {
            #expect(!html.contains(forbidden), "\(forbidden)")
        }
        #expect(html.contains("37,5\u{00A0}%") && html.contains("6.000.000\u{00A0}₫") && html.contains("@page { size: A4"))
    }
}
