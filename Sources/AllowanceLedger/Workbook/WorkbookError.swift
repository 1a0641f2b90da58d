/// Why a workbook (xlsx) cannot be read at all; nothing of it is used.
public enum WorkbookError: ProblemConvertible, Sendable, Equatable {
    /// An Excel 97–2003 workbook (BIFF in an OLE compound file).
    case oldWorkbook(String)
    /// An xlsx protected by a password: Office keeps it encrypted inside an OLE compound file.
    case encrypted(String)
    /// A ZIP archive without `xl/workbook.xml`: a Word or OpenDocument file, or a damaged workbook.
    case notAWorkbook(String)
    case damaged(String, reason: String)
    /// An entry named `../x` or `/etc/x`: no workbook has one, an attack may.
    case unsafeEntryName(String, entry: String)
    case tooManyEntries(String, entriesMax: Int)
    /// A part larger than we read, or expanding far more than XML does: a zip bomb.
    case partTooLarge(String, part: String, bytesMax: Int64)
    case compressionRatio(String, part: String, ratioMax: Int)
    case badXML(String, part: String, reason: String)
    case sheetNotFound(String, sheet: String, sheets: [String])
    case noSheets(String)
    /// Raised inside the XML reader, before it knows which part and file it reads.
    case xml(String)

    public var problem: Problem {
        switch self {
        case .oldWorkbook(let file): Problem("xlsx.old_workbook", ["file": file])
        case .encrypted(let file): Problem("xlsx.encrypted", ["file": file])
        case .notAWorkbook(let file): Problem("xlsx.not_a_workbook", ["file": file])
        case .damaged(let file, let reason): Problem("xlsx.damaged", ["file": file, "reason": reason])
        case .unsafeEntryName(let file, let entry): Problem("xlsx.unsafe_entry_name", ["file": file, "entry": entry])
        case .tooManyEntries(let file, let max): Problem("xlsx.too_many_entries", ["file": file, "entries_max": String(max)])
        case .partTooLarge(let file, let part, let max): Problem("xlsx.part_too_large", ["file": file, "part": part, "bytes_max": String(max)])
        case .compressionRatio(let file, let part, let max): Problem("xlsx.compression_ratio", ["file": file, "part": part, "ratio_max": String(max)])
        case .badXML(let file, let part, let reason): Problem("xlsx.bad_xml", ["file": file, "part": part, "reason": reason])
        case .sheetNotFound(let file, let sheet, let sheets): Problem("xlsx.sheet_not_found", ["file": file, "sheet": sheet, "sheets": Problem.and(sheets)])
        case .noSheets(let file): Problem("xlsx.no_sheets", ["file": file])
        case .xml(let reason): Problem("xlsx.bad_xml", ["file": "", "part": "", "reason": reason])
        }
    }

    /// The same error naming `file` as the user gave it.
    func naming(_ file: String) -> WorkbookError {
        switch self {
        case .oldWorkbook: .oldWorkbook(file)
        case .encrypted: .encrypted(file)
        case .notAWorkbook: .notAWorkbook(file)
        case .damaged(_, let reason): .damaged(file, reason: reason)
        case .unsafeEntryName(_, let entry): .unsafeEntryName(file, entry: entry)
        case .tooManyEntries(_, let max): .tooManyEntries(file, entriesMax: max)
        case .partTooLarge(_, let part, let max): .partTooLarge(file, part: part, bytesMax: max)
        case .compressionRatio(_, let part, let max): .compressionRatio(file, part: part, ratioMax: max)
        case .badXML(_, let part, let reason): .badXML(file, part: part, reason: reason)
        case .sheetNotFound(_, let sheet, let sheets): .sheetNotFound(file, sheet: sheet, sheets: sheets)
        case .noSheets: .noSheets(file)
        case .xml(let reason): .badXML(file, part: "", reason: reason)
        }
    }
}

/// What a cell held, beside the text it reads as: the readers of registers and result files treat some kinds apart
/// (a national ID stored as a number lost digits; a date cell needs no date format).
public enum CellKind: UInt8, Sendable {
    /// Text, a text formula's value, or any field of a CSV file.
    case text
    case number
    /// A number in a date or time format, read as `yyyy-MM-dd` or `yyyy-MM-ddTHH:mm:ss`.
    case date
    case boolean
    /// `#N/A`, `#REF!`, …
    case error
    /// A formula whose value was never calculated and saved (written by a program, not by Excel).
    case formulaWithoutValue
}
