import GRDB
#if canImport(Glibc)
import Glibc
#endif

/// What an audit export covers.
public enum AuditScope: Sendable, Equatable, CustomStringConvertible {
    /// The whole ledger.
    case all
    /// The batches of one month (retries included), and the entries without a batch dated in that month.
    case period(Period)
    /// The named batches.
    case batches([BatchID])

    public var description: String {
        switch self {
        case .all: "all"
        case .period(let period): "period \(period)"
        case .batches(let ids): "batches " + ids.map(\.description).joined(separator: ",")
        }
    }

    var json: JSONValue {
        switch self {
        case .all: .object(["kind": .string("all")])
        case .period(let period): .object(["kind": .string("period"), "period": .string(period.description)])
        case .batches(let ids): .object(["kind": .string("batches"), "batches": .array(ids.map { .integer($0.rawValue) })])
        }
    }
}

/// How personal data appears in an export.
public enum PersonalData: String, Sendable, CaseIterable {
    /// National IDs become keyed pseudonyms, phone numbers keep their last 3 digits, names are left out.
    case masked
    /// Everything as the ledger holds it; the manifest says so.
    case full
}

public enum AuditExportError: Error, Sendable, Equatable, CustomStringConvertible {
    case directoryNotEmpty(String)
    case batchNotFound(BatchID)
    case totalTooLarge(file: String, total: String)
    case file(FileError)

    public var description: String {
        switch self {
        case .directoryNotEmpty(let path): "\(path) already holds files; export into a new or empty folder"
        case .batchNotFound(let id): "batch \(id) does not exist (`allowance batch list`)"
        case .totalTooLarge(let file, let total):
            "\(file): control total \(total) exceeds 2^53 and cannot be written exactly in JSON; export a narrower scope (--period or --batch)"
        case .file(let error): error.description
        }
    }
}

/// One data file as the manifest describes it.
public struct AuditFileEntry: Sendable, Equatable {
    public let name: String
    public let bytes: Int64
    public let rows: Int64
    public let sha256: String
    public let totals: [(name: String, value: Int64)]

    public static func == (lhs: AuditFileEntry, rhs: AuditFileEntry) -> Bool {
        lhs.name == rhs.name && lhs.bytes == rhs.bytes && lhs.rows == rhs.rows && lhs.sha256 == rhs.sha256
            && lhs.totals.map(\.name) == rhs.totals.map(\.name) && lhs.totals.map(\.value) == rhs.totals.map(\.value)
    }
}

public struct AuditExportResult: Sendable {
    public let directory: String
    public let exportID: Int64
    public let files: [AuditFileEntry]
    public let manifestSHA256: String
    public let previousManifestSHA256: String?
    public let journalHeadEntryID: Int64
    public let keyID: String
    public let ed25519KeyID: String?
}

/// One data file being written: CSV with reversible formula neutralising, hashed and totalled as it goes.
private final class AuditFileWriter {
    let spec: AuditFormat.FileSpec
    let writer: CSVWriter
    let hasher = SHA256Hasher()
    var totals: ControlTotals
    private var column = 0

    init(directory: String, spec: AuditFormat.FileSpec) throws(FileError) {
        self.spec = spec
        self.writer = try CSVWriter(path: directory + "/" + spec.name, reversible: true)
        self.totals = ControlTotals(spec)
        writer.hasher = hasher
        try writer.row(spec.columns)
    }

    func int(_ value: Int64) {
        if totals.feeds(column: column) { totals.add(column: column, value) }
        writer.int(value)
        column += 1
    }

    func text(_ value: String) {
        writer.text(value)
        column += 1
    }

    func text(bytes: UnsafeBufferPointer<UInt8>) {
        writer.text(bytes: bytes)
        column += 1
    }

    func empty() {
        writer.empty()
        column += 1
    }

    func endRow() throws(FileError) {
        precondition(column == spec.columns.count, "\(spec.name): a row has \(column) cells, not \(spec.columns.count)")
        column = 0
        try writer.endRow()
    }

    func finish() throws -> AuditFileEntry {
        try writer.commit()
        guard !totals.overflowed else { throw LedgerError.overflow }
        for total in totals.named where total.value.magnitude > JSONValue.exactIntegerMagnitudeMax {
            throw AuditExportError.totalTooLarge(file: spec.name, total: total.name)
        }
        return AuditFileEntry(name: spec.name, bytes: writer.bytesWritten, rows: Int64(writer.rows - 1), sha256: hasher.finalize().hex,
                              totals: totals.named)
    }
}

extension JSONValue {
    /// 2^53: integers up to this magnitude survive JSON readers that hold numbers as IEEE doubles (I-JSON, RFC 7493).
    static let exactIntegerMagnitudeMax: UInt64 = 1 << 53
}

extension Store {
    /// How each exported column is written.
    private enum Cell {
        case int
        case text
        /// A national ID: a keyed pseudonym when masked.
        case person
        /// A phone number: its last 3 digits when masked.
        case msisdn
        /// Free text someone typed or a carrier wrote: digit runs that could be a number or an ID masked.
        case freeText
        /// A code from a carrier (transaction id, reason code): masked only when it is itself a number or an ID.
        case code
        /// A time as a carrier wrote it: kept when it reads as a timestamp, else treated as free text.
        case time
        /// Left empty when masked (the account holder's name).
        case omittedWhenMasked
    }

    /// Writes a signed audit export of `scope` into `directory` (created; it must not hold files yet).
    ///
    /// The ledger is read in one transaction, which also records the export so that the next one names this
    /// manifest's SHA-256: the data files are a function of the ledger and the scope alone, byte for byte.
    /// Files are written into a sibling folder and renamed into place just before the commit.
    public func exportAudit(to directory: String, scope: AuditScope, personalData: PersonalData, key: AuditKey,
                            ed25519 signingKey: Ed25519PrivateKey? = nil, office: String? = nil, by user: UserName) throws -> AuditExportResult {
        try Self.checkExportDirectory(directory)
        let staging = directory + ".tmp-\(getpid())"
        removeTree(staging)
        guard mkdir(staging, 0o755) == 0 else { throw AuditExportError.file(FileError(path: staging, errno: errno)) }
        var renamed = false
        defer { if !renamed { removeTree(staging) } }
        return try write { db in
            let now = clock.now()
            let head = try Row.fetchOne(db, sql: "SELECT entry_id, hash, entries FROM journal_head WHERE singleton = 1")
            let headID: Int64 = head?[0] ?? 0
            let headHash: String = head?[1] ?? ChainEncoding.genesis
            let headEntries: Int64 = head?[2] ?? 0

            // The batches in scope, as a condition on a batch id column.
            let batchIDs: [Int64]?
            var entryFilter: String
            switch scope {
            case .all:
                batchIDs = nil
                entryFilter = "1"
            case .period(let period):
                batchIDs = try Int64.fetchAll(db, sql: "SELECT id FROM batch WHERE period = ? ORDER BY id", arguments: [period.description])
                let batchFilter = "batch_id IN (\(batchIDs!.map(String.init).joined(separator: ",")))"
                let start = Timestamp(secondsSinceEpoch: Int64(period.firstDay.daysSinceEpoch) * 86_400 - Self.vietnamOffsetSeconds)
                let end = Timestamp(secondsSinceEpoch: Int64(period.lastDay.daysSinceEpoch + 1) * 86_400 - Self.vietnamOffsetSeconds)
                entryFilter = "(\(batchFilter) OR (batch_id IS NULL AND at >= '\(start)' AND at < '\(end)'))"
            case .batches(let ids):
                for id in ids where try !Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM batch WHERE id = ?)", arguments: [id.rawValue])! {
                    throw AuditExportError.batchNotFound(id)
                }
                batchIDs = ids.map(\.rawValue)
                entryFilter = "batch_id IN (\(ids.map(\.description).joined(separator: ",")))"
            }
            func inScope(_ column: String) -> String {
                batchIDs.map { "\(column) IN (\($0.map(String.init).joined(separator: ",")))" } ?? "1"
            }
            // Entries are read by id up to the head: one appended after the head was read is not half in the export.
            entryFilter = "(\(entryFilter)) AND id <= \(headID)"
            let masked = personalData == .masked
            let pseudonyms = Pseudonymizer(key: key)
            var entries: [AuditFileEntry] = []

            func export(_ spec: AuditFormat.FileSpec, _ cells: [Cell], _ sql: String) throws {
                precondition(cells.count == spec.columns.count, "\(spec.name): one cell kind per column")
                let file = try AuditFileWriter(directory: staging, spec: spec)
                let rows = try FastStatement(db, sql)
                defer { rows.reset() }
                while try rows.step() {
                    for (index, cell) in cells.enumerated() {
                        let column = Int32(index)
                        if rows.isNull(column) {
                            file.empty()
                            continue
                        }
                        switch cell {
                        case .int: file.int(rows.int64(column))
                        case .text: rows.withText(column) { file.text(bytes: $0) }
                        case .person:
                            if masked { file.text(rows.withText(column) { pseudonyms.pseudonym(nationalID: $0) }) } else { rows.withText(column) { file.text(bytes: $0) } }
                        case .msisdn:
                            if masked { file.text(maskTail(rows.string(column))) } else { rows.withText(column) { file.text(bytes: $0) } }
                        case .freeText:
                            if masked { file.text(redactIdentifiers(rows.string(column))) } else { rows.withText(column) { file.text(bytes: $0) } }
                        case .code:
                            let value = rows.string(column)
                            file.text(masked && looksLikeIdentifier(value) ? maskTail(value) : value)
                        case .time:
                            let value = rows.string(column)
                            let readable = (try? Timestamp(parsing: value)) != nil
                            file.text(masked && !readable ? redactIdentifiers(value) : value)
                        case .omittedWhenMasked:
                            if masked { file.empty() } else { rows.withText(column) { file.text(bytes: $0) } }
                        }
                    }
                    try file.endRow()
                }
                entries.append(try file.finish())
            }

            try export(AuditFormat.journal, [.int, .text, .text, .text, .int, .text, .text, .text, .text, .int], """
                SELECT id, at, kind, idempotency_key, batch_id, memo, created_by, prev_hash, hash, COALESCE(\(entryFilter), 0)
                FROM journal_entry WHERE id <= \(headID) ORDER BY id
                """)
            try export(AuditFormat.postings, [.int, .int, .text, .text, .int, .int, .int], """
                SELECT entry_id, leg, account, sub_account, beneficiary_id, item_id, amount FROM posting
                WHERE entry_id IN (SELECT id FROM journal_entry WHERE \(entryFilter)) ORDER BY entry_id, leg
                """)
            try export(AuditFormat.batches, [.int, .text, .text, .text, .int, .text, .text, .text, .text, .text, .int, .int, .int, .text,
                                             .text, .text, .freeText], """
                SELECT id, period, scope, status, retry_of, created_by, created_at, approved_by, approved_at, exported_at, held_out,
                       item_count, item_total, item_digest, cancelled_at, cancelled_by, cancel_reason
                FROM batch WHERE \(inScope("id")) ORDER BY id
                """)
            try export(AuditFormat.items, [.int, .int, .int, .text, .int, .person, .text, .text, .text, .text, .text, .msisdn,
                                           .omittedWhenMasked, .int, .int, .int, .text], """
                SELECT i.id, i.batch_id, i.seq, i.reference, i.beneficiary_id, b.national_id, i.period, i.commune_code, i.category, i.method,
                       i.carrier, i.msisdn, i.account_name, i.amount, i.retry_of_item, i.attempt, i.state
                FROM batch_item i JOIN beneficiary b ON b.id = i.beneficiary_id
                WHERE \(inScope("i.batch_id")) ORDER BY i.batch_id, i.seq
                """)
            try export(AuditFormat.resultFiles, [.int, .int, .freeText, .text, .int, .text, .text, .text, .text, .int], """
                SELECT id, batch_id, file_name, sha256, byte_size, profile, profile_sha256, imported_at, imported_by, lines
                FROM result_file WHERE \(inScope("batch_id")) ORDER BY id
                """)
            // A line that names its item stores only what differs from it; the export spells every value out.
            try export(AuditFormat.reconciliation, [.int, .int, .int, .text, .text, .int, .freeText, .text, .msisdn, .int, .code, .time,
                                                    .code, .freeText, .freeText, .int, .int], """
                SELECT l.file_id, l.line, f.batch_id, l.outcome, l.effect, l.item_id,
                       CASE WHEN l.outcome = 'invalid_line' THEN l.reference ELSE COALESCE(l.reference, i.reference) END, l.status,
                       CASE WHEN l.outcome = 'invalid_line' THEN l.msisdn ELSE COALESCE(l.msisdn, i.msisdn) END,
                       CASE WHEN l.outcome = 'invalid_line' THEN l.amount ELSE COALESCE(l.amount, i.amount) END,
                       l.carrier_txn_id, l.completed_at, l.reason_code, l.reason_text, l.note, l.conflicting, l.leg
                FROM result_file f JOIN result_line l ON l.file_id = f.id LEFT JOIN batch_item i ON i.id = l.item_id
                WHERE \(inScope("f.batch_id")) ORDER BY l.file_id, l.line
                """)
            let people = scope == .all ? "1" : "e.beneficiary_id IN (SELECT beneficiary_id FROM batch_item WHERE \(inScope("batch_id")))"
            try export(AuditFormat.accountChanges, [.int, .int, .person, .text, .text, .text, .freeText, .freeText, .freeText], """
                SELECT e.id, e.beneficiary_id, b.national_id, e.at, e.by, e.kind, e.old_value, e.new_value, e.reason
                FROM beneficiary_event e JOIN beneficiary b ON b.id = e.beneficiary_id
                WHERE (e.kind = 'account_linked' OR e.kind = 'account_changed' OR e.kind = 'account_closed') AND \(people) ORDER BY e.id
                """)
            try export(AuditFormat.flagClearances, [.int, .int, .person, .text, .freeText, .text, .freeText, .text, .text, .text, .freeText], """
                SELECT e.id, e.beneficiary_id, b.national_id, e.kind, e.evidence, e.evidence_at, e.detail, e.raised_at, e.cleared_at,
                       e.cleared_by, e.clear_reason
                FROM flag e JOIN beneficiary b ON b.id = e.beneficiary_id
                WHERE e.cleared_at IS NOT NULL AND \(people) ORDER BY e.id
                """)

            let previous = try String.fetchOne(db, sql: "SELECT manifest_sha256 FROM audit_export ORDER BY id DESC LIMIT 1")
            let exportID = (try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM audit_export") ?? 0) + 1
            let officeName = try office ?? String.fetchOne(db, sql: "SELECT value FROM setting WHERE key = 'office'") ?? ""
            let manifest = AuditManifest(
                exportID: exportID, office: officeName, scope: scope.json, createdAt: now.description, createdBy: user.value,
                personalData: personalData, files: entries,
                journal: .init(headEntryID: headID, headHash: headHash, entries: headEntries),
                keyID: key.id, ed25519KeyID: signingKey?.publicKey.id, previousManifestSHA256: previous)
            let manifestBytes = try manifest.json.canonicalBytes()
            let message = Array(AuditFormat.signatureDomain.utf8) + manifestBytes
            try Self.writeFile(staging + "/" + AuditFormat.manifestName, manifestBytes)
            try Self.writeFile(staging + "/" + AuditFormat.hmacName, Array((HMACSHA256.authenticate(message, key: key.bytes).hex + "\n").utf8))
            if let signingKey {
                try Self.writeFile(staging + "/" + AuditFormat.ed25519Name, Array((Hex.encode(signingKey.signature(for: message)) + "\n").utf8))
            }
            let manifestSHA256 = SHA256Hasher.hash(manifestBytes).hex
            try db.execute(sql: """
                INSERT INTO audit_export(id, created_at, created_by, directory, scope, pii, key_id, journal_head_entry_id, manifest_sha256,
                                         previous_manifest_sha256)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [exportID, now.description, user.value, directory, scope.description, personalData.rawValue, key.id, headID,
                                 manifestSHA256, previous])
            // An empty folder the user made is replaced; rename(2) does that atomically.
            guard rename(staging, directory) == 0 else { throw AuditExportError.file(FileError(path: directory, errno: errno)) }
            renamed = true
            _ = Self.syncDirectory(parentOf: directory)
            return AuditExportResult(directory: directory, exportID: exportID, files: entries, manifestSHA256: manifestSHA256,
                                     previousManifestSHA256: previous, journalHeadEntryID: headID, keyID: key.id,
                                     ed25519KeyID: signingKey?.publicKey.id)
        }
    }

    /// The folder must be new, or empty.
    static func checkExportDirectory(_ directory: String) throws {
        guard let dir = opendir(directory) else {
            if errno == ENOENT { return }
            throw AuditExportError.file(FileError(path: directory, errno: errno))
        }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if name != "." && name != ".." { throw AuditExportError.directoryNotEmpty(directory) }
        }
    }

    static func writeFile(_ path: String, _ bytes: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw AuditExportError.file(FileError(path: path, errno: errno)) }
        defer { close(fd) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                throw AuditExportError.file(FileError(path: path, errno: errno))
            }
            offset += written
        }
        guard fsync(fd) == 0 else { throw AuditExportError.file(FileError(path: path, errno: errno)) }
    }

    /// Makes a rename durable; failure only weakens durability, so it is not an error.
    static func syncDirectory(parentOf path: String) -> Bool {
        var parent = path
        while parent.count > 1, parent.hasSuffix("/") { parent.removeLast() }
        if let slash = parent.lastIndex(of: "/") { parent = slash == parent.startIndex ? "/" : String(parent[..<slash]) } else { parent = "." }
        let fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return fsync(fd) == 0
    }
}

/// Removes a folder of plain files (a staging folder this process made).
func removeTree(_ path: String) {
    guard let dir = opendir(path) else { return }
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        if name != "." && name != ".." { unlink(path + "/" + name) }
    }
    closedir(dir)
    rmdir(path)
}

extension Store {
    /// The office's name, as audit manifests carry it.
    public func officeName() throws -> String? {
        try read { db in try String.fetchOne(db, sql: "SELECT value FROM setting WHERE key = 'office'") }
    }

    public func setOfficeName(_ name: String) throws {
        let name = name.trimmingSpaces
        guard !name.isEmpty, name.count <= 200 else { throw FieldError("the office's name must be 1 to 200 characters") }
        try write { db in
            try db.execute(sql: "INSERT INTO setting(key, value) VALUES ('office', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                           arguments: [name])
        }
    }
}
