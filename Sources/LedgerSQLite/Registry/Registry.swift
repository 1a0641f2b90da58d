import AllowanceLedger
import GRDB

extension Store {
    static let beneficiaryColumns = """
        id, national_id, full_name, date_of_birth, gender, commune_code, category, payment_method, carrier, msisdn,
        status, registered_at, registered_by, household_status
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
            paymentMethod: PaymentMethod(rawValue: row[7]) ?? .cash, account: account,
            householdStatus: (row[13] as String?).flatMap(HouseholdStatus.init(rawValue:)))
        return Beneficiary(id: BeneficiaryID(row[0]), details: details, status: BeneficiaryStatus(rawValue: row[10]) ?? .active,
                           registeredAt: row[11], registeredBy: row[12])
    }

    static func fetchBeneficiary(_ db: Database, id: BeneficiaryID) throws -> Beneficiary? {
        try Row.fetchOne(db, sql: "SELECT \(beneficiaryColumns) FROM beneficiary WHERE id = ?", arguments: [id.rawValue]).map(beneficiary(from:))
    }

    static func fetchBeneficiary(_ db: Database, nationalID: NationalID) throws -> Beneficiary? {
        try Row.fetchOne(db, sql: "SELECT \(beneficiaryColumns) FROM beneficiary WHERE national_id = ?", arguments: [nationalID.digits]).map(beneficiary(from:))
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
}

/// Inserts new beneficiaries, all registered at the same moment by the same user: prepared once, so a register import
/// binds only each line's own fields (looking the statement up by its SQL was a hash of the whole text per line).
struct BeneficiaryInsert: BeneficiaryInserter {
    private let statement: FastStatement
    private let db: Database

    init(_ db: Database, at: String, by: UserName) throws {
        statement = try FastStatement(db, """
            INSERT INTO beneficiary(national_id, full_name, date_of_birth, gender, commune_code, category, payment_method,
                                    carrier, msisdn, status, registered_at, registered_by, household_status)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?)
            """)
        statement.reset()
        statement.bind(10, at)
        statement.bind(11, by.value)
        self.db = db
    }

    /// Every line binds parameters 1 to 9 and 12; 10 and 11 stay bound from `init`.
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
        statement.bind(12, details.householdStatus?.rawValue)
        defer { statement.resetKeepingBindings() }
        while try statement.step() {}
        return BeneficiaryID(db.lastInsertedRowID)
    }
}
