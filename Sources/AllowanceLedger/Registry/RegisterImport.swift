import Foundation

/// One bad line of an input file, written `FILE:LINE: reason; reason`.
public struct LineProblem: Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let line: Int
    /// Everything wrong with the line, in the order it was found.
    public let problems: [Problem]

    public init(file: String, line: Int, problems: [Problem]) {
        self.file = file
        self.line = line
        self.problems = problems
    }

    /// The reasons in `wording`'s language, one after another.
    public func reason(in wording: Wording) -> String { problems.map(wording.words(for:)).joined(separator: "; ") }
    public func description(in wording: Wording) -> String { "\(file):\(line): \(reason(in: wording))" }

    /// In English, as the rejects file and the CLI print it by default.
    public var reason: String { reason(in: .english) }
    public var description: String { description(in: .english) }
}

public struct RegisterImportOptions: Sendable {
    /// Import the good lines and write the rejected ones, with their reasons, to `rejectsPath`.
    public var skipInvalid = false
    /// Where rejected lines go; `FILE.rejected.csv` when nil (`FILE.rejected.xlsx` for a workbook). A path ending
    /// `.xlsx` is written as a workbook.
    public var rejectsPath: String?
    /// Write whole national IDs and numbers into the rejects file.
    public var reveal = false
    /// The sheet of a workbook to read; the first sheet with the register's header when nil.
    public var sheet: String?
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
    /// Lines naming a commune merged into another, by the old code: they were imported under the new one.
    public var communesReplaced: [String: Int] = [:]

    package init(file: String, sha256: String, previousImportAt: String? = nil, previousImportBy: String? = nil,
                 rejectsPath: String? = nil) {
        self.file = file
        self.sha256 = sha256
        self.previousImportAt = previousImportAt
        self.previousImportBy = previousImportBy
        self.rejectsPath = rejectsPath
    }
}

public enum RegisterImportError: ProblemConvertible, Sendable, Equatable {
    case emptyFile(String)
    /// The header line itself cannot be read: not UTF-8, a NUL byte, an unclosed quote, too long.
    case unreadableHeader(String, Problem)
    case missingColumns(String, [String])
    case duplicateColumn(String, String)
    case invalidLines(String, count: Int)
    case fileChanged(String)

    public var problem: Problem {
        let header = RawRegisterFields.columns.joined(separator: ",")
        return switch self {
        case .emptyFile(let file): Problem("register.empty_file", ["file": file, "header": header])
        case .unreadableHeader(let file, let problem): Problem("register.unreadable_header", ["file": file, "header": header], parts: ["problem": problem])
        case .missingColumns(let file, let columns): Problem("register.missing_columns", ["file": file, "columns": listed(columns), "header": header])
        case .duplicateColumn(let file, let column): Problem("register.duplicate_column", ["file": file, "column": column])
        case .fileChanged(let file): Problem("register.file_changed", ["file": file])
        case .invalidLines(let file, let count): Problem(count == 1 ? "register.invalid_line" : "register.invalid_lines", ["file": file, "count": String(count)])
        }
    }
}

/// One checked line, handed from the reading thread to the writing one.
package enum RegisterLine: Sendable {
    /// `oldCommune`: the merged commune the line named, read as the one that replaced it.
    case good(line: Int, details: BeneficiaryDetails, oldCommune: String?)
    case bad(line: Int, reasons: [Problem], fields: [String])
}

/// What the reading thread sends.
package enum RegisterMessage: Sendable {
    /// The header's names, and the sheet they were found on when the file is a workbook.
    case header([String], sheet: String?)
    case lines([RegisterLine], bytesRead: Int64)
    case failed(RegisterReadFailure)
    case end
}

package enum RegisterReadFailure: Error, Sendable {
    case file(FileError)
    case format(RegisterImportError)
    case workbook(WorkbookError)
}

/// The line each national ID was first seen on, for a million IDs: open addressing over one flat array, several times
/// faster than a `Dictionary` (whose hashing and inserts were a tenth of the reading thread's time). A slot holds the
/// ID's 12 digits read as a number (below 2^40) in its high bits and the line in its low 24; 0 is an empty slot, since
/// no ID reads as 0 (province codes start at 001). Lines from 2^24 - 1 on are kept aside.
package struct LineByNumber {
    private var slots: [UInt64]
    private var mask: Int
    private var count = 0
    private var farLines: [UInt64: Int32] = [:]
    private static let lineBits: UInt64 = 24
    private static let lineMask: UInt64 = (1 << lineBits) - 1

    package init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [UInt64](repeating: 0, count: size)
        mask = size - 1
    }

    /// Records `key` on `line` and returns nil, or returns the line it was already recorded on.
    package mutating func insert(_ key: UInt64, line: Int32) -> Int32? {
        precondition(key != 0 && key < 1 << (64 - Self.lineBits), "a national ID's 12 digits, not 0")
        if count * 2 >= slots.count { grow() }
        var slot = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 20) & mask
        while slots[slot] != 0 {
            if slots[slot] >> Self.lineBits == key {
                let line = slots[slot] & Self.lineMask
                return line == Self.lineMask ? farLines[key]! : Int32(line)
            }
            slot = (slot + 1) & mask
        }
        let stored = min(UInt64(max(line, 0)), Self.lineMask)
        if stored == Self.lineMask { farLines[key] = line }
        slots[slot] = key << Self.lineBits | stored
        count += 1
        return nil
    }

    private mutating func grow() {
        let old = slots.filter { $0 != 0 }
        let far = farLines
        self = LineByNumber(capacity: slots.count)
        for slot in old {
            let key = slot >> Self.lineBits
            _ = insert(key, line: slot & Self.lineMask == Self.lineMask ? far[key]! : Int32(slot & Self.lineMask))
        }
    }
}

extension Registry {
    static let registerLinesPerChunk = 2048

    /// Reads and checks a register on its own thread, so parsing overlaps the inserts on two cores.
    static func readRegister(path: String, sheet: String?, expectedDigest: Digest32, validator: RegisterValidator,
                             into channel: Channel<RegisterMessage>) {
        let table: OpenedTable
        do {
            table = try TableFile.open(path: path, sheet: sheet, hashing: true) { fields in
                let names = Set(CSVHeader(fields: fields).names)
                return RawRegisterFields.requiredColumns.allSatisfy(names.contains)
            }
        } catch let error as WorkbookError {
            _ = channel.put(.failed(.workbook(error)))
            return
        } catch let error as FileError {
            _ = channel.put(.failed(.file(error)))
            return
        } catch {
            _ = channel.put(.failed(.file(FileError(path: path, reason: "\(error)"))))
            return
        }
        let reader = table.reader
        do {
            guard let headerFields = table.header else {
                _ = channel.put(.failed(.format(.emptyFile(path))))
                return
            }
            let header = CSVHeader(fields: headerFields)
            if let problem = reader.recordError {
                _ = channel.put(.failed(.format(.unreadableHeader(path, problem.problem))))
                return
            }
            var columnIndex: [String: Int] = [:]
            for (index, name) in header.names.enumerated() where RawRegisterFields.columns.contains(name) {
                if columnIndex[name] != nil {
                    _ = channel.put(.failed(.format(.duplicateColumn(path, name))))
                    return
                }
                columnIndex[name] = index
            }
            let missing = RawRegisterFields.requiredColumns.filter { columnIndex[$0] == nil }
            guard missing.isEmpty else {
                _ = channel.put(.failed(.format(.missingColumns(path, missing))))
                return
            }
            guard channel.put(.header(header.names, sheet: reader.sheetName)) else { return }
            let nationalIDColumn = columnIndex["national_id"]!
            let columns = columnIndex.sorted { $0.value < $1.value }.map { (RawRegisterFields.keyPath(of: $0.key)!, $0.value) }
            let width = header.names.count
            // About 85 bytes a line: size the table once instead of rehashing as it grows.
            var seen = LineByNumber(capacity: Int(min(fileSize(path: path) ?? 0, 1 << 30) / 85) + 16)
            var chunk: [RegisterLine] = []
            chunk.reserveCapacity(registerLinesPerChunk)

            func fields() -> [String] { (0..<reader.fieldCount).map { reader.string($0) ?? "" } }

            while try reader.next() {
                if reader.isBlank { continue }
                let line = reader.recordLine
                if let error = reader.recordError {
                    chunk.append(.bad(line: line, reasons: [error.problem], fields: error == .notUTF8 ? [] : fields()))
                } else if reader.fieldCount < width
                            || (reader.fieldCount > width && (width..<reader.fieldCount).contains { !(reader.string($0) ?? "").trimmingSpaces.isEmpty }) {
                    chunk.append(.bad(line: line, reasons: [Problem("register.field_count", ["count": String(reader.fieldCount), "width": String(width)])],
                                      fields: fields()))
                } else {
                    var raw = RawRegisterFields()
                    for (keyPath, index) in columns { raw[keyPath: keyPath] = reader.string(index) ?? "" }
                    // A CCCD number starts with its province's 0: a cell that holds it as a number lost that 0 at least.
                    let idLostDigits = reader.kind(nationalIDColumn) == .number
                    switch validator.validate(raw) {
                    case .failure(.invalid(var reasons)):
                        if idLostDigits {
                            reasons.removeAll { $0.code.hasPrefix("national_id.") }
                            reasons.insert(NationalIDError.storedAsNumber.problem, at: 0)
                        }
                        chunk.append(.bad(line: line, reasons: reasons, fields: fields()))
                    case .success where idLostDigits:
                        chunk.append(.bad(line: line, reasons: [NationalIDError.storedAsNumber.problem], fields: fields()))
                    case .failure(let error):
                        chunk.append(.bad(line: line, reasons: [Problem(text: error.description)], fields: fields()))
                    case .success(let details):
                        var key: UInt64 = 0
                        for byte in details.nationalID.digits.utf8 { key = key * 10 + UInt64(byte - 0x30) }
                        if let earlier = seen.insert(key, line: Int32(clamping: line)) {
                            chunk.append(.bad(line: line, reasons: [Problem("register.national_id_twice", ["national_id": details.nationalID.description,
                                                                                                                   "line": String(earlier)])],
                                              fields: fields()))
                        } else {
                            let named = raw.commune.trimmingSpaces
                            chunk.append(.good(line: line, details: details, oldCommune: named == details.commune.value ? nil : named))
                        }
                    }
                }
                if chunk.count >= registerLinesPerChunk {
                    guard channel.put(.lines(chunk, bytesRead: reader.bytesConsumed)) else { return }
                    chunk.removeAll(keepingCapacity: true)
                }
            }
            if !chunk.isEmpty {
                guard channel.put(.lines(chunk, bytesRead: reader.bytesConsumed)) else { return }
            }
            // The bytes parsed must be the bytes whose digest marks the import as done.
            guard reader.hasher?.finalize() == expectedDigest else {
                _ = channel.put(.failed(.format(.fileChanged(path))))
                return
            }
            _ = channel.put(.end)
        } catch {
            _ = channel.put(.failed(.file(error)))
        }
    }

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
        // Every key the import writes was read in this transaction: categories and carriers by the validator's load
        // below, beneficiaries by their insert or look-up, and the import's own row at the end. SQLite's per-row look-ups
        // of category and carrier cost 2.5 s per million lines.
        return try storage.writeBulk { tx in
            if let previous = try tx.registerImport(sha256: digest.hex) {
                result.alreadyImported = true
                result.previousImportAt = previous.at
                result.previousImportBy = previous.by
                result.lines = previous.lines
                return result
            }
            let now = clock.now()
            let validator = try Self.validator(tx, today: now.date)
            let channel = Channel<RegisterMessage>(capacity: 4)
            let reader = Beside {
                Self.readRegister(path: path, sheet: options.sheet, expectedDigest: digest, validator: validator, into: channel)
            }
            // However this ends, the reading thread is stopped and waited for before the transaction finishes.
            defer {
                channel.cancel()
                reader.wait()
            }

            var header: [String] = []
            // Lines are named `FILE:LINE`, or `FILE:SHEET:ROW` in a workbook.
            var label = file
            var fromWorkbook = false
            switch channel.take() {
            case .header(let names, let sheet):
                header = names
                if let sheet {
                    label = "\(file):\(sheet)"
                    fromWorkbook = true
                }
            case .failed(.file(let error)): throw error
            case .failed(.format(let error)): throw Self.renamed(error, to: file)
            case .failed(.workbook(let error)): throw error.naming(file)
            case .lines, .end: preconditionFailure("the reader sends the header first")
            }

            // History rows name this import before its row is written at the end.
            let importID = try tx.nextRegisterImportID()
            let registerWasEmpty = try tx.isRegisterEmpty()
            let bulk = registerWasEmpty && (fileSize(path: path) ?? 0) / 85 >= Self.bulkImportLinesMin
            if bulk { try tx.beginBulkRegisterLoad() }
            var rejects: (any TableWriter)?
            var validateOnly = false

            func reject(line: Int, reasons: [Problem], fields: [String]) throws {
                result.rejected += 1
                let problem = LineProblem(file: label, line: line, problems: reasons)
                let reason = problem.reason
                onProblem(problem)
                guard options.skipInvalid else {
                    validateOnly = true
                    return
                }
                if rejects == nil {
                    let rejectsPath = options.rejectsPath ?? (path + (fromWorkbook ? ".rejected.xlsx" : ".rejected.csv"))
                    let writer = try tableWriter(path: rejectsPath, format: TableFormat(path: rejectsPath), sheet: "rejected",
                                                 columns: [.number] + [ColumnKind](repeating: .text, count: header.count + 1))
                    try writer.row(["line", "reason"] + header)
                    rejects = writer
                    result.rejectsPath = rejectsPath
                }
                let writer = rejects!
                writer.int(Int64(line))
                writer.text(reason)
                for index in 0..<header.count {
                    var value = index < fields.count ? fields[index] : ""
                    let name = header[index]
                    // Masked by column, and by content wherever a number long enough to be one turns up.
                    if !options.reveal, !value.trimmingSpaces.isEmpty {
                        if name == "national_id" || name == "msisdn" {
                            value = maskTail(value.trimmingSpaces)
                        } else {
                            value = redactIdentifiers(value)
                        }
                    }
                    writer.text(value)
                }
                try writer.endRow()
            }

            let insert = try tx.beneficiaryInserter(at: now, by: options.by)
            var lastProgress: Int64 = 0
            reading: while true {
                switch channel.take() {
                case .header: preconditionFailure("one header per file")
                case .failed(.file(let error)): throw error
                case .failed(.format(let error)): throw Self.renamed(error, to: file)
                case .failed(.workbook(let error)): throw error.naming(file)
                case .end: break reading
                case .lines(let lines, let bytesRead):
                    if let progress, bytesRead - lastProgress >= 1 << 20 {
                        lastProgress = bytesRead
                        progress(bytesRead)
                    }
                    for entry in lines {
                        result.lines += 1
                        switch entry {
                        case .bad(let line, let reasons, let fields):
                            try reject(line: line, reasons: reasons, fields: fields)
                        case .good(_, let details, let oldCommune):
                            if let oldCommune { result.communesReplaced[oldCommune, default: 0] += 1 }
                            if validateOnly { continue }
                            if !registerWasEmpty, let existing = try tx.beneficiary(nationalID: details.nationalID) {
                                var details = details
                                // A register without the column says nothing of the household: what is held stays.
                                if !header.contains("household_status") { details.householdStatus = existing.details.householdStatus }
                                if try Self.applyChanges(tx, to: existing, details, at: now, by: options.by,
                                                         reason: "register import \(file)", importID: importID) {
                                    result.updated += 1
                                } else {
                                    result.unchanged += 1
                                }
                            } else {
                                _ = try insert.insert(details)
                                result.created += 1
                            }
                        }
                    }
                }
            }
            if result.rejected > 0 && !options.skipInvalid {
                throw RegisterImportError.invalidLines(file, count: result.rejected)
            }
            if bulk { try tx.endBulkRegisterLoad() }
            try tx.recordRegisterImport(id: importID, result, at: now, by: options.by)
            result.flagsRaised = try Self.raiseFlags(tx, at: now)
            try tx.sealRegister(at: now, by: options.by)
            try rejects?.commit()
            return result
        }
    }

    /// Into an empty register, at least this many lines go in without indexes, which are rebuilt at the end.
    static let bulkImportLinesMin: Int64 = 50_000

    /// File-level errors name the file as the user gave it.
    static func renamed(_ error: RegisterImportError, to file: String) -> RegisterImportError {
        switch error {
        case .emptyFile: .emptyFile(file)
        case .unreadableHeader(_, let problem): .unreadableHeader(file, problem)
        case .missingColumns(_, let columns): .missingColumns(file, columns)
        case .duplicateColumn(_, let column): .duplicateColumn(file, column)
        case .invalidLines(_, let count): .invalidLines(file, count: count)
        case .fileChanged: .fileChanged(file)
        }
    }
}
