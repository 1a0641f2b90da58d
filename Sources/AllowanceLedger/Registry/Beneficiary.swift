/// A mobile-money account: the carrier is stored apart from the number, since numbers port between carriers.
public struct MobileMoneyAccount: Sendable, Hashable {
    public let carrier: Code
    public let msisdn: MSISDN

    public init(carrier: Code, msisdn: MSISDN) {
        self.carrier = carrier
        self.msisdn = msisdn
    }
}

/// What the office registers about a beneficiary: one line of the register CSV.
public struct BeneficiaryDetails: Sendable, Equatable {
    public var nationalID: NationalID
    public var fullName: String
    public var dateOfBirth: CalendarDate
    public var gender: Gender
    public var commune: Code
    public var category: Code
    public var paymentMethod: PaymentMethod
    public var account: MobileMoneyAccount?
    /// Poor or near-poor household (`household_status`), or nil: brings the social pension forward to 70.
    public var householdStatus: HouseholdStatus?

    public init(nationalID: NationalID, fullName: String, dateOfBirth: CalendarDate, gender: Gender, commune: Code,
                category: Code, paymentMethod: PaymentMethod, account: MobileMoneyAccount?, householdStatus: HouseholdStatus? = nil) {
        self.nationalID = nationalID
        self.fullName = fullName
        self.dateOfBirth = dateOfBirth
        self.gender = gender
        self.commune = commune
        self.category = category
        self.paymentMethod = paymentMethod
        self.account = account
        self.householdStatus = householdStatus
    }

    /// Equal as the office means it: names compared in Unicode canonical equivalence (NFC), which is what
    /// Swift's `String ==` does.
    public static func == (lhs: BeneficiaryDetails, rhs: BeneficiaryDetails) -> Bool {
        lhs.nationalID == rhs.nationalID && lhs.fullName == rhs.fullName && lhs.dateOfBirth == rhs.dateOfBirth
            && lhs.gender == rhs.gender && lhs.commune == rhs.commune && lhs.category == rhs.category
            && lhs.paymentMethod == rhs.paymentMethod && lhs.account == rhs.account && lhs.householdStatus == rhs.householdStatus
    }
}

public struct Beneficiary: Sendable, Equatable {
    public let id: BeneficiaryID
    public var details: BeneficiaryDetails
    public var status: BeneficiaryStatus
    public let registeredAt: String
    public let registeredBy: String

    package init(id: BeneficiaryID, details: BeneficiaryDetails, status: BeneficiaryStatus, registeredAt: String,
                 registeredBy: String) {
        self.id = id
        self.details = details
        self.status = status
        self.registeredAt = registeredAt
        self.registeredBy = registeredBy
    }
}

/// The register's text fields before validation; the CSV importer and `beneficiary add` both fill one.
public struct RawRegisterFields: Sendable {
    public var nationalID = ""
    public var fullName = ""
    public var dateOfBirth = ""
    public var gender = ""
    public var commune = ""
    public var category = ""
    public var paymentMethod = ""
    public var carrier = ""
    public var msisdn = ""
    /// Nil when the register has no such column: a re-import then keeps what the register holds.
    public var householdStatus: String?

    public init() {}

    public static let columns = ["national_id", "full_name", "date_of_birth", "gender", "commune_code", "category",
                                 "payment_method", "carrier", "msisdn", "household_status"]
    /// The columns a register had before `household_status`: what the generators write.
    public static let basicColumns = Array(columns.prefix(9))
    /// Columns a register must have; carrier and msisdn may be left out when every line is cash.
    public static let requiredColumns = Array(columns.prefix(7))

    /// Where each column's text goes, by name.
    public static func keyPath(of column: String) -> WritableKeyPath<RawRegisterFields, String>? {
        switch column {
        case "national_id": \.nationalID
        case "full_name": \.fullName
        case "date_of_birth": \.dateOfBirth
        case "gender": \.gender
        case "commune_code": \.commune
        case "category": \.category
        case "payment_method": \.paymentMethod
        case "carrier": \.carrier
        case "msisdn": \.msisdn
        case "household_status": \.householdStatusText
        default: nil
        }
    }

    /// `householdStatus` as a column's text: writing it, even empty, says the column is there.
    public var householdStatusText: String {
        get { householdStatus ?? "" }
        set { householdStatus = newValue }
    }

    /// A column's text by name (unknown names read as empty and are not written).
    subscript(column: String) -> String {
        get { Self.keyPath(of: column).map { self[keyPath: $0] } ?? "" }
        set { if let keyPath = Self.keyPath(of: column) { self[keyPath: keyPath] = newValue } }
    }
}

/// Checks register fields against each other and against the office's categories and carriers.
public struct RegisterValidator: Sendable {
    public let categories: Set<String>
    public let carriers: Set<String>
    /// Carrier names as people write them (`CarrierAlias.key` of the alias → the carrier's code).
    public let aliases: [String: String]
    /// The official communes' codes; empty until a list is loaded (`commune import`), when any code is taken.
    public let communes: Set<String>
    /// Old commune codes → the listed commune each is now read as.
    public let communeReplacements: [String: String]
    public let today: CalendarDate
    public static let nameLengthMax = 200

    public init(categories: Set<String>, carriers: Set<String>, aliases: [String: String] = [:], communes: Set<String> = [],
                communeReplacements: [String: String] = [:], today: CalendarDate) {
        self.categories = categories
        self.carriers = carriers
        self.aliases = aliases
        self.communes = communes
        self.communeReplacements = communeReplacements
        self.today = today
    }

    /// The carriers' codes, then their aliases: what an unknown carrier's message lists.
    var knownCarriers: String {
        let byCarrier = Dictionary(grouping: aliases, by: \.value)
        return carriers.sorted().map { code in
            let names = (byCarrier[code] ?? []).map(\.key).sorted()
            return names.isEmpty ? code : "\(code) (\(names.joined(separator: ", ")))"
        }.joined(separator: ", ")
    }

    /// C0 controls, DEL and C1 controls (U+0080–U+009F, UTF-8 `C2 80`–`C2 9F`), found on bytes.
    static func hasControlCharacter(_ text: String) -> Bool {
        var previous: UInt8 = 0
        for byte in text.utf8 {
            if byte < 0x20 || byte == 0x7F || (previous == 0xC2 && byte >= 0x80 && byte <= 0x9F) { return true }
            previous = byte
        }
        return false
    }

    /// The details, or every reason the fields are wrong (each ready to follow `FILE:LINE: `).
    public func validate(_ raw: RawRegisterFields) -> Result<BeneficiaryDetails, RegistryError> {
        var reasons: [Problem] = []
        func attempt<T, E: ProblemConvertible>(_ body: () throws(E) -> T) -> T? {
            do { return try body() } catch { reasons.append(error.problem); return nil }
        }
        let nationalID = attempt { () throws(NationalIDError) in try NationalID(parsing: raw.nationalID) }
        let name = raw.fullName.trimmingSpaces
        // Characters are counted only past `nameLengthMax` bytes (fewer bytes cannot make more characters): counting walks the
        // grapheme breaks, which cost a fifth of a second per million names.
        if name.isEmpty {
            reasons.append(Problem("register.full_name_empty"))
        } else if name.utf8.count > Self.nameLengthMax * 4 || (name.utf8.count > Self.nameLengthMax && name.count > Self.nameLengthMax) {
            reasons.append(Problem("register.full_name_too_long", ["length_max": String(Self.nameLengthMax)]))
        } else if Self.hasControlCharacter(name) {
            reasons.append(Problem("register.full_name_control_character"))
        } else if let first = name.unicodeScalars.first, "=+-@".unicodeScalars.contains(first) {
            // It would reach the carrier's instruction file as the account name, where a spreadsheet runs it.
            reasons.append(Problem("register.full_name_formula", ["first": String(first)]))
        } else if digitCount(name) >= 6 {
            reasons.append(Problem("register.full_name_number"))
        }
        let birth = attempt { () throws(FieldError) in try CalendarDate(parsing: raw.dateOfBirth, field: "date_of_birth") }
        if let birth {
            if birth > today {
                reasons.append(Problem("register.birth_in_future", ["date": birth.description]))
            } else if birth.year < 1900 {
                reasons.append(Problem("register.birth_before_1900", ["date": birth.description]))
            }
        }
        let gender = attempt { () throws(FieldError) in try Gender(parsing: raw.gender) }
        var commune = attempt { () throws(FieldError) in try Code(parsing: raw.commune, field: "commune_code", uppercase: false, lengthMax: 16) }
        if let code = commune, digitCount(code.value) >= 9 {
            reasons.append(Problem("register.commune_code_like_number", ["value": redactIdentifiers(code.value)]))
            commune = nil
        } else if let code = commune, let newer = communeReplacements[code.value] {
            // A commune merged in 2025: the register is read as naming the commune that replaced it.
            commune = Code(trusted: newer)
        } else if let code = commune, !communes.isEmpty, !communes.contains(code.value) {
            reasons.append(Problem("register.commune_unknown", ["value": code.value]))
            commune = nil
        }
        var category = attempt { () throws(FieldError) in try Code(parsing: raw.category, field: "category", uppercase: true) }
        if let known = category, !categories.contains(known.value) {
            reasons.append(Problem("register.category_unknown", ["value": redactIdentifiers(raw.category.trimmingSpaces), "known": listed(categories.sorted())]))
            category = nil
        }
        let method = attempt { () throws(FieldError) in try PaymentMethod(parsing: raw.paymentMethod) }
        let household = raw.householdStatus.flatMap { text in attempt { () throws(FieldError) in try HouseholdStatus(parsing: text) } ?? nil }
        var account: MobileMoneyAccount?
        let carrierText = raw.carrier.trimmingSpaces
        let msisdnText = raw.msisdn.trimmingSpaces
        if method == .mobileMoney || !carrierText.isEmpty || !msisdnText.isEmpty {
            var carrier: Code?
            if carrierText.isEmpty {
                reasons.append(Problem(method == .mobileMoney ? "register.carrier_required" : "register.carrier_required_with_msisdn"))
            } else if let aliased = aliases[CarrierAlias.key(carrierText)], carriers.contains(aliased) {
                // `Viettel Money`, `ViettelPay`: the names people write, before the code's own spelling rules.
                carrier = Code(trusted: aliased)
            } else if let code = try? Code(parsing: carrierText, field: "carrier", uppercase: true), carriers.contains(code.value) {
                carrier = code
            } else {
                // Neither a carrier's code nor one of its names: the message lists both.
                reasons.append(Problem("register.carrier_unknown", ["value": redactIdentifiers(carrierText), "known": knownCarriers]))
            }
            var msisdn: MSISDN?
            if msisdnText.isEmpty {
                reasons.append(Problem(method == .mobileMoney ? "register.msisdn_required" : "register.msisdn_required_with_carrier"))
            } else {
                msisdn = attempt { () throws(MSISDNError) in try MSISDN(parsing: msisdnText) }
            }
            if let carrier, let msisdn { account = MobileMoneyAccount(carrier: carrier, msisdn: msisdn) }
        }
        if let nationalID, let birth, let gender {
            _ = attempt { () throws(NationalIDError) in try nationalID.check(birthDate: birth, gender: gender) }
        }
        guard reasons.isEmpty, let nationalID, let birth, let gender, let commune, let category, let method else {
            return .failure(.invalid(reasons))
        }
        return .success(BeneficiaryDetails(nationalID: nationalID, fullName: name, dateOfBirth: birth, gender: gender,
                                           commune: commune, category: category, paymentMethod: method, account: account,
                                           householdStatus: household))
    }
}
