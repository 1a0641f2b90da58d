import Foundation
import Testing
@testable import AllowanceLedger
@testable import LedgerSQLite
@testable import Reconcile

/// Registers and result files read from xlsx, as openpyxl, LibreOffice and hand-written XML make them
/// (`scripts/make-xlsx-fixtures.py`).
@Suite struct WorkbookReadTests {
    func xlsx(_ name: String) throws -> String { try golden("xlsx/" + name) }
    func sample(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("samples/" + name).path
    }

    /// Every beneficiary as the register holds it, in national ID order: what "the same ledger" means here.
    func register(_ store: Store) throws -> [BeneficiaryDetails] {
        try store.registry.beneficiaries(BeneficiaryFilter()).map(\.details).sorted { $0.nationalID.digits < $1.nationalID.digits }
    }

    @Test(arguments: ["register-typed.xlsx", "register-libreoffice.xlsx"])
    func aWorkbookGivesTheSameRegisterAsItsCSV(_ name: String) throws {
        let fromCSV = try Fixture()
        _ = try fromCSV.store.registry.importRegister(path: sample("register.csv"),
                                                      options: RegisterImportOptions(by: user("officer")))
        let fromWorkbook = try Fixture()
        var problems: [String] = []
        let result = try fromWorkbook.store.registry.importRegister(path: try xlsx(name), displayName: name,
                                                                    options: RegisterImportOptions(by: user("officer")),
                                                                    onProblem: { problems.append($0.description) })
        #expect(problems.isEmpty)
        #expect(result.lines == 30 && result.created == 30 && result.rejected == 0)
        #expect(try register(fromWorkbook.store) == register(fromCSV.store))
        #expect(try fromWorkbook.store.registry.beneficiaries(BeneficiaryFilter()).count == 30)
    }

    @Test func handWrittenXMLWithInlineStringsPrefixesAndSparseRowsReads() throws {
        let fixture = try Fixture()
        let result = try fixture.store.registry.importRegister(path: try xlsx("register-handmade.xlsx"), options: RegisterImportOptions(by: user("officer")))
        #expect(result.created == 4 && result.rejected == 0)
        let names = try fixture.store.registry.beneficiaries(BeneficiaryFilter()).map(\.details.fullName)
        #expect(names.contains("Nguyễn Văn Bình"))
    }

    @Test func aFormulasCachedValueIsReadAndAnUncalculatedOneIsALineError() throws {
        let calculated = try Fixture()
        let result = try calculated.store.registry.importRegister(path: try xlsx("register-formula-libreoffice.xlsx"),
                                                                  options: RegisterImportOptions(by: user("officer")))
        #expect(result.created == 3)
        #expect(try calculated.store.registry.beneficiaries(BeneficiaryFilter()).map(\.details.fullName).contains("Nguyễn Văn Bình"))
        let uncalculated = try Fixture()
        var problems: [String] = []
        #expect(throws: RegisterImportError.invalidLines("f.xlsx", count: 3)) {
            try uncalculated.store.registry.importRegister(path: try xlsx("register-formula.xlsx"), displayName: "f.xlsx",
                                                           options: RegisterImportOptions(by: user("officer")),
                                                           onProblem: { problems.append($0.description) })
        }
        #expect(problems.first == "f.xlsx:Sheet1:2: cell B2 holds a formula whose value was never calculated; open the file in Excel or LibreOffice, let it calculate, save, and give it again")
    }

    @Test func aMacroWorkbookIsReadAndItsMacrosIgnored() throws {
        let fixture = try Fixture()
        let result = try fixture.store.registry.importRegister(path: try xlsx("register-macro.xlsm"), options: RegisterImportOptions(by: user("officer")))
        #expect(result.created == 30 && result.rejected == 0)
    }

    @Test func the1904DateSystemGivesTheSameBirthdays() throws {
        let fixture = try Fixture()
        _ = try fixture.store.registry.importRegister(path: try xlsx("register-1904.xlsx"), options: RegisterImportOptions(by: user("officer")))
        let births = try fixture.store.registry.beneficiaries(BeneficiaryFilter()).map { $0.details.dateOfBirth.description }.sorted()
        #expect(births == ["1931-11-13", "1935-06-26", "1979-08-07"])
    }

    @Test func damagedCellsAreRefusedForTheirLineWithTheSheetsRowNumbers() throws {
        let fixture = try Fixture()
        var problems: [String] = []
        #expect(throws: RegisterImportError.invalidLines("register-damaged.xlsx", count: 4)) {
            try fixture.store.registry.importRegister(path: try xlsx("register-damaged.xlsx"), displayName: "register-damaged.xlsx",
                                                      options: RegisterImportOptions(by: user("officer")),
                                                      onProblem: { problems.append($0.description) })
        }
        #expect(problems == [
            "register-damaged.xlsx:Sheet1:2: national_id was stored as a number and lost digits; format the column as Text",
            "register-damaged.xlsx:Sheet1:3: national_id was stored as a number and lost digits; format the column as Text",
            "register-damaged.xlsx:Sheet1:4: cell B4 holds the error #N/A; correct its formula or type the value",
            "register-damaged.xlsx:Sheet1:5: cell B5 holds a formula whose value was never calculated; open the file in Excel or LibreOffice, let it calculate, save, and give it again",
        ])
        var options = RegisterImportOptions(by: user("officer"))
        options.skipInvalid = true
        options.rejectsPath = fixture.directory.file("rejects.csv")
        let kept = try fixture.store.registry.importRegister(path: try xlsx("register-damaged.xlsx"), options: options)
        #expect(kept.created == 2 && kept.rejected == 4)
    }

    @Test func aSheetIsChosenByNameOrRefusedWithTheSheetsThereAre() throws {
        let fixture = try Fixture()
        var options = RegisterImportOptions(by: user("officer"))
        options.sheet = "danh sách"
        #expect(try fixture.store.registry.importRegister(path: try xlsx("register-typed.xlsx"), options: options).created == 30)
        let other = try Fixture()
        options.sheet = "Nope"
        #expect(throws: WorkbookError.sheetNotFound("typed.xlsx", sheet: "Nope", sheets: ["Hướng dẫn", "Danh sách"])) {
            try other.store.registry.importRegister(path: try xlsx("register-typed.xlsx"), displayName: "typed.xlsx", options: options)
        }
        // The notes sheet has no header: named, it says which columns are missing.
        options.sheet = "Hướng dẫn"
        #expect(throws: RegisterImportError.missingColumns("typed.xlsx", RawRegisterFields.requiredColumns)) {
            try other.store.registry.importRegister(path: try xlsx("register-typed.xlsx"), displayName: "typed.xlsx", options: options)
        }
        #expect(try other.store.registry.beneficiaries(BeneficiaryFilter()).isEmpty)
    }

    @Test(arguments: [
        ("register-old.xls", WorkbookError.oldWorkbook("f")),
        ("register-password.xlsx", WorkbookError.encrypted("f")),
        ("hostile-path.xlsx", WorkbookError.unsafeEntryName("f", entry: "../../evil.txt")),
        ("hostile-bomb.xlsx", WorkbookError.compressionRatio("f", part: "xl/worksheets/sheet1.xml", ratioMax: Workbook.ratioMax)),
    ])
    func unreadableAndHostileWorkbooksAreRefusedWhole(_ name: String, _ expected: WorkbookError) throws {
        let fixture = try Fixture()
        #expect(throws: expected) {
            try fixture.store.registry.importRegister(path: try xlsx(name), displayName: "f", options: RegisterImportOptions(by: user("officer")))
        }
        #expect(try fixture.store.registry.beneficiaries(BeneficiaryFilter()).isEmpty)
        #expect(expected.problem.code.hasPrefix("xlsx."))
        #expect(!Wording.vietnamese.words(for: expected.problem).isEmpty)
    }

    @Test func aDocumentTypeDeclarationIsNeverExpanded() throws {
        let fixture = try Fixture()
        do {
            _ = try fixture.store.registry.importRegister(path: try xlsx("hostile-entities.xlsx"), options: RegisterImportOptions(by: user("officer")))
            Issue.record("an entity declaration was read")
        } catch {
            #expect("\(error)".contains("declares a document type"))
        }
    }

    @Test func tooManyEntriesAreRefusedBeforeAnyIsRead() throws {
        let directory = TemporaryDirectory()
        let parts = (0...Workbook.entriesMax).map { ("x/\($0).xml", [UInt8]()) } + [("xl/workbook.xml", Array("<workbook/>".utf8))]
        let path = directory.file("many.xlsx")
        try ZipWriter.write(parts, to: path)
        #expect(throws: WorkbookError.tooManyEntries(path, entriesMax: Workbook.entriesMax)) { try Workbook(path: path) }
    }

    @Test func aZipThatIsNoWorkbookIsNotReadAsCSV() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("letter.docx")
        try ZipWriter.write([("word/document.xml", Array("<document/>".utf8))], to: path)
        let fixture = try Fixture()
        #expect(throws: RegisterImportError.unreadableHeader("letter.docx", CSVRecordError.workbook.problem)) {
            try fixture.store.registry.importRegister(path: path, displayName: "letter.docx", options: RegisterImportOptions(by: user("officer")))
        }
    }

    @Test func numbersDatesAndTextReadAsPeopleWroteThem() {
        var out: [UInt8] = []
        SheetRows.appendNumber(Array("912345678.0".utf8), to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "912345678")
        out = []
        SheetRows.appendNumber(Array("5.1161200000E10".utf8), to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "51161200000")
        out = []
        SheetRows.appendNumber(Array("500000.5".utf8), to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "500000.5")
        #expect(SheetRows.date(serial: 1, date1904: false, withTime: false) == "1900-01-01")
        #expect(SheetRows.date(serial: 59, date1904: false, withTime: false) == "1900-02-28")
        #expect(SheetRows.date(serial: 60, date1904: false, withTime: false) == nil)
        #expect(SheetRows.date(serial: 61, date1904: false, withTime: false) == "1900-03-01")
        #expect(SheetRows.date(serial: 46_356.5, date1904: false, withTime: true) == "2026-11-30T12:00:00")
        #expect(SheetRows.date(serial: 0, date1904: true, withTime: false) == "1904-01-01")
        #expect(Workbook.dateKind(ofFormat: "dd/mm/yyyy") == 1 && Workbook.dateKind(ofFormat: "dd/mm/yyyy hh:mm") == 2)
        #expect(Workbook.dateKind(ofFormat: "#,##0") == 0 && Workbook.dateKind(ofFormat: "\"Ngày\" 0") == 0 && Workbook.dateKind(ofFormat: "[Red]0.00") == 0)
        #expect(SheetRows.columnIndex(Array("B7".utf8)) == 1 && SheetRows.columnIndex(Array("AA10".utf8)) == 26)
        #expect(SheetRows.columnName(26) == "AA" && SheetRows.columnName(0) == "A")
        #expect(NationalID.isScientific("5.11612E+10") && NationalID.isScientific("5,11612E+10") && !NationalID.isScientific("001150000001"))
        #expect((try? CalendarDate(parsing: "04/03/1950"))?.description == "1950-03-04")
        #expect((try? CalendarDate(parsing: "4/3/1950"))?.description == "1950-03-04")
        #expect((try? CalendarDate(parsing: "31/02/1950")) == nil)
    }

    @Test func aCarriersWorkbookReconcilesLikeItsCSV() throws {
        func reconcile(_ path: String) throws -> (ReconciliationResult, String) {
            let folder = TemporaryDirectory()
            let store = try Store(path: folder.file("ledger.sqlite"), clock: .fixed(try Timestamp(parsing: "2026-11-25T08:00:00Z")))
            _ = try store.registry.importRegister(path: try xlsx("register-typed.xlsx"), options: RegisterImportOptions(by: user("officer")))
            let batch = try store.payouts.createBatch(BatchCreateOptions(period: try Period(parsing: "2026-11"), by: user("maker"))).batch.id
            _ = try store.payouts.approveBatch(batch, by: user("checker"))
            _ = try store.payouts.exportBatch(batch, to: folder.file("instructions.csv"), by: user("officer"))
            var options = ReconcileOptions(by: user("auditor"))
            options.displayName = "results"
            let result = try store.reconciliation.reconcileResultFile(path, batch: batch, options: options)
            let report = folder.file("report.csv")
            try ReconcileReport.write(to: report, reconciliation: store.reconciliation, batch: batch, fileID: nil, reveal: false)
            return (result, try String(contentsOfFile: report, encoding: .utf8))
        }
        let csv = try reconcile(sample("results-generic.csv"))
        let workbook = try reconcile(try xlsx("results-generic.xlsx"))
        #expect(workbook.0.lines == csv.0.lines && workbook.0.lines == 5)
        #expect(ReconcileOutcome.allCases.allSatisfy { workbook.0.totals.count($0) == csv.0.totals.count($0) })
        // The same rows but for the line numbers: the workbook has a title row above its header.
        func withoutLines(_ report: String) -> [String] {
            report.split(separator: "\n").map { row in
                row.split(separator: ",", omittingEmptySubsequences: false).enumerated().filter { $0.offset != 1 }.map(\.element).joined(separator: ",")
                    .replacingOccurrences(of: "results:4", with: "results:3")
            }
        }
        #expect(workbook.1.contains("results,3,AL-202611-000001-0000001,paid"))
        #expect(withoutLines(workbook.1) == withoutLines(csv.1))
    }
}
