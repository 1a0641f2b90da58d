import Testing
@testable import AllowanceLedger
@testable import LedgerSQLite
import Reconcile

/// Reads a whole file into (line, fields or error) for comparison.
func readAll(_ path: String, recordBytesMax: Int = 1 << 16) throws -> [(Int, [String], CSVRecordError?)] {
    let reader = try CSVReader(path: path, recordBytesMax: recordBytesMax)
    var records: [(Int, [String], CSVRecordError?)] = []
    while try reader.next() {
        if reader.isBlank { continue }
        records.append((reader.recordLine, (0..<reader.fieldCount).map { reader.string($0) ?? "<invalid>" }, reader.recordError))
    }
    return records
}

@Suite struct CSVReaderTests {
    /// A workbook given where CSV is expected is said to be one, on its first record, whatever its bytes look like after.
    @Test func aWorkbookIsRefusedAsOneOnItsFirstRecord() throws {
        let dir = TemporaryDirectory()
        for (name, bytes, error) in [("r.xlsx", [0x50, 0x4B, 0x03, 0x04] + Array("national_id,full_name\nx,y\n".utf8), CSVRecordError.workbook),
                                     ("r.xls", [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0x0A, 0x41, 0x0A], .oldWorkbook)] as [(String, [UInt8], CSVRecordError)] {
            let path = dir.file(name)
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let records = try readAll(path)
            #expect(records.first?.2 == error, "\(name)")
            #expect(records.dropFirst().allSatisfy { $0.2 != error }, "said once: \(name)")
            #expect(Wording.vietnamese.words(for: error.problem).contains("Excel"))
            #expect(Wording.english.words(for: error.problem).contains("libreoffice --headless --convert-to csv"))
        }
        // A result file's header error words the record's problem in the same language (it was English inside Vietnamese).
        let header = ResultFileError.unreadableHeader("kq.xls", CSVRecordError.oldWorkbook.problem).problem
        #expect(Wording.vietnamese.words(for: header).hasPrefix("kq.xls:1: dòng tiêu đề: đây là tệp Excel 97–2003"))
        #expect(Wording.english.words(for: header).hasPrefix("kq.xls:1: header: this is an Excel 97–2003 workbook"))
        // "PK" alone, as a name might begin, is text.
        #expect(try readAll(dir.write("pk.csv", "PK,1\n")).first?.2 == nil)
    }

    @Test func readsTheQuirksOfRealFiles() throws {
        let dir = TemporaryDirectory()
        let text = "\u{FEFF}reference,name,amount\r\n"
            + "AL-1,\"Nguyễn Thị Lan\",\"500,000\"\r\n"
            + "\r\n"
            + "AL-2,\"He said \"\"hi\"\"\",750.000\r\n"
            + "AL-3,\"two\r\nlines\",1\r\n"
            + ",,\r\n"
            + "AL-4,  trailing  ,2  \r\n"
            + "AL-5,\"quoted\"  ,3"
        let path = dir.write("quirks.csv", text)
        let records = try readAll(path)
        #expect(records.map(\.0) == [1, 2, 4, 5, 8, 9])
        #expect(records[0].1 == ["reference", "name", "amount"])
        #expect(records[1].1 == ["AL-1", "Nguyễn Thị Lan", "500,000"])
        #expect(records[2].1 == ["AL-2", "He said \"hi\"", "750.000"])
        #expect(records[3].1 == ["AL-3", "two\r\nlines", "1"])
        #expect(records[4].1 == ["AL-4", "  trailing  ", "2  "])
        #expect(records[5].1 == ["AL-5", "quoted", "3"])
        #expect(records.allSatisfy { $0.2 == nil })
    }

    @Test func lfAndLoneCRLineEndsCountLines() throws {
        let dir = TemporaryDirectory()
        let records = try readAll(dir.write("mixed.csv", "a,b\nc,d\re,f\n\ng,h"))
        #expect(records.map(\.0) == [1, 2, 3, 5])
        #expect(records.map(\.1) == [["a", "b"], ["c", "d"], ["e", "f"], ["g", "h"]])
    }

    @Test func reportsAnUnclosedQuoteWhereItOpened() throws {
        let dir = TemporaryDirectory()
        let records = try readAll(dir.write("open.csv", "a,b\n1,\"never closed\n2,3\n"))
        #expect(records.count == 2)
        #expect(records[1].0 == 2)
        #expect(records[1].2 == .unclosedQuote(openedOnLine: 2))
    }

    @Test func textAfterAClosingQuoteIsAnErrorAndTheNextLineStillReads() throws {
        let dir = TemporaryDirectory()
        let records = try readAll(dir.write("after.csv", "\"a\"x,b\nc,d\n"))
        #expect(records[0].2 == .textAfterClosingQuote)
        #expect(records[1].1 == ["c", "d"])
        #expect(records[1].2 == nil)
    }

    @Test func invalidUTF8AndNulBytesAreReported() throws {
        let dir = TemporaryDirectory()
        let path = dir.write("binary.csv", bytes: Array("a,b\n".utf8) + [0xC3, 0x28, 0x2C, 0x31, 0x0A] + [0x31, 0x00, 0x32, 0x0A] + Array("ok,1\n".utf8))
        let records = try readAll(path)
        #expect(records.map(\.2) == [nil, .notUTF8, .nulByte, nil])
        #expect(records[3].1 == ["ok", "1"])
    }

    @Test func aLineOverTheLimitIsReportedAndSkipped() throws {
        let dir = TemporaryDirectory()
        let long = String(repeating: "x", count: 5000)
        let records = try readAll(dir.write("long.csv", "a,b\n\(long),1\nc,d\n"), recordBytesMax: 1000)
        #expect(records.count == 3)
        #expect(records[1].2 == .tooLong(bytesMax: 1000))
        #expect(records[2].1 == ["c", "d"])
        #expect(records[2].0 == 3)
    }

    @Test func fieldsStraddlingTheBufferBoundaryAreWhole() throws {
        let dir = TemporaryDirectory()
        // Put a quoted field with a CRLF inside exactly across the 64 KiB read boundary.
        let filler = String(repeating: "y", count: CSVReader.bufferBytes - 10)
        let text = "\(filler)\n\"ab\r\ncd\",\"e\"\"f\"\r\nlast,1\r\n"
        let records = try readAll(dir.write("boundary.csv", text), recordBytesMax: 1 << 17)
        #expect(records.count == 3)
        #expect(records[1].1 == ["ab\r\ncd", "e\"f"])
        #expect(records[1].0 == 2)
        #expect(records[2].0 == 4)
        #expect(records[2].1 == ["last", "1"])
    }

    @Test func emptyFilesAndMissingFiles() throws {
        let dir = TemporaryDirectory()
        #expect(try readAll(dir.write("empty.csv", "")).isEmpty)
        #expect(try readAll(dir.write("bom.csv", "\u{FEFF}")).isEmpty)
        #expect(throws: FileError.self) { try CSVReader(path: dir.file("missing.csv")) }
        #expect(throws: FileError.self) { try CSVReader(path: dir.path) }
    }

    @Test func headerLookupIgnoresCaseAndSpaces() throws {
        let dir = TemporaryDirectory()
        let reader = try CSVReader(path: dir.write("h.csv", " Reference ,MSISDN,amount\n"))
        #expect(try reader.next())
        let header = CSVHeader(reader: reader)
        #expect(header.index(of: "reference") == 0)
        #expect(header.index(of: "msisdn") == 1)
        #expect(header.index(of: "status") == nil)
    }
}

@Suite struct CSVWriterTests {
    @Test(arguments: [
        ("plain", "plain"), ("a,b", "\"a,b\""), ("say \"hi\"", "\"say \"\"hi\"\"\""), ("two\nlines", "\"two\nlines\""),
        ("=HYPERLINK(\"http://x\")", "\"'=HYPERLINK(\"\"http://x\"\")\""), ("+84912345678", "\"'+84912345678\""),
        ("-5", "\"'-5\""), ("@SUM(A1)", "\"'@SUM(A1)\""), ("\tTab", "\"'\tTab\""), ("\rCR", "\"'\rCR\""), ("", ""),
        ("Nguyễn Thị Lan", "Nguyễn Thị Lan"),
    ])
    func quotesAndNeutralisesFormulas(value: String, encoded: String) {
        #expect(CSVWriter.encode(value) == encoded)
    }

    /// Numbers are written digit by digit into the output, as `String(value)` would spell them, appended to what is there.
    @Test func writesIntegersAsDecimalText() {
        var values: [Int64] = [0, 1, 9, 10, 99, 100, -1, -9, -10, 750_000, 671_183_500_000, .max, .min, .min + 1]
        var power: Int64 = 1
        for _ in 0..<18 {
            power *= 10
            values += [power - 1, power, -power]
        }
        for value in values {
            var out: [UInt8] = Array("x,".utf8)
            CSVWriter.appendInt(value, to: &out)
            #expect(String(decoding: out, as: UTF8.self) == "x,\(value)")
        }
    }

    @Test func writesAtomicallyOnCommit() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("out.csv")
        do {
            let writer = try CSVWriter(path: path)
            try writer.row(["a", "b"])
            writer.int(-500)
            writer.text("=1+1")
            try writer.endRow()
            #expect(!FileManagerProbe.exists(path))
            try writer.commit()
        }
        #expect(dir.read("out.csv") == "a,b\n-500,\"'=1+1\"\n")
        do {
            let abandoned = try CSVWriter(path: dir.file("never.csv"))
            try abandoned.row(["x"])
        }
        #expect(!FileManagerProbe.exists(dir.file("never.csv")))
        #expect(try readAll(dir.path + "/out.csv").count == 2)
    }
}

import Foundation

enum FileManagerProbe {
    static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }
}

@Suite struct UTF8CheckTests {
    func offset(_ bytes: [UInt8]) -> Int? { bytes.withUnsafeBufferPointer { firstInvalidUTF8Offset($0) } }

    /// The check takes eight ASCII bytes at a time: a bad byte is found at every position of and after such a run, a
    /// character split across two words is whole, and one cut off at the end is not.
    @Test func findsTheFirstBadByteWhereverTheWordsFall() {
        for prefix in 0...20 {
            let ascii = [UInt8](repeating: 0x41, count: prefix)
            #expect(offset(ascii) == nil)
            #expect(offset(ascii + [0xFF] + [UInt8](repeating: 0x42, count: 9)) == prefix)
            #expect(offset(ascii + [0x80, 0x41]) == prefix)
            #expect(offset(ascii + Array("Nguyễn Thị Lan, 0912".utf8) + ascii) == nil)
            #expect(offset(ascii + [0xE1, 0xBB]) == prefix)
            #expect(offset(ascii + [0xED, 0xA0, 0x80] + ascii) == prefix)
        }
        #expect(offset([]) == nil)
    }
}
