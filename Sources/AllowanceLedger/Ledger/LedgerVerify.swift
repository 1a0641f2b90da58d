/// One thing `ledger verify` found wrong.
public struct LedgerProblem: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case chainBroken = "chain_broken"
        case hashMismatch = "hash_mismatch"
        case unbalanced
        case tooFewPostings = "too_few_postings"
        case legsOutOfOrder = "legs_out_of_order"
        case orphanPostings = "orphan_postings"
        case entitlementMismatch = "entitlement_mismatch"
        case itemOverpaid = "item_overpaid"
        case itemStateMismatch = "item_state_mismatch"
        case itemLegsMismatch = "item_legs_mismatch"
        case batchSealBroken = "batch_seal_broken"
        case headMismatch = "head_mismatch"
        case approverMismatch = "approver_mismatch"
        case clearingMismatch = "clearing_mismatch"
        case unapprovedItemPaid = "unapproved_item_paid"
        case itemReferenceMismatch = "item_reference_mismatch"
        case makerIsChecker = "maker_is_checker"
        case registerChainBroken = "register_chain_broken"
        case registerRowChanged = "register_row_changed"
        case registerUnsealed = "register_unsealed"
    }

    public let kind: Kind
    public let entryID: Int64?
    public let message: String

    public var description: String { entryID.map { "entry \($0): \(message)" } ?? message }
}

public struct LedgerVerification: Sendable, Equatable {
    public var entries = 0
    public var postings = 0
    public var headHash = ChainEncoding.genesis
    /// The register's chain (`RegisterChain`): its links and the last one's hash.
    public var registerLinks = 0
    public var registerHeadHash = RegisterChain.genesis
    /// The first problems found, in journal order (at most `problemsMax`).
    public var problems: [LedgerProblem] = []

    package init(problems: [LedgerProblem] = []) {
        self.problems = problems
    }
    public var problemCount = 0
    public static let problemsMax = 100

    public var isIntact: Bool { problemCount == 0 }
    public var firstBrokenEntry: Int64? { problems.first(where: { $0.entryID != nil })?.entryID }

    package mutating func report(_ kind: LedgerProblem.Kind, entry: Int64?, _ message: String) {
        problemCount += 1
        if problems.count < Self.problemsMax { problems.append(LedgerProblem(kind: kind, entryID: entry, message: message)) }
    }
}

package struct BatchCarrier: Hashable {
    package let batch: Int64
    package let carrier: String

    package init(batch: Int64, carrier: String) {
        self.batch = batch
        self.carrier = carrier
    }
}
