/// The chart of accounts (DESIGN.md). Codes are fixed and documented in the README.
public enum LedgerAccount: String, Sendable, CaseIterable {
    case treasury = "1000"
    case carrierClearing = "1100"
    case cashDisbursement = "1200"
    case payable = "2000"
    case budget = "3000"
    case expense = "5000"

    public var name: String {
        switch self {
        case .treasury: "Treasury"
        case .carrierClearing: "Carrier clearing"
        case .cashDisbursement: "Cash disbursement"
        case .payable: "Beneficiary payable"
        case .budget: "Budget appropriation"
        case .expense: "Allowance expense"
        }
    }

    /// Assets and expenses grow with debits; liabilities and funding with credits.
    public var isDebitNormal: Bool { self == .treasury || self == .carrierClearing || self == .cashDisbursement || self == .expense }
}

/// What a journal entry records.
public enum EntryKind: String, Sendable, CaseIterable {
    case fund
    case entitlement
    case carrierTransfer = "carrier_transfer"
    case cashAdvance = "cash_advance"
    case cashSettlement = "cash_settlement"
    case settlement
    case refund
    case reversal
}

/// One leg of an entry. Debits are positive, credits negative; an entry's legs sum to zero.
public struct Posting: Sendable, Equatable {
    public let account: LedgerAccount
    public let subAccount: String
    public let beneficiaryID: BeneficiaryID?
    public let itemID: BatchItemID?
    public let amount: Money

    public init(_ account: LedgerAccount, sub: String = "", beneficiary: BeneficiaryID? = nil, item: BatchItemID? = nil, amount: Money) {
        self.account = account
        self.subAccount = sub
        self.beneficiaryID = beneficiary
        self.itemID = item
        self.amount = amount
    }

    public static func debit(_ account: LedgerAccount, _ amount: Money, sub: String = "", beneficiary: BeneficiaryID? = nil, item: BatchItemID? = nil) -> Posting {
        Posting(account, sub: sub, beneficiary: beneficiary, item: item, amount: amount)
    }

    public static func credit(_ account: LedgerAccount, _ amount: Money, sub: String = "", beneficiary: BeneficiaryID? = nil, item: BatchItemID? = nil) -> Posting {
        Posting(account, sub: sub, beneficiary: beneficiary, item: item, amount: amount.negated)
    }
}

public enum LedgerError: Error, Sendable, Equatable, CustomStringConvertible {
    case unbalanced(Money)
    case tooFewPostings
    case zeroAmount
    case overflow
    case idempotencyConflict(key: String)
    case notPositive
    /// The clock reads a moment before the journal's last entry: entries never go back in time.
    case beforeJournalHead(now: String, head: String)

    public var description: String {
        switch self {
        case .unbalanced(let sum): "entry does not balance: postings sum to \(sum) đồng"
        case .tooFewPostings: "an entry needs at least two postings"
        case .zeroAmount: "a posting of 0 đồng records nothing"
        case .overflow: "amounts overflow a 64-bit sum"
        case .idempotencyConflict(let key): "reference \(key) was already used for a different entry; pick a new reference"
        case .notPositive: "the amount must be a positive whole number of đồng"
        case .beforeJournalHead(let now, let head):
            "the clock reads \(now), before the journal's last entry at \(head); the ledger's entries never go back in time: check the machine's clock"
        }
    }
}

/// Canonical encoding of entries for the hash chain (format `allowance-ledger/v1`, documented in the README).
///
/// hash(n) = SHA-256( "allowance-ledger/v1\n" ‖ prev_hash_hex ‖ "\n" ‖ header ‖ postings ), where text fields are
/// length-prefixed (`<utf8 bytes>:<text>`) so that no field can run into the next.
public enum ChainEncoding {
    public static let genesis = String(repeating: "0", count: 64)

    static func field(_ text: String) -> String { "\(text.utf8.count):\(text)" }

    package static func header(id: Int64, at: String, kind: String, key: String, batch: Int64?, by: String, memo: String, prevHash: String) -> String {
        "allowance-ledger/v1\n\(prevHash)\nE \(id) \(field(at)) \(field(kind)) \(field(key)) \(batch.map(String.init) ?? "-") \(field(by)) \(field(memo))\n"
    }

    static func posting(leg: Int64, account: String, sub: String, beneficiary: Int64?, item: Int64?, amount: Int64) -> String {
        "P \(leg) \(field(account)) \(field(sub)) \(beneficiary.map(String.init) ?? "-") \(item.map(String.init) ?? "-") \(amount)\n"
    }
}

/// What a journal writer keeps of an entry while its legs go in, on either backend: the legs counted, their sum kept
/// without overflow, and at the end an entry's two rules (at least two legs, a zero sum).
package struct EntryBalance {
    /// Legs added so far: the last one's number.
    package private(set) var legs: Int64 = 0
    private var sum: Int64 = 0

    package init() {}

    /// Counts a leg of `amount` (debits positive) and returns its number.
    package mutating func add(_ amount: Int64) throws -> Int64 {
        guard amount != 0 else { throw LedgerError.zeroAmount }
        let (newSum, overflow) = sum.addingReportingOverflow(amount)
        guard !overflow else { throw LedgerError.overflow }
        sum = newSum
        legs += 1
        return legs
    }

    package func check() throws {
        guard legs >= 2 else { throw LedgerError.tooFewPostings }
        guard sum == 0 else { throw LedgerError.unbalanced(Money(dong: sum)) }
    }
}

/// Hashes one entry's canonical encoding, building posting lines as bytes in a reusable buffer: an entry of a
/// million postings is hashed without a million strings. A class: a reconciliation hashes its entry's legs on the
/// matching thread, into the hasher its `JournalWriter` finishes with.
package final class ChainHasher {
    private let staged = StagedSHA256()

    package init(header: String) {
        var header = header
        header.withUTF8 { staged.bytes($0) }
    }

    /// `P <leg> <account> <sub> <beneficiary|-> <item|-> <amount>\n`, as `ChainEncoding.posting` writes it, from the
    /// bytes of the account and sub-account (`ledger verify` passes SQLite's own, building no strings).
    package func posting(leg: Int64, account: UnsafeBufferPointer<UInt8>, sub: UnsafeBufferPointer<UInt8>, beneficiary: Int64?, item: Int64?,
                          amount: Int64) {
        staged.byte(0x50)
        staged.byte(0x20)
        staged.int(leg)
        staged.byte(0x20)
        staged.lengthPrefixed(account)
        staged.byte(0x20)
        staged.lengthPrefixed(sub)
        staged.byte(0x20)
        if let beneficiary { staged.int(beneficiary) } else { staged.byte(0x2D) }
        staged.byte(0x20)
        if let item { staged.int(item) } else { staged.byte(0x2D) }
        staged.byte(0x20)
        staged.int(amount)
        staged.byte(0x0A)
    }

    package func posting(leg: Int64, account: String, sub: String, beneficiary: Int64?, item: Int64?, amount: Int64) {
        var account = account
        var sub = sub
        account.withUTF8 { account in
            sub.withUTF8 { sub in posting(leg: leg, account: account, sub: sub, beneficiary: beneficiary, item: item, amount: amount) }
        }
    }

    package func posting(leg: Int64, _ posting: Posting) {
        self.posting(leg: leg, account: posting.account.rawValue, sub: posting.subAccount, beneficiary: posting.beneficiaryID?.rawValue,
                     item: posting.itemID?.rawValue, amount: posting.amount.dong)
    }

    package func finalize() -> Digest32 { staged.finalize() }
}

public struct FundResult: Sendable, Equatable {
    public let entryID: JournalEntryID
    public let amount: Money
    public let alreadyRecorded: Bool

    package init(entryID: JournalEntryID, amount: Money, alreadyRecorded: Bool) {
        self.entryID = entryID
        self.amount = amount
        self.alreadyRecorded = alreadyRecorded
    }
}

public struct AccountBalance: Sendable, Equatable {
    public let account: LedgerAccount
    public let subAccount: String
    public let debits: Money
    public let credits: Money
    /// Debits minus credits.
    public let net: Money

    package init(account: LedgerAccount, subAccount: String, debits: Money, credits: Money, net: Money) {
        self.account = account
        self.subAccount = subAccount
        self.debits = debits
        self.credits = credits
        self.net = net
    }
    /// In the account's normal direction: debits − credits for assets and expense, credits − debits otherwise.
    public var balance: Money { account.isDebitNormal ? net : net.negated }
}

extension LedgerAccount: StaticText {
    package var staticText: StaticString {
        switch self {
        case .treasury: "1000"
        case .carrierClearing: "1100"
        case .cashDisbursement: "1200"
        case .payable: "2000"
        case .budget: "3000"
        case .expense: "5000"
        }
    }
}
