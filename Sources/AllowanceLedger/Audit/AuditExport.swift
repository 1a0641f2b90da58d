import Dispatch
import Synchronization
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

    package var json: JSONValue {
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

    package init(directory: String, exportID: Int64, files: [AuditFileEntry], manifestSHA256: String,
                 previousManifestSHA256: String?, journalHeadEntryID: Int64, keyID: String, ed25519KeyID: String?) {
        self.directory = directory
        self.exportID = exportID
        self.files = files
        self.manifestSHA256 = manifestSHA256
        self.previousManifestSHA256 = previousManifestSHA256
        self.journalHeadEntryID = journalHeadEntryID
        self.keyID = keyID
        self.ed25519KeyID = ed25519KeyID
    }
}

/// One data file being written: CSV with reversible formula neutralising, hashed as it goes. Rows arrive encoded
/// (`append`), with their control totals summed by the caller.
package final class AuditFileWriter {
    let spec: AuditFormat.FileSpec
    let writer: CSVWriter
    let hasher = SHA256Hasher()

    package init(directory: String, spec: AuditFormat.FileSpec) throws(FileError) {
        self.spec = spec
        self.writer = try CSVWriter(path: directory + "/" + spec.name, reversible: true)
        writer.hasher = hasher
        try writer.row(spec.columns)
    }

    package func append(_ rows: inout [UInt8], count: inout Int) throws(FileError) {
        try writer.append(encodedRows: rows, count: count)
        rows.removeAll(keepingCapacity: true)
        count = 0
    }

    package func finish(totals: ControlTotals) throws -> AuditFileEntry {
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
