import AllowanceLedger
import GRDB

extension Store {
    static let beneficiaryColumns = """
        id, national_id, full_name, date_of_birth, gender, commune_code, category, payment_method, carrier, msisdn,
        status, registered_at, registered_by
        """

    static func beneficiary(from row: Row) throws -> Beneficiary {
        let carrier: String? = row[8]
        let msisdn: String? = row[9]
        var account: MobileMoneyAccount?
        if let carrier, let msisdn {
            account = MobileMoneyAccount(carrier: Code(trusted: carrier), msisdn: try MSISDN(parsing: msisdn))
        }
        let details = BeneficiaryDetails(
            nationalID: try NationalID(parsing: row[1]), fullName: row[2], dateOfBirth: try CalendarDate(parsing: row[3]),
            gender: Gender(rawValue: row[4]) ?? .male, commune: Code(trusted: row[5]), category: Code(trusted: row[6]),
            paymentMethod: PaymentMethod(rawValue: row[7]) ?? .cash, account: account)
        return Beneficiary(id: BeneficiaryID(row[0]), details: details, status: BeneficiaryStatus(rawValue: row[10]) ?? .active,
                           registeredAt: row[11], registeredBy: row[12])
    }

    static func fetchBeneficiary(_ db: Database, id: BeneficiaryID) throws -> Beneficiary? {
        try Row.fetchOne(db, sql: "SELECT \(beneficiaryColumns) FROM beneficiary WHERE id = ?", arguments: [id.rawValue]).map(beneficiary(from:))
    }

    static func fetchBeneficiary(_ db: Database, nationalID: NationalID) throws -> Beneficiary? {
        try Row.fetchOne(db, sql: "SELECT \(beneficiaryColumns) FROM beneficiary WHERE national_id = ?", arguments: [nationalID.digits]).map(beneficiary(from:))
    }

    /// Finds a beneficiary by its number (`42`) or its 12-digit national ID.
    static func resolveBeneficiary(_ db: Database, _ key: String) throws -> Beneficiary {
        let text = key.trimmingSpaces
        if text.count == 12, let nationalID = try? NationalID(parsing: text), let found = try fetchBeneficiary(db, nationalID: nationalID) {
            return found
        }
        if let number = Int64(text), number > 0, let found = try fetchBeneficiary(db, id: BeneficiaryID(number)) {
            return found
        }
        throw RegistryError.notFound("\"\(redactIdentifiers(text))\"")
    }

    public func beneficiary(_ key: String) throws -> Beneficiary {
        try read { try Self.resolveBeneficiary($0, key) }
    }

    public func beneficiaries(_ filter: BeneficiaryFilter) throws -> [Beneficiary] {
        try read { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let commune = filter.commune { conditions.append("commune_code = ?"); arguments += [commune.value] }
            if let status = filter.status { conditions.append("status = ?"); arguments += [status.rawValue] }
            if let method = filter.method { conditions.append("payment_method = ?"); arguments += [method.rawValue] }
            var sql = "SELECT \(Self.beneficiaryColumns) FROM beneficiary"
            if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
            sql += " ORDER BY id"
            if let limit = filter.limit { sql += " LIMIT \(max(0, limit))" }
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.beneficiary(from:))
        }
    }

    public func history(of key: String) throws -> (Beneficiary, [BeneficiaryEvent]) {
        try read { db in
            let found = try Self.resolveBeneficiary(db, key)
            var events = [BeneficiaryEvent(at: found.registeredAt, by: found.registeredBy, kind: .registered, field: nil,
                                           oldValue: nil, newValue: nil, reason: nil)]
            events += try Row.fetchAll(db, sql: """
                SELECT at, by, kind, field, old_value, new_value, reason FROM beneficiary_event
                WHERE beneficiary_id = ? ORDER BY id
                """, arguments: [found.id.rawValue]).map { row in
                BeneficiaryEvent(at: row[0], by: row[1], kind: BeneficiaryEvent.Kind(rawValue: row[2]) ?? .updated,
                                 field: row[3], oldValue: row[4], newValue: row[5], reason: row[6])
            }
            return (found, events)
        }
    }

    static func accountValue(_ account: MobileMoneyAccount?) -> String? {
        account.map { "\($0.carrier.value):\($0.msisdn.canonical)" }
    }

    static func insertEvent(_ db: Database, beneficiary: BeneficiaryID, at: Timestamp, by: UserName, kind: BeneficiaryEvent.Kind,
                            field: String? = nil, old: String? = nil, new: String? = nil, reason: String? = nil, importID: Int64? = nil) throws {
        let statement = try FastStatement(db, """
            INSERT INTO beneficiary_event(beneficiary_id, at, by, kind, field, old_value, new_value, reason, import_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        statement.bind(1, beneficiary.rawValue)
        statement.bind(2, at.description)
        statement.bind(3, by.value)
        statement.bind(4, kind.rawValue)
        statement.bind(5, field)
        statement.bind(6, old)
        statement.bind(7, new)
        statement.bind(8, reason)
        statement.bind(9, importID)
        try statement.run()
    }

    static func insertBeneficiary(_ db: Database, _ details: BeneficiaryDetails, at: String, by: UserName) throws -> BeneficiaryID {
        try BeneficiaryInsert(db, at: at, by: by).insert(details)
    }

    /// Writes what changed and one history event per changed field; false when nothing changed.
    static func applyChanges(_ db: Database, to existing: Beneficiary, _ new: BeneficiaryDetails, at: Timestamp, by: UserName,
                             reason: String?, importID: Int64?) throws -> Bool {
        let old = existing.details
        if old == new { return false }
        var changes: [(String, String?, String?)] = []
        if old.fullName != new.fullName { changes.append(("full_name", old.fullName, new.fullName)) }
        if old.dateOfBirth != new.dateOfBirth { changes.append(("date_of_birth", old.dateOfBirth.description, new.dateOfBirth.description)) }
        if old.gender != new.gender { changes.append(("gender", old.gender.rawValue, new.gender.rawValue)) }
        if old.commune != new.commune { changes.append(("commune_code", old.commune.value, new.commune.value)) }
        if old.category != new.category { changes.append(("category", old.category.value, new.category.value)) }
        if old.paymentMethod != new.paymentMethod { changes.append(("payment_method", old.paymentMethod.rawValue, new.paymentMethod.rawValue)) }
        for (field, oldValue, newValue) in changes {
            try insertEvent(db, beneficiary: existing.id, at: at, by: by, kind: .updated, field: field, old: oldValue, new: newValue,
                            reason: reason, importID: importID)
        }
        if old.account != new.account {
            let kind: BeneficiaryEvent.Kind = old.account == nil ? .accountLinked : (new.account == nil ? .accountClosed : .accountChanged)
            try insertEvent(db, beneficiary: existing.id, at: at, by: by, kind: kind, field: "account",
                            old: accountValue(old.account), new: accountValue(new.account), reason: reason, importID: importID)
        }
        let statement = try FastStatement(db, """
            UPDATE beneficiary SET full_name = ?, date_of_birth = ?, gender = ?, commune_code = ?, category = ?,
                payment_method = ?, carrier = ?, msisdn = ? WHERE id = ?
            """)
        statement.bind(1, new.fullName)
        statement.bind(2, new.dateOfBirth.description)
        statement.bind(3, new.gender.rawValue)
        statement.bind(4, new.commune.value)
        statement.bind(5, new.category.value)
        statement.bind(6, new.paymentMethod.rawValue)
        statement.bind(7, new.account?.carrier.value)
        statement.bind(8, new.account?.msisdn.canonical)
        statement.bind(9, existing.id.rawValue)
        try statement.run()
        return true
    }

    /// Registers one beneficiary (`beneficiary add`).
    public func addBeneficiary(_ raw: RawRegisterFields, by user: UserName) throws -> Beneficiary {
        try write { db in
            let now = clock.now()
            let validator = try RegisterValidator.load(db, today: now.date)
            let details: BeneficiaryDetails
            switch validator.validate(raw) {
            case .success(let valid): details = valid
            case .failure(let error): throw error
            }
            if let existing = try Self.fetchBeneficiary(db, nationalID: details.nationalID) {
                throw RegistryError.alreadyRegistered(details.nationalID, existing.id)
            }
            let id = try Self.insertBeneficiary(db, details, at: now.description, by: user)
            try Self.raiseFlags(db, at: now)
            return try Self.fetchBeneficiary(db, id: id)!
        }
    }

    /// Suspends, reinstates or records the death of a beneficiary; each with a reason kept in the history.
    public func setStatus(of key: String, to status: BeneficiaryStatus, reason: String, by user: UserName) throws -> Beneficiary {
        let reason = reason.trimmingSpaces
        guard !reason.isEmpty else { throw RegistryError.reasonRequired }
        return try write { db in
            let found = try Self.resolveBeneficiary(db, key)
            let kind: BeneficiaryEvent.Kind
            switch (found.status, status) {
            case (.active, .suspended): kind = .suspended
            case (.suspended, .active): kind = .reinstated
            case (.active, .deceased), (.suspended, .deceased): kind = .deceased
            case (_, .suspended): throw RegistryError.statusChange(from: found.status, action: "suspend")
            case (_, .active): throw RegistryError.statusChange(from: found.status, action: "reinstate")
            case (_, .deceased): throw RegistryError.statusChange(from: found.status, action: "record the death of")
            }
            try db.execute(sql: "UPDATE beneficiary SET status = ? WHERE id = ?", arguments: [status.rawValue, found.id.rawValue])
            try Self.insertEvent(db, beneficiary: found.id, at: clock.now(), by: user, kind: kind, field: "status",
                                 old: found.status.rawValue, new: status.rawValue, reason: reason)
            return try Self.fetchBeneficiary(db, id: found.id)!
        }
    }

    public enum AccountAction: Sendable { case link(MobileMoneyAccount), change(MobileMoneyAccount), close }

    /// Links, changes or closes a beneficiary's mobile-money account, keeping time, user and reason.
    ///
    /// Linking switches the beneficiary to mobile money; closing switches them to cash. A change (a new
    /// number replacing a linked one) is what the recent-change fraud flag watches.
    public func updateAccount(of key: String, _ action: AccountAction, reason: String, by user: UserName) throws -> Beneficiary {
        let reason = reason.trimmingSpaces
        guard !reason.isEmpty else { throw RegistryError.reasonRequired }
        return try write { db in
            let now = clock.now()
            let found = try Self.resolveBeneficiary(db, key)
            let carriers = Set(try String.fetchAll(db, sql: "SELECT code FROM carrier"))
            var details = found.details
            switch action {
            case .link(let account), .change(let account):
                if case .link = action, found.details.account != nil { throw RegistryError.accountAlreadyLinked(found.id) }
                if case .change = action, found.details.account == nil { throw RegistryError.noAccount(found.id) }
                guard carriers.contains(account.carrier.value) else {
                    throw RegistryError.invalid([Problem("register.carrier_unknown", ["value": account.carrier.description, "known": listed(carriers.sorted())])])
                }
                if found.details.account == account { throw RegistryError.sameAccount }
                details.account = account
                details.paymentMethod = .mobileMoney
            case .close:
                guard found.details.account != nil else { throw RegistryError.noAccount(found.id) }
                details.account = nil
                details.paymentMethod = .cash
            }
            _ = try Self.applyChanges(db, to: found, details, at: now, by: user, reason: reason, importID: nil)
            try Self.raiseFlags(db, at: now)
            return try Self.fetchBeneficiary(db, id: found.id)!
        }
    }
}

/// Inserts new beneficiaries, all registered at the same moment by the same user: prepared once, so a register import
/// binds only each line's own fields (looking the statement up by its SQL was a hash of the whole text per line).
struct BeneficiaryInsert {
    private let statement: FastStatement
    private let db: Database

    init(_ db: Database, at: String, by: UserName) throws {
        statement = try FastStatement(db, """
            INSERT INTO beneficiary(national_id, full_name, date_of_birth, gender, commune_code, category, payment_method,
                                    carrier, msisdn, status, registered_at, registered_by)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)
            """)
        statement.reset()
        statement.bind(10, at)
        statement.bind(11, by.value)
        self.db = db
    }

    /// Every line binds parameters 1 to 9; 10 and 11 stay bound from `init`.
    func insert(_ details: BeneficiaryDetails) throws -> BeneficiaryID {
        statement.bind(1, details.nationalID.digits)
        statement.bind(2, details.fullName)
        statement.bind(3, details.dateOfBirth.description)
        statement.bind(4, details.gender)
        statement.bind(5, details.commune.value)
        statement.bind(6, details.category.value)
        statement.bind(7, details.paymentMethod)
        statement.bind(8, details.account?.carrier.value)
        statement.bind(9, details.account?.msisdn.canonical)
        defer { statement.resetKeepingBindings() }
        while try statement.step() {}
        return BeneficiaryID(db.lastInsertedRowID)
    }
}
