/// One change in a beneficiary's history.
public struct BeneficiaryEvent: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case registered, updated, suspended, reinstated, deceased
        case accountLinked = "account_linked", accountChanged = "account_changed", accountClosed = "account_closed"
        case flagCleared = "flag_cleared"
    }

    public let at: String
    public let by: String
    public let kind: Kind
    public let field: String?
    public let oldValue: String?
    public let newValue: String?
    public let reason: String?

    package init(at: String, by: String, kind: Kind, field: String? = nil, oldValue: String? = nil,
                 newValue: String? = nil, reason: String? = nil) {
        self.at = at
        self.by = by
        self.kind = kind
        self.field = field
        self.oldValue = oldValue
        self.newValue = newValue
        self.reason = reason
    }

    /// A value as it may be shown: account values (`VIETTEL:84912345678`) have their number masked.
    public static func shown(_ value: String?, field: String?, reveal: Bool) -> String? {
        guard let value, !reveal, field == "account" else { return value }
        let parts = value.split(separator: ":", maxSplits: 1)
        guard parts.count == 2 else { return maskTail(value) }
        return "\(parts[0]):\(maskTail(String(parts[1])))"
    }
}

public enum RegistryError: Error, Sendable, Equatable, CustomStringConvertible {
    case notFound(String)
    case invalid([Problem])
    case alreadyRegistered(NationalID, BeneficiaryID)
    case statusChange(from: BeneficiaryStatus, action: String)
    case accountAlreadyLinked(BeneficiaryID)
    case noAccount(BeneficiaryID)
    case sameAccount
    case flagNotFound(Int64)
    case flagAlreadyCleared(Int64, by: String, at: String)
    case reasonRequired
    case changeWindowOutOfRange(Int)
    case clearerMadeTheChange(Int64, user: String)
    case changedOutsideTheLedger(BeneficiaryID)

    public var description: String {
        switch self {
        case .notFound(let key): "no beneficiary \(key); `allowance beneficiary list` shows them"
        case .invalid(let reasons): reasons.map(\.description).joined(separator: "; ")
        case .alreadyRegistered(let nationalID, let id): "national ID \(nationalID) is already registered as beneficiary \(id)"
        case .statusChange(let from, let action): "cannot \(action) a beneficiary who is \(from.rawValue)"
        case .accountAlreadyLinked(let id): "beneficiary \(id) already has a linked account; use `beneficiary account change`"
        case .noAccount(let id): "beneficiary \(id) has no linked account; use `beneficiary account link`"
        case .sameAccount: "that account is already the linked one; nothing to change"
        case .flagNotFound(let id): "no flag \(id); `allowance beneficiary flags` lists them"
        case .flagAlreadyCleared(let id, let by, let at): "flag \(id) was already cleared by \(by) at \(at)"
        case .reasonRequired: "a reason is required (--reason \"...\"); it is kept in the history"
        case .changeWindowOutOfRange: "--change-window-days must be between 0 and 365"
        case .clearerMadeTheChange(let id, let user):
            "flag \(id) is about an account change \(user) made; someone else must check it and clear the flag"
        case .changedOutsideTheLedger(let id):
            "beneficiary \(id)'s record was changed outside the ledger since its last recorded change; nothing was written. Run `allowance ledger verify` and restore the ledger from a copy"
        }
    }
}

/// How `beneficiary list` narrows the register.
public struct BeneficiaryFilter: Sendable {
    public var commune: Code?
    public var status: BeneficiaryStatus?
    public var method: PaymentMethod?
    public var limit: Int?
    /// Any of these communes (an account's); empty: no such limit.
    public var communes: [Code] = []
    /// Part of the name, matched without case or diacritics (`nguyen van` finds `Nguyễn Văn An`).
    public var name: String?
    public init(commune: Code? = nil, status: BeneficiaryStatus? = nil, method: PaymentMethod? = nil, limit: Int? = nil) {
        self.commune = commune
        self.status = status
        self.method = method
        self.limit = limit
    }
}

/// A carrier as people write it in a register (`Viettel Money`, `ViettelPay`, `VIETTEL MONEY`): compared by its key,
/// upper case with runs of spaces as one, so that each spelling is one alias.
public enum CarrierAlias {
    public static func key(_ text: String) -> String {
        text.uppercased().split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    public static let lengthMax = 60
}
