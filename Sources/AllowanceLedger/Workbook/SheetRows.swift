#if canImport(Glibc)
import Glibc
#endif

/// One row of a sheet as fields: the cells' text one after another in `bytes`, where each field starts and ends, and
/// what kind of cell it came from. Columns a row leaves out are empty text fields.
package struct SheetRow {
    /// The sheet's own row number, as Excel shows it.
    package var number = 0
    package var bytes: [UInt8] = []
    package var starts: [Int] = []
    package var ends: [Int] = []
    package var kinds: [CellKind] = []
    /// The first cell that cannot be read (an error value, a formula never calculated): its reference and value.
    package var badCell: (reference: String, kind: CellKind, value: String)?

    mutating func clear() {
        bytes.removeAll(keepingCapacity: true)
        starts.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
        kinds.removeAll(keepingCapacity: true)
        badCell = nil
    }

    /// Pads the row with empty fields up to column `index` (0-based), exclusive.
    mutating func pad(to index: Int) {
        while ends.count < index {
            starts.append(bytes.count)
            ends.append(bytes.count)
            kinds.append(.text)
        }
    }
}

/// Streams a worksheet's rows out of its XML (`<row><c r="B7" t="s" s="3"><v>12</v></c></row>`): shared and inline
/// strings (rich-text runs joined, phonetic runs left out), numbers as written without a spurious `.0`, booleans,
/// error values, a formula's cached value, and numbers in a date style as dates in the workbook's date system.
package final class SheetRows {
    /// Excel's widest row is XFD, 16,384 columns.
    package static let columnsMax = 16_384

    package let sheet: Workbook.Sheet
    private let xml: XMLPull
    private let strings: SharedStrings
    private let dateStyles: [UInt8]
    private let date1904: Bool
    private let path: String
    private let stream: PartStream
    // One thread reads a sheet (see XMLPull).
    @exclusivity(unchecked) private var previousRow = 0
    @exclusivity(unchecked) private var done = false
    /// A cell's text before it is converted, kept between calls.
    @exclusivity(unchecked) private var value: [UInt8] = []
    private let compressedSize: Int64
    private let uncompressedSize: Int64
    /// How far into the file the sheet has been read, in the file's (compressed) bytes.
    package var bytesRead: Int64 { uncompressedSize > 0 ? stream.bytesRead * compressedSize / uncompressedSize : 0 }

    init(workbook: Workbook, sheet: Workbook.Sheet, sharedStrings: SharedStrings) throws(WorkbookError) {
        self.sheet = sheet
        self.path = workbook.path
        guard let location = workbook.entries.locations[sheet.part] else {
            throw .damaged(workbook.path, reason: "the sheet's part \(sheet.part) is missing")
        }
        self.stream = try PartStream(path: workbook.path, part: sheet.part, location: location)
        (compressedSize, uncompressedSize) = (location.compressed, location.uncompressed)
        self.xml = XMLPull(source: stream)
        self.strings = sharedStrings
        self.dateStyles = workbook.dateStyles
        self.date1904 = workbook.date1904
    }

    private enum Text { case none, value, inline, phonetic }

    /// Reads the next row with at least one cell into `row`; false at the end of the sheet.
    package func next(into row: inout SheetRow) throws(WorkbookError) -> Bool {
        guard !done else { return false }
        do {
            return try read(into: &row)
        } catch {
            done = true
            throw .badXML(path, part: sheet.part, reason: Workbook.reason(error))
        }
    }

    private func read(into row: inout SheetRow) throws(WorkbookError) -> Bool {
        var inRow = false
        var column = 0
        var type: UInt8 = 0
        var style = 0
        var hasFormula = false
        var hasValue = false
        var text = Text.none
        var inInline = false
        while true {
            switch try xml.next() {
            case .endOfDocument:
                done = true
                return false
            case .start:
                let name = xml.name
                if name.count == 1, name[0] == UInt8(ascii: "c") {
                    guard inRow else { continue }
                    if let reference = xml.attribute("r") {
                        guard let index = Self.columnIndex(reference) else { throw .xml("cell reference \"\(String(decoding: reference, as: UTF8.self))\" is not a cell") }
                        guard index >= row.ends.count else { throw .xml("row \(row.number) has cell \(String(decoding: reference, as: UTF8.self)) twice or out of order") }
                        column = index
                    } else {
                        column = row.ends.count
                    }
                    guard column < Self.columnsMax else { throw .xml("row \(row.number) has a cell past column XFD") }
                    type = xml.attribute("t").map { Self.typeCode($0) } ?? 0
                    style = xml.attribute("s").flatMap { Int(String(decoding: $0, as: UTF8.self)) } ?? 0
                    hasFormula = false
                    hasValue = false
                    value.removeAll(keepingCapacity: true)
                    if xml.isEmptyElement {
                        // `<c r="B2" s="1"/>`: a formatted, empty cell.
                        _ = try xml.next()
                        row.pad(to: column)
                        row.starts.append(row.bytes.count)
                        row.ends.append(row.bytes.count)
                        row.kinds.append(.text)
                    }
                } else if name.count == 1, name[0] == UInt8(ascii: "v") {
                    text = .value
                    hasValue = true
                } else if name.count == 1, name[0] == UInt8(ascii: "f") {
                    hasFormula = true
                } else if name.count == 2, name[0] == UInt8(ascii: "i"), name[1] == UInt8(ascii: "s") {
                    inInline = true
                    hasValue = true
                } else if name.count == 1, name[0] == UInt8(ascii: "t") {
                    if inInline, text != .phonetic { text = .inline }
                } else if xml.named("rPh") {
                    text = .phonetic
                } else if xml.named("row") {
                    row.clear()
                    var number = previousRow + 1
                    if let reference = xml.attribute("r") {
                        guard let given = Int(String(decoding: reference, as: UTF8.self)), given > previousRow else {
                            throw .xml("row \(String(decoding: reference, as: UTF8.self)) comes after row \(previousRow)")
                        }
                        number = given
                    }
                    row.number = number
                    previousRow = number
                    inRow = true
                    if xml.isEmptyElement {
                        _ = try xml.next()
                        inRow = false
                    }
                }
            case .text:
                if text == .value || text == .inline { value.append(contentsOf: xml.text) }
            case .end:
                let name = xml.name
                if name.count == 1, name[0] == UInt8(ascii: "v") {
                    text = .none
                } else if name.count == 1, name[0] == UInt8(ascii: "t") {
                    if text == .inline { text = .none }
                } else if xml.named("rPh") {
                    text = .none
                } else if name.count == 2, name[0] == UInt8(ascii: "i"), name[1] == UInt8(ascii: "s") {
                    inInline = false
                } else if name.count == 1, name[0] == UInt8(ascii: "c") {
                    guard inRow else { continue }
                    row.pad(to: column)
                    row.starts.append(row.bytes.count)
                    let kind = try cell(type: type, style: style, hasFormula: hasFormula, hasValue: hasValue, value: value, into: &row.bytes)
                    row.ends.append(row.bytes.count)
                    row.kinds.append(kind)
                    if (kind == .error || kind == .formulaWithoutValue), row.badCell == nil {
                        row.badCell = (Self.columnName(column) + String(row.number), kind, String(decoding: value, as: UTF8.self))
                    }
                } else if xml.named("row") {
                    inRow = false
                    if !row.ends.isEmpty { return true }
                } else if xml.named("sheetData") {
                    done = true
                    return false
                }
            }
        }
    }

    /// `t`: 0 number (or absent), 1 shared string, 2 inline string, 3 formula string, 4 boolean, 5 error, 6 ISO date.
    private static func typeCode(_ type: [UInt8]) -> UInt8 {
        switch type {
        case [UInt8(ascii: "s")]: 1
        case Array("inlineStr".utf8): 2
        case Array("str".utf8): 3
        case [UInt8(ascii: "b")]: 4
        case [UInt8(ascii: "e")]: 5
        case [UInt8(ascii: "d")]: 6
        default: 0
        }
    }

    /// Appends the cell's text to `out` and says what kind of cell it was.
    private func cell(type: UInt8, style: Int, hasFormula: Bool, hasValue: Bool, value: [UInt8], into out: inout [UInt8]) throws(WorkbookError) -> CellKind {
        // Programs that write formulas without calculating them leave `<v/>` or no `<v>` at all.
        if hasFormula && (!hasValue || (value.isEmpty && type != 3)) { return .formulaWithoutValue }
        switch type {
        case 1:
            guard let index = Int(String(decoding: value, as: UTF8.self)), index >= 0, index < strings.count else {
                throw .xml("a cell names shared string \(String(decoding: value, as: UTF8.self)), which the workbook does not have")
            }
            strings.append(index, to: &out)
            return .text
        case 2, 3:
            out.append(contentsOf: value)
            return .text
        case 4:
            out.append(contentsOf: value == [UInt8(ascii: "1")] ? Array("TRUE".utf8) : Array("FALSE".utf8))
            return .boolean
        case 5:
            out.append(contentsOf: value)
            return .error
        case 6:
            // An ISO 8601 date cell (strict Open XML); midnight reads as the day.
            var text = value
            if text.count == 19, text.suffix(9).elementsEqual("T00:00:00".utf8) { text.removeLast(9) }
            out.append(contentsOf: text)
            return .date
        default:
            guard hasValue, !value.isEmpty else { return .text }
            let dateKind = style < dateStyles.count ? dateStyles[style] : 0
            if dateKind != 0, let serial = Double(String(decoding: value, as: UTF8.self)),
               let date = Self.date(serial: serial, date1904: date1904, withTime: dateKind == 2) {
                out.append(contentsOf: date.utf8)
                return .date
            }
            Self.appendNumber(value, to: &out)
            return .number
        }
    }

    /// A number as people read it: `912345678` stays as written; `912345678.0` or `9.12345678E8` (how programs write a
    /// whole number they hold as a float) read as `912345678`; anything else as written.
    static func appendNumber(_ value: [UInt8], to out: inout [UInt8]) {
        let plain = !value.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "E") || $0 == UInt8(ascii: "e") }
        if !plain, let number = Double(String(decoding: value, as: UTF8.self)), number.rounded() == number, abs(number) < 1e15 {
            out.append(contentsOf: String(Int64(number)).utf8)
        } else {
            out.append(contentsOf: value)
        }
    }

    /// A date serial in the workbook's date system: 1900 (day 1 is 1900-01-01 and Lotus's 1900-02-29 is day 60) or 1904
    /// (day 0 is 1904-01-01). `yyyy-MM-dd`, with `THH:mm:ss` when the style shows a time or the serial has one.
    static func date(serial: Double, date1904: Bool, withTime: Bool) -> String? {
        guard serial.isFinite, serial >= 0, serial < 2_958_466 else { return nil }
        var days = Int(serial.rounded(.down))
        var seconds = Int(((serial - Double(days)) * 86_400).rounded())
        if seconds == 86_400 {
            days += 1
            seconds = 0
        }
        let epoch: Int
        if date1904 {
            epoch = CalendarDate(year: 1904, month: 1, day: 1)!.daysSinceEpoch
        } else if days == 60 {
            return nil
        } else if days < 60 {
            epoch = CalendarDate(year: 1899, month: 12, day: 31)!.daysSinceEpoch
        } else {
            epoch = CalendarDate(year: 1899, month: 12, day: 30)!.daysSinceEpoch
        }
        let date = CalendarDate(daysSinceEpoch: epoch + days)
        guard withTime || seconds != 0 else { return date.description }
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : String(value) }
        return "\(date)T\(two(seconds / 3600)):\(two(seconds / 60 % 60)):\(two(seconds % 60))"
    }

    /// `B7` → 1 (column B, 0-based).
    static func columnIndex(_ reference: [UInt8]) -> Int? {
        var index = 0
        var letters = 0
        for byte in reference {
            let upper = byte & ~0x20
            if upper >= UInt8(ascii: "A"), upper <= UInt8(ascii: "Z") {
                index = index * 26 + Int(upper - UInt8(ascii: "A")) + 1
                letters += 1
                guard letters <= 3 else { return nil }
            } else if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                break
            } else if byte != UInt8(ascii: "$") {
                return nil
            }
        }
        return letters == 0 ? nil : index - 1
    }

    /// 1 → `B`.
    package static func columnName(_ index: Int) -> String {
        var name: [UInt8] = []
        var rest = index + 1
        while rest > 0 {
            name.insert(UInt8(ascii: "A") + UInt8((rest - 1) % 26), at: 0)
            rest = (rest - 1) / 26
        }
        return String(decoding: name, as: UTF8.self)
    }
}
