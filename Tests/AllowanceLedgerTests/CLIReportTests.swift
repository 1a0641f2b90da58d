import Foundation
import Testing

/// `allowance report noncash | batch | balances`, run as processes.
@Suite struct CLIReportTests {
    /// The sample beneficiaries in batch 1, exported and reconciled: Lan paid, Mai failed, Bình pending; Hùng is cash.
    func reconciledSandbox() throws -> CLISandbox {
        let sandbox = CLISandbox()
        try sandbox.batchOfSamples(approved: true)
        sandbox.expectSuccess(try sandbox.run(["init", "--office", "UBND xã Thử"]))
        sandbox.expectSuccess(try sandbox.run(["fund", "--amount", "10000000", "--reference", "QD-1"]))
        sandbox.expectSuccess(try sandbox.run(["batch", "export", "1", "--out", "instructions.csv"]))
        let file = sandbox.directory.write("result.csv", """
            reference,msisdn,amount,status,reason_code,reason_text
            AL-202611-000001-0000001,0912345678,750000,SUCCESS,,
            AL-202611-000001-0000003,0987654321,750000,FAILED,E101,Thuê bao không tồn tại
            AL-202611-000001-0000004,0701234567,750000,PENDING,,

            """)
        sandbox.expectSuccess(try sandbox.run(["reconcile", "1", file]))
        return sandbox
    }

    @Test func jsonHasTheContractKeysAndTheFigures() throws {
        let sandbox = try reconciledSandbox()
        let run = try sandbox.run(["report", "noncash", "--period", "2026-11", "--json"])
        sandbox.expectSuccess(run)
        let json = try jsonObject(run.stdout)
        #expect(json["period"] as? String == "2026-11")
        #expect(int64(json["recipients"]) == 4 && int64(json["noncash_recipients"]) == 1)
        #expect((json["noncash_share"] as? NSNumber)?.doubleValue == 0.25)
        #expect(int64(json["amount_total"]) == 2_750_000 && int64(json["noncash_amount"]) == 750_000)
        let rows = try #require(json["rows"] as? [[String: Any]])
        #expect(rows.map { $0["key"] as? String } == ["26737", "26734"])
        #expect(rows.allSatisfy { $0["recipients"] != nil && $0["noncash_share"] != nil })
        // --format json is the same object.
        #expect(try sandbox.run(["report", "noncash", "--period", "2026-11", "--format", "json"]).stdout == run.stdout)
    }

    @Test func htmlIsOneSelfContainedFileAndTheTableAndCSVAgree() throws {
        let sandbox = try reconciledSandbox()
        let run = try sandbox.run(["report", "noncash", "--from", "2026-10", "--to", "2026-11", "--format", "html", "--out", "report.html"])
        sandbox.expectSuccess(run)
        #expect(run.stdout == "Wrote the report for 2026-10..2026-11 to report.html.\n")
        let html = sandbox.directory.read("report.html")
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.contains("<svg") && html.contains("UBND xã Thử") && html.contains("25,0\u{00A0}%"))
        for forbidden in ["http:", "https:", "<script", "<link", "@import", "url("] { #expect(!html.contains(forbidden), "\(forbidden)") }
        // No phone number or national ID reaches the page.
        for secret in ["0912345678", "84912345678", "001150000001", "987654321"] { #expect(!html.contains(secret)) }
        sandbox.expectSuccess(try sandbox.run(["report", "noncash", "--period", "2026-11", "--format", "csv", "--out", "report.csv", "--by", "carrier"]))
        let csv = sandbox.directory.read("report.csv").split(separator: "\n").map(String.init)
        #expect(csv.first?.hasPrefix("carrier,recipients,noncash_recipients,noncash_share,") == true)
        #expect(csv.last == "TOTAL,4,1,0.2500,2750000,750000,0.2727,1,4,3,0.7500,")
        let table = try sandbox.run(["report", "noncash", "--period", "2026-11"])
        sandbox.expectSuccess(table)
        #expect(table.stdout.contains("recipients   4, paid non-cash 1: 25,0\u{00A0}%"))
        // The report never overwrites the ledger, and --json does not go with another format.
        let overwrite = try sandbox.run(["report", "noncash", "--format", "html", "--out", "ledger.sqlite"])
        #expect(overwrite.status == 1 && overwrite.stderr.contains("is the ledger's own file"))
        sandbox.expectSuccess(try sandbox.run(["ledger", "verify"]))
    }

    @Test func usageErrorsExit64() throws {
        let sandbox = CLISandbox()
        for arguments in [["--period", "2026-11", "--from", "2026-10", "--to", "2026-11"], ["--from", "2026-10"], ["--from", "2026-11", "--to", "2026-10"],
                          ["--by", "province"], ["--format", "pdf"], ["--format", "csv"], ["--target", "120"], ["--period", "2026-13"],
                          ["--format", "html", "--json"]] {
            let run = try sandbox.run(["report", "noncash"] + arguments)
            #expect(run.status == 64, "\(arguments): \(run.stderr)")
            #expect(run.stderr.hasPrefix("error: "))
        }
        // A month without batches is a report of zeros, not an error.
        let empty = try sandbox.run(["report", "noncash", "--period", "2026-01", "--json"])
        sandbox.expectSuccess(empty)
        #expect(try jsonObject(empty.stdout)["noncash_share"] is NSNull)
    }

    @Test func batchAndBalancesReports() throws {
        let sandbox = try reconciledSandbox()
        let batch = try sandbox.run(["report", "batch", "1", "--json"])
        sandbox.expectSuccess(batch)
        let json = try jsonObject(batch.stdout)
        let lifecycle = try #require(json["batch"] as? [String: Any])
        let reconciliation = try #require(json["reconciliation"] as? [String: Any])
        #expect(lifecycle["approved_by"] as? String == "checker" && int64(lifecycle["items"]) == 4)
        #expect(reconciliation["settled"] as? Bool == false)
        let text = try sandbox.run(["report", "batch", "1"])
        #expect(text.stdout.contains("Batch 1 for 2026-11: exported") && text.stdout.contains("Carrier clearing still open"))
        let balances = try sandbox.run(["report", "balances"])
        sandbox.expectSuccess(balances)
        let ledgerBalances = try sandbox.run(["ledger", "balances"])
        #expect(balances.stdout.contains("Total debits") && balances.stdout == ledgerBalances.stdout)
        #expect(try sandbox.run(["report", "batch", "9"]).status == 1)
    }
}
