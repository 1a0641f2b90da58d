import Foundation
import Testing
@testable import AllowanceLedger
@testable import LedgerSQLite

/// The official commune list (issue 22): loading it, old codes read as the commune that replaced them, names in reports.
@Suite struct CommuneTests {
    static let header = "code,name,province_code,province_name,valid_from,replaces,source\n"
    /// Invented names, as the demo's: a test must not pass off a made-up commune as a real one.
    static let list = header + """
        26737,Phường Minh Phú (invented),01,Hà Nội,2025-07-01,26734 26740,invented for the tests
        26743,Xã Tân Lạc (invented),01,Hà Nội,2025-07-01,,invented for the tests
        26746,Xã An Hòa (invented),01,Hà Nội,2025-07-01,26749;26752,invented for the tests

        """

    @Test func aListLoadsOnceAndAChangedNameUpdates() throws {
        let fixture = try Fixture()
        let path = fixture.directory.write("communes.csv", Self.list)
        let first = try fixture.store.registry.importCommunes(path: path, by: user("officer"))
        #expect(first.lines == 3 && first.created == 3 && first.replacements == 4)
        let again = try fixture.store.registry.importCommunes(path: path, by: user("officer"))
        #expect(again.created == 0 && again.unchanged == 3)
        let renamed = fixture.directory.write("renamed.csv", Self.list.replacingOccurrences(of: "Xã Tân Lạc", with: "Phường Tân Lạc"))
        let update = try fixture.store.registry.importCommunes(path: renamed, by: user("officer"))
        #expect(update.updated == 1 && update.unchanged == 2)
        let communes = try fixture.store.registry.communes()
        #expect(communes.map(\.code.value) == ["26737", "26743", "26746"])
        #expect(communes[0].replaces == ["26734", "26740"] && communes[2].replaces == ["26749", "26752"])
        #expect(try fixture.store.registry.communeNames()["26743"] == "Phường Tân Lạc (invented)")
    }

    @Test func badLinesAreAllReportedAndNothingLoads() throws {
        let fixture = try Fixture()
        let path = fixture.directory.write("bad.csv", Self.header + """
            26737,Phường Minh Phú,01,Hà Nội,2025-07-01,26734,s
            26737,Again,01,Hà Nội,2025-07-01,,s
            26743,,01,Hà Nội,2025-07-01,,s
            26746,Xã An Hòa,01,Hà Nội,1/7/2025,26746,s
            26755,Xã Mới,01,Hà Nội,2025-13-01,,s
            26758,Xã Khác,01,Hà Nội,2025-07-01,26734,s
            26761,Xã Nữa,01,Hà Nội,2025-07-01,26737,s

            """)
        var problems: [String] = []
        #expect(throws: CommuneImportError.invalidLines("bad.csv", count: 6)) {
            try fixture.store.registry.importCommunes(path: path, displayName: "bad.csv", by: user("officer"), onProblem: { problems.append($0.description) })
        }
        #expect(problems == [
            "bad.csv:3: commune 26737 is listed already on line 2",
            "bad.csv:4: name is empty",
            "bad.csv:5: commune 26746 cannot replace itself",
            "bad.csv:6: valid_from \"2025-13-01\" is not a real day",
            "bad.csv:7: old commune 26734 is already replaced by 26737; an old code is read as one commune only",
            "bad.csv:8: commune 26737 is in the list itself; a code is either listed or replaced",
        ])
        #expect(try fixture.store.registry.communes().isEmpty)
        let missing = fixture.directory.write("missing.csv", "code,name\n1,x\n")
        #expect(throws: CommuneImportError.missingColumns("missing.csv", ["province_code", "province_name", "valid_from"])) {
            try fixture.store.registry.importCommunes(path: missing, displayName: "missing.csv", by: user("officer"))
        }
    }

    @Test func aRegisterNamingAMergedCommuneIsImportedUnderTheNewOneAndSaysSo() throws {
        let fixture = try Fixture()
        _ = try fixture.store.registry.importCommunes(path: fixture.directory.write("communes.csv", Self.list), by: user("officer"))
        // Lan and Hùng are registered in 26734, which 26737 replaced.
        let result = try fixture.importLines(Sample.all)
        #expect(result.created == 4)
        #expect(result.communesReplaced == ["26734": 2])
        let communes = Set(try fixture.store.registry.beneficiaries(BeneficiaryFilter()).map(\.details.commune.value))
        #expect(communes == ["26737"])
    }

    @Test func aCodeInNoListIsRefusedOnceAListIsLoaded() throws {
        let fixture = try Fixture()
        let line = Sample.lan.replacingOccurrences(of: ",26734,", with: ",99999,")
        #expect(try fixture.importLines([line]).created == 1, "without a list any code is taken")
        let other = try Fixture()
        _ = try other.store.registry.importCommunes(path: other.directory.write("communes.csv", Self.list), by: user("officer"))
        var problems: [String] = []
        #expect(throws: RegisterImportError.invalidLines("unknown.csv", count: 1)) {
            let path = other.directory.write("unknown.csv", Fixture.header + line + "\n")
            try other.store.registry.importRegister(path: path, displayName: "unknown.csv", options: RegisterImportOptions(by: user("officer")),
                                                    onProblem: { problems.append($0.description) })
        }
        #expect(problems == ["unknown.csv:2: commune_code \"99999\" is not in the commune list; see `allowance commune list`, or load the official list with `allowance commune import`"])
    }

    @Test func theNonCashReportNamesTheCommunes() throws {
        let fixture = try Fixture()
        fixture.time.set("2026-11-25T08:00:00Z")
        _ = try fixture.importLines(Sample.all)
        _ = try fixture.store.payouts.createBatch(BatchCreateOptions(period: try Period(parsing: "2026-11"), by: user("maker")))
        _ = try fixture.store.payouts.approveBatch(BatchID(1), by: user("checker"))
        let month = try Period(parsing: "2026-11")
        let before = try fixture.store.reports.nonCash(from: month, to: month, grouping: .commune, target: Share(basisPoints: 8_000))
        #expect(before.rows.count == 2 && before.rows.allSatisfy { $0.name == nil })
        _ = try fixture.store.registry.importCommunes(path: fixture.directory.write("communes.csv", Self.header + """
            26734,Xã Đông (invented),01,Hà Nội,2025-07-01,,invented for the tests
            26737,Phường Minh Phú (invented),01,Hà Nội,2025-07-01,,invented for the tests

            """), by: user("officer"))
        // The names come with the next question, though the ledger's write stamp has not moved.
        let report = try fixture.store.reports.nonCash(from: month, to: month, grouping: .commune, target: Share(basisPoints: 8_000))
        #expect(Set(report.rows.map(\.label)) == ["26734 Xã Đông (invented)", "26737 Phường Minh Phú (invented)"])
        #expect(report.json.contains("\"name\":\"Xã Đông (invented)\""))
        let csv = fixture.directory.file("noncash.csv")
        try report.write(to: csv, format: .csv)
        let text = try String(contentsOfFile: csv, encoding: .utf8)
        #expect(text.hasPrefix("commune,recipients,") && text.contains(",coverage,name\n") && text.contains(",Xã Đông (invented)\n"))
        #expect(report.html(office: "UBND").contains("26734 Xã Đông (invented)"))
    }
}
