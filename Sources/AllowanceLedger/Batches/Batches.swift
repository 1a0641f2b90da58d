public enum BatchStatus: String, Sendable, CaseIterable {
    case created, approved, exported, closed, cancelled
}

public struct Batch: Sendable, Equatable {
    public let id: BatchID
    public let period: Period
    /// Communes in scope; empty means every commune.
    public let communes: [Code]
    public let status: BatchStatus
    public let retryOf: BatchID?
    public let createdBy: String
    public let createdAt: String
    public let approvedBy: String?
    public let approvedAt: String?
    public let exportedAt: String?
    public let heldOut: Int
    /// A one-off payment's batch (a Tết gift), or nil for a month's benefits.
    public let oneOff: OneOffPayment?

    package init(id: BatchID, period: Period, communes: [Code], status: BatchStatus, retryOf: BatchID? = nil,
                 createdBy: String, createdAt: String, approvedBy: String? = nil, approvedAt: String? = nil,
                 exportedAt: String? = nil, heldOut: Int, oneOff: OneOffPayment? = nil) {
        self.id = id
        self.period = period
        self.communes = communes
        self.status = status
        self.retryOf = retryOf
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.approvedBy = approvedBy
        self.approvedAt = approvedAt
        self.exportedAt = exportedAt
        self.heldOut = heldOut
        self.oneOff = oneOff
    }

    /// What the instruction file's narrative says for every line.
    public var narrative: String { oneOff.map { "\($0.name) \(period.vietnamese)" } ?? "Trợ cấp xã hội tháng \(period.vietnamese)" }
}

/// A one-off payment: a name the office gives it (`Quà Tết 2027`), the same amount to each person, paid to a person once.
public struct OneOffPayment: Sendable, Equatable {
    public let name: String
    public let amount: Money
    public static let nameLengthMax = 80

    /// The name in Unicode NFC with runs of spaces as one: the same name however a keyboard composed it.
    public init(name raw: String, amount: Money) throws(FieldError) {
        let name = raw.precomposedStringWithCanonicalMapping.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        guard !name.isEmpty, name.count <= Self.nameLengthMax, name.unicodeScalars.count <= 200, !RegisterValidator.hasControlCharacter(name),
              let first = name.unicodeScalars.first, !"=+-@".unicodeScalars.contains(first) else {
            throw FieldError(Problem("batch.one_off_name", ["length_max": String(Self.nameLengthMax)]))
        }
        guard amount.dong > 0 else { throw FieldError(Problem("batch.one_off_amount")) }
        self.name = name
        self.amount = amount
    }

    /// How two names are told apart: not by case or by how their letters were composed.
    public var key: String { name.lowercased() }

    package init(trusted name: String, amount: Money) {
        self.name = name
        self.amount = amount
    }
}

public enum BatchError: Error, Sendable, Equatable, CustomStringConvertible {
    case notFound(String)
    case alreadyInBatch(period: Period, batches: [(BatchID, Int)], example: BeneficiaryID)
    case noEligible(period: Period, heldOut: Int)
    case makerIsChecker(batch: BatchID, user: String)
    case wrongStatus(batch: BatchID, status: BatchStatus, action: String)
    case noMobileMoneyItems(BatchID, carrier: Code?)
    case noCashItems(BatchID)
    case staleItems(batch: BatchID, count: Int, examples: [String])
    case nothingToRetry(BatchID, String)
    case rate(RateError)
    case oneOffPaid(name: String, period: Period, batches: [BatchID])
    case movedOnLater(period: Period, through: Period, beneficiary: BeneficiaryID, from: Code, to: Code)
    case categoriesWithoutOneOff

    public static func == (lhs: BatchError, rhs: BatchError) -> Bool { lhs.description == rhs.description }

    public var description: String {
        switch self {
        case .notFound(let key): "no batch \(key); `allowance batch list` shows them"
        case .alreadyInBatch(let period, let batches, let example):
            "\(batches.map { "\($0.1) beneficiar\($0.1 == 1 ? "y" : "ies") in scope (e.g. beneficiary \(example)) already in batch \($0.0) for \(period)" }.joined(separator: "; ")); "
                + "narrow the scope with --commune, or pass --skip-existing to leave them out"
        case .noEligible(let period, let heldOut):
            "no active, unflagged beneficiary in scope is without a batch for \(period)" + (heldOut > 0 ? " (\(heldOut) held out by flags; see `allowance beneficiary flags`)" : "")
        case .makerIsChecker(let batch, let user):
            "batch \(batch) was created by \(user); a different person must approve it (maker-checker)"
        case .wrongStatus(let batch, let status, let action): "batch \(batch) is \(status.rawValue); cannot \(action)"
        case .noMobileMoneyItems(let batch, let carrier):
            "batch \(batch) has no mobile-money items\(carrier.map { " for carrier \($0)" } ?? ""); nothing to send to a carrier"
        case .noCashItems(let batch): "batch \(batch) has no cash items"
        case .staleItems(let batch, let count, let examples):
            "batch \(batch): \(count) item\(count == 1 ? " no longer matches" : "s no longer match") the register (\(examples.joined(separator: "; "))\(count > examples.count ? "; …" : "")); "
                + "cancel it with `allowance batch cancel \(batch) --reason \"…\"` and create it again"
        case .nothingToRetry(let batch, let why): "batch \(batch) has nothing to retry: \(why)"
        case .rate(let error): error.description
        case .oneOffPaid(let name, let period, let batches):
            "the one-off payment \"\(name)\" was made for \(period) (batch \(batches.map(\.description).joined(separator: ", "))); "
                + "a one-off is paid to a person once: give a new payment a new name"
        case .categoriesWithoutOneOff:
            "--category narrows a one-off (--one-off NAME --amount N); a month's batch pays every category"
        case .movedOnLater(let period, let through, let beneficiary, let from, let to):
            "changes by age were made for \(through): beneficiary \(beneficiary) moved from \(from) to \(to), which they had not reached in "
                + "\(period); a batch for \(period) now would pay the later category. Make the months in order, or narrow the scope with --commune"
        }
    }
}

public struct BatchCreateOptions: Sendable {
    public var period: Period
    public var communes: [Code] = []
    public var skipExisting = false
    public var by: UserName
    /// A one-off payment instead of the month's benefits.
    public var oneOff: OneOffPayment?
    /// Only beneficiaries registered in these categories (a one-off's scope).
    public var categories: [Code] = []

    public init(period: Period, by: UserName) {
        self.period = period
        self.by = by
    }
}

public struct BatchCreateResult: Sendable, Equatable {
    public let batch: Batch
    public let items: Int
    public let total: Money
    public let mobileMoneyItems: Int
    public let cashItems: Int
    /// Held out by flags, per flag kind (a beneficiary with two kinds counts under both).
    public let heldOutByKind: [String: Int]
    public let skippedExisting: Int
    /// The benefit changes the month brought by age (category steps, new qualifications), recorded in the history.
    public let changes: [BenefitChange]
    /// People who qualified for more than one monthly benefit, paid the highest once.
    public let twoBenefits: Int
    /// Of those, how many were paid a benefit they qualify for by age (the social pension) rather than the registered one.
    public let paidByAge: [Code: Int]

    package init(batch: Batch, items: Int, total: Money, mobileMoneyItems: Int, cashItems: Int,
                 heldOutByKind: [String: Int], skippedExisting: Int, changes: [BenefitChange] = [], twoBenefits: Int = 0,
                 paidByAge: [Code: Int] = [:]) {
        self.batch = batch
        self.items = items
        self.total = total
        self.mobileMoneyItems = mobileMoneyItems
        self.cashItems = cashItems
        self.heldOutByKind = heldOutByKind
        self.skippedExisting = skippedExisting
        self.changes = changes
        self.twoBenefits = twoBenefits
        self.paidByAge = paidByAge
    }
}

/// A batch's items as the seal records them: how many, their total, and a SHA-256 over every item in order
/// (reference, beneficiary, method, carrier, number, name, amount). Sealed at approval and re-checked by
/// `ledger verify`, so a payee redirected afterwards is caught. One pass over the items gives all three.
package struct ItemSeal: Equatable {
    package var count: Int64
    package var total: Int64
    package var digest: String

    package init(count: Int64 = 0, total: Int64 = 0, digest: String = "") {
        self.count = count
        self.total = total
        self.digest = digest
    }
}

/// Builds a batch's item seal one item at a time, in item order (`allowance-batch-items/v1`: each field
/// length-prefixed, one line per item); `ledger verify` and the audit verifier rebuild it the same way.
package struct ItemSealer {
    private let staged = StagedSHA256()
    private var seal = ItemSeal()

    package init() {
        var header = "allowance-batch-items/v1\n"
        header.withUTF8 { staged.bytes($0) }
    }

    package static let dash: [UInt8] = [0x2D]

    package func field(_ bytes: UnsafeBufferPointer<UInt8>) {
        staged.lengthPrefixed(bytes)
        staged.byte(0x20)
    }

    package func field(_ text: String) {
        var text = text
        text.withUTF8 { field($0) }
    }

    package func field(_ number: Int64) {
        staged.lengthPrefixed(number)
        staged.byte(0x20)
    }

    package mutating func count(_ amount: Int64) throws {
        seal.count += 1
        let (total, overflow) = seal.total.addingReportingOverflow(amount)
        guard !overflow else { throw LedgerError.overflow }
        seal.total = total
    }

    package func endItem() {
        staged.byte(0x0A)
    }

    /// Adds the item in the current row of `row`, whose columns are reference, beneficiary_id, method, carrier, msisdn,
    /// account_name and amount: read as bytes, with no string per field (a million items made 5 million strings).
    package mutating func add(reference: String, beneficiary: Int64, method: String, carrier: String?, msisdn: String?, name: String,
                      amount: Int64) throws {
        try count(amount)
        field(reference)
        field(beneficiary)
        field(method)
        field(carrier ?? "-")
        field(msisdn ?? "-")
        field(name)
        field(amount)
        endItem()
    }

    package mutating func finish() -> ItemSeal {
        seal.digest = staged.finalize().hex
        return seal
    }
}
