import Foundation
import GRDB
import Testing
@testable import AllowanceLedger
@testable import LedgerSQLite

func golden(_ name: String) throws -> String {
    let url = try #require(Bundle.module.url(forResource: "Golden/" + name, withExtension: nil))
    return url.path
}

@Suite struct RegisterImportTests {
    @Test func reportsEveryBadLineAsFileLineReasonAndImportsNothing() throws {
        let fixture = try Fixture()
        var problems: [String] = []
        #expect(throws: RegisterImportError.invalidLines("register-bad.csv", count: 24)) {
            try fixture.store.registry.importRegister(path: try golden("register-bad.csv"), displayName: "register-bad.csv",
                                             options: RegisterImportOptions(by: user("officer")),
                                             onProblem: { problems.append($0.description) })
        }
        let expected = try String(contentsOfFile: try golden("register-bad.expected.txt"), encoding: .utf8)
        #expect(problems.joined(separator: "\n") + "\n" == expected)
        #expect(try fixture.store.registry.beneficiaries(BeneficiaryFilter()).isEmpty)
        // No full national ID in any message.
        #expect(!problems.contains { $0.contains("001150000001") })
    }

    @Test func skipInvalidImportsTheGoodLinesAndWritesTheRejectedOnesMasked() throws {
        let fixture = try Fixture()
        var options = RegisterImportOptions(by: user("officer"))
        options.skipInvalid = true
        options.rejectsPath = fixture.directory.file("rejects.csv")
        let result = try fixture.store.registry.importRegister(path: try golden("register-bad.csv"), displayName: "register-bad.csv", options: options)
        #expect(result.created == 2)
        #expect(result.rejected == 24)
        #expect(result.lines == 26)
        let rejects = try readAll(fixture.directory.file("rejects.csv"))
        #expect(rejects.count == 25)
        #expect(rejects[0].1.prefix(3) == ["line", "reason", "national_id"])
        #expect(rejects[1].1[0] == "3")
        #expect(rejects[1].1[1] == "national_id has 11 digits; a CCCD number has 12")
        #expect(rejects[1].1[2] == "********000")
        let text = fixture.directory.read("rejects.csv")
        #expect(!text.contains("001150000016"))
        #expect(!text.contains("0612345678"))
        #expect(text.contains("*********016"))
    }

    @Test func acceptsBOMCRLFAndColumnsInAnyOrder() throws {
        let fixture = try Fixture()
        let text = "\u{FEFF}msisdn,carrier,payment_method,category,commune_code,gender,date_of_birth,full_name,national_id,note\r\n"
            + "\"0912 345 678\",viettel,mobile_money,elderly_poor,26734,f,1950-03-04,\"Nguyễn Thị Lan\",001150000001,extra column\r\n"
            + ",,cash,ELDERLY_80,26734,M,1940-07-01,Trần Văn Hùng,079040000002,\r\n\r\n"
        let path = fixture.directory.write("reordered.csv", text)
        let result = try fixture.store.registry.importRegister(path: path, options: RegisterImportOptions(by: user("officer")))
        #expect(result.created == 2)
        let lan = try fixture.store.registry.beneficiary("001150000001")
        #expect(lan.details.account == MobileMoneyAccount(carrier: Code(trusted: "VIETTEL"), msisdn: try MSISDN(parsing: "0912345678")))
        #expect(lan.details.category.value == "ELDERLY_POOR")
        #expect(lan.details.fullName == "Nguyễn Thị Lan")
        #expect(try fixture.store.registry.beneficiary("079040000002").details.paymentMethod == .cash)
    }

    @Test func headerProblemsAreReportedOnLineOne() throws {
        let fixture = try Fixture()
        let options = RegisterImportOptions(by: user("officer"))
        let missing = fixture.directory.write("missing.csv", "national_id,full_name,date_of_birth\n001150000001,A,1950-03-04\n")
        #expect(throws: RegisterImportError.missingColumns("missing.csv", ["gender", "commune_code", "category", "payment_method"])) {
            try fixture.store.registry.importRegister(path: missing, displayName: "missing.csv", options: options)
        }
        let empty = fixture.directory.write("empty.csv", "")
        #expect(throws: RegisterImportError.emptyFile("empty.csv")) {
            try fixture.store.registry.importRegister(path: empty, displayName: "empty.csv", options: options)
        }
        let twice = fixture.directory.write("twice.csv", Fixture.header.dropLast() + ",gender\n")
        #expect(throws: RegisterImportError.duplicateColumn("twice.csv", "gender")) {
            try fixture.store.registry.importRegister(path: twice, displayName: "twice.csv", options: options)
        }
        let headerOnly = fixture.directory.write("header.csv", Fixture.header)
        #expect(try fixture.store.registry.importRegister(path: headerOnly, options: options).lines == 0)
        #expect(throws: FileError.self) {
            try fixture.store.registry.importRegister(path: fixture.directory.file("nope.csv"), options: options)
        }
    }

    @Test func importingTheSameFileAgainChangesNothing() throws {
        let fixture = try Fixture()
        let first = try fixture.importLines(Sample.all)
        #expect(first.created == 4)
        #expect(!first.alreadyImported)
        fixture.time.advance(days: 1)
        let second = try fixture.importLines(Sample.all)
        #expect(second.alreadyImported)
        #expect(second.created == 0)
        #expect(second.previousImportAt == "2026-11-20T08:00:00Z")
        // The same lines in a different file: every line unchanged.
        let third = try fixture.importLines(Sample.all + [""], name: "copy.csv")
        #expect(!third.alreadyImported)
        #expect(third.unchanged == 4)
        #expect(third.created == 0 && third.updated == 0)
    }

    @Test func aChangedLineUpdatesTheBeneficiaryAndRecordsHistory() throws {
        let fixture = try Fixture()
        try fixture.importLines(Sample.all)
        fixture.time.advance(days: 1)
        let moved = Sample.lan.replacingOccurrences(of: "26734,ELDERLY_POOR,mobile_money,VIETTEL,0912345678",
                                                    with: "26737,ELDERLY_POOR_80,mobile_money,VNPT,0987000111")
        let result = try fixture.importLines([moved, Sample.hung], name: "update.csv", by: "officer2")
        #expect(result.updated == 1)
        #expect(result.unchanged == 1)
        let (lan, events) = try fixture.store.registry.history(of: "001150000001")
        #expect(lan.details.commune.value == "26737")
        #expect(events.map(\.kind) == [.registered, .updated, .updated, .accountChanged])
        #expect(events[1].field == "commune_code" && events[1].oldValue == "26734" && events[1].newValue == "26737")
        #expect(events[2].field == "category" && events[2].newValue == "ELDERLY_POOR_80")
        #expect(events[3].oldValue == "VIETTEL:84912345678" && events[3].newValue == "VNPT:84987000111")
        #expect(events[3].by == "officer2" && events[3].at == "2026-11-21T08:00:00Z")
        #expect(BeneficiaryEvent.shown(events[3].oldValue, field: "account", reveal: false) == "VIETTEL:********678")
        // The import writes with SQLite's key look-ups off (its keys were read in its transaction): none may dangle.
        #expect(try fixture.store.read { try Row.fetchAll($0, sql: "PRAGMA foreign_key_check") }.isEmpty)
    }

    @Test func namesAreComparedInNFCAndKeptAsGiven() throws {
        let fixture = try Fixture()
        try fixture.importLines([Sample.lan])
        // The same name written decomposed (NFD): "Nguyễn Thị Lan" with combining marks.
        let decomposed = "Nguye\u{0302}\u{0303}n Thi\u{0323} Lan"
        #expect(decomposed.unicodeScalars.count != "Nguyễn Thị Lan".unicodeScalars.count)
        let line = Sample.lan.replacingOccurrences(of: "Nguyễn Thị Lan", with: decomposed)
        let result = try fixture.importLines([line], name: "nfd.csv")
        #expect(result.unchanged == 1)
        #expect(result.updated == 0)
        let stored = try fixture.store.read { try String.fetchOne($0, sql: "SELECT full_name FROM beneficiary")! }
        #expect(stored.unicodeScalars.elementsEqual("Nguyễn Thị Lan".unicodeScalars))
    }
}

@Suite struct RegistryOperationTests {
    func raw(_ line: String) -> RawRegisterFields {
        var fields = RawRegisterFields()
        for (name, value) in zip(RawRegisterFields.columns, line.split(separator: ",", omittingEmptySubsequences: false)) {
            fields[name] = String(value)
        }
        return fields
    }

    @Test func addShowsEveryValidationErrorAndRefusesADuplicate() throws {
        let fixture = try Fixture()
        let added = try fixture.store.registry.addBeneficiary(raw(Sample.mai), by: user("officer"))
        #expect(added.details.account?.msisdn.canonical == "84987654321")
        #expect(throws: RegistryError.alreadyRegistered(added.details.nationalID, added.id)) {
            try fixture.store.registry.addBeneficiary(raw(Sample.mai), by: user("officer"))
        }
        #expect(throws: RegistryError.self) {
            try fixture.store.registry.addBeneficiary(raw("001150000099,,1950-03-04,F,26734,ELDERLY_POOR,cash,,"), by: user("officer"))
        }
    }

    @Test func statusMovesAreCheckedAndKeptWithReasons() throws {
        let fixture = try Fixture()
        try fixture.importLines(Sample.all)
        #expect(throws: RegistryError.reasonRequired) { try fixture.store.registry.setStatus(of: "1", to: .suspended, reason: " ", by: user("a")) }
        #expect(throws: RegistryError.statusChange(from: .active, action: "reinstate")) {
            try fixture.store.registry.setStatus(of: "1", to: .active, reason: "x", by: user("a"))
        }
        #expect(try fixture.store.registry.setStatus(of: "1", to: .suspended, reason: "moved away", by: user("a")).status == .suspended)
        #expect(try fixture.store.registry.setStatus(of: "1", to: .active, reason: "back", by: user("a")).status == .active)
        #expect(try fixture.store.registry.setStatus(of: "001150000001", to: .deceased, reason: "death certificate 12/2026", by: user("a")).status == .deceased)
        #expect(throws: RegistryError.statusChange(from: .deceased, action: "reinstate")) {
            try fixture.store.registry.setStatus(of: "1", to: .active, reason: "x", by: user("a"))
        }
        let (_, events) = try fixture.store.registry.history(of: "1")
        #expect(events.map(\.kind) == [.registered, .suspended, .reinstated, .deceased])
        #expect(events[3].reason == "death certificate 12/2026")
        #expect(throws: RegistryError.notFound("\"999\"")) { try fixture.store.registry.beneficiary("999") }
    }

    @Test func accountsLinkChangeAndCloseWithHistory() throws {
        let fixture = try Fixture()
        try fixture.importLines(Sample.all)
        let hung = "079040000002"
        let viettel = MobileMoneyAccount(carrier: Code(trusted: "VIETTEL"), msisdn: try MSISDN(parsing: "0961112222"))
        #expect(throws: RegistryError.noAccount(BeneficiaryID(2))) { try fixture.store.registry.updateAccount(of: hung, .change(viettel), reason: "x", by: user("a")) }
        #expect(throws: RegistryError.noAccount(BeneficiaryID(2))) { try fixture.store.registry.updateAccount(of: hung, .close, reason: "x", by: user("a")) }
        let linked = try fixture.store.registry.updateAccount(of: hung, .link(viettel), reason: "opened at the commune", by: user("a"))
        #expect(linked.details.paymentMethod == .mobileMoney)
        #expect(throws: RegistryError.accountAlreadyLinked(BeneficiaryID(2))) { try fixture.store.registry.updateAccount(of: hung, .link(viettel), reason: "x", by: user("a")) }
        #expect(throws: RegistryError.sameAccount) { try fixture.store.registry.updateAccount(of: hung, .change(viettel), reason: "x", by: user("a")) }
        let unknown = MobileMoneyAccount(carrier: Code(trusted: "MOMO"), msisdn: try MSISDN(parsing: "0961112223"))
        #expect(throws: RegistryError.self) { try fixture.store.registry.updateAccount(of: hung, .change(unknown), reason: "x", by: user("a")) }
        let closed = try fixture.store.registry.updateAccount(of: hung, .close, reason: "SIM lost", by: user("b"))
        #expect(closed.details.paymentMethod == .cash && closed.details.account == nil)
        let (_, events) = try fixture.store.registry.history(of: hung)
        #expect(events.filter { $0.field == "account" }.map(\.kind) == [.accountLinked, .accountClosed])
        #expect(events.last?.reason == "SIM lost" && events.last?.by == "b")
    }

    @Test func historyRowsCannotBeRewritten() throws {
        let fixture = try Fixture()
        try fixture.importLines(Sample.all)
        _ = try fixture.store.registry.setStatus(of: "1", to: .suspended, reason: "moved", by: user("a"))
        #expect(throws: DatabaseError.self) { try fixture.store.write { try $0.execute(sql: "UPDATE beneficiary_event SET reason = 'x'") } }
        #expect(throws: DatabaseError.self) { try fixture.store.write { try $0.execute(sql: "DELETE FROM beneficiary_event") } }
    }

    @Test func listFiltersByCommuneStatusAndMethod() throws {
        let fixture = try Fixture()
        try fixture.importLines(Sample.all)
        _ = try fixture.store.registry.setStatus(of: "4", to: .suspended, reason: "x", by: user("a"))
        #expect(try fixture.store.registry.beneficiaries(BeneficiaryFilter(commune: Code(trusted: "26737"))).map(\.id.rawValue) == [3, 4])
        #expect(try fixture.store.registry.beneficiaries(BeneficiaryFilter(status: .suspended)).map(\.id.rawValue) == [4])
        #expect(try fixture.store.registry.beneficiaries(BeneficiaryFilter(method: .cash)).map(\.id.rawValue) == [2])
        #expect(try fixture.store.registry.beneficiaries(BeneficiaryFilter(commune: Code(trusted: "26737"), status: .active, method: .mobileMoney)).map(\.id.rawValue) == [3])
        #expect(try fixture.store.registry.beneficiaries(BeneficiaryFilter(limit: 2)).count == 2)
    }
}

@Suite struct BulkImportTests {
    /// Above 50,000 lines into an empty register the import drops and rebuilds the register's indexes.
    @Test func aLargeFirstImportRebuildsTheIndexesAndStillRefusesDuplicates() throws {
        let fixture = try Fixture()
        let path = fixture.directory.file("large.csv")
        try RegisterGenerator(count: 60_000, seed: 9).write(to: path)
        // A duplicate national ID at the end must still be refused.
        let firstLine = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")[1]
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        handle.seekToEndOfFile()
        handle.write(Data((String(firstLine) + "\n").utf8))
        try handle.close()
        var problems: [LineProblem] = []
        var options = RegisterImportOptions(by: user("officer"))
        options.skipInvalid = true
        let result = try fixture.store.registry.importRegister(path: path, displayName: "large.csv", options: options, onProblem: { problems.append($0) })
        #expect(result.created == 60_000)
        #expect(result.rejected == 1)
        #expect(problems.map(\.line) == [60_002])
        #expect(problems.first?.reason.hasSuffix("is also on line 2; a beneficiary appears once per file") == true)
        let indexes = try fixture.store.read { try String.fetchAll($0, sql: "SELECT name FROM pragma_index_list('beneficiary') ORDER BY name") }
        #expect(indexes == ["beneficiary_commune", "beneficiary_msisdn", "beneficiary_national_id"])
        #expect(try fixture.store.read { try Row.fetchAll($0, sql: "PRAGMA foreign_key_check") }.isEmpty)
        #expect(throws: DatabaseError.self) {
            try fixture.store.write { try $0.execute(sql: "INSERT INTO beneficiary SELECT NULL, national_id, full_name, date_of_birth, gender, commune_code, category, payment_method, carrier, msisdn, status, registered_at, registered_by FROM beneficiary WHERE id = 1") }
        }
        let batch = try fixture.store.payouts.createBatch(BatchCreateOptions(period: try Period(parsing: "2026-11"), by: user("maker")))
        #expect(batch.items + batch.batch.heldOut == 60_000)
    }
}

@Suite struct LineByNumberTests {
    /// The import's table of national IDs seen so far: the first line wins, through growth and for lines too far down
    /// the file to fit beside the ID.
    @Test func remembersTheFirstLineOfEveryNumber() {
        var seen = LineByNumber(capacity: 4)
        for index in 0..<50_000 {
            let key = UInt64(1_150_000_000) + UInt64(index) * 7_919
            #expect(seen.insert(key, line: Int32(index + 2)) == nil)
        }
        for index in stride(from: 0, to: 50_000, by: 997) {
            let key = UInt64(1_150_000_000) + UInt64(index) * 7_919
            #expect(seen.insert(key, line: 99) == Int32(index + 2))
        }
        #expect(seen.insert(999_999_999_999, line: 20_000_000) == nil)
        #expect(seen.insert(999_999_999_999, line: 20_000_001) == 20_000_000)
        #expect(seen.insert(38_060_000_004, line: 16_777_215) == nil)
        #expect(seen.insert(38_060_000_004, line: 3) == 16_777_215)
    }
}
