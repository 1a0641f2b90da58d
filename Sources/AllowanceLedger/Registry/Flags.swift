public enum FlagKind: String, Sendable, CaseIterable {
    /// One phone number serves several active beneficiaries.
    case sharedMSISDN = "shared_msisdn"
    /// A linked number was replaced by another shortly before a batch.
    case recentAccountChange = "recent_account_change"
}

/// A fraud safeguard raised on a beneficiary; it holds them out of new batches until an officer clears it.
public struct FraudFlag: Sendable, Equatable {
    public let id: Int64
    public let beneficiaryID: BeneficiaryID
    public let kind: FlagKind
    /// The shared number (`84…`, mask before showing) or the account-change event.
    public let evidence: String
    public let evidenceAt: String
    public let detail: String
    public let raisedAt: String
    public let clearedAt: String?
    public let clearedBy: String?
    public let clearReason: String?

    package init(id: Int64, beneficiaryID: BeneficiaryID, kind: FlagKind, evidence: String, evidenceAt: String,
                 detail: String, raisedAt: String, clearedAt: String? = nil, clearedBy: String? = nil,
                 clearReason: String? = nil) {
        self.id = id
        self.beneficiaryID = beneficiaryID
        self.kind = kind
        self.evidence = evidence
        self.evidenceAt = evidenceAt
        self.detail = detail
        self.raisedAt = raisedAt
        self.clearedAt = clearedAt
        self.clearedBy = clearedBy
        self.clearReason = clearReason
    }

    public var isCleared: Bool { clearedAt != nil }

    public func shownEvidence(reveal: Bool) -> String {
        kind == .sharedMSISDN && !reveal ? maskTail(evidence) : evidence
    }
}
