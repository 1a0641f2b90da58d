import Foundation
import Testing

/// `allowance reconcile`, `reconcile status` and `batch retry`, run as processes.
@Suite struct CLIReconcileTests {
    static let outcomeKeys: Set<String> = ["paid", "failed", "pending", "reversed", "amount_mismatch", "msisdn_mismatch", "unknown_reference",
                                           "duplicate", "invalid_line", "missing"]

    /// The sample beneficiaries in batch 1, approved, funded and exported.
    func exportedSandbox() throws -> CLISandbox {
        let sandbox = CLISandbox()
        try sandbox.batchOfSamples(approved: true)
        sandbox.expectSuccess(try sandbox.run(["fund", "--amount", "10000000", "--reference", "QD-1"]))
        sandbox.expectSuccess(try sandbox.run(["batch", "export", "1", "--out", "instructions.csv"]))
        return sandbox
    }

    @Test func jsonFollowsTheContractAndASecondImportChangesNothing() throws {
        let sandbox = try exportedSandbox()
        let file = sandbox.directory.write("result.csv", """
            reference,msisdn,amount,status,carrier_txn_id,completed_at,reason_code,reason_text
            AL-202611-000001-0000001,0912345678,750.000,SUCCESS,T1,2026-11-30 10:00:00,,
            AL-202611-000001-0000003,+84987654321,750000,Thất bại,T3,2026-11-30 10:01:00,E101,"Thuê bao không tồn tại, đã hủy"
            AL-202611-000001-0000004,0701234567,"750,000",PENDING,T4,,,

            """)
        let run = try sandbox.run(["reconcile", "1", file, "--json", "--by", "auditor"])
        #expect(run.status == 0, "\(run.stderr)")
        let json = try jsonObject(run.stdout)
        #expect(int64(json["batch"]) == 1)
        #expect(int64(json["lines"]) == 3)
        #expect(json["already_imported"] as? Bool == false)
        let digest = try sandbox.execute("/usr/bin/sha256sum", [file]).stdout.prefix(64)
        #expect(json["file_sha256"] as? String == String(digest))
        let outcomes = try #require(json["outcomes"] as? [String: Any])
        let amounts = try #require(json["amounts"] as? [String: Any])
        #expect(Set(outcomes.keys) == Self.outcomeKeys)
        #expect(Set(amounts.keys) == Self.outcomeKeys)
        #expect(int64(outcomes["paid"]) == 1 && int64(outcomes["failed"]) == 1 && int64(outcomes["pending"]) == 1)
        #expect(int64(outcomes["missing"]) == 0)
        #expect(int64(amounts["paid"]) == 750_000 && int64(amounts["failed"]) == 750_000 && int64(amounts["pending"]) == 750_000)

        let again = try sandbox.run(["reconcile", "1", file, "--json", "--by", "auditor"])
        #expect(again.status == 0)
        let second = try jsonObject(again.stdout)
        #expect(second["already_imported"] as? Bool == true)
        #expect(int64((second["outcomes"] as? [String: Any])?["paid"]) == 1)
        let text = try sandbox.run(["reconcile", "1", file])
        #expect(text.stdout.contains("was already reconciled against batch 1"))
        #expect(try sandbox.sqlite("SELECT COUNT(*) FROM result_file;").stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1")
        sandbox.expectSuccess(try sandbox.run(["ledger", "verify"]))

        let status = try sandbox.run(["reconcile", "status", "1", "--json"])
        sandbox.expectSuccess(status)
        let state = try jsonObject(status.stdout)
        let items = try #require(state["items"] as? [String: Any])
        #expect(int64(items["paid"]) == 1 && int64(items["failed"]) == 1 && int64(items["pending"]) == 1)
        #expect(state["settled"] as? Bool == false)
        #expect((state["files"] as? [Any])?.count == 1)
    }

    @Test func exceptionsExitTwoNameTheLineAndStayMasked() throws {
        let sandbox = try exportedSandbox()
        let file = sandbox.directory.write("result.csv", """
            reference,msisdn,amount,status
            AL-202611-000001-0000001,0912345678,760000,SUCCESS
            AL-202611-000001-0000003,0987654322,750000,SUCCESS
            AL-202611-000001-0000004,0701234567,"750.000,5",SUCCESS
            AL-202611-000099-0000001,0701234567,750000,SUCCESS

            """)
        let run = try sandbox.run(["reconcile", "1", file, "--report", "report.csv"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("result.csv:2: amount_mismatch: amount 760.000 đồng is not the item's 750.000 đồng; nothing was posted"))
        #expect(run.stderr.contains("result.csv:3: msisdn_mismatch: msisdn ********322 is not the item's ********321; nothing was posted"))
        #expect(run.stderr.contains("result.csv:4: invalid_line: amount \"750.000,5\" is not a whole number of đồng"))
        #expect(run.stderr.contains("result.csv:5: unknown_reference: reference names no item of batch 1"))
        #expect(run.stdout.contains("4 exceptions to work."))
        let report = sandbox.directory.read("report.csv")
        #expect(report.hasPrefix("file,line,reference,outcome,reason,status,expected_amount,reported_amount,msisdn,carrier_txn_id,completed_at,reason_code,reason_text\n"))
        // The unreadable line still names its item, so the item is not missing (nor retried behind the carrier's back).
        #expect(report.contains("result.csv,4,AL-202611-000001-0000004,invalid_line,\"amount \"\"750.000,5\"\" is not a whole number of đồng\",paid,750000,,********567,"))
        #expect(!report.contains(",missing,"))
        for number in ["912345678", "987654322", "987654321", "701234567"] {
            #expect(!run.stdout.contains(number) && !run.stderr.contains(number) && !report.contains(number), "\(number) shown whole")
        }
        let revealed = try sandbox.run(["reconcile", "status", "1", "--report", "revealed.csv", "--reveal"])
        sandbox.expectSuccess(revealed)
        #expect(sandbox.directory.read("revealed.csv").contains("84912345678"))
        sandbox.expectSuccess(try sandbox.run(["ledger", "verify"]))
    }

    @Test func profilesAreFoundByNameOrPathAndAnUnknownOneIsAnError() throws {
        let sandbox = try exportedSandbox()
        let profiles = sandbox.directory.file("carrier-profiles")
        try FileManager.default.createDirectory(atPath: profiles, withIntermediateDirectories: true)
        sandbox.directory.write("carrier-profiles/semi.profile", "name = semi\ndelimiter = ;\ncolumn.reference = Mã\nstatus.paid = 00\n")
        let file = sandbox.directory.write("semi.csv", "Mã;msisdn;amount;status\nAL-202611-000001-0000001;0912345678;750.000;00\n")
        let byName = try sandbox.run(["reconcile", "1", file, "--profile", "semi", "--json"], environment: ["ALLOWANCE_PROFILES": profiles])
        #expect(byName.status == 0, "\(byName.stderr)")
        #expect(int64((try jsonObject(byName.stdout)["outcomes"] as? [String: Any])?["paid"]) == 1)
        let unknown = try sandbox.run(["reconcile", "1", file, "--profile", "nowhere"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.hasPrefix("error: nowhere: no such profile"))
        // The same layout without a profile: its header names nothing the generic profile knows.
        let other = sandbox.directory.write("semi-2.csv", "Mã;msisdn;amount;status\nAL-202611-000001-0000003;0987654321;750.000;00\n")
        let generic = try sandbox.run(["reconcile", "1", other])
        #expect(generic.status == 1)
        #expect(generic.stderr == "error: \(other):1: the header has no column for reference, msisdn, amount, status under profile generic; rename the columns, or pick the carrier's profile with --profile\n")
        let badProfile = sandbox.directory.write("bad.profile", "name = bad\ndelimiter = :\n")
        let bad = try sandbox.run(["reconcile", "1", other, "--profile", badProfile])
        #expect(bad.status == 1)
        #expect(bad.stderr == "error: \(badProfile):2: delimiter \":\" is not one of , ; tab |\n")
    }

    @Test func aBatchNotYetExportedCannotBeReconciledAndUsageErrorsExit64() throws {
        let sandbox = CLISandbox()
        try sandbox.batchOfSamples(approved: true)
        let file = sandbox.directory.write("result.csv", "reference,msisdn,amount,status\n")
        let run = try sandbox.run(["reconcile", "1", file])
        #expect(run.status == 1)
        #expect(run.stderr == "error: batch 1 is approved; only a batch whose instruction file went to the carrier can be reconciled (`allowance batch export 1`)\n")
        #expect(try sandbox.run(["reconcile"]).status == 64)
        #expect(try sandbox.run(["reconcile", "one", file]).status == 64)
    }

    @Test func failedItemsAreRetriedThroughASecondApproval() throws {
        let sandbox = try exportedSandbox()
        let file = sandbox.directory.write("result.csv", """
            reference,msisdn,amount,status,reason_code,reason_text
            AL-202611-000001-0000001,0912345678,750000,SUCCESS,,
            AL-202611-000001-0000003,0987654321,750000,FAILED,E205,Account locked
            AL-202611-000001-0000004,0701234567,750000,SUCCESS,,

            """)
        sandbox.expectSuccess(try sandbox.run(["reconcile", "1", file]))
        let retry = try sandbox.run(["batch", "retry", "1", "--by", "maker", "--json"])
        sandbox.expectSuccess(retry)
        let created = try jsonObject(retry.stdout)
        #expect(int64(created["batch"]) == 2 && int64(created["retry_of"]) == 1 && int64(created["items"]) == 1 && int64(created["failed"]) == 1)
        #expect(try sandbox.run(["batch", "approve", "2", "--by", "maker"]).status == 1)
        sandbox.expectSuccess(try sandbox.run(["batch", "approve", "2", "--by", "checker"]))
        sandbox.expectSuccess(try sandbox.run(["batch", "export", "2", "--out", "retry.csv"]))
        let retryResult = sandbox.directory.write("retry-result.csv", "reference,msisdn,amount,status\nAL-202611-000002-0000001,0987654321,750000,SUCCESS\n")
        sandbox.expectSuccess(try sandbox.run(["reconcile", "2", retryResult]))
        let status = try jsonObject(try sandbox.run(["reconcile", "status", "2", "--json"]).stdout)
        #expect(status["settled"] as? Bool == true)
        sandbox.expectSuccess(try sandbox.run(["ledger", "verify"]))
        let again = try sandbox.run(["batch", "retry", "1"])
        #expect(again.status == 1)
        #expect(again.stderr.contains("batch 1 has nothing to retry"))
    }
}
