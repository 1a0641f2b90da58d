import AllowanceLedger

/// One row of a reconciliation report: a result line and what it came to, or an item no line has named.
public struct ReconcileReportRow: Sendable, Equatable {
    public var file: String
    public var line: Int?
    public var reference: String
    public var outcome: ReconcileOutcome
    public var conflicting: Bool
    public var note: String
    public var status: CarrierStatus?
    /// What the batch item is for; nil when the line names no item.
    public var expectedAmount: Int64?
    public var reportedAmount: Int64?
    /// As recorded: `84xxxxxxxxx` when it could be read. Mask it before showing it.
    public var msisdn: String?
    public var carrierTxnID: String
    public var completedAt: String
    public var reasonCode: String
    public var reasonText: String

    package init(file: String, line: Int? = nil, reference: String, outcome: ReconcileOutcome, conflicting: Bool,
                 note: String, status: CarrierStatus? = nil, expectedAmount: Int64? = nil,
                 reportedAmount: Int64? = nil, msisdn: String? = nil, carrierTxnID: String, completedAt: String,
                 reasonCode: String, reasonText: String) {
        self.file = file
        self.line = line
        self.reference = reference
        self.outcome = outcome
        self.conflicting = conflicting
        self.note = note
        self.status = status
        self.expectedAmount = expectedAmount
        self.reportedAmount = reportedAmount
        self.msisdn = msisdn
        self.carrierTxnID = carrierTxnID
        self.completedAt = completedAt
        self.reasonCode = reasonCode
        self.reasonText = reasonText
    }
}

/// An imported result file.
public struct ResultFileRecord: Sendable, Equatable {
    public let id: Int64
    public let name: String
    public let sha256: String
    public let byteSize: Int64
    public let profile: String
    public let importedAt: String
    public let importedBy: String
    public let lines: Int

    package init(id: Int64, name: String, sha256: String, byteSize: Int64, profile: String, importedAt: String,
                 importedBy: String, lines: Int) {
        self.id = id
        self.name = name
        self.sha256 = sha256
        self.byteSize = byteSize
        self.profile = profile
        self.importedAt = importedAt
        self.importedBy = importedBy
        self.lines = lines
    }
}

/// Where a batch's mobile-money items stand across every result file imported for it.
public struct ReconcileStatus: Sendable, Equatable {
    public let batch: Batch
    public let files: [ResultFileRecord]
    /// Per item, by the latest line naming it: paid, failed, reversed, pending, a mismatch, unreadable, or missing.
    public let items: OutcomeTotals
    /// Lines per outcome over all files.
    public let lines: OutcomeTotals
    /// Mobile-money items whose carrier was never sent the funds.
    public let notSent: Int
    public let clearingOpen: [String: Money]

    package init(batch: Batch, files: [ResultFileRecord], items: OutcomeTotals, lines: OutcomeTotals, notSent: Int,
                 clearingOpen: [String: Money]) {
        self.batch = batch
        self.files = files
        self.items = items
        self.lines = lines
        self.notSent = notSent
        self.clearingOpen = clearingOpen
    }
    /// Every mobile-money item was sent and is paid or failed, and the carriers hold nothing for the batch.
    public var isSettled: Bool {
        notSent == 0 && items.count(.missing) == 0 && ReconcileOutcome.allCases.allSatisfy { $0 == .paid || $0 == .failed || $0 == .reversed || items.count($0) == 0 }
            && clearingOpen.values.allSatisfy { $0 == .zero }
    }
}
