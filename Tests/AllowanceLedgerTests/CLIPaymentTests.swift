import Foundation
import Testing

/// The cash path, flag clearing and cancellation, run as real processes.
@Suite struct CLIPaymentTests {
    @Test func cashIsAdvancedAndSettledAndBadReferencesNameTheirLine() throws {
        let sandbox = CLISandbox()
        try sandbox.batchOfSamples(approved: true)
        let advance = try sandbox.run(["batch", "advance-cash", "1", "--by", "maker", "--json"])
        sandbox.expectSuccess(advance)
        #expect(advance.stdout.contains("\"total\":500000"))
        #expect(try sandbox.run(["batch", "advance-cash", "1", "--by", "maker"]).stdout.contains("nothing posted twice"))
        let refs = sandbox.directory.write("refs.csv", "reference\nAL-202611-000001-0000002\nNOPE-1\nAL-202611-000001-0000001\n")
        let settle = try sandbox.run(["batch", "settle-cash", "1", "--file", refs, "--by", "maker"])
        #expect(settle.status == 1)
        #expect(settle.stdout.contains("Settled 1 cash item(s) of batch 1: 500.000 ₫"))
        #expect(settle.stderrLines.contains("error: \(refs):3: reference NOPE-1 names no batch item"))
        #expect(settle.stderrLines.contains { $0.hasPrefix("error: \(refs):4: reference AL-202611-000001-0000001 is a mobile-money item") })
        let again = try sandbox.run(["batch", "settle-cash", "1", "--all", "--by", "maker", "--json"])
        sandbox.expectSuccess(again)
        #expect(again.stdout.contains("\"settled\":0") && again.stdout.contains("\"already_settled\":1"))
        sandbox.expectSuccess(try sandbox.run(["ledger", "verify"]))
        let balances = try sandbox.run(["ledger", "balances", "--json"])
        #expect(balances.stdout.contains("\"account\":\"1200\",\"name\":\"Cash disbursement\",\"sub_account\":\"26734\",\"debits\":500000,\"credits\":500000,\"balance\":0"))
    }

    @Test func aFlagIsClearedWithAReasonAndTheBeneficiaryIsPaidNextTime() throws {
        let sandbox = CLISandbox()
        let shared = Sample.binh.replacingOccurrences(of: "MOBIFONE,0701234567", with: "MOBIFONE,0912345678")
        sandbox.expectSuccess(try sandbox.run(["beneficiary", "import", sandbox.register([Sample.lan, Sample.hung, Sample.mai, shared])]))
        let flags = try sandbox.run(["beneficiary", "flags", "--json"])
        #expect(flags.stdout.contains("\"kind\":\"shared_msisdn\""))
        #expect(!flags.stdout.contains("0912345678") && !flags.stdout.contains("84912345678"))
        let noReason = try sandbox.run(["beneficiary", "clear-flag", "1", "--reason", " ", "--by", "head"])
        #expect(noReason.status == 1)
        #expect(noReason.stderr.hasPrefix("error: a reason is required"))
        sandbox.expectSuccess(try sandbox.run(["beneficiary", "clear-flag", "1", "--reason", "visited; a mother and son", "--by", "head"]))
        let created = try sandbox.run(["batch", "create", "--period", "2026-11", "--by", "maker", "--json"])
        #expect(created.stdout.contains("\"items\":3") && created.stdout.contains("\"held_out\":1"))
        let cancel = try sandbox.run(["batch", "cancel", "1", "--reason", "wrong month", "--by", "maker", "--json"])
        sandbox.expectSuccess(cancel)
        #expect(cancel.stdout.contains("\"status\":\"cancelled\""))
        sandbox.expectSuccess(try sandbox.run(["batch", "create", "--period", "2026-11", "--by", "maker"]))
    }

    @Test func usageErrorsBeginLikeEveryOtherError() throws {
        let sandbox = CLISandbox()
        let output = try sandbox.run(["batch", "create", "--period", "2026-13"])
        #expect(output.status == 64)
        #expect(output.stderr.hasPrefix("error: "))
        #expect(output.stderr.contains("period \"2026-13\" is not a month between 2000-01 and 2999-12"))
    }
}

@Suite struct CLIGlobalOptionTests {
    @Test func dbMayComeBeforeTheSubcommand() throws {
        let sandbox = CLISandbox()
        let elsewhere = sandbox.directory.file("other.sqlite")
        sandbox.expectSuccess(try sandbox.run(["--db", elsewhere, "fund", "--amount", "5.000", "--reference", "QD-9", "--by", "head"]))
        let balances = try sandbox.run(["--db=\(elsewhere)", "ledger", "balances", "--json"])
        sandbox.expectSuccess(balances)
        #expect(balances.stdout.contains("\"account\":\"1000\""))
        #expect(balances.stdout.contains("\"balance\":5000"))
        // The default ledger (ALLOWANCE_DB) was not touched.
        #expect(!FileManager.default.fileExists(atPath: sandbox.database))
    }
}
