/// An input table, CSV or an xlsx workbook's sheet, opened and read up to its header.
public struct OpenedTable {
    public let reader: CSVReader
    /// The header's fields as written (untrimmed), or nil when the file has no non-blank row. When the header's own
    /// record cannot be read, `reader.recordError` says why.
    public let header: [String]?
    /// `FILE` for CSV, `FILE:SHEET` for a workbook: what a line's message starts with.
    public let label: String
}

/// Opens the tables people bring: a CSV file, or an Excel workbook (xlsx) whatever its name says, taken by content.
public enum TableFile {
    /// Rows looked at for the header: official templates put a title and a few lines of text above it.
    public static let headerRowsMax = 30

    /// Opens `path` and reads up to its header: the first row (of the first `headerRowsMax` non-blank rows) that
    /// `isHeader` accepts, earlier rows being titles; when none does, the first non-blank row, so that the caller
    /// says which columns it lacks. A workbook's `sheet` is the one named, else the first sheet with such a row.
    /// `.xls` and password-protected workbooks are refused with how to convert them. With `hashing`, the reader's
    /// `hasher` sees every byte of the file, from the first.
    public static func open(path: String, displayName: String? = nil, sheet: String? = nil, delimiter: UInt8 = UInt8(ascii: ","),
                            recordBytesMax: Int = 1 << 16, hashing: Bool = false, isHeader: ([String]) -> Bool) throws -> OpenedTable {
        let file = displayName ?? path
        switch TableFileKind.of(path: path) {
        case .text, .zip:
            let reader = try CSVReader(path: path, recordBytesMax: recordBytesMax, delimiter: delimiter)
            if hashing { reader.hasher = SHA256Hasher() }
            return OpenedTable(reader: reader, header: try readHeader(reader, isHeader: isHeader).header, label: file)
        case .oldWorkbook:
            throw WorkbookError.oldWorkbook(file)
        case .encryptedWorkbook:
            throw WorkbookError.encrypted(file)
        case .workbook:
            let workbook: Workbook
            do { workbook = try Workbook(path: path) } catch { throw error.naming(file) }
            let candidates = sheet == nil ? workbook.sheets : [try named(workbook, sheet, file)]
            var first: OpenedTable?
            for candidate in candidates {
                let rows: SheetRows
                do { rows = try workbook.rows(of: candidate) } catch { throw error.naming(file) }
                let reader = CSVReader(path: path, sheet: rows)
                if hashing { reader.hasher = SHA256Hasher() }
                let found = try readHeader(reader, isHeader: isHeader)
                let opened = OpenedTable(reader: reader, header: found.header, label: "\(file):\(candidate.name)")
                if found.accepted { return opened }
                if first == nil { first = opened }
            }
            return first!
        }
    }

    private static func named(_ workbook: Workbook, _ sheet: String?, _ file: String) throws -> Workbook.Sheet {
        do { return try workbook.sheet(named: sheet) } catch { throw error.naming(file) }
    }

    /// The accepted row, else the first non-blank one (nil for an empty file). A record that cannot be read stops the
    /// search: it is the header the caller reports.
    private static func readHeader(_ reader: CSVReader, isHeader: ([String]) -> Bool) throws -> (header: [String]?, accepted: Bool) {
        var first: [String]?
        var looked = 0
        while try reader.next() {
            if reader.isBlank { continue }
            let fields = (0..<reader.fieldCount).map { reader.string($0) ?? "" }
            if reader.recordError != nil {
                // Past a title, a row that cannot be read is not the header: the search goes on.
                if first == nil { return (fields, false) }
                continue
            }
            if isHeader(fields) {
                reader.fieldCountMin = fields.count
                return (fields, true)
            }
            if first == nil { first = fields }
            looked += 1
            if looked >= headerRowsMax { break }
        }
        return (first, false)
    }
}
