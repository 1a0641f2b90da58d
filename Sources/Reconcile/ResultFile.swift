import AllowanceLedger

/// Why a result file cannot be reconciled at all; nothing is recorded.
public enum ResultFileError: Error, Sendable, Equatable, CustomStringConvertible {
    case emptyFile(String)
    case missingColumns(String, [ResultField], profile: String)
    case duplicateColumn(String, ResultField, [String])
    case unreadableHeader(String, String)
    case fileChanged(String)
    case tooManyLines(String, Int)

    public var description: String {
        switch self {
        case .emptyFile(let file):
            "\(file):1: the file is empty; a result file starts with a header naming at least \(ResultField.required.map(\.rawValue).joined(separator: ", "))"
        case .missingColumns(let file, let fields, let profile):
            "\(file):1: the header has no column for \(fields.map(\.rawValue).joined(separator: ", ")) under profile \(profile); "
                + "rename the columns, or pick the carrier's profile with --profile"
        case .duplicateColumn(let file, let field, let columns):
            "\(file):1: columns \(columns.map { "\"\($0)\"" }.joined(separator: " and ")) both carry \(field.rawValue); keep one"
        case .unreadableHeader(let file, let reason): "\(file):1: header: \(reason)"
        case .fileChanged(let file): "\(file): the file changed while it was being reconciled; nothing was recorded, run it again"
        case .tooManyLines(let file, let max): "\(file): more than \(max) lines; split the file"
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

/// One data line read into the common form; values are trimmed text, unchecked.
public struct RawResultLine: Sendable, Equatable {
    public var line: Int
    public var reference = ""
    public var msisdn = ""
    public var amount = ""
    public var status = ""
    public var carrierTxnID = ""
    public var completedAt = ""
    public var reasonCode = ""
    public var reasonText = ""
    /// Why the line cannot be read as a row at all (bad quoting, not UTF-8, wrong number of fields).
    public var recordProblem: String?

    public init(line: Int) { self.line = line }
}

/// Streams a carrier result file into `RawResultLine`s: fixed-size buffers, blank lines skipped, every other
/// line delivered, the unreadable ones with their problem.
public struct ResultFileReader {
    public static let linesMax = 50_000_000
    public static let lineBytesMax = 1 << 16

    public let path: String
    public let name: String
    public let profile: CarrierProfile
    let reader: CSVReader
    public private(set) var columns: ResultColumns?

    public init(path: String, name: String? = nil, profile: CarrierProfile) throws(FileError) {
        self.path = path
        self.name = name ?? path
        self.profile = profile
        self.reader = try CSVReader(path: path, recordBytesMax: Self.lineBytesMax, delimiter: profile.delimiter)
    }

    public var hasher: SHA256Hasher? {
        get { reader.hasher }
        nonmutating set { reader.hasher = newValue }
    }

    public var bytesConsumed: Int64 { reader.bytesConsumed }

    /// Reads the header (the first non-blank line) and finds the columns.
    public mutating func readHeader() throws -> ResultColumns {
        while try reader.next() {
            if reader.isBlank { continue }
            if let problem = reader.recordError { throw ResultFileError.unreadableHeader(name, problem.description) }
            let header = (0..<reader.fieldCount).map { (reader.string($0) ?? "").trimmingSpaces }
            let found = try ResultColumns(header: header, profile: profile, file: name)
            columns = found
            return found
        }
        throw ResultFileError.emptyFile(name)
    }

    /// The next non-blank data line, or nil at the end of the file.
    public func next() throws -> RawResultLine? {
        guard let columns else { preconditionFailure("readHeader() first") }
        while try reader.next() {
            if reader.isBlank { continue }
            var raw = RawResultLine(line: reader.recordLine)
            let count = reader.fieldCount
            let positions = columns.positions
            func field(_ which: Int) -> String {
                let index = positions[which]
                guard index >= 0, index < count else { return "" }
                return (reader.string(index) ?? "").trimmingSpaces
            }
            // In ResultField.allCases order.
            raw.reference = field(0)
            raw.msisdn = field(1)
            raw.amount = field(2)
            raw.status = field(3)
            raw.carrierTxnID = field(4)
            raw.completedAt = field(5)
            raw.reasonCode = field(6)
            raw.reasonText = field(7)
            if let problem = reader.recordError {
                raw.recordProblem = problem.description
                if problem == .notUTF8 { raw = RawResultLine(line: raw.line); raw.recordProblem = problem.description }
            } else if count < columns.width
                        || (count > columns.width && (columns.width..<count).contains { !(reader.string($0) ?? "").trimmingSpaces.isEmpty }) {
                raw.recordProblem = "line has \(count) fields; the header has \(columns.width) (a field holding the separator needs \"quotes\")"
            }
            return raw
        }
        return nil
    }
}
