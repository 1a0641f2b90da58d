#if canImport(Glibc)
import Glibc
#endif

/// Why one record of a CSV file cannot be read; the reader goes on with the next record.
public enum CSVRecordError: ProblemConvertible, Sendable, Equatable {
    case tooLong(bytesMax: Int)
    case tooManyFields(fieldsMax: Int)
    case unclosedQuote(openedOnLine: Int)
    case textAfterClosingQuote
    case notUTF8
    case nulByte
    /// The file starts as a ZIP: an Excel workbook (xlsx) or another office document, not CSV.
    case workbook
    /// The file starts as an OLE compound file: an Excel 97–2003 workbook (xls), or an encrypted xlsx.
    case oldWorkbook
    /// A workbook's cell holds an error value (`#N/A`, `#REF!`): what Excel showed, not data.
    case errorCell(cell: String, value: String)
    /// A workbook's cell holds a formula whose value was never calculated and saved.
    case formulaWithoutValue(cell: String)

    public var problem: Problem {
        switch self {
        case .tooLong(let max): Problem("csv.too_long", ["bytes_max": String(max)])
        case .tooManyFields(let max): Problem("csv.too_many_fields", ["fields_max": String(max)])
        case .unclosedQuote(let line): Problem("csv.unclosed_quote", ["line": String(line)])
        case .textAfterClosingQuote: Problem("csv.text_after_closing_quote")
        case .notUTF8: Problem("csv.not_utf8")
        case .nulByte: Problem("csv.nul_byte")
        case .workbook: Problem("csv.workbook")
        case .oldWorkbook: Problem("csv.old_workbook")
        case .errorCell(let cell, let value): Problem("xlsx.error_cell", ["cell": cell, "value": value])
        case .formulaWithoutValue(let cell): Problem("xlsx.formula_without_value", ["cell": cell])
        }
    }
}

/// A file that cannot be opened or read.
public struct FileError: Error, Sendable, Equatable, CustomStringConvertible {
    public let path: String
    public let reason: String
    public init(path: String, reason: String) { self.path = path; self.reason = reason }
    public init(path: String, errno code: Int32) { self.init(path: path, reason: String(cString: strerror(code))) }
    public var description: String { "\(path): \(reason)" }
}

/// Streams an RFC 4180 CSV file record by record over a fixed-size buffer; memory stays flat however long
/// the file is. Opened by `TableFile.open`, it reads a workbook's sheet as the same records, row by row.
///
/// Accepts a UTF-8 BOM, CRLF, LF or CR line ends, quoted fields with commas, doubled quotes and line breaks.
/// `recordLine` is the physical line a record starts on, the number people see in an editor (a sheet's row number).
public final class CSVReader {
    public static let bufferBytes = 1 << 16
    public let path: String
    public let recordBytesMax: Int
    /// The most fields a record may have: a line of millions of commas holds no bytes but would hold millions of
    /// field boundaries. Past it the record is an error (`tooManyFields`) and its fields stop being kept.
    public static let fieldsMax = 4096
    /// The field separator: `,` unless a carrier's profile says `;`, tab or `|`.
    public let delimiter: UInt8

    private let fd: Int32
    private let buffer: UnsafeMutableBufferPointer<UInt8>
    private var position = 0
    private var filled = 0
    private var atEOF = false
    private var startOfFile = true
    /// What the file's first bytes say it is when that is a workbook: its first record is refused as such.
    private var workbook: CSVRecordError?
    private var line = 1
    private var skipLF = false

    // `next()` works on local copies; these are read per field, and a dynamic exclusivity check on each read cost
    // more than the read. Nothing reads them while `next()` runs: the reader belongs to one task.
    @exclusivity(unchecked) private var bytes: [UInt8] = []
    /// Where each field of the current record starts and ends in `bytes` (a field read on the fast path is followed by
    /// its delimiter there; one read byte by byte is not).
    @exclusivity(unchecked) private var starts: [Int] = []
    @exclusivity(unchecked) private var ends: [Int] = []

    /// The physical line the current record starts on.
    public private(set) var recordLine = 0
    /// Set when the current record cannot be read; its fields are then incomplete.
    public private(set) var recordError: CSVRecordError?
    /// Bytes consumed so far, for progress.
    public private(set) var bytesConsumed: Int64 = 0
    /// When set, every byte read is hashed: the caller can check the file it parsed is the file it hashed.
    public var hasher: SHA256Hasher?

    /// The sheet read instead of CSV, and its current row (whose arrays trade places with the record's).
    private let sheetRows: SheetRows?
    private var sheetRow = SheetRow()
    @exclusivity(unchecked) private var kinds: [CellKind] = []
    /// The sheet's name when the file is a workbook: messages say `FILE:SHEET:ROW`.
    public var sheetName: String? { sheetRows?.sheet.name }
    /// A sheet leaves out the empty cells at the end of a row; its records are padded to this many fields (the
    /// header's width, once read).
    public var fieldCountMin = 0

    public init(path: String, recordBytesMax: Int = 1 << 16, delimiter: UInt8 = UInt8(ascii: ",")) throws(FileError) {
        precondition(delimiter != 0x22 && delimiter != 0x0A && delimiter != 0x0D, "a quote or line end cannot separate fields")
        self.fd = try Files.openRegular(path, directoryReason: "is a directory, not a CSV file").fd
        self.path = path
        self.recordBytesMax = recordBytesMax
        self.delimiter = delimiter
        self.buffer = .allocate(capacity: Self.bufferBytes)
        self.sheetRows = nil
        bytes.reserveCapacity(1024)
        starts.reserveCapacity(32)
        ends.reserveCapacity(32)
    }

    /// Reads `sheet`'s rows as records.
    package init(path: String, sheet: SheetRows) {
        self.fd = -1
        self.path = path
        self.recordBytesMax = Int.max
        self.delimiter = UInt8(ascii: ",")
        self.buffer = .allocate(capacity: 1)
        self.sheetRows = sheet
    }

    deinit {
        buffer.deallocate()
        if fd >= 0 { close(fd) }
    }

    /// What kind of cell field `index` came from; always `.text` in a CSV file.
    public func kind(_ index: Int) -> CellKind { index < kinds.count ? kinds[index] : .text }

    public var fieldCount: Int { ends.count }

    /// The raw bytes of field `index` of the current record.
    public func withField<R>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try bytes.withUnsafeBufferPointer { all in
            try body(UnsafeBufferPointer(rebasing: all[starts[index]..<ends[index]]))
        }
    }

    /// Field `index` as text, or nil when it is not valid UTF-8.
    public func string(_ index: Int) -> String? {
        withField(index) { field in
            isValidUTF8(field) ? String(decoding: field, as: UTF8.self) : nil
        }
    }

    /// True when every field is empty or only spaces: a blank line, or `,,,,` left by a spreadsheet. A record that
    /// cannot be read is never blank: it is reported, not skipped.
    public var isBlank: Bool {
        recordError == nil && (0..<ends.count).allSatisfy { index in
            bytes[starts[index]..<ends[index]].allSatisfy { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        }
    }

    /// Reads the next chunk into the buffer; the count of bytes, 0 at the end of the file.
    private func fill() throws(FileError) -> Int {
        if atEOF { return 0 }
        while true {
            let count = read(fd, buffer.baseAddress, Self.bufferBytes)
            if count < 0 {
                if errno == EINTR { continue }
                throw FileError(path: path, errno: errno)
            }
            if count == 0 { atEOF = true }
            bytesConsumed += Int64(count)
            hasher?.update(UnsafeRawBufferPointer(start: buffer.baseAddress, count: count))
            return count
        }
    }

    private enum State { case fieldStart, unquoted, quoted, quoteInQuoted }

    /// Moves to the next record; false at the end of the file.
    public func next() throws(FileError) -> Bool {
        if let sheetRows { return try nextRow(of: sheetRows) }
        // All hot state lives in locals and goes back to the object at the end: touching the object's stored
        // properties byte by byte would pay an exclusivity check on every byte.
        var bytes = self.bytes
        var starts = self.starts
        var ends = self.ends
        self.bytes = []
        self.starts = []
        self.ends = []
        bytes.removeAll(keepingCapacity: true)
        starts.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
        starts.append(0)
        var position = self.position
        var filled = self.filled
        var line = self.line
        var skipLF = self.skipLF
        var recordError: CSVRecordError?
        var overflowed = false
        let recordBytesMax = self.recordBytesMax
        let fieldsMax = Self.fieldsMax
        let delimiter = self.delimiter
        let buffer = self.buffer
        defer {
            self.bytes = bytes
            self.starts = starts
            self.ends = ends
            self.position = position
            self.filled = filled
            self.line = line
            self.skipLF = skipLF
            self.recordError = recordError
        }

        var state = State.fieldStart
        var started = false
        var quoteLine = 0

        while true {
            if position == filled {
                filled = try fill()
                position = 0
                if filled == 0 { break }
                if startOfFile {
                    startOfFile = false
                    if filled >= 4, buffer[0] == 0x50, buffer[1] == 0x4B, buffer[2] == 0x03, buffer[3] == 0x04 {
                        workbook = .workbook
                    } else if filled >= 4, buffer[0] == 0xD0, buffer[1] == 0xCF, buffer[2] == 0x11, buffer[3] == 0xE0 {
                        workbook = .oldWorkbook
                    }
                    if filled >= 3, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF {
                        position = 3
                        continue
                    }
                }
            }
            // Fast path: a whole record already in the buffer, without quotes, NUL or a CR other than the one of its
            // CRLF (most lines of most files), is copied at once and split at its delimiters, without the byte-by-byte
            // state machine.
            if !started, !skipLF, let base = buffer.baseAddress,
               let newline = memchr(base + position, 0x0A, filled - position) {
                let end = base.distance(to: newline.assumingMemoryBound(to: UInt8.self))
                if end - position <= recordBytesMax {
                    var plain = true
                    var index = position
                    var contentEnd = end
                    while index < end {
                        let byte = buffer[index]
                        if byte == delimiter {
                            // Past the cap the slow path below keeps the record's error.
                            if ends.count == fieldsMax {
                                plain = false
                                break
                            }
                            ends.append(index - position)
                            starts.append(index - position + 1)
                        } else if byte == 0x22 || byte == 0x0D || byte == 0 {
                            if byte == 0x0D && index == end - 1 {
                                contentEnd = index
                            } else {
                                plain = false
                            }
                            break
                        }
                        index += 1
                    }
                    if plain {
                        recordLine = line
                        line += 1
                        ends.append(contentEnd - position)
                        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[position..<contentEnd]))
                        position = end + 1
                        return finish(&bytes, &recordError)
                    }
                    starts.removeAll(keepingCapacity: true)
                    ends.removeAll(keepingCapacity: true)
                    starts.append(0)
                }
            }
            let byte = buffer[position]
            position += 1
            if skipLF {
                skipLF = false
                if byte == 0x0A { continue }
            }
            if !started {
                started = true
                recordLine = line
            }
            switch state {
            case .fieldStart, .unquoted:
                if byte == delimiter {
                    if ends.count < fieldsMax {
                        ends.append(bytes.count)
                        starts.append(bytes.count)
                    } else if recordError == nil {
                        recordError = .tooManyFields(fieldsMax: fieldsMax)
                    }
                    state = .fieldStart
                    continue
                }
                if byte == 0x0A || byte == 0x0D {
                    line += 1
                    if byte == 0x0D { skipLF = true }
                    ends.append(bytes.count)
                    return finish(&bytes, &recordError)
                }
                if byte == 0x22 && state == .fieldStart {
                    state = .quoted
                    quoteLine = line
                    continue
                }
                state = .unquoted
            case .quoted:
                if byte == 0x22 {
                    state = .quoteInQuoted
                    continue
                }
                if byte == 0x0A {
                    line += 1
                } else if byte == 0x0D {
                    // A CR, or a CRLF, inside quotes is one line break and keeps its bytes.
                    line += 1
                    if position == filled {
                        filled = try fill()
                        position = 0
                    }
                    if position < filled, buffer[position] == 0x0A {
                        position += 1
                        if bytes.count + 2 <= recordBytesMax {
                            bytes.append(0x0D)
                            bytes.append(0x0A)
                        } else {
                            Self.overflow(&overflowed, &recordError, recordBytesMax)
                        }
                        continue
                    }
                }
            case .quoteInQuoted:
                if byte == 0x22 {
                    state = .quoted
                } else if byte == delimiter {
                    if ends.count < fieldsMax {
                        ends.append(bytes.count)
                        starts.append(bytes.count)
                    } else if recordError == nil {
                        recordError = .tooManyFields(fieldsMax: fieldsMax)
                    }
                    state = .fieldStart
                    continue
                } else if byte == 0x0A || byte == 0x0D {
                    line += 1
                    if byte == 0x0D { skipLF = true }
                    ends.append(bytes.count)
                    return finish(&bytes, &recordError)
                } else if byte == 0x20 || byte == 0x09 {
                    // Spaces after a closing quote are harmless.
                    continue
                } else {
                    if recordError == nil { recordError = .textAfterClosingQuote }
                    state = .unquoted
                }
            }
            if byte == 0, recordError == nil { recordError = .nulByte }
            if bytes.count < recordBytesMax {
                bytes.append(byte)
            } else {
                Self.overflow(&overflowed, &recordError, recordBytesMax)
            }
        }
        // End of file.
        guard started else { return false }
        if state == .quoted, recordError == nil { recordError = .unclosedQuote(openedOnLine: quoteLine) }
        ends.append(bytes.count)
        return finish(&bytes, &recordError)
    }

    private func nextRow(of sheet: SheetRows) throws(FileError) -> Bool {
        do {
            guard try sheet.next(into: &sheetRow) else {
                bytesConsumed = sheet.bytesRead
                if let hasher {
                    // The sheet came out of the file's bytes; these are the bytes whose digest the caller checks.
                    self.hasher = nil
                    let (fd, _) = try Files.openRegular(path)
                    defer { close(fd) }
                    var chunk = [UInt8](repeating: 0, count: 1 << 16)
                    while true {
                        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, 1 << 16) }
                        if count < 0, errno == EINTR { continue }
                        guard count >= 0 else { throw FileError(path: path, errno: errno) }
                        if count == 0 { break }
                        chunk.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
                    }
                    self.hasher = hasher
                }
                return false
            }
        } catch let error as WorkbookError {
            if case .badXML(_, let part, let reason) = error {
                throw FileError(path: path, reason: "\(part): the workbook's XML cannot be read: \(reason); open it in Excel or LibreOffice, save it again, and give the saved file")
            }
            throw FileError(path: path, reason: error.description)
        } catch let error as FileError {
            throw error
        } catch {
            throw FileError(path: path, reason: "\(error)")
        }
        swap(&bytes, &sheetRow.bytes)
        swap(&starts, &sheetRow.starts)
        swap(&ends, &sheetRow.ends)
        swap(&kinds, &sheetRow.kinds)
        while ends.count < fieldCountMin {
            starts.append(bytes.count)
            ends.append(bytes.count)
            kinds.append(.text)
        }
        recordLine = sheetRow.number
        bytesConsumed = sheet.bytesRead
        recordError = nil
        if let bad = sheetRow.badCell {
            recordError = bad.kind == .error ? .errorCell(cell: bad.reference, value: bad.value) : .formulaWithoutValue(cell: bad.reference)
        } else if !bytes.withUnsafeBufferPointer({ isValidUTF8($0) }) {
            recordError = .notUTF8
        }
        return true
    }

    private static func overflow(_ overflowed: inout Bool, _ recordError: inout CSVRecordError?, _ bytesMax: Int) {
        if !overflowed {
            overflowed = true
            if recordError == nil { recordError = .tooLong(bytesMax: bytesMax) }
        }
    }

    private func finish(_ bytes: inout [UInt8], _ recordError: inout CSVRecordError?) -> Bool {
        if let kind = workbook {
            // Said once, on the first record, over whatever else its bytes look like.
            recordError = kind
            workbook = nil
            return true
        }
        if recordError == nil, !bytes.withUnsafeBufferPointer({ isValidUTF8($0) }) {
            recordError = .notUTF8
        }
        return true
    }
}

/// Checks UTF-8 well-formedness (no overlongs, no surrogates, nothing past U+10FFFF), fast on ASCII.
public func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool { firstInvalidUTF8Offset(bytes) == nil }

/// The offset of the first byte that does not start a well-formed UTF-8 sequence (RFC 3629), or nil.
public func firstInvalidUTF8Offset(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
    var index = 0
    let count = bytes.count
    while index < count {
        // Eight ASCII bytes at a time, which most of a register or result file is.
        if index + 8 <= count, let base = bytes.baseAddress,
           UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
            index += 8
            continue
        }
        let lead = bytes[index]
        if lead < 0x80 {
            index += 1
            continue
        }
        let length: Int
        var lower: UInt8 = 0x80
        var upper: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; lower = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; upper = 0x9F
        case 0xF0: length = 4; lower = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; upper = 0x8F
        default: return index
        }
        guard index + length <= count else { return index }
        let second = bytes[index + 1]
        guard second >= lower && second <= upper else { return index }
        var offset = 2
        while offset < length {
            let next = bytes[index + offset]
            guard next >= 0x80 && next <= 0xBF else { return index }
            offset += 1
        }
        index += length
    }
    return nil
}

/// Finds named columns in a header row, case-insensitively and in any order.
public struct CSVHeader: Sendable {
    public let names: [String]

    public init(reader: CSVReader) {
        self.init(fields: (0..<reader.fieldCount).map { reader.string($0) ?? "" })
    }

    public init(fields: [String]) {
        self.names = fields.map { $0.trimmingSpaces.lowercased() }
    }

    public func index(of name: String) -> Int? { names.firstIndex(of: name.lowercased()) }
}
