import AllowanceLedger
import Foundation

public struct ReconcileOptions: Sendable {
    public var profile: CarrierProfile = .generic
    /// How the file is named in messages and the record; the path when nil.
    public var displayName: String?
    /// The sheet of a workbook to read; the first sheet with the profile's columns when nil.
    public var sheet: String?
    public var by: UserName
    /// A test's override of the item count from which the storage reads a batch's items on two connections; nil
    /// leaves it to the storage.
    package var splitItemLoadFrom: Int?

    public init(by: UserName) { self.by = by }
}

/// What the matching thread sends the transaction's.
enum ResultMessage: Sendable {
    case lines(ReconciliationSession.RecordedLines, bytesRead: Int64)
    case failed(any Error & Sendable)
    case end
}

/// The session, handed to the matching thread: it touches only the session's matching half (`record`,
/// `takeRecorded`, the items' states) until it sends `.end`, and the transaction's thread only the storing half (the
/// statements, the entry's legs, the items' fields fixed at load) until then.
private struct MatchingHalf: @unchecked Sendable {
    let session: ReconciliationSession
}

/// Reconciliation: a carrier's result file matched line by line against a batch, its settlements posted, and what
/// the batch stands at. The CLI and a server call it the same way; the user who acts is a parameter.
public struct Reconciliation: Sendable {
    let storage: any ReconcileStorage
    public let clock: Clock

    package init(storage: any ReconcileStorage, clock: Clock) {
        self.storage = storage
        self.clock = clock
    }

    static let resultLinesPerChunk = 2048

    /// Reconciles a carrier result file against a batch: every non-blank line gets an outcome, paid and failed
    /// lines post their settlement or refund, and all of it lands in one transaction. The same file again
    /// changes nothing. A second thread reads, parses and matches the file while this one stores the lines.
    public func reconcileResultFile(_ path: String, batch: BatchID, options: ReconcileOptions,
                                    progress: ((Int64) -> Void)? = nil) throws -> ReconciliationResult {
        let name = options.displayName ?? path
        let digest = try fileSHA256(path: path)
        let info = ResultFileInfo(path: path, name: name, sha256: digest, byteSize: fileSize(path: path) ?? 0, profile: options.profile.name,
                                  profileSHA256: options.profile.rulesSHA256, profileRules: options.profile.canonicalRules)
        let profile = options.profile
        return try reconcile(batch: batch, file: info, by: options.by, splitItemLoadFrom: options.splitItemLoadFrom) { session, writer in
            let channel = Channel<ResultMessage>(capacity: 4)
            let half = MatchingHalf(session: session)
            let matcher = Beside {
                Self.readAndMatch(path: path, name: name, profile: profile, sheet: options.sheet, expectedDigest: digest, session: half.session, into: channel)
            }
            // However this ends, the matching thread is stopped and waited for before the transaction finishes.
            defer {
                channel.cancel()
                matcher.wait()
            }
            while true {
                switch channel.take() {
                case .lines(let lines, let bytesRead):
                    try writer.store(lines)
                    progress?(bytesRead)
                case .failed(let error):
                    throw error
                case .end:
                    return
                }
            }
        }
    }

    /// Reconciles one result file against a batch in one transaction: `body` reads and matches the file, `record`s
    /// each line through the session (on any one thread) and `store`s every recorded chunk with its legs through the
    /// writer (on the calling thread) before it returns; the clearing legs and state changes follow, and all of it
    /// commits together or not at all. A file reconciled against the batch before changes nothing.
    func reconcile(batch id: BatchID, file: ResultFileInfo, by user: UserName, splitItemLoadFrom: Int?,
                   _ body: (ReconciliationSession, any ResultLineWriter) throws -> Void) throws -> ReconciliationResult {
        try storage.writeBulk { tx in
            let batch: Batch
            do { batch = try tx.batch(id) } catch let error as BatchError { throw ReconcileError.batch(error) }
            guard batch.status == .exported || batch.status == .closed else { throw ReconcileError.notExported(id, batch.status) }
            // The same bytes under the same rules change nothing; under corrected rules they are read again, and what
            // was settled before comes back as repeats.
            if let previous = try tx.resultFile(batch: id, sha256: file.sha256.hex, profileSHA256: file.profileSHA256.hex) {
                var (totals, conflicting) = try tx.lineTotals(file: previous.id)
                let missing = try tx.missingItems(batch: id)
                totals.add(.missing, amount: missing.amount, count: missing.count)
                return ReconciliationResult(batch: id, file: file.name, sha256: file.sha256.hex, fileID: previous.id, alreadyImported: true,
                                            importedAt: previous.importedAt, importedBy: previous.importedBy, lines: previous.lines,
                                            totals: totals, conflictingDuplicates: conflicting,
                                            settled: try tx.settledAmount(file: previous.id),
                                            clearingOpen: try tx.clearingOpen(batch: id), entries: [])
            }
            let now = clock.now()
            let fileID = try tx.insertResultFile(batch: id, file, at: now, by: user)
            let items = try tx.loadItems(batch: batch, splitLoadFrom: splitItemLoadFrom)
            // Made before the matching thread starts, which hashes the item legs into the entry; posted only if the file
            // moved anything.
            let writer = try tx.lineWriter(items: items, fileID: fileID, at: now, by: user,
                                           memo: ReconciliationSession.memo(file: file, batch: batch))
            let session = ReconciliationSession(items: items, fileID: fileID, fileName: file.name, hasher: writer.hasher)
            try body(session, writer)
            tx.trace("reconcile lines stored:")
            precondition(session.allTaken, "every recorded line is stored before the file's entry")
            let entries = try writer.finish(session: session)
            tx.trace("reconcile finished:")
            try tx.setLineCount(file: fileID, lines: session.lines)
            var totals = session.totals
            var missing = (count: 0, amount: Int64(0))
            // What the carriers still hold for the batch: the items sent and still open. `ledger verify` checks that
            // the clearing account says the same; summing here spares a scan of the batch's million postings.
            var clearing: [String: Money] = [:]
            for code in items.carriers.indices where items.exportedCarriers[code] { clearing[items.carriers[code]] = .zero }
            for index in 0..<items.count where items.wasSent(at: index) {
                if !items.isNamed(at: index) {
                    missing.count += 1
                    missing.amount += items.amount(at: index)
                }
                if items.state(at: index) == .open, let carrier = items.carrier(at: index) {
                    clearing[carrier] = Money(dong: clearing[carrier]!.dong + items.amount(at: index))
                }
            }
            totals.add(.missing, amount: missing.amount, count: missing.count)
            return ReconciliationResult(batch: id, file: file.name, sha256: file.sha256.hex, fileID: fileID, alreadyImported: false,
                                        importedAt: now.description, importedBy: user.value, lines: session.lines, totals: totals,
                                        conflictingDuplicates: session.conflictingDuplicates, settled: totals.amount(.paid),
                                        clearingOpen: clearing, entries: entries)
        }
    }

    /// The rows of a reconciliation report: the lines of one file (or every file of the batch), then, when asked,
    /// the items no readable line has named.
    public func reportRows(batch: BatchID, fileID: Int64? = nil, includeMissing: Bool, exceptionsOnly: Bool = false,
                           limit: Int? = nil, _ body: (ReconcileReportRow) throws -> Void) throws {
        try storage.read { tx in
            _ = try tx.batch(batch)
            try tx.reportRows(batch: batch, fileID: fileID, includeMissing: includeMissing, exceptionsOnly: exceptionsOnly,
                              limit: limit, body)
        }
    }

    public func resultFiles(batch: BatchID) throws -> [ResultFileRecord] {
        try storage.read { try $0.resultFiles(batch: batch) }
    }

    /// The batch's state across every result file imported so far: each sent item by its state and the latest line
    /// that named it (paid, failed, reversed, pending, an exception, or missing), every line by its outcome.
    public func status(batch id: BatchID) throws -> ReconcileStatus {
        try storage.read { tx in try tx.status(of: tx.batch(id)) }
    }

    /// Reads, parses, checks and matches the file in chunks, recording each line in the session; ends with `.end`
    /// only if the bytes parsed are the bytes hashed (a file rewritten meanwhile would be recorded under another
    /// file's hash).
    static func readAndMatch(path: String, name: String, profile: CarrierProfile, sheet: String?, expectedDigest: Digest32, session: ReconciliationSession,
                             into channel: Channel<ResultMessage>) {
        do {
            var reader = try ResultFileReader(path: path, name: name, profile: profile, sheet: sheet, hashing: true)
            _ = try reader.readHeader()
            let matcher = ResultLineMatcher()
            var lines = 0
            var chunk = 0
            while let parsed = try reader.next() {
                lines += 1
                guard lines <= ResultFileReader.linesMax else { throw ResultFileError.tooManyLines(name, ResultFileReader.linesMax) }
                try session.record(matcher.match(parsed, items: session.items, fileID: session.fileID, fileName: name))
                chunk += 1
                if chunk == resultLinesPerChunk {
                    guard channel.put(.lines(session.takeRecorded(), bytesRead: reader.bytesConsumed)) else { return }
                    chunk = 0
                }
            }
            if chunk > 0 { guard channel.put(.lines(session.takeRecorded(), bytesRead: reader.bytesConsumed)) else { return } }
            guard reader.hasher?.finalize() == expectedDigest else { throw ResultFileError.fileChanged(name) }
            _ = channel.put(.end)
        } catch let error as FileError {
            _ = channel.put(.failed(error))
        } catch let error as ResultFileError {
            _ = channel.put(.failed(error))
        } catch let error as ReconcileError {
            _ = channel.put(.failed(error))
        } catch let error as WorkbookError {
            _ = channel.put(.failed(error))
        } catch {
            _ = channel.put(.failed(ResultFileError.unreadable(name, "\(error)")))
        }
    }
}

/// Writes a reconciliation report: one row per outcome, numbers masked unless revealed, formulas neutralised.
public enum ReconcileReport {
    public static let header = ["file", "line", "reference", "outcome", "reason", "status", "expected_amount", "reported_amount", "msisdn",
                                "carrier_txn_id", "completed_at", "reason_code", "reason_text"]

    /// The columns' kinds in a workbook: amounts `#,##0`, times as dates, references and numbers as text.
    static let columnKinds: [ColumnKind] = [.text, .number, .text, .text, .text, .text, .amount, .amount, .text, .text, .date, .text, .text]

    /// Writes the report for one file's lines (or every file's, when `fileID` is nil) and the batch's missing items:
    /// an xlsx workbook when `path` ends `.xlsx`, else CSV.
    @discardableResult
    public static func write(to path: String, reconciliation: Reconciliation, batch: BatchID, fileID: Int64?, reveal: Bool) throws -> Int {
        let writer = try tableWriter(path: path, format: TableFormat(path: path), sheet: "reconcile", columns: columnKinds)
        try writer.row(header)
        var rows = 0
        // Whatever the carrier wrote may hold a number or an ID in the wrong column: masked unless revealed. Codes
        // (a transaction id, a reason code) have only a phone number or an ID in them masked, so
        // that `VTM261130002` stays usable; free text and an unreadable time have every long digit run masked.
        func shown(_ text: String) -> String { reveal ? text : redactIdentifiers(text) }
        func code(_ text: String) -> String { reveal ? text : maskedCode(text) }
        func time(_ text: String) -> String { DateFormat.iso8601.normalize(text) == text ? text : shown(text) }
        try reconciliation.reportRows(batch: batch, fileID: fileID, includeMissing: true) { row in
            writer.text(row.file)
            writer.text(row.line.map(String.init) ?? "")
            writer.text(ItemReference(row.reference) != nil ? row.reference : shown(row.reference))
            writer.text(row.outcome.rawValue)
            writer.text(shown(reason(of: row)))
            writer.text(row.status?.rawValue ?? "")
            writer.text(row.expectedAmount.map(String.init) ?? "")
            writer.text(row.reportedAmount.map(String.init) ?? "")
            writer.text(row.msisdn.map { reveal ? $0 : maskTail($0) } ?? "")
            writer.text(code(row.carrierTxnID))
            writer.text(time(row.completedAt))
            writer.text(code(row.reasonCode))
            writer.text(shown(row.reasonText))
            try writer.endRow()
            rows += 1
        }
        try writer.commit()
        return rows
    }

    /// Why the row is what it is: the matcher's note, else the carrier's own reason for a failure.
    public static func reason(of row: ReconcileReportRow) -> String {
        if !row.note.isEmpty { return row.note }
        return [row.reasonCode, row.reasonText].filter { !$0.isEmpty }.joined(separator: " ")
    }
}
