import Testing
@testable import AllowanceLedger
@testable import LedgerSQLite

@Suite struct FlagTests {
    let period = try! Period(parsing: "2026-11")

    /// Binh shares Lan's number.
    var sharedLines: [String] {
        [Sample.lan, Sample.hung, Sample.mai, Sample.binh.replacingOccurrences(of: "MOBIFONE,0701234567", with: "MOBIFONE,84912345678")]
    }

    @Test func aSharedNumberFlagsEveryoneUsingItAndHoldsThemOut() throws {
        let fixture = try Fixture()
        let imported = try fixture.importLines(sharedLines)
        #expect(imported.flagsRaised == 2)
        let flags = try fixture.store.registry.flags()
        #expect(flags.map(\.beneficiaryID.rawValue).sorted() == [1, 4])
        #expect(flags.allSatisfy { $0.kind == .sharedMSISDN })
        #expect(flags[0].shownEvidence(reveal: false) == "********678")
        #expect(flags.first { $0.beneficiaryID.rawValue == 1 }?.detail == "number also used by beneficiary 4")

        let batch = try fixture.store.payouts.createBatch(BatchCreateOptions(period: period, by: user("maker")))
        #expect(batch.items == 2)
        #expect(batch.batch.heldOut == 2)
        #expect(batch.heldOutByKind == ["shared_msisdn": 2])
        #expect(try fixture.store.payouts.batchSummary(batch.batch.id).heldOutByReason.map(\.items) == [2])
    }

    @Test func aClearedFlagLetsTheBeneficiaryIntoTheNextBatchAndStaysCleared() throws {
        let fixture = try Fixture()
        try fixture.importLines(sharedLines)
        let flag = try #require(try fixture.store.registry.flags().first { $0.beneficiaryID.rawValue == 1 })
        #expect(throws: RegistryError.reasonRequired) { try fixture.store.registry.clearFlag(flag.id, reason: "", by: user("head")) }
        let cleared = try fixture.store.registry.clearFlag(flag.id, reason: "mother and son share one phone; checked at home visit", by: user("head"))
        #expect(cleared.clearedBy == "head")
        #expect(throws: RegistryError.flagAlreadyCleared(flag.id, by: "head", at: "2026-11-20T08:00:00Z")) {
            try fixture.store.registry.clearFlag(flag.id, reason: "again", by: user("head"))
        }
        #expect(throws: RegistryError.flagNotFound(99)) { try fixture.store.registry.clearFlag(99, reason: "x", by: user("head")) }
        // Raising again does not reopen it.
        #expect(try fixture.store.registry.flags().map(\.beneficiaryID.rawValue) == [4])
        #expect(try fixture.store.registry.flags(includeCleared: true).count == 2)
        let batch = try fixture.store.payouts.createBatch(BatchCreateOptions(period: period, by: user("maker")))
        #expect(batch.items == 3)
        #expect(batch.batch.heldOut == 1)
        let (_, events) = try fixture.store.registry.history(of: "1")
        #expect(events.last?.kind == .flagCleared)
    }

    @Test func anAccountChangeJustBeforeABatchFlagsButAFirstLinkDoesNot() throws {
        let fixture = try Fixture()
        try fixture.importLines(Sample.all)
        let hung = "079040000002"
        _ = try fixture.store.registry.updateAccount(of: hung, .link(MobileMoneyAccount(carrier: Code(trusted: "VIETTEL"), msisdn: try MSISDN(parsing: "0961000001"))),
                                            reason: "first account", by: user("officer"))
        _ = try fixture.store.registry.updateAccount(of: "1", .change(MobileMoneyAccount(carrier: Code(trusted: "VNPT"), msisdn: try MSISDN(parsing: "0911000002"))),
                                            reason: "new SIM", by: user("officer"))
        let flags = try fixture.store.registry.flags()
        #expect(flags.map(\.beneficiaryID.rawValue) == [1])
        #expect(flags[0].kind == .recentAccountChange)
        #expect(flags[0].detail.contains("new SIM"))
        fixture.time.advance(days: 6)
        let batch = try fixture.store.payouts.createBatch(BatchCreateOptions(period: period, by: user("maker")))
        #expect(batch.heldOutByKind == ["recent_account_change": 1])
        #expect(batch.items == 3)
    }

    @Test func aChangeOlderThanTheWindowNoLongerHoldsAndTheWindowIsConfigurable() throws {
        let fixture = try Fixture()
        try fixture.importLines(Sample.all)
        _ = try fixture.store.registry.updateAccount(of: "1", .change(MobileMoneyAccount(carrier: Code(trusted: "VNPT"), msisdn: try MSISDN(parsing: "0911000002"))),
                                            reason: "new SIM", by: user("officer"))
        fixture.time.advance(days: 8)
        #expect(try fixture.store.registry.flags().isEmpty)
        try fixture.store.registry.setChangeWindowDays(10, by: user("head"))
        #expect(try fixture.store.registry.changeWindowDays() == 10)
        // The service holds the window's range, whoever calls it.
        #expect(throws: RegistryError.changeWindowOutOfRange(366)) { try fixture.store.registry.setChangeWindowDays(366, by: user("head")) }
        #expect(throws: RegistryError.changeWindowOutOfRange(-1)) { try fixture.store.registry.setChangeWindowDays(-1, by: user("head")) }
        #expect(try fixture.store.registry.changeWindowDays() == 10)
        #expect(try fixture.store.registry.flags().map(\.beneficiaryID.rawValue) == [1])
        try fixture.store.registry.setChangeWindowDays(7, by: user("head"))
        let batch = try fixture.store.payouts.createBatch(BatchCreateOptions(period: period, by: user("maker")))
        #expect(batch.items == 4)
        #expect(batch.batch.heldOut == 0)
    }

    @Test func anAccountChangeByReimportIsFlaggedToo() throws {
        let fixture = try Fixture()
        try fixture.importLines(Sample.all)
        let changed = Sample.mai.replacingOccurrences(of: "+84 987 654 321", with: "0987000999")
        let result = try fixture.importLines([changed], name: "update.csv")
        #expect(result.updated == 1)
        #expect(try fixture.store.registry.flags().map(\.kind) == [.recentAccountChange])
    }
}

@Suite struct FlagBypassTests {
    @Test func closingAnAccountAndLinkingANewOneIsAChangeToo() throws {
        let fixture = try Fixture()
        try fixture.importLines(Sample.all)
        _ = try fixture.store.registry.updateAccount(of: "1", .close, reason: "SIM lost", by: user("officer"))
        #expect(try fixture.store.registry.flags().isEmpty)
        _ = try fixture.store.registry.updateAccount(of: "1", .link(MobileMoneyAccount(carrier: Code(trusted: "VNPT"), msisdn: try MSISDN(parsing: "0911000002"))),
                                            reason: "new SIM", by: user("officer"))
        let flags = try fixture.store.registry.flags()
        #expect(flags.map(\.kind) == [.recentAccountChange])
        #expect(flags.map(\.beneficiaryID.rawValue) == [1])
    }
}
