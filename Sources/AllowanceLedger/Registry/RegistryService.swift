/// The register: beneficiaries and their accounts, register imports, fraud flags, rates and carriers. The CLI and a
/// server call it the same way; the user who acts is always a parameter, and every write is one transaction.
public struct Registry: Sendable {
    let storage: any RegistryStorage
    public let clock: Clock

    package init(storage: any RegistryStorage, clock: Clock) {
        self.storage = storage
        self.clock = clock
    }

    public enum AccountAction: Sendable { case link(MobileMoneyAccount), change(MobileMoneyAccount), close }

    /// How many days before a batch's creation an account change holds the beneficiary out, unless set otherwise.
    public static let changeWindowDaysDefault = 7
    /// The window a ledger may set: none (0) up to a year.
    public static let changeWindowDaysRange = 0...365

    // MARK: Beneficiaries

    /// Finds a beneficiary by its number (`42`) or its 12-digit national ID.
    public func beneficiary(_ key: String) throws -> Beneficiary {
        try storage.read { try Self.resolve($0, key) }
    }

    public func beneficiaries(_ filter: BeneficiaryFilter) throws -> [Beneficiary] {
        try storage.read { try $0.beneficiaries(filter) }
    }

    /// The beneficiary and their history, registration first.
    public func history(of key: String) throws -> (Beneficiary, [BeneficiaryEvent]) {
        try storage.read { tx in
            let found = try Self.resolve(tx, key)
            let registered = BeneficiaryEvent(at: found.registeredAt, by: found.registeredBy, kind: .registered)
            return (found, [registered] + (try tx.events(of: found.id)))
        }
    }

    /// Registers one beneficiary (`beneficiary add`).
    public func addBeneficiary(_ raw: RawRegisterFields, by user: UserName) throws -> Beneficiary {
        try storage.write { tx in
            let now = clock.now()
            let validator = try Self.validator(tx, today: now.date)
            let details: BeneficiaryDetails
            switch validator.validate(raw) {
            case .success(let valid): details = valid
            case .failure(let error): throw error
            }
            if let existing = try tx.beneficiary(nationalID: details.nationalID) {
                throw RegistryError.alreadyRegistered(details.nationalID, existing.id)
            }
            let id = try tx.insertBeneficiary(details, at: now, by: user)
            try Self.raiseFlags(tx, at: now)
            try tx.sealRegister(at: now, by: user)
            return try tx.beneficiary(id: id)!
        }
    }

    /// Suspends, reinstates or records the death of a beneficiary; each with a reason kept in the history.
    public func setStatus(of key: String, to status: BeneficiaryStatus, reason: String, by user: UserName) throws -> Beneficiary {
        let reason = reason.trimmingSpaces
        guard !reason.isEmpty else { throw RegistryError.reasonRequired }
        return try storage.write { tx in
            let found = try Self.resolve(tx, key)
            let kind: BeneficiaryEvent.Kind
            switch (found.status, status) {
            case (.active, .suspended): kind = .suspended
            case (.suspended, .active): kind = .reinstated
            case (.active, .deceased), (.suspended, .deceased): kind = .deceased
            case (_, .suspended): throw RegistryError.statusChange(from: found.status, action: "suspend")
            case (_, .active): throw RegistryError.statusChange(from: found.status, action: "reinstate")
            case (_, .deceased): throw RegistryError.statusChange(from: found.status, action: "record the death of")
            }
            let now = clock.now()
            try tx.setStatus(of: found.id, to: status)
            try tx.insertEvent(NewBeneficiaryEvent(beneficiary: found.id, at: now, by: user, kind: kind, field: "status",
                                                   oldValue: found.status.rawValue, newValue: status.rawValue, reason: reason))
            try tx.sealRegister(at: now, by: user)
            return try tx.beneficiary(id: found.id)!
        }
    }

    /// Links, changes or closes a beneficiary's mobile-money account, keeping time, user and reason.
    ///
    /// Linking switches the beneficiary to mobile money; closing switches them to cash. A change (a new
    /// number replacing a linked one) is what the recent-change fraud flag watches.
    public func updateAccount(of key: String, _ action: AccountAction, reason: String, by user: UserName) throws -> Beneficiary {
        let reason = reason.trimmingSpaces
        guard !reason.isEmpty else { throw RegistryError.reasonRequired }
        return try storage.write { tx in
            let now = clock.now()
            let found = try Self.resolve(tx, key)
            var details = found.details
            switch action {
            case .link(let account), .change(let account):
                if case .link = action, found.details.account != nil { throw RegistryError.accountAlreadyLinked(found.id) }
                if case .change = action, found.details.account == nil { throw RegistryError.noAccount(found.id) }
                let carriers = try tx.carriers().map(\.code.value)
                guard carriers.contains(account.carrier.value) else {
                    throw RegistryError.invalid([Problem("register.carrier_unknown", ["value": account.carrier.description,
                                                                                      "known": listed(carriers.sorted())])])
                }
                if found.details.account == account { throw RegistryError.sameAccount }
                details.account = account
                details.paymentMethod = .mobileMoney
            case .close:
                guard found.details.account != nil else { throw RegistryError.noAccount(found.id) }
                details.account = nil
                details.paymentMethod = .cash
            }
            _ = try Self.applyChanges(tx, to: found, details, at: now, by: user, reason: reason, importID: nil)
            try Self.raiseFlags(tx, at: now)
            try tx.sealRegister(at: now, by: user)
            return try tx.beneficiary(id: found.id)!
        }
    }

    static func resolve(_ tx: any RegistryTransaction, _ key: String) throws -> Beneficiary {
        let text = key.trimmingSpaces
        if text.count == 12, let nationalID = try? NationalID(parsing: text), let found = try tx.beneficiary(nationalID: nationalID) {
            return found
        }
        if let number = Int64(text), number > 0, let found = try tx.beneficiary(id: BeneficiaryID(number)) {
            return found
        }
        throw RegistryError.notFound("\"\(redactIdentifiers(text))\"")
    }

    static func validator(_ tx: any RegistryTransaction, today: CalendarDate) throws -> RegisterValidator {
        RegisterValidator(categories: try tx.categoryCodes(), carriers: Set(try tx.carriers().map(\.code.value)), aliases: try tx.carrierAliases(),
                          communes: Set(try tx.communes().map(\.code.value)), communeReplacements: try tx.communeReplacements(), today: today)
    }

    /// Writes what changed and one history event per changed field, the account's last; false when nothing changed.
    static func applyChanges(_ tx: any RegistryTransaction, to existing: Beneficiary, _ new: BeneficiaryDetails, at: Timestamp,
                             by: UserName, reason: String?, importID: Int64?) throws -> Bool {
        let old = existing.details
        if old == new { return false }
        var changes: [(String, String?, String?)] = []
        if old.fullName != new.fullName { changes.append(("full_name", old.fullName, new.fullName)) }
        if old.dateOfBirth != new.dateOfBirth { changes.append(("date_of_birth", old.dateOfBirth.description, new.dateOfBirth.description)) }
        if old.gender != new.gender { changes.append(("gender", old.gender.rawValue, new.gender.rawValue)) }
        if old.commune != new.commune { changes.append(("commune_code", old.commune.value, new.commune.value)) }
        if old.category != new.category { changes.append(("category", old.category.value, new.category.value)) }
        if old.paymentMethod != new.paymentMethod { changes.append(("payment_method", old.paymentMethod.rawValue, new.paymentMethod.rawValue)) }
        if old.householdStatus != new.householdStatus {
            changes.append(("household_status", old.householdStatus?.rawValue, new.householdStatus?.rawValue))
        }
        for (field, oldValue, newValue) in changes {
            try tx.insertEvent(NewBeneficiaryEvent(beneficiary: existing.id, at: at, by: by, kind: .updated, field: field,
                                                   oldValue: oldValue, newValue: newValue, reason: reason, importID: importID))
        }
        if old.account != new.account {
            let kind: BeneficiaryEvent.Kind = old.account == nil ? .accountLinked : (new.account == nil ? .accountClosed : .accountChanged)
            try tx.insertEvent(NewBeneficiaryEvent(beneficiary: existing.id, at: at, by: by, kind: kind, field: "account",
                                                   oldValue: accountValue(old.account), newValue: accountValue(new.account),
                                                   reason: reason, importID: importID))
        }
        try tx.updateBeneficiary(existing.id, to: new)
        return true
    }

    /// An account as the history keeps it: `VIETTEL:84912345678`.
    static func accountValue(_ account: MobileMoneyAccount?) -> String? {
        account.map { "\($0.carrier.value):\($0.msisdn.canonical)" }
    }

    // MARK: Flags

    /// How many days before a batch's creation an account change holds the beneficiary out (default 7).
    public func changeWindowDays() throws -> Int {
        try storage.read { try Self.changeWindowDays($0) }
    }

    public func setChangeWindowDays(_ days: Int, by user: UserName) throws {
        try Self.checkChangeWindow(days)
        try storage.write { tx in
            try tx.setChangeWindowDays(days)
            try tx.recordSettingChange(key: "account_change_window_days", value: String(days), at: clock.now(), by: user)
        }
    }

    /// Refuses a window outside `changeWindowDaysRange`; callers may check an option before opening the ledger.
    public static func checkChangeWindow(_ days: Int) throws(RegistryError) {
        guard changeWindowDaysRange.contains(days) else { throw .changeWindowOutOfRange(days) }
    }

    static func changeWindowDays(_ tx: any RegistryTransaction) throws -> Int {
        try tx.changeWindowDays() ?? changeWindowDaysDefault
    }

    /// Raises every flag the register calls for at `now`; returns how many are new.
    @discardableResult
    static func raiseFlags(_ tx: any RegistryTransaction, at now: Timestamp) throws -> Int {
        try tx.raiseFlags(at: now, windowStart: now.adding(days: -(try changeWindowDays(tx))))
    }

    /// Flags raised so far (open ones only unless `includeCleared`).
    public func flags(includeCleared: Bool = false) throws -> [FraudFlag] {
        // Read-only: every change that can raise a flag (import, account change, batch creation) raises it then.
        try storage.read { tx in
            let since = clock.now().adding(days: -(try Self.changeWindowDays(tx)))
            return try tx.flags(openSince: includeCleared ? nil : since)
        }
    }

    /// Clears a flag with the officer's reason; the beneficiary goes into the next batch.
    public func clearFlag(_ id: Int64, reason: String, by user: UserName) throws -> FraudFlag {
        let reason = reason.trimmingSpaces
        guard !reason.isEmpty else { throw RegistryError.reasonRequired }
        return try storage.write { tx in
            guard let flag = try tx.flag(id: id) else { throw RegistryError.flagNotFound(id) }
            if let at = flag.clearedAt { throw RegistryError.flagAlreadyCleared(id, by: flag.clearedBy ?? "", at: at) }
            // Whoever changed the account cannot vouch for the change: a second person clears its flag.
            if flag.kind == .recentAccountChange, flag.evidence.hasPrefix("event:"), let event = Int64(flag.evidence.dropFirst("event:".count)),
               let changer = try tx.eventActor(id: event), let person = try? UserName(parsing: changer), person.isSamePerson(as: user) {
                throw RegistryError.clearerMadeTheChange(id, user: changer)
            }
            let now = clock.now()
            try tx.clearFlag(id: id, at: now, by: user, reason: reason)
            try tx.insertEvent(NewBeneficiaryEvent(beneficiary: flag.beneficiaryID, at: now, by: user, kind: .flagCleared,
                                                   field: flag.kind.rawValue, reason: reason))
            try tx.sealRegister(at: now, by: user)
            return try tx.flag(id: id)!
        }
    }

    // MARK: Rates and carriers

    public func rates() throws -> RateTable {
        try storage.read { try $0.rateTable() }
    }

    /// Adds a base level from a day: the national one, or a province's (set by its People's Council) when `province`
    /// is given. `basis` names the decision it rests on.
    public func setBaseLevel(_ amount: Money, from day: CalendarDate, province: String? = nil, basis: String = "", by user: UserName) throws {
        try Self.checkBaseLevel(amount)
        try storage.write { tx in
            if try tx.hasBaseLevel(from: day, province: province) {
                throw RateError.alreadySet(province.map { "the base level of province \($0) from \(day)" } ?? "the base level from \(day)")
            }
            try tx.insertBaseLevel(RateTable.BaseLevel(effectiveFrom: day, amount: amount, province: province, basis: basis.trimmingSpaces),
                                   at: clock.now(), by: user)
        }
    }

    /// Refuses a base level that is not positive; callers may check an option before opening the ledger.
    public static func checkBaseLevel(_ amount: Money) throws(RateError) {
        guard amount.dong > 0 else { throw .notPositive }
    }

    /// A category's amount from a day: a coefficient of the base level or a fixed amount, exactly one.
    public enum CategoryAmount: Sendable, Equatable {
        case coefficient(Coefficient)
        case fixed(Money)

        /// What a rate row holds.
        public init(_ rate: RateTable.CategoryRate) {
            self = rate.coefficient.map { .coefficient($0) } ?? .fixed(rate.amount!)
        }

        /// The rate row of `code` from `day`.
        package func rate(of code: Code, description: String = "", from day: CalendarDate) -> RateTable.CategoryRate {
            switch self {
            case .coefficient(let coefficient): RateTable.CategoryRate(category: code, description: description, effectiveFrom: day, coefficient: coefficient)
            case .fixed(let money): RateTable.CategoryRate(category: code, description: description, effectiveFrom: day, coefficient: nil, amount: money)
            }
        }
    }

    public func addCategory(_ code: Code, description: String, coefficient: Coefficient, from day: CalendarDate,
                            by user: UserName) throws {
        try addCategory(RateTable.Category(code: code, description: description, programme: Code(trusted: "SOCIAL_ALLOWANCE")),
                        amount: .coefficient(coefficient), from: day, basis: "", by: user)
    }

    /// Adds a category of a programme, with its rules of age and its first amount.
    public func addCategory(_ category: RateTable.Category, amount: CategoryAmount, from day: CalendarDate, basis: String,
                            by user: UserName) throws {
        try storage.write { tx in
            if try tx.hasCategory(category.code) { throw RateError.categoryExists(category.code) }
            if let refusal = try tx.rateTable().refusals(adding: category).first { throw refusal }
            try tx.insertCategory(category)
            try tx.insertRate(amount.rate(of: category.code, description: category.description, from: day), basis: basis.trimmingSpaces,
                              at: clock.now(), by: user)
        }
    }

    public func setCoefficient(_ coefficient: Coefficient, of code: Code, from day: CalendarDate, by user: UserName) throws {
        try setRate(.coefficient(coefficient), of: code, from: day, basis: "", by: user)
    }

    /// Gives a category a new coefficient or fixed amount from a day; the earlier ones stay as history.
    public func setRate(_ amount: CategoryAmount, of code: Code, from day: CalendarDate, basis: String, by user: UserName) throws {
        try storage.write { tx in
            guard try tx.hasCategory(code) else { throw RateError.unknownCategory(code) }
            if try tx.hasCoefficient(of: code, from: day) { throw RateError.alreadySet("a rate for \(code) from \(day)") }
            try tx.insertRate(amount.rate(of: code, from: day), basis: basis.trimmingSpaces, at: clock.now(), by: user)
        }
    }

    /// From which month a birthday changes a benefit (default: the month after it).
    public func ageMonthRule() throws -> AgeMonthRule {
        try storage.read { try Self.ageMonthRule($0) }
    }

    public func setAgeMonthRule(_ rule: AgeMonthRule, by user: UserName) throws {
        try storage.write { tx in
            try tx.setSetting(AgeMonthRule.settingKey, rule.rawValue)
            try tx.recordSettingChange(key: AgeMonthRule.settingKey, value: rule.rawValue, at: clock.now(), by: user)
        }
    }

    static func ageMonthRule(_ tx: any RegistryTransaction) throws -> AgeMonthRule {
        try tx.setting(AgeMonthRule.settingKey).flatMap(AgeMonthRule.init(rawValue:)) ?? .nextMonth
    }

    public func carriers() throws -> [(code: Code, name: String)] {
        try storage.read { try $0.carriers() }
    }

    /// Carrier names as people write them, by their key (`CarrierAlias.key`), with the carrier each names.
    public func carrierAliases() throws -> [(alias: String, carrier: String)] {
        try storage.read { try $0.carrierAliases() }.map { (alias: $0.key, carrier: $0.value) }.sorted { $0.alias < $1.alias }
    }

    /// Lets a register name `carrier` as `alias` (`carrier alias add "Viettel Money" VIETTEL`).
    public func addCarrierAlias(_ alias: String, carrier: Code, by user: UserName) throws {
        let key = CarrierAlias.key(alias)
        guard !key.isEmpty, key.count <= CarrierAlias.lengthMax, !RegisterValidator.hasControlCharacter(key) else {
            throw FieldError("an alias is 1 to \(CarrierAlias.lengthMax) printable characters")
        }
        try storage.write { tx in
            let carriers = try tx.carriers().map(\.code.value)
            guard carriers.contains(carrier.value) else {
                throw FieldError("carrier \(carrier) is not known; known: \(listed(carriers.sorted())) (`allowance carrier add` adds one)")
            }
            guard !carriers.contains(key) else { throw FieldError("\(key) is a carrier's code already") }
            if let taken = try tx.carrierAliases()[key] { throw FieldError("\(key) names \(taken) already") }
            let now = clock.now()
            try tx.insertCarrierAlias(key, carrier: carrier, at: now, by: user)
            try tx.recordSettingChange(key: "carrier_alias.\(key)", value: carrier.value, at: now, by: user)
        }
    }

    public func addCarrier(_ code: Code, name: String, by user: UserName) throws {
        try storage.write { tx in
            if try tx.carriers().contains(where: { $0.code == code }) { throw FieldError("carrier \(code) exists already") }
            try tx.insertCarrier(code, name: name)
            try tx.recordSettingChange(key: "carrier.\(code.value)", value: name, at: clock.now(), by: user)
        }
    }
}
