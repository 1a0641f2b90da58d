import Foundation
import GRDB
import Testing
@testable import AllowanceLedger
@testable import LedgerSQLite

/// Issue 22: Vietnam's rules as data. Birthdays move categories and bring the social pension; a person is paid one
/// monthly benefit, the highest; one-off payments are paid once; a province's base level applies in its communes.
@Suite struct BenefitTests {
    let december = try! Period(parsing: "2026-12")

    /// A register with `household_status` (the Fixture's header has none).
    @discardableResult
    func importWithHousehold(_ fixture: Fixture, _ lines: [String], name: String = "household.csv") throws -> RegisterImportResult {
        let path = fixture.directory.write(name, Fixture.header.dropLast() + ",household_status\n" + lines.joined(separator: "\n") + "\n")
        return try fixture.store.registry.importRegister(path: path, displayName: name, options: RegisterImportOptions(by: user("officer")))
    }

    /// (beneficiary, category paid, amount) of a batch's items.
    func items(_ fixture: Fixture, batch: BatchID) throws -> [(Int64, String, Int64, String)] {
        let queue = try DatabaseQueue(path: fixture.directory.file("ledger.sqlite"))
        return try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT beneficiary_id, category, amount, one_off FROM batch_item WHERE batch_id = ? ORDER BY seq",
                             arguments: [batch.rawValue]).map { ($0[0], $0[1], $0[2], $0[3]) }
        }
    }

    /// Turned 80 last month (A), turns 80 this month (B), turned 75 last month (C), 71 in a poor household (D), young (E).
    static let month = [
        "001046000101,Nguyễn Văn An,1946-11-10,M,26734,ELDERLY_POOR,mobile_money,VIETTEL,0912000101,",
        "001146000102,Trần Thị Bích,1946-12-05,F,26734,ELDERLY_POOR,cash,,,",
        "001051000103,Lê Văn Cường,1951-11-20,M,26734,SINGLE_PARENT_POOR,mobile_money,VNPT,0912000103,",
        "001155000104,Phạm Thị Dung,1955-05-01,F,26737,SINGLE_PARENT_POOR,cash,,,hộ nghèo",
        "001090000105,Hoàng Văn Em,1990-01-01,M,26737,DISABLED_SEVERE,cash,,,",
    ]

    @Test func aMonthAcrossAn80thAndA75thBirthdayPaysEachTheHighestBenefitOnce() throws {
        let fixture = try Fixture()
        try importWithHousehold(fixture, Self.month)
        // The social pension above the allowance's 1.0 so that it wins for some: a change of law is a row.
        try fixture.store.registry.setRate(.fixed(Money(dong: 600_000)), of: Code(trusted: "SOCIAL_PENSION"),
                                           from: try CalendarDate(parsing: "2026-12-01"), basis: "test", by: user("head"))
        let due = try fixture.store.payouts.dueChanges(period: december)
        #expect(due.rule == .nextMonth)
        #expect(due.changes.map { "\($0.beneficiary) \($0.kind.rawValue) \($0.from)→\($0.to) \($0.age)" } == [
            "1 category ELDERLY_POOR→ELDERLY_POOR_80 80", "3 qualified SINGLE_PARENT_POOR→SOCIAL_PENSION 75",
        ])

        let created = try fixture.store.payouts.createBatch(BatchCreateOptions(period: december, by: user("maker")))
        #expect(created.changes == due.changes)
        #expect(created.total == Money(dong: 1_000_000 + 750_000 + 600_000 + 600_000 + 750_000))
        #expect(created.twoBenefits == 4)
        #expect(created.paidByAge == [Code(trusted: "SOCIAL_PENSION"): 2])
        #expect(try items(fixture, batch: created.batch.id).map { "\($0.0) \($0.1) \($0.2)" } == [
            "1 ELDERLY_POOR_80 1000000", "2 ELDERLY_POOR 750000", "3 SOCIAL_PENSION 600000", "4 SOCIAL_PENSION 600000", "5 DISABLED_SEVERE 750000",
        ])
        // The step is in the register and its history, with the reason; the qualification in the history.
        let (an, anHistory) = try fixture.store.registry.history(of: "1")
        #expect(an.details.category == Code(trusted: "ELDERLY_POOR_80"))
        let step = try #require(anHistory.last)
        #expect(step.field == "category" && step.oldValue == "ELDERLY_POOR" && step.newValue == "ELDERLY_POOR_80" && step.by == "maker")
        #expect(step.reason?.contains("reached 80 on 2026-11-10") == true)
        let (_, cuongHistory) = try fixture.store.registry.history(of: "3")
        #expect(cuongHistory.last?.field == "qualifies_for" && cuongHistory.last?.newValue == "SOCIAL_PENSION")
        #expect(try fixture.store.registry.beneficiary("2").details.category == Code(trusted: "ELDERLY_POOR"))
        // The register's chain sealed the changed rows: the ledger verifies.
        #expect(try fixture.store.journal.verify().isIntact)

        // Next month: B's 80th birthday (December) counts from January.
        let january = try fixture.store.payouts.dueChanges(period: try Period(parsing: "2027-01"))
        #expect(january.changes.map { "\($0.beneficiary) \($0.to)" } == ["2 ELDERLY_POOR_80"])
        // A batch never pays two monthly benefits to one person for one month.
        #expect(throws: BatchError.self) {
            try fixture.store.payouts.createBatch(BatchCreateOptions(period: december, by: user("maker")))
        }
    }

    @Test func theSameMonthRuleCountsTheBirthdayMonth() throws {
        let fixture = try Fixture()
        try importWithHousehold(fixture, Self.month)
        try fixture.store.registry.setAgeMonthRule(.sameMonth, by: user("head"))
        let due = try fixture.store.payouts.dueChanges(period: december)
        #expect(due.rule == .sameMonth)
        // B turns 80 in December and counts now. A's step, due since November, is still owed in the register (no batch
        // was made then), so it is made now too; C's pension counted from November, so it is no longer new.
        #expect(due.changes.map { "\($0.beneficiary) \($0.kind.rawValue) \($0.to)" } == ["1 category ELDERLY_POOR_80", "2 category ELDERLY_POOR_80"])
        #expect(BenefitPlan.hasReached(age: 80, born: try CalendarDate(parsing: "1946-12-31"), period: december, rule: .sameMonth))
        #expect(!BenefitPlan.hasReached(age: 80, born: try CalendarDate(parsing: "1946-12-01"), period: december, rule: .nextMonth))
        #expect(BenefitPlan.bornBefore(age: 80, period: december, rule: .sameMonth) == "1947-01")
        #expect(BenefitPlan.bornBefore(age: 4, period: december, rule: .nextMonth) == "2022-12")
    }

    @Test func aChildTurningFourMovesToTheOrphanRate() throws {
        let fixture = try Fixture()
        try fixture.importLines(["001322000201,Vũ Thị Nhỏ,2022-10-03,F,26734,ORPHAN_UNDER_4,cash,,"])
        let november = try fixture.store.payouts.createBatch(BatchCreateOptions(period: try Period(parsing: "2026-11"), by: user("maker")))
        #expect(november.total == Money(dong: 750_000) && november.changes.first?.to == Code(trusted: "ORPHAN"))
    }

    @Test func aPoorHouseholdBringsThePensionForwardTo70AndIsKeptByARegisterWithoutTheColumn() throws {
        let fixture = try Fixture()
        try importWithHousehold(fixture, ["001155000104,Phạm Thị Dung,1955-05-01,F,26737,SINGLE_PARENT_POOR,cash,,,near_poor"])
        #expect(try fixture.store.registry.beneficiary("1").details.householdStatus == .nearPoor)
        // The same person in a register without household_status: nothing to say of the household, nothing changes.
        let again = try fixture.importLines(["001155000104,Phạm Thị Dung,1955-05-01,F,26737,SINGLE_PARENT_POOR,cash,,"], name: "plain.csv")
        #expect(again.unchanged == 1 && again.updated == 0)
        // Cleared in a register that has the column: a history event, and no pension at 71.
        let cleared = try importWithHousehold(fixture, ["001155000104,Phạm Thị Dung,1955-05-01,F,26737,SINGLE_PARENT_POOR,cash,,,"], name: "cleared.csv")
        #expect(cleared.updated == 1)
        let (found, history) = try fixture.store.registry.history(of: "1")
        #expect(found.details.householdStatus == nil)
        #expect(history.last?.field == "household_status" && history.last?.oldValue == "near_poor" && history.last?.newValue == nil)
        #expect(try fixture.store.journal.verify().isIntact)
        let batch = try fixture.store.payouts.createBatch(BatchCreateOptions(period: december, by: user("maker")))
        #expect(batch.twoBenefits == 0)
        // A status the register cannot mean is refused with the fix.
        #expect(throws: RegisterImportError.self) {
            try importWithHousehold(fixture, ["001155000104,Phạm Thị Dung,1955-05-01,F,26737,SINGLE_PARENT_POOR,cash,,,rich"], name: "bad.csv")
        }
        #expect(throws: FieldError.self) { try HouseholdStatus(parsing: "khá giả") }
        #expect(try HouseholdStatus(parsing: "Hộ cận nghèo") == .nearPoor && HouseholdStatus(parsing: "near-poor") == .nearPoor)
    }

    @Test func aProvincesOwnBaseLevelAppliesInItsCommunesUntilTheNationalOnePassesIt() throws {
        let fixture = try Fixture()
        let list = fixture.directory.write("communes.csv", CommuneList.columns.joined(separator: ",") + "\n"
            + "26734,Xã Một (tên giả),01,Tỉnh Một (tên giả),2025-07-01,,test\n26737,Xã Hai (tên giả),79,Tỉnh Hai (tên giả),2025-07-01,,test\n")
        _ = try fixture.store.registry.importCommunes(path: list, by: user("officer"))
        try fixture.importLines(Sample.all)
        try fixture.store.registry.setBaseLevel(Money(dong: 650_000), from: try CalendarDate(parsing: "2026-01-01"), province: "01",
                                                basis: "Nghị quyết 63/2025/NQ-HĐND", by: user("head"))
        #expect(throws: RateError.self) {
            try fixture.store.registry.setBaseLevel(Money(dong: 660_000), from: try CalendarDate(parsing: "2026-01-01"), province: "01", by: user("head"))
        }
        let rates = try fixture.store.registry.rates()
        let day = try CalendarDate(parsing: "2026-11-01")
        #expect(rates.appliedBaseLevel(on: day, province: "01")?.reason == .provincial)
        #expect(rates.appliedBaseLevel(on: day, province: "01")?.level.basis == "Nghị quyết 63/2025/NQ-HĐND")
        #expect(rates.appliedBaseLevel(on: day, province: "79")?.reason == .national)
        let november = try fixture.store.payouts.createBatch(BatchCreateOptions(period: try Period(parsing: "2026-11"), by: user("maker")))
        // Lan (ELDERLY_POOR, 1.5) and Hùng (ELDERLY_80, 1.0) in province 01; Mai and Bình (1.5) in 79.
        #expect(try items(fixture, batch: november.batch.id).map(\.2) == [975_000, 650_000, 750_000, 750_000])
        // A national level above the province's own: the higher applies.
        try fixture.store.registry.setBaseLevel(Money(dong: 700_000), from: try CalendarDate(parsing: "2027-01-01"), by: user("head"))
        let later = try fixture.store.registry.rates().appliedBaseLevel(on: try CalendarDate(parsing: "2027-01-01"), province: "01")
        #expect(later?.reason == .nationalAboveProvincial && later?.level.amount == Money(dong: 700_000))
        let january = try fixture.store.payouts.createBatch(BatchCreateOptions(period: try Period(parsing: "2027-01"), by: user("maker")))
        #expect(try items(fixture, batch: january.batch.id).map(\.2) == [1_050_000, 700_000, 1_050_000, 1_050_000])
    }

    @Test func aOneOffIsPaidOnceWithItsOwnNarrativeAndLeftOutOfTheMonthlyShare() throws {
        let fixture = try Fixture()
        try fixture.importLines(Sample.all)
        let november = try Period(parsing: "2026-11")
        let monthly = try fixture.store.payouts.createBatch(BatchCreateOptions(period: november, by: user("maker")))
        _ = try fixture.store.payouts.approveBatch(monthly.batch.id, by: user("checker"))
        let gift = try OneOffPayment(name: "Quà Tết 2027", amount: Money(dong: 400_000))
        var options = BatchCreateOptions(period: november, by: user("maker"))
        options.oneOff = gift
        options.categories = [Code(trusted: "ELDERLY_POOR"), Code(trusted: "ELDERLY_80")]
        let created = try fixture.store.payouts.createBatch(options)
        #expect(created.items == 2 && created.total == Money(dong: 800_000) && created.changes.isEmpty)
        #expect(try items(fixture, batch: created.batch.id).map { "\($0.0) \($0.2) \($0.3)" } == ["1 400000 Quà Tết 2027", "2 400000 Quà Tết 2027"])
        #expect(created.batch.oneOff == gift)
        // Paid once: again in the month, or in another month, is refused; --skip-existing leaves nobody.
        #expect(throws: BatchError.oneOffPaid(name: gift.name, period: november, batches: [created.batch.id])) { try fixture.store.payouts.createBatch(options) }
        options.skipExisting = true
        #expect(throws: BatchError.self) { try fixture.store.payouts.createBatch(options) }
        var later = options
        later.period = try Period(parsing: "2027-01")
        #expect(throws: BatchError.oneOffPaid(name: gift.name, period: november, batches: [created.batch.id])) { try fixture.store.payouts.createBatch(later) }
        // The maker-checker and instruction path of a month, with the one-off's own narrative.
        _ = try fixture.store.payouts.approveBatch(created.batch.id, by: user("checker"))
        let file = fixture.directory.file("tet.csv")
        let exported = try fixture.store.payouts.exportBatch(created.batch.id, to: file, by: user("maker"))
        #expect(exported.lines == 1)
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(text.hasSuffix(",400000,Quà Tết 2027 11/2026\n"))
        #expect(try fixture.store.journal.verify().isIntact)
        // The monthly share counts the month's four recipients, not the gift's two.
        let share = try fixture.store.reports.nonCash(from: november, to: november, grouping: .commune, target: Share(basisPoints: 7_000))
        #expect(share.total.recipients == 4)
        // Another one-off of another name in the same month is its own payment.
        var other = BatchCreateOptions(period: november, by: user("maker"))
        other.oneOff = try OneOffPayment(name: "Hỗ trợ bão lũ", amount: Money(dong: 300_000))
        #expect(try fixture.store.payouts.createBatch(other).items == 4)
        // A name or amount the office cannot mean is refused.
        #expect(throws: FieldError.self) { try OneOffPayment(name: "=cmd()", amount: Money(dong: 1)) }
        #expect(throws: FieldError.self) { try OneOffPayment(name: "Tết", amount: Money(dong: 0)) }
    }

    @Test func aCancelledOneOffCanBeMadeAgain() throws {
        let fixture = try Fixture()
        try fixture.importLines(Sample.all)
        var options = BatchCreateOptions(period: december, by: user("maker"))
        options.oneOff = try OneOffPayment(name: "Quà Tết 2027", amount: Money(dong: 400_000))
        let first = try fixture.store.payouts.createBatch(options)
        _ = try fixture.store.payouts.cancelBatch(first.batch.id, reason: "wrong amount", by: user("maker"))
        options.oneOff = try OneOffPayment(name: "Quà Tết 2027", amount: Money(dong: 500_000))
        #expect(try fixture.store.payouts.createBatch(options).total == Money(dong: 2_000_000))
    }

    @Test func aCategoryOfAProgrammeWithAFixedAmountAndAgeRules() throws {
        let fixture = try Fixture()
        try fixture.store.registry.addCategory(
            RateTable.Category(code: Code(trusted: "LOCAL_PENSION_90"), description: "Provincial support at 90", programme: Code(trusted: "SOCIAL_PENSION"),
                               qualifiesFromAge: 90), amount: .fixed(Money(dong: 800_000)), from: try CalendarDate(parsing: "2026-01-01"),
            basis: "Nghị quyết HĐND (test)", by: user("head"))
        #expect(throws: RateError.unknownProgramme(Code(trusted: "NOPE"))) {
            try fixture.store.registry.addCategory(RateTable.Category(code: Code(trusted: "X"), description: "x", programme: Code(trusted: "NOPE")),
                                                   amount: .fixed(Money(dong: 1)), from: try CalendarDate(parsing: "2026-01-01"), basis: "", by: user("head"))
        }
        let rates = try fixture.store.registry.rates()
        #expect(try rates.monthlyAmount(category: Code(trusted: "LOCAL_PENSION_90"), period: december) == Money(dong: 800_000))
        #expect(try rates.monthlyAmount(category: Code(trusted: "SOCIAL_PENSION"), period: december) == Money(dong: 500_000))
        #expect(throws: RateError.noCoefficient(Code(trusted: "SOCIAL_PENSION"), try Period(parsing: "2025-06"))) {
            try rates.monthlyAmount(category: Code(trusted: "SOCIAL_PENSION"), period: try Period(parsing: "2025-06"))
        }
        #expect(rates.programmes.map(\.code.value) == ["SOCIAL_ALLOWANCE", "SOCIAL_PENSION"])
        // Two benefits by age: 91 qualifies for both and the local one pays most; 76 for the pension only (a tie: the
        // registered category); 60 for neither; DISABLED_EXTREME (1,000,000) beats both at 92.
        try fixture.importLines(["079035000301,Ngô Văn Chín,1935-03-01,M,26734,ELDERLY_80,cash,,",
                                 "079050000302,Ngô Văn Bảy,1950-03-01,M,26734,ELDERLY_80,cash,,",
                                 "079066000303,Ngô Văn Sáu,1966-03-01,M,26734,SINGLE_PARENT_POOR,cash,,",
                                 "079034000304,Ngô Văn Tám,1934-03-01,M,26734,DISABLED_EXTREME,cash,,"])
        let batch = try fixture.store.payouts.createBatch(BatchCreateOptions(period: december, by: user("maker")))
        #expect(try items(fixture, batch: batch.batch.id).map { "\($0.1) \($0.2)" } == [
            "LOCAL_PENSION_90 800000", "ELDERLY_80 500000", "SINGLE_PARENT_POOR 500000", "DISABLED_EXTREME 1000000",
        ])
        #expect(batch.twoBenefits == 3 && batch.paidByAge == [Code(trusted: "LOCAL_PENSION_90"): 1])
    }

    @Test func theBenefitByAgeWinsWhereTheZonesPriceMakesItHigher() throws {
        let fixture = try Fixture()
        let list = fixture.directory.write("communes.csv", CommuneList.columns.joined(separator: ",") + "\n"
            + "26734,Xã Một (tên giả),01,Tỉnh Một (tên giả),2025-07-01,,test\n26737,Xã Hai (tên giả),79,Tỉnh Hai (tên giả),2025-07-01,,test\n")
        _ = try fixture.store.registry.importCommunes(path: list, by: user("officer"))
        try fixture.store.registry.setBaseLevel(Money(dong: 650_000), from: try CalendarDate(parsing: "2026-01-01"), province: "01", by: user("head"))
        try fixture.store.registry.setRate(.fixed(Money(dong: 600_000)), of: Code(trusted: "SOCIAL_PENSION"),
                                           from: try CalendarDate(parsing: "2026-12-01"), basis: "test", by: user("head"))
        try fixture.importLines(["079050000401,Đinh Văn Một,1950-03-01,M,26734,SINGLE_PARENT_POOR,cash,,",
                                 "079050000402,Đinh Văn Hai,1950-03-01,M,26737,SINGLE_PARENT_POOR,cash,,"])
        let batch = try fixture.store.payouts.createBatch(BatchCreateOptions(period: december, by: user("maker")))
        // 650,000 in province 01 beats the pension's 600,000; 500,000 elsewhere does not.
        #expect(try items(fixture, batch: batch.batch.id).map { "\($0.1) \($0.2)" } == ["SINGLE_PARENT_POOR 650000", "SOCIAL_PENSION 600000"])
    }

    @Test func aRatesFileLoadsAChangeInLawAsDataWholeOrNotAtAll() throws {
        let fixture = try Fixture()
        // The sample is the seed, line for line: loading it changes nothing.
        let seeded = try fixture.store.registry.importRates(path: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("samples/rates.csv").path, by: user("head"))
        #expect(seeded.lines == 13 && seeded.unchanged == 13)
        let change = fixture.directory.write("law-2027.csv", """
            kind,code,effective_from,coefficient,amount,province,basis,programme,description,qualifies_from_age,qualifies_from_age_poor,becomes,becomes_at_age
            base_level,,2027-01-01,,600000,,Nghị định (test),,,,,,
            base_level,,2027-01-01,,700000,01,Nghị quyết HĐND (test),,,,,,
            category,SOCIAL_PENSION,2027-01-01,,650000,,Nghị định (test),,,,,,
            category,DISABLED_CHILD_LOCAL,2027-01-01,1.2,,,Nghị quyết HĐND (test),SOCIAL_ALLOWANCE,Provincial support for disabled children,,,,
            category,DISABLED_CHILD_LOCAL,2027-07-01,1.3,,,,,,,,,

            """)
        var problems: [String] = []
        let loaded = try fixture.store.registry.importRates(path: change, displayName: "law-2027.csv", by: user("head")) { problems.append($0.description) }
        #expect(problems.isEmpty)
        #expect(loaded.baseLevels == 2 && loaded.categories == 1 && loaded.rates == 3 && loaded.unchanged == 0)
        let rates = try fixture.store.registry.rates()
        let january = try Period(parsing: "2027-01"), july = try Period(parsing: "2027-07")
        #expect(try rates.monthlyAmount(category: Code(trusted: "SOCIAL_PENSION"), period: january) == Money(dong: 650_000))
        #expect(try rates.monthlyAmount(category: Code(trusted: "DISABLED_CHILD_LOCAL"), period: july) == Money(dong: 780_000))
        #expect(try rates.monthlyAmount(category: Code(trusted: "ELDERLY_POOR"), period: january, province: "01") == Money(dong: 1_050_000))
        // Again: nothing changes.
        #expect(try fixture.store.registry.importRates(path: change, by: user("head")).unchanged == 5)

        let bad = fixture.directory.write("bad.csv", """
            kind,code,effective_from,coefficient,amount,province
            base_level,,2028-01-01,,800000,
            category,SOCIAL_PENSION,2027-01-01,,700000,
            category,NEWCODE,2028-01-01,1,,
            category,ORPHAN,2028-01-01,1,500000,
            bonus,,2028-01-01,,1,

            """)
        problems = []
        #expect(throws: RateImportError.invalidLines("bad.csv", count: 4)) {
            try fixture.store.registry.importRates(path: bad, displayName: "bad.csv", by: user("head")) { problems.append($0.description) }
        }
        #expect(problems.map { String($0.prefix(10)) } == ["bad.csv:3:", "bad.csv:4:", "bad.csv:5:", "bad.csv:6:"])
        #expect(problems[0].contains("already set for that day") && problems[1].contains("needs its description")
            && problems[2].contains("either --coefficient") && problems[3].contains("base_level or category"))
        // The good first line was not loaded either.
        #expect(try fixture.store.registry.rates().baseLevel(on: try CalendarDate(parsing: "2028-01-01"))?.amount == Money(dong: 600_000))
    }

    @Test func aOneOffIsTheSamePaymentWhateverTheCaseOrCompositionOfItsName() throws {
        let fixture = try Fixture()
        try fixture.importLines(Sample.all)
        var options = BatchCreateOptions(period: december, by: user("maker"))
        options.oneOff = try OneOffPayment(name: "Quà  Tết 2027", amount: Money(dong: 400_000))
        let first = try fixture.store.payouts.createBatch(options)
        #expect(first.batch.oneOff?.name == "Quà Tết 2027")
        // Decomposed (NFD), as some Vietnamese keyboards type it, and in lower case.
        options.oneOff = try OneOffPayment(name: "quà tết 2027".decomposedStringWithCanonicalMapping, amount: Money(dong: 400_000))
        #expect(throws: BatchError.oneOffPaid(name: "Quà Tết 2027", period: december, batches: [first.batch.id])) {
            try fixture.store.payouts.createBatch(options)
        }
        options.skipExisting = true
        #expect(throws: BatchError.self) { try fixture.store.payouts.createBatch(options) }
    }

    @Test func aMonthMadeAfterALaterOneMovedPeopleOnIsRefused() throws {
        let fixture = try Fixture()
        try importWithHousehold(fixture, Self.month)
        // January moves B (80 in December) on; December made afterwards would pay B at 2.0.
        let january = try fixture.store.payouts.createBatch(BatchCreateOptions(period: try Period(parsing: "2027-01"), by: user("maker")))
        #expect(january.changes.contains { $0.beneficiary == BeneficiaryID(2) && $0.kind == .category })
        #expect(throws: BatchError.movedOnLater(period: december, through: try Period(parsing: "2027-01"), beneficiary: BeneficiaryID(2),
                                                 from: Code(trusted: "ELDERLY_POOR"), to: Code(trusted: "ELDERLY_POOR_80"))) {
            try fixture.store.payouts.createBatch(BatchCreateOptions(period: december, by: user("maker")))
        }
        // A commune where nobody moved on can still be made.
        var other = BatchCreateOptions(period: december, by: user("maker"))
        other.communes = [Code(trusted: "26737")]
        #expect(try fixture.store.payouts.createBatch(other).items == 2)
    }

    @Test func aQualificationIsRecordedOnceWhateverTheBatchesOfTheMonth() throws {
        let fixture = try Fixture()
        try importWithHousehold(fixture, Self.month)
        var first = BatchCreateOptions(period: december, by: user("maker"))
        first.communes = [Code(trusted: "26734")]
        let made = try fixture.store.payouts.createBatch(first)
        #expect(made.changes.filter { $0.kind == .qualified }.map(\.beneficiary) == [BeneficiaryID(3)])
        _ = try fixture.store.payouts.cancelBatch(made.batch.id, reason: "made again", by: user("maker"))
        let again = try fixture.store.payouts.createBatch(BatchCreateOptions(period: december, by: user("maker")))
        #expect(again.changes.isEmpty)
        let (_, history) = try fixture.store.registry.history(of: "3")
        #expect(history.filter { $0.field == "qualifies_for" }.count == 1)
    }

    @Test func aRatesFileRefusesLoopsAndTwiceTheSameRate() throws {
        let fixture = try Fixture()
        let file = fixture.directory.write("loops.csv", """
            kind,code,effective_from,coefficient,amount,province,basis,programme,description,qualifies_from_age,qualifies_from_age_poor,becomes,becomes_at_age
            category,SELFISH,2027-01-01,1,,,,,Moves into itself,,,SELFISH,80
            category,LOOP_A,2027-01-01,1,,,,,A,,,LOOP_B,4
            category,LOOP_B,2027-01-01,1,,,,,B,,,LOOP_A,80
            base_level,,2027-01-01,,600000,,,,,,,,
            base_level,,2027-01-01,,600000,,,,,,,,

            """)
        var problems: [String] = []
        #expect(throws: RateImportError.self) {
            try fixture.store.registry.importRates(path: file, displayName: "loops.csv", by: user("head")) { problems.append($0.description) }
        }
        #expect(problems.contains { $0.hasPrefix("loops.csv:2:") && $0.contains("cannot become itself") })
        #expect(problems.contains { $0.hasPrefix("loops.csv:3:") && $0.contains("in a loop") })
        #expect(problems.contains { $0.hasPrefix("loops.csv:6:") && $0.contains("same rate for the same day") })
        #expect(throws: RegisterImportError.self) {
            try importWithHousehold(fixture, ["001155000104,Phạm Thị Dung,1955-05-01,F,26737,SINGLE_PARENT_POOR,cash,,,0912345678"], name: "shifted.csv")
        }
        let problem = HouseholdStatusProblem.of("0912345678")
        #expect(!problem.contains("0912345678") && problem.contains("678"))
    }
}

/// The household status error as the CLI words it.
enum HouseholdStatusProblem {
    static func of(_ text: String) -> String {
        do { _ = try HouseholdStatus(parsing: text); return "" } catch { return Wording.english.words(for: error.problem) }
    }
}
