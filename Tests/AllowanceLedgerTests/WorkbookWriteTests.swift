import Foundation
import Testing
@testable import AllowanceLedger
@testable import LedgerSQLite
@testable import Reconcile

/// Every row of a table file (CSV or xlsx) as text, header first, as our own reader reads it.
func tableRows(_ path: String) throws -> [[String]] {
    let table = try TableFile.open(path: path) { _ in true }
    var rows = [try #require(table.header)]
    while try table.reader.next() {
        if table.reader.isBlank { continue }
        rows.append((0..<table.reader.fieldCount).map { table.reader.string($0) ?? "" })
    }
    return rows
}

/// LibreOffice's CSV of a workbook (UTF-8, values not as shown), or nil when LibreOffice is not installed and
/// ALLOWANCE_LIBREOFFICE_REQUIRED is unset (CI sets it, so that there it fails instead).
func libreOfficeCSV(_ path: String) throws -> String? {
    let office = ["/usr/bin/soffice", "/usr/bin/libreoffice"].first { FileManager.default.isExecutableFile(atPath: $0) }
    guard let office else {
        if ProcessInfo.processInfo.environment["ALLOWANCE_LIBREOFFICE_REQUIRED"] == "1" {
            Issue.record("LibreOffice is required here (ALLOWANCE_LIBREOFFICE_REQUIRED=1) but /usr/bin/soffice is missing")
        } else {
            print("skipped: LibreOffice's reading of \(path) (no /usr/bin/soffice; apt-get install libreoffice-calc-nogui)")
        }
        return nil
    }
    let work = TemporaryDirectory()
    let process = Process()
    process.executableURL = URL(fileURLWithPath: office)
    process.arguments = ["--headless", "--norestore", "-env:UserInstallation=file://\(work.path)/profile",
                         "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false",
                         "--outdir", work.path, path]
    process.environment = ["HOME": work.path, "PATH": "/usr/bin:/bin"]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
    let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent + ".csv"
    return try String(contentsOfFile: work.file(name), encoding: .utf8)
}

@Suite(.serialized) struct WorkbookWriteTests {
    /// The sample register's month, approved and funded.
    func approvedMonth() throws -> (Fixture, BatchID) {
        let fixture = try Fixture()
        fixture.time.set("2026-11-25T08:00:00Z")
        let samples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("samples").path
        _ = try fixture.store.registry.importRegister(path: samples + "/register.csv", options: RegisterImportOptions(by: user("officer")))
        let batch = try fixture.store.payouts.createBatch(BatchCreateOptions(period: try Period(parsing: "2026-11"), by: user("maker"))).batch.id
        _ = try fixture.store.payouts.approveBatch(batch, by: user("checker"))
        return (fixture, batch)
    }

    @Test func theInstructionWorkbookHoldsTheCSVsRowsAndIsTheSameBytesEachTime() throws {
        let (fixture, batch) = try approvedMonth()
        let csv = fixture.directory.file("instructions.csv")
        let xlsx = fixture.directory.file("instructions.xlsx")
        let again = fixture.directory.file("again.xlsx")
        let written = try fixture.store.payouts.exportBatch(batch, to: csv, by: user("officer"))
        let asWorkbook = try fixture.store.payouts.exportBatch(batch, to: xlsx, by: user("officer"))
        _ = try fixture.store.payouts.exportBatch(batch, to: again, format: .xlsx, by: user("officer"))
        #expect(asWorkbook.lines == written.lines && asWorkbook.total == written.total)
        #expect(asWorkbook.transfersPosted.isEmpty, "the CSV's export posted the transfers once")
        #expect(try Data(contentsOf: URL(fileURLWithPath: xlsx)) == Data(contentsOf: URL(fileURLWithPath: again)))
        #expect(try tableRows(xlsx) == tableRows(csv))
        let sheet = try Workbook(path: xlsx)
        #expect(sheet.sheets.map(\.name) == ["instructions"])
        if let office = try libreOfficeCSV(xlsx) {
            // LibreOffice quotes nothing it need not; the narrative has no comma, so the two texts are equal.
            #expect(office == (try String(contentsOfFile: csv, encoding: .utf8)))
        }
    }

    @Test func reconcileAndNonCashReportsAsWorkbooksHoldTheCSVsRows() throws {
        let (fixture, batch) = try approvedMonth()
        _ = try fixture.store.payouts.exportBatch(batch, to: fixture.directory.file("i.csv"), by: user("officer"))
        let samples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("samples").path
        var options = ReconcileOptions(by: user("auditor"))
        options.displayName = "results-generic.csv"
        _ = try fixture.store.reconciliation.reconcileResultFile(samples + "/results-generic.csv", batch: batch, options: options)
        let csv = fixture.directory.file("report.csv"), xlsx = fixture.directory.file("report.xlsx")
        try ReconcileReport.write(to: csv, reconciliation: fixture.store.reconciliation, batch: batch, fileID: nil, reveal: false)
        try ReconcileReport.write(to: xlsx, reconciliation: fixture.store.reconciliation, batch: batch, fileID: nil, reveal: false)
        #expect(try tableRows(xlsx) == tableRows(csv))
        if let office = try libreOfficeCSV(xlsx) {
            let officeRows = office.split(separator: "\n").map { $0.replacingOccurrences(of: "\"", with: "") }
            let ours = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").map { $0.replacingOccurrences(of: "\"", with: "") }
            // Times come back as LibreOffice shows a date-time cell; everything else as written.
            #expect(officeRows.count == ours.count)
            #expect(officeRows.first == ours.first)
            for (office, our) in zip(officeRows, ours) {
                #expect(office.split(separator: ",", omittingEmptySubsequences: false).prefix(10) == our.split(separator: ",", omittingEmptySubsequences: false).prefix(10))
            }
        }

        let report = try fixture.store.reports.nonCash(from: try Period(parsing: "2026-11"), to: try Period(parsing: "2026-11"), grouping: .commune,
                                                       target: Share(basisPoints: 8_000))
        let noncashCSV = fixture.directory.file("noncash.csv"), noncashXLSX = fixture.directory.file("noncash.xlsx")
        try report.write(to: noncashCSV, format: .csv)
        try report.write(to: noncashXLSX, format: .xlsx)
        // Shares are numbers in the workbook: `0.0000` reads back as `0`, the same value.
        func values(_ rows: [[String]]) -> [[String]] { rows.map { $0.map { Double($0).map { String($0) } ?? $0 } } }
        #expect(values(try tableRows(noncashXLSX)) == values(try tableRows(noncashCSV)))
    }

    @Test func aWorkbooksRejectsAreAWorkbookBesideIt() throws {
        let fixture = try Fixture()
        let copy = fixture.directory.file("damaged.xlsx")
        try FileManager.default.copyItem(atPath: try golden("xlsx/register-damaged.xlsx"), toPath: copy)
        var options = RegisterImportOptions(by: user("officer"))
        options.skipInvalid = true
        let result = try fixture.store.registry.importRegister(path: copy, options: options)
        #expect(result.rejectsPath == copy + ".rejected.xlsx")
        let rows = try tableRows(copy + ".rejected.xlsx")
        #expect(rows.count == 5)
        #expect(rows[0].prefix(3) == ["line", "reason", "national_id"])
        #expect(rows[1][0] == "2" && rows[1][1].hasPrefix("national_id was stored as a number"))
        // Masked as in the CSV rejects: no whole number of a person leaves the ledger.
        #expect(rows[3][2].hasPrefix("********"))
    }

    @Test func textKeepsEveryCharacterAndIsNeverAFormula() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("text.xlsx")
        let writer = try XLSXWriter(path: path, columns: [.text, .text, .amount, .date])
        try writer.row(["name", "note", "amount", "day"])
        let awkward = ["A & B <c> \"d\"", "  spaced  ", "=1+1", "0912345678", "tab\there", "Nguyễn Thị Lan", "bell\u{07}"]
        for text in awkward {
            writer.text(text)
            writer.text("x")
            writer.int(1_500_000)
            writer.text("2026-11-30T16:01:00")
            try writer.endRow()
        }
        try writer.commit()
        let rows = try tableRows(path)
        #expect(rows.dropFirst().map { $0[0] } == awkward.map { $0.replacingOccurrences(of: "\u{07}", with: "\u{FFFD}") })
        #expect(rows[1][2] == "1500000" && rows[1][3] == "2026-11-30T16:01:00")
    }

    @Test func datesBecomeSerialsExactly() {
        func serial(_ text: String) -> String? { Array(text.utf8).withUnsafeBufferPointer { XLSXWriter.serial($0)?.0 } }
        #expect(serial("2026-11-30") == "46356")
        #expect(serial("1900-03-01") == nil)
        #expect(serial("2026-11-30T12:00:00") == "46356.5")
        #expect(serial("2026-11-30T16:01:00") == "46356.667361111")
        #expect(SheetRows.date(serial: 46_356.667361111, date1904: false, withTime: true) == "2026-11-30T16:01:00")
        #expect(serial("30/11/2026") == nil && serial("2026-11-30 16:01:00") == nil)
    }
}
