import AllowanceLedger
import Foundation
import GRDB

extension Store {
    static let registerLinesPerChunk = 2048

    /// Reads and checks a register on its own thread, so parsing overlaps the inserts on two cores.
    static func readRegister(path: String, expectedDigest: Digest32, validator: RegisterValidator, into channel: Channel<RegisterMessage>) {
        let reader: CSVReader
        do {
            reader = try CSVReader(path: path)
            reader.hasher = SHA256Hasher()
        } catch {
            _ = channel.put(.failed(.file(error)))
            return
        }
        do {
            var header: CSVHeader?
            while try reader.next() {
                if reader.isBlank { continue }
                header = CSVHeader(reader: reader)
                break
            }
            guard let header else {
                _ = channel.put(.failed(.format(.emptyFile(path))))
                return
            }
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
            guard channel.put(.header(header.names)) else { return }
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
                    switch validator.validate(raw) {
                    case .failure(.invalid(let reasons)):
                        chunk.append(.bad(line: line, reasons: reasons, fields: fields()))
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
                            chunk.append(.good(line: line, details: details))
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
        return try writeWithKeysFromTransaction { db in
            if let row = try Row.fetchOne(db, sql: "SELECT imported_at, imported_by, lines FROM register_import WHERE sha256 = ?",
                                          arguments: [digest.hex]) {
                result.alreadyImported = true
                result.previousImportAt = row[0]
                result.previousImportBy = row[1]
                result.lines = row[2]
                return result
            }
            let now = clock.now()
            let nowText = now.description
            let validator = try RegisterValidator.load(db, today: now.date)
            let channel = Channel<RegisterMessage>(capacity: 4)
            let reader = Beside {
                Store.readRegister(path: path, expectedDigest: digest, validator: validator, into: channel)
            }
            // However this ends, the reading thread is stopped and waited for before the transaction finishes.
            defer {
                channel.cancel()
                reader.wait()
            }

            var header: [String] = []
            switch channel.take() {
            case .header(let names): header = names
            case .failed(.file(let error)): throw error
            case .failed(.format(let error)): throw Self.renamed(error, to: file)
            case .lines, .end: preconditionFailure("the reader sends the header first")
            }

            // History rows name this import before its row is written at the end.
            let importID = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) + 1 FROM register_import")!
            let registerWasEmpty = try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM beneficiary")! == 0
            let bulk = registerWasEmpty && (fileSize(path: path) ?? 0) / 85 >= Self.bulkImportLinesMin
            if bulk {
                for index in Migrations.beneficiaryIndexes { try db.execute(sql: "DROP INDEX \(index.name)") }
            }
            var rejects: CSVWriter?
            var validateOnly = false

            func reject(line: Int, reasons: [Problem], fields: [String]) throws {
                result.rejected += 1
                let problem = LineProblem(file: file, line: line, problems: reasons)
                let reason = problem.reason
                onProblem(problem)
                guard options.skipInvalid else {
                    validateOnly = true
                    return
                }
                if rejects == nil {
                    let rejectsPath = options.rejectsPath ?? (path + ".rejected.csv")
                    let writer = try CSVWriter(path: rejectsPath)
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

            let insert = try BeneficiaryInsert(db, at: nowText, by: options.by)
            var lastProgress: Int64 = 0
            reading: while true {
                switch channel.take() {
                case .header: preconditionFailure("one header per file")
                case .failed(.file(let error)): throw error
                case .failed(.format(let error)): throw Self.renamed(error, to: file)
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
                        case .good(_, let details):
                            if validateOnly { continue }
                            if !registerWasEmpty, let existing = try Self.fetchBeneficiary(db, nationalID: details.nationalID) {
                                if try Self.applyChanges(db, to: existing, details, at: now, by: options.by,
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
            if bulk {
                for index in Migrations.beneficiaryIndexes { try db.execute(sql: index.sql) }
            }
            try db.execute(sql: """
                INSERT INTO register_import(id, sha256, file_name, imported_at, imported_by, lines, created, updated, unchanged, rejected)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [importID, digest.hex, file, nowText, options.by.value, result.lines, result.created,
                                 result.updated, result.unchanged, result.rejected])
            result.flagsRaised = try Self.raiseFlags(db, at: now)
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
