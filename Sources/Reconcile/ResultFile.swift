import AllowanceLedger

/// Why a result file cannot be reconciled at all; nothing is recorded.
public enum ResultFileError: ProblemConvertible, Sendable, Equatable {
    case emptyFile(String)
    case missingColumns(String, [ResultField], profile: String)
    case duplicateColumn(String, ResultField, [String])
    case unreadableHeader(String, Problem)
    case fileChanged(String)
    case tooManyLines(String, Int)
    case unreadable(String, String)

    public var problem: Problem {
        switch self {
        case .emptyFile(let file): Problem("result_file.empty_file", ["file": file, "required": ResultField.required.map(\.rawValue).joined(separator: ", ")])
        case .missingColumns(let file, let fields, let profile):
            Problem("result_file.missing_columns", ["file": file, "fields": fields.map(\.rawValue).joined(separator: ", "), "profile": profile])
        case .duplicateColumn(let file, let field, let columns):
            Problem("result_file.duplicate_column", ["file": file, "columns": Problem.and(columns.map { "\"\($0)\"" }), "field": field.rawValue])
        case .unreadableHeader(let file, let reason): Problem("result_file.unreadable_header", ["file": file], parts: ["reason": reason])
        case .fileChanged(let file): Problem("result_file.file_changed", ["file": file])
        case .tooManyLines(let file, let max): Problem("result_file.too_many_lines", ["file": file, "max": String(max)])
        case .unreadable(let file, let reason): Problem("result_file.unreadable", ["file": file, "reason": reason])
        }
    }
}

/// Where each field sits in a result file's rows, found from its header under a profile.
public struct ResultColumns: Sendable, Equatable {
    public let width: Int
    /// Column index per field; required fields are always present.
    public let index: [ResultField: Int]
    /// The same, in `ResultField.allCases` order, -1 for an absent field: read once per line.
    let positions: [Int]

    public init(header: [String], profile: CarrierProfile, file: String) throws(ResultFileError) {
        let folded = header.map(foldForMatching)
        var index: [ResultField: Int] = [:]
        for field in ResultField.allCases {
            let names = profile.columnNames(for: field)
            let matches = folded.indices.filter { names.contains(folded[$0]) }
            if matches.count > 1 { throw .duplicateColumn(file, field, matches.map { header[$0] }) }
            if let match = matches.first { index[field] = match }
        }
        let missing = ResultField.required.filter { index[$0] == nil }
        guard missing.isEmpty else { throw .missingColumns(file, missing, profile: profile.name) }
        self.width = header.count
        self.index = index
        self.positions = ResultField.allCases.map { index[$0] ?? -1 }
    }
}

/// One data line read into the common form and checked field by field.
public struct ParsedResultLine: Sendable, Equatable {
    public var line: Int
    /// Why the line cannot be used, every reason; empty when all its fields read.
    public var problems: [String] = []
    public var reference: ItemReference?
    /// The reference as written, kept when it is not spelled as `batch create` writes it (or is no reference).
    public var referenceText: String?
    /// `84xxxxxxxxx` as a number; 0 when it could not be read.
    public var msisdn: UInt64 = 0
    /// The number as written, kept when it could not be read.
    public var msisdnText: String?
    public var amount: Int64?
    public var status: CarrierStatus?
    /// The status as the carrier wrote it (kept with the line, beside what the profile made of it).
    public var statusWord = ""
    public var carrierTxnID = ""
    /// `yyyy-MM-ddTHH:mm:ss` (and the zone when given); as written when it does not follow the profile.
    public var completedAt = ""
    public var reasonCode = ""
    public var reasonText = ""

    public init(line: Int) { self.line = line }
}

/// Streams a carrier result file into `ParsedResultLine`s over fixed-size buffers: blank lines skipped, every other
/// line delivered, the unreadable ones with their reasons. Numbers, amounts, references and times are read from the
/// bytes, with no string per field on the common path.
public struct ResultFileReader {
    public static let linesMax = 50_000_000
    public static let lineBytesMax = 1 << 16

    public let path: String
    public let name: String
    public let profile: CarrierProfile
    let reader: CSVReader
    /// The header found when the file was opened (the first row the profile's columns name, below any title rows).
    private let header: [String]?
    public private(set) var columns: ResultColumns?
    /// Status words seen so far: a file uses a handful of spellings a million times.
    private let statusCache = StatusCache()

    /// Opens a CSV file, or a workbook's `sheet` (the first with the profile's columns when nil); with `hashing`,
    /// `hasher` sees every byte of the file.
    public init(path: String, name: String? = nil, profile: CarrierProfile, sheet: String? = nil, hashing: Bool = false) throws {
        self.path = path
        let name = name ?? path
        self.name = name
        self.profile = profile
        let table = try TableFile.open(path: path, displayName: name, sheet: sheet, delimiter: profile.delimiter,
                                       recordBytesMax: Self.lineBytesMax, hashing: hashing) { fields in
            (try? ResultColumns(header: fields.map(\.trimmingSpaces), profile: profile, file: name)) != nil
        }
        self.reader = table.reader
        self.header = table.header
    }

    public var hasher: SHA256Hasher? { reader.hasher }

    public var bytesConsumed: Int64 { reader.bytesConsumed }

    /// Finds the columns in the header.
    public mutating func readHeader() throws -> ResultColumns {
        guard let header else { throw ResultFileError.emptyFile(name) }
        if let problem = reader.recordError { throw ResultFileError.unreadableHeader(name, problem.problem) }
        let found = try ResultColumns(header: header.map(\.trimmingSpaces), profile: profile, file: name)
        columns = found
        return found
    }

    /// The next non-blank data line, or nil at the end of the file.
    public func next() throws -> ParsedResultLine? {
        guard let columns else { preconditionFailure("readHeader() first") }
        while try reader.next() {
            if reader.isBlank { continue }
            return parse(columns)
        }
        return nil
    }

    private func parse(_ columns: ResultColumns) -> ParsedResultLine {
        var parsed = ParsedResultLine(line: reader.recordLine)
        let count = reader.fieldCount
        let positions = columns.positions
        /// The field's bytes without surrounding spaces; empty when the column is absent or the line too short.
        func field<R>(_ which: Int, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
            let index = positions[which]
            guard index >= 0, index < count else { return body(UnsafeBufferPointer(start: nil, count: 0)) }
            return reader.withField(index) { body($0.trimmingSpaces) }
        }
        func text(_ which: Int) -> String { field(which) { String(decoding: $0, as: UTF8.self) } }

        if let problem = reader.recordError {
            parsed.problems.append(problem.description)
            if problem != .notUTF8 {
                parsed.referenceText = text(0)
                parsed.msisdnText = text(1)
                parsed.carrierTxnID = text(4)
            }
            return parsed
        }
        if count < columns.width || (count > columns.width && (columns.width..<count).contains { reader.withField($0) { bytes in bytes.contains { $0 != 0x20 && $0 != 0x09 } } }) {
            parsed.problems.append("line has \(count) fields; the header has \(columns.width) (a field holding the separator needs \"quotes\")")
            parsed.referenceText = text(0)
            parsed.msisdnText = text(1)
            parsed.carrierTxnID = text(4)
            return parsed
        }
        // In ResultField.allCases order: reference, msisdn, amount, status, carrier_txn_id, completed_at, reason_code, reason_text.
        field(0) { bytes in
            if bytes.isEmpty {
                parsed.problems.append("reference is empty")
            } else if let reference = ItemReference(bytes), reference.isCanonicalSpelling {
                parsed.reference = reference
            } else {
                parsed.reference = ItemReference(bytes)
                parsed.referenceText = String(decoding: bytes, as: UTF8.self)
            }
        }
        field(1) { bytes in
            switch Result(catching: { () throws(MSISDNError) in try MSISDN.number(bytes) }) {
            case .success(let number): parsed.msisdn = number
            case .failure(let error):
                parsed.problems.append(error.description)
                parsed.msisdnText = String(decoding: bytes, as: UTF8.self)
            }
        }
        field(2) { bytes in
            var amount = Money.wholeDong(bytes)
            if amount == nil {
                switch Result(catching: { () throws(MoneyError) in try Money(parsing: String(decoding: bytes, as: UTF8.self)) }) {
                case .success(let money): amount = money.dong
                case .failure(let error): parsed.problems.append(error.description)
                }
            }
            if let amount {
                parsed.amount = amount
                if amount <= 0 { parsed.problems.append("amount \(amount) is not a payment; amounts are whole đồng above 0") }
            }
        }
        field(3) { bytes in
            if bytes.isEmpty {
                parsed.problems.append("status is empty")
            } else if case let (word, status) = statusCache.status(of: bytes, profile: profile), let status {
                parsed.statusWord = word
                parsed.status = status
            } else {
                parsed.statusWord = String(decoding: bytes, as: UTF8.self)
                parsed.problems.append("status \"\(redactIdentifiers(String(decoding: bytes, as: UTF8.self)))\" is not a status word of profile \(profile.name); "
                                       + "add it to the profile as status.paid, status.failed, status.pending or status.reversed")
            }
        }
        parsed.carrierTxnID = text(4)
        field(5) { bytes in
            guard !bytes.isEmpty else { return }
            if positions[5] >= 0, reader.kind(positions[5]) == .date, let normalized = DateFormat.iso8601.normalize(bytes) {
                // A workbook's date cell holds the time itself, whatever the profile says about how it is written.
                parsed.completedAt = normalized
            } else if let normalized = profile.dateFormat.normalize(bytes) {
                parsed.completedAt = normalized
            } else {
                parsed.completedAt = String(decoding: bytes, as: UTF8.self)
                parsed.problems.append("completed_at \"\(redactIdentifiers(parsed.completedAt))\" does not match profile \(profile.name)'s date format \(profile.dateFormat)")
            }
        }
        parsed.reasonCode = text(6)
        parsed.reasonText = text(7)
        return parsed
    }
}

/// Remembers what each status spelling means under the profile; a spelling is looked up once.
final class StatusCache {
    private var known: [String: CarrierStatus?] = [:]

    /// The word as written and its status under the profile.
    func status(of bytes: UnsafeBufferPointer<UInt8>, profile: CarrierProfile) -> (String, CarrierStatus?) {
        // Status words are short: the key is a small string, built without allocating.
        let word = String(decoding: bytes, as: UTF8.self)
        if let status = known[word] { return (word, status) }
        let status = profile.status(of: word)
        if known.count < 1024 { known[word] = status }
        return (word, status)
    }
}
