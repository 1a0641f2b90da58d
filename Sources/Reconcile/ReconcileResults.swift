import AllowanceLedger

/// A carrier result file about to be reconciled.
public struct ResultFileInfo: Sendable {
    public let path: String
    /// How the file is named in messages and the record (the path as the user typed it).
    public let name: String
    public let sha256: Digest32
    public let byteSize: Int64
    /// The carrier profile the file is read with, and a SHA-256 of its rules.
    public let profile: String
    public let profileSHA256: Digest32
    /// The rules themselves (`CarrierProfile.canonicalRules`), kept with the file: what its status words meant when it
    /// was read, whatever the profile file says later.
    public let profileRules: String

    public init(path: String, name: String? = nil, sha256: Digest32, byteSize: Int64, profile: String, profileSHA256: Digest32,
                profileRules: String = "") {
        self.profileRules = profileRules
        self.path = path
        self.name = name ?? path
        self.sha256 = sha256
        self.byteSize = byteSize
        self.profile = profile
        self.profileSHA256 = profileSHA256
    }
}

/// One data line of a result file and what the matcher made of it.
public struct ResultLineRecord: Sendable {
    public var line: Int
    public var outcome: ReconcileOutcome
    public var effect: ReconcileEffect?
    /// The batch item the line names, by position in `ReconcileItems`.
    public var itemIndex: Int?
    /// The reference as the carrier wrote it; nil when it is the item's own, as `batch create` wrote it.
    public var reference: String?
    public var status: CarrierStatus?
    /// The status as the carrier wrote it.
    public var statusWord = ""
    /// `84xxxxxxxxx` as a number; 0 when the line's number could not be read (see `msisdnText`).
    public var msisdn: UInt64 = 0
    /// The number as written, kept only when it could not be read.
    public var msisdnText: String?
    public var amount: Int64?
    public var carrierTxnID = ""
    public var completedAt = ""
    public var reasonCode = ""
    public var reasonText = ""
    /// Why the line is an exception, or which line it repeats.
    public var note = ""
    /// A duplicate that disagrees with the line it repeats.
    public var conflicting = false
    /// An unknown reference naming another batch's item: storing the line looks that batch up (the matcher runs
    /// apart from the database) and says which one it is in the note.
    public var otherBatchReference: ItemReference?

    public init(line: Int, outcome: ReconcileOutcome) {
        self.line = line
        self.outcome = outcome
    }

    public var fingerprint: Int64 { resultLineFingerprint(status: status, amount: amount, msisdn: msisdn, carrierTxnID: carrierTxnID) }
}

public enum ReconcileError: ProblemConvertible, Sendable, Equatable {
    case batch(BatchError)
    case notExported(BatchID, BatchStatus)
    case effectNotAllowed(line: Int, effect: ReconcileEffect, state: ItemState)
    case overflow
    case tooManyCarriers(BatchID, Int)

    public var problem: Problem {
        switch self {
        case .batch(let error): Problem(text: error.description)
        case .notExported(let batch, let status): Problem("reconcile.not_exported", ["batch": batch.description, "status": status.rawValue])
        case .effectNotAllowed(let line, let effect, let state):
            Problem("reconcile.effect_not_allowed", ["line": String(line), "effect": effect.rawValue, "state": state.rawValue])
        case .overflow: Problem("reconcile.overflow")
        case .tooManyCarriers(let batch, let count): Problem("reconcile.too_many_carriers", ["batch": batch.description, "count": String(count)])
        }
    }
}

/// Counts and amounts per outcome.
public struct OutcomeTotals: Sendable, Equatable {
    /// By outcome, in `ReconcileOutcome.allCases` order: every reconciled line adds here, without hashing.
    private var counts = [Int](repeating: 0, count: ReconcileOutcome.allCases.count)
    private var amounts = [Int64](repeating: 0, count: ReconcileOutcome.allCases.count)

    public init() {}

    public func count(_ outcome: ReconcileOutcome) -> Int { counts[outcome.ordinal] }
    public func amount(_ outcome: ReconcileOutcome) -> Money { Money(dong: amounts[outcome.ordinal]) }

    package mutating func add(_ outcome: ReconcileOutcome, amount: Int64, count: Int = 1) {
        counts[outcome.ordinal] += count
        // Amounts are capped by what a file can carry (at most 10^18 đồng a line); a sum past Int64 saturates
        // rather than wraps, and only in a report of a nonsense file.
        let (sum, overflow) = amounts[outcome.ordinal].addingReportingOverflow(amount)
        amounts[outcome.ordinal] = overflow ? .max : sum
    }
}

public struct ReconciliationResult: Sendable, Equatable {
    public let batch: BatchID
    public let file: String
    public let sha256: String
    public let fileID: Int64
    /// The same bytes were reconciled against this batch before; nothing changed.
    public let alreadyImported: Bool
    public let importedAt: String
    public let importedBy: String
    /// Non-blank data lines.
    public let lines: Int
    /// Per outcome for this file's lines, and `missing` for the batch's items no file has named yet.
    public let totals: OutcomeTotals
    /// Duplicates that disagree with the line they repeat.
    public let conflictingDuplicates: Int
    /// Paid in this file.
    public let settled: Money
    /// What the batch's carriers still hold for it, per carrier: funds sent and not yet paid out or returned.
    public let clearingOpen: [String: Money]
    public let entries: [JournalEntryID]

    package init(batch: BatchID, file: String, sha256: String, fileID: Int64, alreadyImported: Bool,
                 importedAt: String, importedBy: String, lines: Int, totals: OutcomeTotals,
                 conflictingDuplicates: Int, settled: Money, clearingOpen: [String: Money], entries: [JournalEntryID]) {
        self.batch = batch
        self.file = file
        self.sha256 = sha256
        self.fileID = fileID
        self.alreadyImported = alreadyImported
        self.importedAt = importedAt
        self.importedBy = importedBy
        self.lines = lines
        self.totals = totals
        self.conflictingDuplicates = conflictingDuplicates
        self.settled = settled
        self.clearingOpen = clearingOpen
        self.entries = entries
    }

    /// Lines an auditor has to work: everything but paid, failed, pending and harmless repeats.
    public var exceptions: Int {
        ReconcileOutcome.allCases.filter { $0.isException }.reduce(0) { $0 + totals.count($1) } + conflictingDuplicates
    }
}
