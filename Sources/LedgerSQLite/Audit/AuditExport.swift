import AllowanceLedger
import Dispatch
import GRDB
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

extension Store {
    /// How each exported column is written.
    private enum Cell: Equatable, Sendable {
        case int
        case text
        /// A national ID: a keyed pseudonym when masked.
        case person
        /// A phone number: its last 3 digits when masked.
        case msisdn
        /// Free text someone typed or a carrier wrote: digit runs that could be a number or an ID masked.
        case freeText
        /// A code from a carrier (transaction id, reason code): masked when it is, or holds, a number or an ID.
        case code
        /// A time as a carrier wrote it: kept when it reads as a timestamp, else treated as free text.
        case time
        /// A reference a carrier wrote: kept when it reads as an item reference, else treated as free text.
        case reference
        /// Left empty when masked (the account holder's name).
        case omittedWhenMasked
    }

    /// Files are written into a sibling folder and renamed into place just before the commit.
    func exportAudit(to directory: String, scope: AuditScope, personalData: PersonalData, key: AuditKey,
                     ed25519 signingKey: Ed25519PrivateKey?, office: String?, by user: UserName) throws -> AuditExportResult {
        // A new folder is its owner's alone; an empty folder the user made keeps its mode unless the export holds
        // personal data in full, which only its owner may read.
        let existing = try Self.checkExportDirectory(directory)
        let mode = personalData == .full ? 0o700 : existing ?? 0o700
        // A folder of its own, never one that was there before: what someone planted beside the export is left alone.
        let staging: String
        do { staging = try Files.createTemporaryFolder(beside: directory, mode: mode) } catch { throw AuditExportError.file(error) }
        let recordedDirectory = Self.absolutePath(directory)
        var renamed = false
        defer { if !renamed { Files.removeCreatedFolder(staging) } }
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
                let month = Timestamp.vietnamRange(of: period)
                entryFilter = "(\(batchFilter) OR (batch_id IS NULL AND at >= '\(month.lowerBound)' AND at < '\(month.upperBound)'))"
            case .batches(let ids):
                for id in ids where try Int64.fetchOne(db, sql: "SELECT id FROM batch WHERE id = ?", arguments: [id.rawValue]) == nil {
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
            // Files are written on three threads, each with its own read connection. This transaction holds the write
            // lock and has written nothing, so both see the state it sees: no other process can commit meanwhile.
            var jobs: [ExportJob] = []
            jobs.append(ExportJob(AuditFormat.journal, [.int, .text, .text, .text, .int, .text, .text, .text, .text, .int], """
                SELECT id, at, kind, idempotency_key, batch_id, memo, created_by, prev_hash, hash, COALESCE(\(entryFilter), 0)
                FROM journal_entry WHERE id <= \(headID) ORDER BY id
                """))
            jobs.append(ExportJob(AuditFormat.postings, [.int, .int, .text, .text, .int, .int, .int], """
                SELECT entry_id, leg, account, sub_account, beneficiary_id, item_id, amount FROM posting
                WHERE entry_id IN (SELECT id FROM journal_entry WHERE \(entryFilter)) ORDER BY entry_id, leg
                """))
            jobs.append(ExportJob(AuditFormat.batches, [.int, .text, .text, .text, .int, .text, .text, .text, .text, .text, .int, .int, .int, .text,
                                             .text, .text, .freeText], """
                SELECT id, period, scope, status, retry_of, created_by, created_at, approved_by, approved_at, exported_at, held_out,
                       item_count, item_total, item_digest, cancelled_at, cancelled_by, cancel_reason
                FROM batch WHERE \(inScope("id")) ORDER BY id
                """))
            jobs.append(ExportJob(AuditFormat.items, [.int, .int, .int, .text, .int, .person, .text, .text, .text, .text, .text, .msisdn,
                                           .omittedWhenMasked, .int, .int, .int, .text], """
                SELECT i.id, i.batch_id, i.seq, i.reference, i.beneficiary_id, b.national_id, i.period, i.commune_code, i.category, i.method,
                       i.carrier, i.msisdn, i.account_name, i.amount, i.retry_of_item, i.attempt, COALESCE(s.state, 'open')
                FROM batch_item i JOIN beneficiary b ON b.id = i.beneficiary_id LEFT JOIN item_state s ON s.item_id = i.id
                WHERE \(inScope("i.batch_id")) ORDER BY i.batch_id, i.seq
                """))
            jobs.append(ExportJob(AuditFormat.resultFiles, [.int, .int, .freeText, .text, .int, .text, .text, .text, .text, .int], """
                SELECT id, batch_id, file_name, sha256, byte_size, profile, profile_sha256, imported_at, imported_by, lines
                FROM result_file WHERE \(inScope("batch_id")) ORDER BY id
                """))
            // A line that names its item stores only what differs from it; the export spells every value out.
            jobs.append(ExportJob(AuditFormat.reconciliation, [.int, .int, .int, .text, .text, .int, .reference, .text, .msisdn, .int, .code, .time,
                                                    .code, .freeText, .freeText, .int, .int], """
                SELECT l.file_id, l.line, f.batch_id, l.outcome, l.effect, l.item_id,
                       CASE WHEN l.outcome = 'invalid_line' THEN l.reference ELSE COALESCE(l.reference, i.reference) END, l.status,
                       CASE WHEN l.outcome = 'invalid_line' THEN l.msisdn ELSE COALESCE(l.msisdn, i.msisdn) END,
                       CASE WHEN l.outcome = 'invalid_line' THEN l.amount ELSE COALESCE(l.amount, i.amount) END,
                       l.carrier_txn_id, l.completed_at, l.reason_code, l.reason_text, l.note, l.conflicting, l.leg
                FROM result_file f JOIN result_line l ON l.file_id = f.id LEFT JOIN batch_item i ON i.id = l.item_id
                WHERE \(inScope("f.batch_id")) ORDER BY l.file_id, l.line
                """))
            let people = scope == .all ? "1" : "e.beneficiary_id IN (SELECT beneficiary_id FROM batch_item WHERE \(inScope("batch_id")))"
            jobs.append(ExportJob(AuditFormat.accountChanges, [.int, .int, .person, .text, .text, .text, .freeText, .freeText, .freeText], """
                SELECT e.id, e.beneficiary_id, b.national_id, e.at, e.by, e.kind, e.old_value, e.new_value, e.reason
                FROM beneficiary_event e JOIN beneficiary b ON b.id = e.beneficiary_id
                WHERE (e.kind = 'account_linked' OR e.kind = 'account_changed' OR e.kind = 'account_closed') AND \(people) ORDER BY e.id
                """))
            jobs.append(ExportJob(AuditFormat.flagClearances, [.int, .int, .person, .text, .freeText, .text, .freeText, .text, .text, .text, .freeText], """
                SELECT e.id, e.beneficiary_id, b.national_id, e.kind, e.evidence, e.evidence_at, e.detail, e.raised_at, e.cleared_at,
                       e.cleared_by, e.clear_reason
                FROM flag e JOIN beneficiary b ON b.id = e.beneficiary_id
                WHERE e.cleared_at IS NOT NULL AND \(people) ORDER BY e.id
                """))

            let entries = try Self.runExportJobs(jobs, writer: writer, directory: staging, masked: personalData == .masked,
                                                 pseudonymSecret: try Self.pseudonymSecret(db))

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
                """, arguments: [exportID, now.description, user.value, recordedDirectory, scope.description, personalData.rawValue, key.id, headID,
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

    /// One data file to write: its format, how each column is written, and the query that reads its rows.
    private struct ExportJob: Sendable {
        let spec: AuditFormat.FileSpec
        let cells: [Cell]
        let sql: String

        init(_ spec: AuditFormat.FileSpec, _ cells: [Cell], _ sql: String) {
            precondition(cells.count == spec.columns.count, "\(spec.name): one cell kind per column")
            self.spec = spec
            self.cells = cells
            self.sql = sql
        }
    }

    /// The jobs split in three lanes (the items, the reconciliation outcomes, everything else: about equal in bytes
    /// at scale, and three keep two cores busy when one lane runs short), each in a read transaction of its own; the
    /// entries come back in the jobs' order.
    private static func runExportJobs(_ jobs: [ExportJob], writer: any DatabaseWriter, directory: String, masked: Bool,
                                      pseudonymSecret: [UInt8]) throws -> [AuditFileEntry] {
        let own = [AuditFormat.items.name, AuditFormat.reconciliation.name]
        let lanes = own.map { name in jobs.indices.filter { jobs[$0].spec.name == name } } + [jobs.indices.filter { !own.contains(jobs[$0].spec.name) }]
        // Each lane reads in a read transaction of its own and gives its files' entries, in the lane's order.
        let laneEntries = Beside<[AuditFileEntry]>.all(lanes.map { lane in
            {
                try writer.read { db in
                    let pseudonyms = Pseudonymizer(secret: pseudonymSecret)
                    return try lane.map { index in try exportFile(db, jobs[index], directory: directory, masked: masked, pseudonyms: pseudonyms) }
                }
            }
        })
        var entries = [AuditFileEntry?](repeating: nil, count: jobs.count)
        for (lane, outcome) in zip(lanes, laneEntries) {
            for (index, entry) in zip(lane, try outcome.get()) { entries[index] = entry }
        }
        return entries.map { entry in
            guard let entry else { preconditionFailure("every job belongs to one lane") }
            return entry
        }
    }

    /// Writes one data file from one query, a cell kind per column; returns what the manifest says of it.
    private static func exportFile(_ db: Database, _ job: ExportJob, directory: String, masked: Bool, pseudonyms: Pseudonymizer) throws -> AuditFileEntry {
        let spec = job.spec
        let cells = job.cells
        let file = try AuditFileWriter(directory: directory, spec: spec)
        var totals = ControlTotals(spec)
        // Rows are encoded into this local buffer, not the writer's (an object's array pays an exclusivity
        // check on every append), and no closure in the loop captures it (which would box it, with the same cost).
        var out: [UInt8] = []
        out.reserveCapacity(1 << 17)
        var pending = 0
        let rows = try FastStatement(db, job.sql)
        defer { rows.reset() }
        while try rows.step() {
            for (index, cell) in cells.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                let column = Int32(index)
                if rows.isNull(column) { continue }
                if case .int = cell {
                    let value = rows.int64(column)
                    if totals.feeds(column: index) { totals.add(column: index, value) }
                    CSVWriter.appendInt(value, to: &out)
                    continue
                }
                let bytes = rows.bytes(column)
                var replacement: String? = nil
                // Text with fewer digits than the shortest phone number holds no identifier: kept as it is,
                // without building a string (most carrier codes, reasons and notes).
                if masked, cell != .person, cell != .omittedWhenMasked, Self.digitCount(bytes) < 9 {
                    CSVWriter.appendText(bytes, to: &out, reversible: true)
                    continue
                }
                if masked {
                    switch cell {
                    case .int, .text: break
                    case .person: replacement = pseudonyms.pseudonym(nationalID: bytes)
                    case .msisdn:
                        if bytes.count > 3, bytes.allSatisfy({ $0 < 0x80 }) {
                            // maskTail over ASCII bytes.
                            out.append(contentsOf: repeatElement(UInt8(ascii: "*"), count: bytes.count - 3))
                            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[(bytes.count - 3)...]))
                            continue
                        }
                        replacement = maskTail(String(decoding: bytes, as: UTF8.self))
                    case .freeText: replacement = redactIdentifiers(String(decoding: bytes, as: UTF8.self))
                    case .code:
                        // Most codes (`VI202611000100000001`) hold no run as long as a number or an ID and are not a
                        // spelled-out number (`0912.345.678`): kept as bytes.
                        let numberShaped = bytes.allSatisfy { $0 &- 0x30 <= 9 || " .-+()".utf8.contains($0) }
                        if !Self.hasIdentifierLengthRun(bytes) && !numberShaped {
                            CSVWriter.appendText(bytes, to: &out, reversible: true)
                            continue
                        }
                        replacement = maskedCode(String(decoding: bytes, as: UTF8.self))
                    case .time:
                        if !Self.looksLikeTime(bytes) { replacement = redactIdentifiers(String(decoding: bytes, as: UTF8.self)) }
                    case .reference:
                        if ItemReference(bytes) == nil { replacement = redactIdentifiers(String(decoding: bytes, as: UTF8.self)) }
                    case .omittedWhenMasked: replacement = ""
                    }
                }
                if let replacement {
                    CSVWriter.appendText(replacement, to: &out, reversible: true)
                } else {
                    CSVWriter.appendText(bytes, to: &out, reversible: true)
                }
            }
            out.append(0x0A)
            pending += 1
            if out.count >= 1 << 16 { try file.append(&out, count: &pending) }
        }
        try file.append(&out, count: &pending)
        return try file.finish(totals: totals)
    }

    /// A date and time as carriers write them (`2026-11-30T10:00:00+07:00`, `30/11/2026 10:00`): a date first, then
    /// only digits and `-:/.+TZ ` (no room for a phone number or an ID).
    static func looksLikeTime(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        func digits(_ range: Range<Int>) -> Bool { range.allSatisfy { text[$0] >= 0x30 && text[$0] <= 0x39 } }
        guard text.count >= 10, text.count <= 40 else { return false }
        let isoDate = digits(0..<4) && text[4] == UInt8(ascii: "-") && digits(5..<7) && text[7] == UInt8(ascii: "-") && digits(8..<10)
        let dayFirst = digits(0..<2) && text[2] == UInt8(ascii: "/") && digits(3..<5) && text[5] == UInt8(ascii: "/") && digits(6..<10)
        guard isoDate || dayFirst else { return false }
        var run = 0
        for byte in text[10...] {
            if byte >= 0x30 && byte <= 0x39 {
                run += 1
                // Hours, minutes, seconds and fractions come in short runs; a long one could be a number.
                if run > 6 { return false }
            } else if "-:/.+TZ ".utf8.contains(byte) {
                run = 0
            } else {
                return false
            }
        }
        return true
    }

    /// True when some unbroken run of digits is 9 to 13 long, as a phone number or a national ID is.
    static func hasIdentifierLengthRun(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        var run = 0
        for byte in text {
            if byte &- 0x30 <= 9 {
                run += 1
            } else {
                if (9...13).contains(run) { return true }
                run = 0
            }
        }
        return (9...13).contains(run)
    }

    static func digitCount(_ text: UnsafeBufferPointer<UInt8>) -> Int {
        var digits = 0
        for byte in text where byte &- 0x30 <= 9 { digits += 1 }
        return digits
    }

    /// The folder must be new (in a folder that exists), or empty; returns an existing folder's mode.
    static func checkExportDirectory(_ directory: String) throws -> mode_t? {
        var info = stat()
        if lstat(directory, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFDIR else {
                throw AuditExportError.file(FileError(path: directory, reason: "is not a folder (a file or a link); give a new or empty folder"))
            }
            guard let names = directoryEntries(directory) else { throw AuditExportError.file(FileError(path: directory, errno: errno)) }
            guard names.isEmpty else { throw AuditExportError.directoryNotEmpty(directory) }
            return info.st_mode & 0o7777
        }
        guard errno == ENOENT else { throw AuditExportError.file(FileError(path: directory, errno: errno)) }
        let parent = parentFolder(of: directory)
        guard stat(parent, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw AuditExportError.file(FileError(path: directory, reason: "cannot be made: the folder \(parent) does not exist; create it first"))
        }
        return nil
    }

    static func parentFolder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The path as the ledger records it: absolute, so that `audit_export` says where the export went.
    static func absolutePath(_ path: String) -> String {
        guard !path.hasPrefix("/"), let resolved = realpath(parentFolder(of: path), nil) else { return path }
        defer { free(resolved) }
        let name = path.lastIndex(of: "/").map { String(path[path.index(after: $0)...]) } ?? path
        return String(cString: resolved) + "/" + name
    }

    static func writeFile(_ path: String, _ bytes: [UInt8]) throws {
        do { try AllowanceLedger.writeFile(bytes, to: path) } catch { throw AuditExportError.file(error) }
    }

    /// Makes a rename durable; failure only weakens durability, so it is not an error.
    static func syncDirectory(parentOf path: String) -> Bool {
        let fd = open(parentFolder(of: path), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return fsync(fd) == 0
    }
}

extension SQLiteStorage: AuditStorage {
    func exportAudit(to directory: String, scope: AuditScope, personalData: PersonalData, key: AuditKey,
                     ed25519 signingKey: Ed25519PrivateKey?, office: String?, by user: UserName) throws -> AuditExportResult {
        try store.exportAudit(to: directory, scope: scope, personalData: personalData, key: key, ed25519: signingKey, office: office,
                              by: user)
    }

    func recordDisclosure(_ what: String, at: Timestamp, by user: UserName) throws {
        try store.write { db in
            try db.execute(sql: "INSERT INTO disclosure(at, by, what) VALUES (?, ?, ?)", arguments: [at.description, user.value, what])
        }
    }

    func officeName() throws -> String? {
        try store.read { db in try String.fetchOne(db, sql: "SELECT value FROM setting WHERE key = 'office'") }
    }

    func setOfficeName(_ name: String, at: Timestamp, by user: UserName) throws {
        try setSetting("office", to: name, at: at, by: user)
    }

    func setting(_ key: String) throws -> String? {
        try store.read { db in try String.fetchOne(db, sql: "SELECT value FROM setting WHERE key = ?", arguments: [key]) }
    }

    func setSetting(_ key: String, to value: String, at: Timestamp, by user: UserName) throws {
        try store.write { db in
            try db.execute(sql: "INSERT INTO setting(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                           arguments: [key, value])
            try SQLiteTransaction(db: db).recordSettingChange(key: key, value: value, at: at, by: user)
        }
    }

    func recordOperator(actor: UserName, osAccount: String, host: String, command: String, at: Timestamp) throws {
        try store.write { db in
            try db.execute(sql: "INSERT INTO operator_log(at, actor, os_account, host, command) VALUES (?, ?, ?, ?, ?)",
                           arguments: [at.description, actor.value, osAccount, host, command])
        }
    }
}

extension Store {
    /// Sets the pseudonym secret: for the fuzz targets, whose exports must come out byte for byte alike in every process.
    package func setPseudonymSecret(_ secret: [UInt8]) throws {
        precondition(secret.count == Pseudonymizer.secretBytes, "a pseudonym secret is \(Pseudonymizer.secretBytes) bytes")
        try write { db in
            try db.execute(sql: "INSERT INTO setting(key, value) VALUES ('pseudonym_secret', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                           arguments: [Hex.encode(secret)])
        }
    }

    /// The ledger's pseudonym secret, made on first use (in the export's transaction) from OpenSSL's CSPRNG. Kept in
    /// the ledger alone: no export, report or key file carries it.
    static func pseudonymSecret(_ db: Database) throws -> [UInt8] {
        if let hex = try String.fetchOne(db, sql: "SELECT value FROM setting WHERE key = 'pseudonym_secret'"), let bytes = Hex.decode(hex),
           bytes.count == Pseudonymizer.secretBytes {
            return bytes
        }
        let secret = try SecureRandom.bytes(Pseudonymizer.secretBytes)
        try db.execute(sql: "INSERT INTO setting(key, value) VALUES ('pseudonym_secret', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                       arguments: [Hex.encode(secret)])
        return secret
    }
}
