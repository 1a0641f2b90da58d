#if canImport(Glibc)
import Glibc
#endif

/// What the files we hand out are written through: CSV or an xlsx workbook, cell by cell, the same calls for both.
public protocol TableWriter: AnyObject {
    var path: String { get }
    func text(_ value: String)
    func text(bytes: UnsafeBufferPointer<UInt8>)
    func int(_ value: Int64)
    func empty()
    func endRow() throws(FileError)
    func row(_ cells: [String]) throws(FileError)
    func commit() throws(FileError)
}

extension CSVWriter: TableWriter {}

/// The form a file is written in.
public enum TableFormat: String, Sendable, CaseIterable {
    case csv
    case xlsx

    /// `.xlsx` when the path ends so, else CSV.
    public init(path: String) {
        self = path.lowercased().hasSuffix(".xlsx") ? .xlsx : .csv
    }
}

/// How a column's cells are written in a workbook.
public enum ColumnKind: Sendable {
    /// Text cells, so that Excel keeps every digit of a reference, a phone number or an ID.
    case text
    /// Whole đồng as numbers shown `#,##0`.
    case amount
    /// Other whole numbers (a line number, a count), shown as they are.
    case number
    /// `yyyy-MM-dd` as a date cell, `yyyy-MM-ddTHH:mm:ss` as a date and time; other text as text.
    case date
    /// A share given as a fraction (`0.5234`), written as a number shown `52.3%`.
    case percent
}

/// The archive, handed to the thread that deflates the sheet: only that thread touches it from the sheet's first chunk
/// until it is joined, and only the writer's thread before and after.
private struct Handoff: @unchecked Sendable {
    let zip: ZipWriter
}

private enum SheetChunk: Sendable {
    case bytes([UInt8])
    case end
}

/// Writes a one-sheet xlsx workbook row by row: inline strings (no shared table to hold), amounts as numbers shown
/// `#,##0`, dates as dates, a bold header frozen above the rows, and columns as wide as the header and the first
/// thousand rows need. Through a temporary file renamed into place on `commit()`, like `CSVWriter`; the same rows
/// give the same bytes. The sheet is deflated on a thread of its own while the rows are made.
public final class XLSXWriter: TableWriter {
    public let path: String
    private let temporaryPath: String
    private let fd: Int32
    private let zip: ZipWriter
    private let kinds: [ColumnKind]
    private var committed = false
    private var started = false
    // Written cell by cell by one thread, and read by nothing while a call runs: unchecked, since a dynamic exclusivity
    // check on each access cost more than the cell's XML.
    /// Rows not yet handed to the archive (all of them until the widths are known).
    @exclusivity(unchecked) private var pending: [UInt8] = []
    @exclusivity(unchecked) private var widths: [Int]
    @exclusivity(unchecked) private var column = 0
    @exclusivity(unchecked) public private(set) var rows = 0
    /// Each column's letters, so that a cell's reference costs no string.
    private let letters: [[UInt8]]
    private static let widthRows = 1000
    private static let cellOpen = Array("<c r=\"".utf8), styleOpen = Array("\" s=\"".utf8), typeOpen = Array("\" t=\"".utf8)
    private static let tagClose = Array("\">".utf8), valueOpen = Array("<v>".utf8), valueClose = Array("</v></c>".utf8)
    private static let inlineOpen = Array("<is><t>".utf8), inlineSpacedOpen = Array("<is><t xml:space=\"preserve\">".utf8)
    private static let inlineClose = Array("</t></is></c>".utf8), rowOpen = Array("<row r=\"".utf8), rowClose = Array("</row>".utf8)

    /// Style indexes in `styles.xml`: 0 default, 1 bold header, 2 text, 3 `#,##0`, 4 date, 5 date and time, 6 number, 7 per cent.
    private static let styles = """
        <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
        <styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\
        <numFmts count="3"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd"/><numFmt numFmtId="165" formatCode="yyyy\\-mm\\-dd hh:mm:ss"/>\
        <numFmt numFmtId="166" formatCode="0.0%"/></numFmts>\
        <fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>\
        <fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>\
        <borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
        <cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
        <cellXfs count="8"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
        <xf numFmtId="49" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" applyNumberFormat="1"/>\
        <xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
        <xf numFmtId="3" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
        <xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
        <xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
        <xf numFmtId="1" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
        <xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>\
        <cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>
        """

    /// `columns` gives each column's kind; the first row written is the header.
    public init(path: String, sheet: String = "Sheet1", columns: [ColumnKind]) throws(FileError) {
        self.path = path
        self.kinds = columns
        self.widths = [Int](repeating: 8, count: columns.count)
        self.letters = (0..<max(columns.count, 1)).map { Array(SheetRows.columnName($0).utf8) }
        (self.fd, self.temporaryPath) = try Files.createTemporary(beside: path)
        self.zip = ZipWriter(fd: fd, path: temporaryPath)
        let name = Self.escaped(Array(sheet.utf8), attribute: true)
        let parts: [(String, String)] = [
            ("[Content_Types].xml", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
                <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
                <Default Extension="xml" ContentType="application/xml"/>\
                <Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
                <Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>\
                <Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>\
                </Types>
                """),
            ("_rels/.rels", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
                <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>\
                </Relationships>
                """),
            ("xl/workbook.xml", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" \
                xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">\
                <sheets><sheet name="\(String(decoding: name, as: UTF8.self))" sheetId="1" r:id="rId1"/></sheets></workbook>
                """),
            ("xl/_rels/workbook.xml.rels", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
                <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>\
                <Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>\
                </Relationships>
                """),
            ("xl/styles.xml", Self.styles),
        ]
        for (part, text) in parts {
            try zip.begin(part)
            try zip.write(Array(text.utf8))
            try zip.end()
        }
        try zip.begin("xl/worksheets/sheet1.xml")
        pending.reserveCapacity(1 << 17)
        let handoff = Handoff(zip: zip), chunks = self.chunks
        compressor = Beside {
            do {
                while case .bytes(let bytes) = chunks.take() { try handoff.zip.write(bytes) }
            } catch {
                // The writer's next hand-over fails and it asks for this error.
                chunks.cancel()
                throw error
            }
        }
    }

    deinit {
        if let compressor {
            _ = chunks.put(.end)
            _ = try? compressor.join()
        }
        close(fd)
        if !committed { unlink(temporaryPath) }
    }

    private let chunks = Channel<SheetChunk>(capacity: 4)
    private var compressor: Beside<Void>?

    /// Hands the sheet's bytes to the deflating thread.
    private func hand(_ bytes: [UInt8]) throws(FileError) {
        guard chunks.put(.bytes(bytes)) else { try joinCompressor() ; return }
    }

    /// Waits for the deflating thread: every byte handed over is in the archive, or its error is thrown.
    private func joinCompressor() throws(FileError) {
        guard let compressor else { return }
        self.compressor = nil
        _ = chunks.put(.end)
        do {
            try compressor.join()
        } catch let error as FileError {
            throw error
        } catch {
            throw FileError(path: path, reason: "\(error)")
        }
    }

    private var header: Bool { rows == 0 }

    private func cellStart(style: Int, type: StaticString?) {
        pending.append(contentsOf: Self.cellOpen)
        if column < letters.count {
            pending.append(contentsOf: letters[column])
        } else {
            pending.append(contentsOf: SheetRows.columnName(column).utf8)
        }
        CSVWriter.appendInt(Int64(rows + 1), to: &pending)
        pending.append(contentsOf: Self.styleOpen)
        pending.append(UInt8(ascii: "0") + UInt8(style))
        if let type {
            pending.append(contentsOf: Self.typeOpen)
            pending.append(contentsOf: UnsafeBufferPointer(start: type.utf8Start, count: type.utf8CodeUnitCount))
        }
        pending.append(contentsOf: Self.tagClose)
    }

    /// Counts the cell's width while the widths are still being found, and moves to the next column.
    private func widen(_ length: @autoclosure () -> Int) {
        if rows <= Self.widthRows, column < widths.count { widths[column] = max(widths[column], min(length() + 2, 60)) }
        column += 1
    }

    /// Characters, near enough for a column's width: the bytes that start one.
    private static func characters(_ bytes: UnsafeBufferPointer<UInt8>) -> Int { bytes.reduce(0) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) } }

    private var kind: ColumnKind { header || column >= kinds.count ? .text : kinds[column] }

    public func text(_ value: String) {
        var value = value
        value.withUTF8 { text(bytes: $0) }
    }

    public func text(bytes: UnsafeBufferPointer<UInt8>) {
        switch kind {
        case .date:
            if let (serial, withTime) = Self.serial(bytes) {
                cellStart(style: withTime ? 5 : 4, type: nil)
                pending.append(contentsOf: Self.valueOpen)
                pending.append(contentsOf: serial.utf8)
                pending.append(contentsOf: Self.valueClose)
                widen(withTime ? 19 : 10)
                return
            }
        case .amount, .number:
            if let value = Money.wholeDong(bytes) ?? Int64(String(decoding: bytes, as: UTF8.self)) {
                return int(value)
            }
        case .percent:
            let dot = bytes.firstIndex(of: UInt8(ascii: ".")) ?? bytes.count
            if !bytes.isEmpty, bytes.enumerated().allSatisfy({ $0.offset == dot || ($0.element >= 0x30 && $0.element <= 0x39) }) {
                cellStart(style: 7, type: nil)
                pending.append(contentsOf: Self.valueOpen)
                pending.append(contentsOf: bytes)
                pending.append(contentsOf: Self.valueClose)
                widen(6)
                return
            }
        case .text:
            break
        }
        guard !bytes.isEmpty else { return empty() }
        cellStart(style: header ? 1 : 2, type: "inlineStr")
        let spaced = bytes.first == 0x20 || bytes.last == 0x20
        pending.append(contentsOf: spaced ? Self.inlineSpacedOpen : Self.inlineOpen)
        if bytes.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "&") || $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: ">") }) {
            pending.append(contentsOf: Self.escaped(Array(bytes), attribute: false))
        } else {
            pending.append(contentsOf: bytes)
        }
        pending.append(contentsOf: Self.inlineClose)
        widen(Self.characters(bytes))
    }

    public func int(_ value: Int64) {
        let style = header ? 1 : (kind == .amount ? 3 : 6)
        cellStart(style: style, type: nil)
        pending.append(contentsOf: Self.valueOpen)
        CSVWriter.appendInt(value, to: &pending)
        pending.append(contentsOf: Self.valueClose)
        widen(kind == .amount ? Money(dong: value).grouped.count : String(value).count)
    }

    public func empty() {
        column += 1
    }

    /// Where the current row's XML starts in `pending`: the row's tag goes in front of its cells when it ends.
    @exclusivity(unchecked) private var rowStart = 0

    public func endRow() throws(FileError) {
        var open = Self.rowOpen
        CSVWriter.appendInt(Int64(rows + 1), to: &open)
        open.append(contentsOf: Self.tagClose)
        pending.insert(contentsOf: open, at: rowStart)
        pending.append(contentsOf: Self.rowClose)
        column = 0
        rows += 1
        if started {
            if pending.count >= 1 << 16 {
                try hand(pending)
                pending.removeAll(keepingCapacity: true)
            }
        } else if rows > Self.widthRows {
            try start()
        }
        rowStart = pending.count
    }

    public func row(_ cells: [String]) throws(FileError) {
        for cell in cells { text(cell) }
        try endRow()
    }

    /// Writes what precedes the rows (the frozen header, the widths) and the rows kept so far.
    private func start() throws(FileError) {
        started = true
        var head = Array("""
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" \
            xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">\
            <sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>\
            <selection pane="bottomLeft"/></sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>
            """.utf8)
        if !widths.isEmpty {
            head.append(contentsOf: "<cols>".utf8)
            for (index, width) in widths.enumerated() {
                head.append(contentsOf: "<col min=\"\(index + 1)\" max=\"\(index + 1)\" width=\"\(width)\" customWidth=\"1\"/>".utf8)
            }
            head.append(contentsOf: "</cols>".utf8)
        }
        head.append(contentsOf: "<sheetData>".utf8)
        try hand(head)
        try hand(pending)
        pending.removeAll(keepingCapacity: true)
        rowStart = 0
    }

    public func commit() throws(FileError) {
        if !started { try start() }
        try hand(pending + Array("</sheetData></worksheet>".utf8))
        pending.removeAll()
        try joinCompressor()
        try zip.end()
        try zip.finish()
        guard fsync(fd) == 0 else { throw FileError(path: path, errno: errno) }
        guard rename(temporaryPath, path) == 0 else { throw FileError(path: path, errno: errno) }
        committed = true
    }

    /// XML text: `&`, `<`, `>` (and `"` in an attribute) escaped; control characters XML cannot hold become U+FFFD.
    static func escaped(_ bytes: [UInt8], attribute: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 8)
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "&"): out.append(contentsOf: "&amp;".utf8)
            case UInt8(ascii: "<"): out.append(contentsOf: "&lt;".utf8)
            case UInt8(ascii: ">"): out.append(contentsOf: "&gt;".utf8)
            case 0x22 where attribute: out.append(contentsOf: "&quot;".utf8)
            case 0x09, 0x0A, 0x0D: out.append(byte)
            case 0..<0x20: out.append(contentsOf: [0xEF, 0xBF, 0xBD])
            default: out.append(byte)
            }
        }
        return out
    }

    /// `2026-11-30` → 46356 (1900 system); `2026-11-30T16:01:00` → 46356.667361111109, and whether it has a time.
    static func serial(_ bytes: UnsafeBufferPointer<UInt8>) -> (String, Bool)? {
        guard bytes.count == 10 || (bytes.count == 19 && bytes[10] == UInt8(ascii: "T")), bytes[4] == UInt8(ascii: "-"),
              let date = try? CalendarDate(parsing: String(decoding: bytes[0..<10], as: UTF8.self)), date.year >= 1901 else { return nil }
        let days = date.daysSinceEpoch - CalendarDate(year: 1899, month: 12, day: 30)!.daysSinceEpoch
        guard bytes.count == 19 else { return (String(days), false) }
        guard let hour = asciiNumber(bytes, 11..<13), let minute = asciiNumber(bytes, 14..<16), let second = asciiNumber(bytes, 17..<19),
              hour < 24, minute < 60, second < 60 else { return nil }
        let seconds = hour * 3600 + minute * 60 + second
        // Exact in text: whole days, then the day's fraction to 9 decimals (0.1 ms), the way spreadsheets store times.
        let fraction = (Int64(seconds) * 1_000_000_000 + 43_200) / 86_400
        var decimals = String(fraction)
        decimals = String(repeating: "0", count: 9 - decimals.count) + decimals
        while decimals.hasSuffix("0") { decimals.removeLast() }
        return (decimals.isEmpty ? String(days) : "\(days).\(decimals)", true)
    }
}

/// Opens the writer for `format`: CSV as `CSVWriter` writes it, or a workbook with `columns`' kinds.
public func tableWriter(path: String, format: TableFormat, sheet: String = "Sheet1", columns: [ColumnKind]) throws(FileError) -> any TableWriter {
    switch format {
    case .csv: try CSVWriter(path: path)
    case .xlsx: try XLSXWriter(path: path, sheet: sheet, columns: columns)
    }
}
