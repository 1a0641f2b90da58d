import GRDB

/// One bad line of an input file, written `FILE:LINE: reason`.
public struct LineProblem: Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let reason: String

    public init(file: String, line: Int, reason: String) {
        self.file = file
        self.line = line
        self.reason = reason
    }

    public var description: String { "\(file):\(line): \(reason)" }
}

public struct RegisterImportOptions: Sendable {
    /// Import the good lines and write the rejected ones, with their reasons, to `rejectsPath`.
    public var skipInvalid = false
    /// Where rejected lines go; `FILE.rejected.csv` when nil.
    public var rejectsPath: String?
    /// Write whole national IDs and numbers into the rejects file.
    public var reveal = false
    public var by: UserName

    public init(by: UserName) { self.by = by }
}

public struct RegisterImportResult: Sendable, Equatable {
    public var file: String
    public var sha256: String
    /// The same bytes were imported before; nothing changed.
    public var alreadyImported = false
    public var previousImportAt: String?
    public var previousImportBy: String?
    /// Non-blank data lines.
    public var lines = 0
    public var created = 0
    public var updated = 0
    public var unchanged = 0
    public var rejected = 0
    public var rejectsPath: String?
    public var flagsRaised = 0
}

public enum RegisterImportError: Error, Sendable, Equatable, CustomStringConvertible {
    case emptyFile(String)
    case missingColumns(String, [String])
    case duplicateColumn(String, String)
    case invalidLines(String, count: Int)

    public var description: String {
        switch self {
        case .emptyFile(let file): "\(file):1: the file is empty; a register starts with the header \(RawRegisterFields.columns.joined(separator: ","))"
        case .missingColumns(let file, let columns):
            "\(file):1: the header lacks \(columns.joined(separator: ", ")); a register's header is \(RawRegisterFields.columns.joined(separator: ",")) (any order)"
        case .duplicateColumn(let file, let column): "\(file):1: column \(column) appears twice in the header"
        case .invalidLines(let file, let count):
            "\(file): \(count) bad line\(count == 1 ? "" : "s"); nothing was imported. Fix them, or pass --skip-invalid to import the good lines and write the bad ones to a file"
        }
    }
}

extension Store {
    /// Imports a register CSV in one transaction.
    ///
    /// Every line is checked; `onProblem` hears each bad line as it is found. Without `skipInvalid`, one bad line
    /// means nothing is imported. Importing the same bytes again changes nothing. A line for a known national ID
    /// updates that beneficiary and records each changed field in the history.
    public func importRegister(path: String, displayName: String? = nil, options: RegisterImportOptions,
                               onProblem: (LineProblem) -> Void = { _ in },
                               progress: ((Int64) -> Void)? = nil) throws -> RegisterImportResult {
        let file = displayName ?? path
        let digest = try fileSHA256(path: path)
        var result = RegisterImportResult(file: file, sha256: digest.hex)
        return try write { db in
            if let row = try Row.fetchOne(db, sql: "SELECT imported_at, imported_by, lines FROM register_import WHERE sha256 = ?",
                                          arguments: [digest.hex]) {
                result.alreadyImported = true
                result.previousImportAt = row[0]
                result.previousImportBy = row[1]
                result.lines = row[2]
                return result
            }
            let now = clock.now()
            let validator = try RegisterValidator.load(db, today: now.date)
            let reader = try CSVReader(path: path)

            // Header.
            var header: CSVHeader?
            while try reader.next() {
                if reader.isBlank { continue }
                header = CSVHeader(reader: reader)
                break
            }
            guard let header else { throw RegisterImportError.emptyFile(file) }
            var columnIndex: [String: Int] = [:]
            for (index, name) in header.names.enumerated() where RawRegisterFields.columns.contains(name) {
                if columnIndex[name] != nil { throw RegisterImportError.duplicateColumn(file, name) }
                columnIndex[name] = index
            }
            let missing = RawRegisterFields.requiredColumns.filter { columnIndex[$0] == nil }
            guard missing.isEmpty else { throw RegisterImportError.missingColumns(file, missing) }
            let columns = columnIndex.sorted { $0.value < $1.value }.map { (RawRegisterFields.keyPath(of: $0.key)!, $0.value) }
            let nowText = now.description

            let importID = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) + 1 FROM register_import")!
            // History rows name this import before its row is written at the end; the key is checked at commit.
            try db.execute(sql: "PRAGMA defer_foreign_keys = ON")
            let registerWasEmpty = try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM beneficiary")! == 0
            var seen: [UInt64: Int32] = [:]
            // About 85 bytes a line: size the table once instead of rehashing as it grows.
            seen.reserveCapacity(Int(min(fileSize(path: path) ?? 0, 1 << 30) / 85) + 16)
            var rejects: CSVWriter?
            var validateOnly = false

            func reject(_ reasons: [String]) throws {
                result.rejected += 1
                let reason = reasons.joined(separator: "; ")
                onProblem(LineProblem(file: file, line: reader.recordLine, reason: reason))
                guard options.skipInvalid else {
                    validateOnly = true
                    return
                }
                if rejects == nil {
                    let path = options.rejectsPath ?? (path + ".rejected.csv")
                    let writer = try CSVWriter(path: path)
                    try writer.row(["line", "reason"] + header.names)
                    rejects = writer
                    result.rejectsPath = path
                }
                let writer = rejects!
                writer.int(Int64(reader.recordLine))
                writer.text(reason)
                for index in 0..<header.names.count {
                    var value = index < reader.fieldCount ? (reader.string(index) ?? "") : ""
                    let name = header.names[index]
                    if !options.reveal, name == "national_id" || name == "msisdn", !value.trimmingSpaces.isEmpty {
                        value = maskTail(value.trimmingSpaces)
                    }
                    writer.text(value)
                }
                try writer.endRow()
            }

            var lastProgress: Int64 = 0
            while try reader.next() {
                if reader.isBlank { continue }
                result.lines += 1
                if let progress, reader.bytesConsumed - lastProgress >= 1 << 20 {
                    lastProgress = reader.bytesConsumed
                    progress(reader.bytesConsumed)
                }
                if let error = reader.recordError {
                    try reject(["\(error)"])
                    continue
                }
                var extra = false
                if reader.fieldCount > header.names.count {
                    for index in header.names.count..<reader.fieldCount where !(reader.string(index) ?? "").trimmingSpaces.isEmpty {
                        extra = true
                    }
                }
                if reader.fieldCount < header.names.count || extra {
                    try reject(["line has \(reader.fieldCount) fields; the header has \(header.names.count)"])
                    continue
                }
                var raw = RawRegisterFields()
                for (keyPath, index) in columns { raw[keyPath: keyPath] = reader.string(index) ?? "" }
                let details: BeneficiaryDetails
                switch validator.validate(raw) {
                case .failure(.invalid(let reasons)):
                    try reject(reasons)
                    continue
                case .failure(let error):
                    try reject(["\(error)"])
                    continue
                case .success(let valid):
                    details = valid
                }
                var key: UInt64 = 0
                for byte in details.nationalID.digits.utf8 { key = key * 10 + UInt64(byte - 0x30) }
                if let earlier = seen[key] {
                    try reject(["national_id \(details.nationalID) is also on line \(earlier); a beneficiary appears once per file"])
                    continue
                }
                seen[key] = Int32(clamping: reader.recordLine)
                if validateOnly { continue }
                if !registerWasEmpty, let existing = try Self.fetchBeneficiary(db, nationalID: details.nationalID) {
                    if try Self.applyChanges(db, to: existing, details, at: now, by: options.by, reason: "register import \(file)", importID: importID) {
                        result.updated += 1
                    } else {
                        result.unchanged += 1
                    }
                } else {
                    _ = try Self.insertBeneficiary(db, details, at: nowText, by: options.by)
                    result.created += 1
                }
            }
            if result.rejected > 0 && !options.skipInvalid {
                throw RegisterImportError.invalidLines(file, count: result.rejected)
            }
            try db.execute(sql: """
                INSERT INTO register_import(id, sha256, file_name, imported_at, imported_by, lines, created, updated, unchanged, rejected)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [importID, digest.hex, file, now.description, options.by.value, result.lines, result.created,
                                 result.updated, result.unchanged, result.rejected])
            result.flagsRaised = try Self.raiseFlags(db, at: now)
            try rejects?.commit()
            return result
        }
    }
}
