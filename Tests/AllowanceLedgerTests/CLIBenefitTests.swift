import Foundation
import Testing

/// Issue 22's commands run as a process: `beneficiary due`, `batch create --one-off`, provincial base levels and the
/// age rule, with their JSON and their refusals.
@Suite("allowance benefits, run as a process")
struct CLIBenefitTests {
    func register(_ sandbox: CLISandbox) throws {
        let file = sandbox.directory.write("register.csv", """
            national_id,full_name,date_of_birth,gender,commune_code,category,payment_method,carrier,msisdn,household_status
            001046000101,Nguyễn Văn An,1946-10-10,M,26734,ELDERLY_POOR,mobile_money,VIETTEL,0912000101,
            001155000104,Phạm Thị Dung,1955-05-01,F,26737,SINGLE_PARENT_POOR,cash,,,poor

            """)
        sandbox.expectSuccess(try sandbox.run(["beneficiary", "import", file]))
    }

    @Test func dueListsTheMonthsChangesAndBatchCreateAppliesThem() throws {
        let sandbox = CLISandbox()
        try register(sandbox)
        let due = try sandbox.run(["beneficiary", "due", "--period", "2026-11", "--json"])
        sandbox.expectSuccess(due)
        let json = try jsonObject(due.stdout)
        #expect(json["age_rule"] as? String == "next")
        let changes = try #require(json["changes"] as? [[String: Any]])
        #expect(changes.map { "\($0["beneficiary"] ?? "") \($0["kind"] ?? "") \($0["to"] ?? "")" } == ["1 category ELDERLY_POOR_80"])
        let text = try sandbox.run(["beneficiary", "due", "--period", "2026-11"])
        #expect(text.stdout.contains("ELDERLY_POOR → ELDERLY_POOR_80") && text.stdout.contains("1 category change, 0 new qualifications"))
        #expect(!text.stdout.contains("001046000101"))

        let created = try sandbox.run(["batch", "create", "--period", "2026-11", "--json"])
        sandbox.expectSuccess(created)
        let batch = try jsonObject(created.stdout)
        #expect(batch["total"] as? Int == 1_000_000 + 500_000)
        #expect(batch["two_benefits"] as? Int == 2)
        #expect((batch["changes"] as? [[String: Any]])?.count == 1)
        #expect(batch["one_off"] is NSNull)
        let history = try sandbox.run(["beneficiary", "history", "1"])
        #expect(history.stdout.contains("ELDERLY_POOR_80"))
        let after = try sandbox.run(["beneficiary", "due", "--period", "2026-11"])
        #expect(after.stdout.contains("No changes by age in 2026-11"))
    }

    @Test func aOneOffFromTheCommandLine() throws {
        let sandbox = CLISandbox()
        try register(sandbox)
        let created = try sandbox.run(["batch", "create", "--period", "2026-12", "--one-off", "Quà Tết 2027", "--amount", "400000",
                                       "--category", "elderly_poor", "--json"])
        sandbox.expectSuccess(created)
        let batch = try jsonObject(created.stdout)
        #expect(batch["items"] as? Int == 1 && batch["total"] as? Int == 400_000)
        #expect((batch["one_off"] as? [String: Any])?["name"] as? String == "Quà Tết 2027")
        let again = try sandbox.run(["batch", "create", "--period", "2026-12", "--one-off", "Quà Tết 2027", "--amount", "400000"])
        #expect(again.status == 1)
        #expect(again.stderr.contains("was made for 2026-12") && again.stderr.contains("give a new payment a new name"))
        let list = try sandbox.run(["batch", "list"])
        #expect(list.stdout.contains("one-off: Quà Tết 2027"))
        let half = try sandbox.run(["batch", "create", "--period", "2026-12", "--one-off", "Quà"])
        #expect(half.status != 0 && half.stderr.contains("--one-off NAME and --amount N together"))
        let monthlyWithCategory = try sandbox.run(["batch", "create", "--period", "2026-12", "--category", "ORPHAN"])
        #expect(monthlyWithCategory.status != 0 && monthlyWithCategory.stderr.contains("--category narrows a one-off"))
    }

    @Test func ratesShowWhichBaseLevelAppliesAndWhy() throws {
        let sandbox = CLISandbox()
        let communes = sandbox.directory.write("communes.csv", """
            code,name,province_code,province_name,valid_from,replaces,source
            26734,Xã Một (tên giả),01,Tỉnh Một (tên giả),2025-07-01,,test

            """)
        sandbox.expectSuccess(try sandbox.run(["commune", "import", communes]))
        sandbox.expectSuccess(try sandbox.run(["rate", "base-level", "--amount", "650000", "--from", "2026-01-01", "--province", "01",
                                               "--basis", "Nghị quyết 63/2025/NQ-HĐND"]))
        let list = try sandbox.run(["rate", "list", "--period", "2026-11", "--province", "01", "--json"])
        sandbox.expectSuccess(list)
        let json = try jsonObject(list.stdout)
        let applied = try #require(json["base_level_applied"] as? [String: Any])
        #expect(applied["amount"] as? Int == 650_000 && applied["reason"] as? String == "provincial" && applied["province"] as? String == "01")
        let categories = try #require(json["categories"] as? [[String: Any]])
        let pension = try #require(categories.first { $0["code"] as? String == "SOCIAL_PENSION" })
        #expect(pension["fixed_amount"] as? Int == 500_000 && pension["qualifies_from_age"] as? Int == 75
            && pension["qualifies_from_age_poor_household"] as? Int == 70)
        #expect(categories.first { $0["code"] as? String == "ELDERLY_POOR" }?["monthly_amount"] as? Int == 975_000)
        let text = try sandbox.run(["rate", "list", "--period", "2026-11", "--province", "01"])
        #expect(text.stdout.contains("province 01's own level, 650.000 ₫ from 2026-01-01 (above the national 500.000 ₫)"))
        let national = try sandbox.run(["rate", "list", "--period", "2026-11", "--province", "79"])
        #expect(national.stdout.contains("province 79 has set no level of its own in effect"))

        sandbox.expectSuccess(try sandbox.run(["rate", "category", "set", "SOCIAL_PENSION", "--amount", "600000", "--from", "2027-01-01",
                                               "--basis", "test"]))
        let both = try sandbox.run(["rate", "category", "set", "SOCIAL_PENSION", "--amount", "1", "--coefficient", "1", "--from", "2027-02-01"])
        #expect(both.status != 0 && both.stderr.contains("either --coefficient"))
        sandbox.expectSuccess(try sandbox.run(["rate", "age-rule", "same"]))
        let rule = try sandbox.run(["rate", "list", "--json"])
        #expect(try jsonObject(rule.stdout)["age_rule"] as? String == "same")
        let bad = try sandbox.run(["rate", "age-rule", "later"])
        #expect(bad.status != 0 && bad.stderr.contains("next (the month after the birthday) or same"))
    }
}
