import Foundation
import Testing
@testable import AllowanceLedger
@testable import LedgerSQLite

/// Issue 21: carriers as people write them in a register's carrier column.
@Suite struct CarrierAliasTests {
    static let header = "national_id,full_name,date_of_birth,gender,commune_code,category,payment_method,carrier,msisdn\n"

    func register(_ fixture: Fixture, _ carriers: [String]) throws -> String {
        let ids = ["048031504425,Nguyễn Văn Bình,1931-11-13,M", "075135796905,Nguyễn Kim Hằng,1935-06-26,F", "062179433728,Trần Thị Hạnh,1979-08-07,F",
                   "048031504426,Lê Văn Cường,1931-11-13,M", "075135796906,Phạm Thị Dung,1935-06-26,F", "062179433729,Hoàng Thị Em,1979-08-07,F",
                   "048031504427,Đỗ Văn Phúc,1931-11-13,M"]
        var text = Self.header
        for (index, carrier) in carriers.enumerated() {
            text += "\(ids[index]),26767,ELDERLY_80,mobile_money,\(carrier),09120000\(10 + index)\n"
        }
        let path = fixture.directory.file("aliases-\(UUID().uuidString).csv")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func theSeededCarriersUsualNamesNameThem() throws {
        let fixture = try Fixture()
        let spellings = ["Viettel Money", "ViettelPay", "VIETTEL  MONEY", "VNPT Money", "VNPT Pay", "MobiFone Money", "MobiMoney"]
        _ = try fixture.store.registry.importRegister(path: try register(fixture, spellings), options: RegisterImportOptions(by: user("officer")))
        let carriers = try fixture.store.registry.beneficiaries(BeneficiaryFilter()).map { $0.details.account?.carrier.value ?? "" }
        #expect(carriers == ["VIETTEL", "VIETTEL", "VIETTEL", "VNPT", "VNPT", "MOBIFONE", "MOBIFONE"])
    }

    @Test func anUnknownNameListsTheCarriersAndTheirAliasesAndAnAddedAliasNamesItsCarrier() throws {
        let fixture = try Fixture()
        let path = try register(fixture, ["VT Money"])
        var problems: [String] = []
        #expect(throws: RegisterImportError.self) {
            try fixture.store.registry.importRegister(path: path, displayName: "r.csv", options: RegisterImportOptions(by: user("officer")),
                                                      onProblem: { problems.append($0.description) })
        }
        #expect(problems.count == 1)
        #expect(problems.first?.contains("VIETTEL (VIETTEL MONEY, VIETTEL PAY, VIETTELPAY)") == true, "\(problems)")
        try fixture.store.registry.addCarrierAlias("vt  money", carrier: Code(trusted: "VIETTEL"), by: user("head"))
        _ = try fixture.store.registry.importRegister(path: path, options: RegisterImportOptions(by: user("officer")))
        #expect(try fixture.store.registry.beneficiaries(BeneficiaryFilter()).first?.details.account?.carrier.value == "VIETTEL")
        #expect(try fixture.store.registry.carrierAliases().contains { $0.alias == "VT MONEY" && $0.carrier == "VIETTEL" })
    }

    @Test func anAliasMustNameAKnownCarrierAndNoOtherAlias() throws {
        let fixture = try Fixture()
        #expect(throws: FieldError.self) { try fixture.store.registry.addCarrierAlias("Zalo", carrier: Code(trusted: "ZALO"), by: user("head")) }
        #expect(throws: FieldError.self) { try fixture.store.registry.addCarrierAlias("viettelpay", carrier: Code(trusted: "VNPT"), by: user("head")) }
        #expect(throws: FieldError.self) { try fixture.store.registry.addCarrierAlias("vnpt", carrier: Code(trusted: "VIETTEL"), by: user("head")) }
        #expect(throws: FieldError.self) { try fixture.store.registry.addCarrierAlias("  ", carrier: Code(trusted: "VIETTEL"), by: user("head")) }
        #expect(CarrierAlias.key("  Viettel \t Money ") == "VIETTEL MONEY")
    }
}

/// `allowance_fold` (C, Sources/CSQLiteTuning): how a name search compares names, inside SQLite.
@Suite struct NameFoldSQLTests {
    static let cases: [(String, String)] = [
        ("Nguyễn Văn Bình", "nguyen van binh"), ("ĐẶNG THỊ HỒNG", "dang thi hong"), ("Trần  Đức\tĐạt ", "tran duc dat"),
        ("Lê Thị Ưng Ơn", "le thi ung on"), ("  Hoàng   Xuân Huệ", "hoang xuan hue"), ("Nguye\u{0302}\u{0303}n", "nguyen"),
        ("Phạm\u{00A0}Ngọc Ánh", "pham ngoc anh"), ("O'Brien-Smith", "o'brien-smith"), ("张伟", "张伟"), ("", ""),
        ("Ỳ Ỷ Ỹ Ỵ Ý", "y y y y y"),
    ]

    @Test func foldsNamesAsASearchComparesThem() throws {
        let fixture = try Fixture()
        try fixture.store.read { db in
            for (name, folded) in Self.cases {
                let ours = try String.fetchOne(db, sql: "SELECT allowance_fold(?)", arguments: [name])
                #expect(ours == folded, "\(name)")
            }
            let none = try String.fetchOne(db, sql: "SELECT allowance_fold(NULL)")
            #expect(none == nil)
            // Bytes that are not UTF-8 are kept, never read past the end.
            let kept = try Int.fetchOne(db, sql: "SELECT length(CAST(allowance_fold(CAST(x'41C3' AS TEXT)) AS BLOB))")
            #expect(kept == 2)
        }
    }

    @Test func aNameSearchFindsWithoutDiacriticsAndStopsAtTheLimit() throws {
        let fixture = try Fixture()
        let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("samples/register.csv").path
        _ = try fixture.store.registry.importRegister(path: sample, options: RegisterImportOptions(by: user("officer")))
        var filter = BeneficiaryFilter(limit: 2)
        filter.name = "NGUYEN"
        let found = try fixture.store.registry.beneficiaries(filter)
        #expect(found.count == 2)
        #expect(found.allSatisfy { $0.details.fullName.hasPrefix("Nguyễn") })
        filter.name = "   "
        #expect(try fixture.store.registry.beneficiaries(filter).count == 2, "blank is no name filter")
    }
}
