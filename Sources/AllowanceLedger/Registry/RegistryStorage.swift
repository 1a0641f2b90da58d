/// What the registry needs of a ledger's storage: a backend (`LedgerSQLite`, later PostgreSQL) implements it, the
/// `Registry` service calls it. Every method runs inside the transaction it was handed; none decides a rule.
package protocol RegistryStorage: Sendable {
    func read<T>(_ body: (any RegistryTransaction) throws -> T) throws -> T
    /// One transaction: all of `body`'s writes land, or none.
    func write<T>(_ body: (any RegistryTransaction) throws -> T) throws -> T
    /// Like `write`, for a bulk load whose every key (categories, carriers, beneficiaries) was read in the same
    /// transaction, so that a backend may skip checking them row by row.
    func writeBulk<T>(_ body: (any RegistryTransaction) throws -> T) throws -> T
}

/// The registry's reads and writes inside one transaction.
package protocol RegistryTransaction {
    // Beneficiaries
    func beneficiary(id: BeneficiaryID) throws -> Beneficiary?
    func beneficiary(nationalID: NationalID) throws -> Beneficiary?
    /// In id order, narrowed by `filter`.
    func beneficiaries(_ filter: BeneficiaryFilter) throws -> [Beneficiary]
    /// The events recorded after registration, oldest first.
    func events(of beneficiary: BeneficiaryID) throws -> [BeneficiaryEvent]
    func isRegisterEmpty() throws -> Bool
    func insertBeneficiary(_ details: BeneficiaryDetails, at: Timestamp, by: UserName) throws -> BeneficiaryID
    /// Inserts many beneficiaries registered at one moment by one user: prepared once, each call binds a line's fields.
    func beneficiaryInserter(at: Timestamp, by: UserName) throws -> any BeneficiaryInserter
    /// Replaces every field of `details`; the history is the caller's to write.
    func updateBeneficiary(_ id: BeneficiaryID, to details: BeneficiaryDetails) throws
    func setStatus(of id: BeneficiaryID, to status: BeneficiaryStatus) throws
    func insertEvent(_ event: NewBeneficiaryEvent) throws
    /// Who recorded a history event, by its id.
    func eventActor(id: Int64) throws -> String?
    /// Appends a link to the register's chain (`RegisterChain`) sealing what this transaction changed; nothing when it
    /// changed nothing. Every command that changes the register calls it last.
    func sealRegister(at: Timestamp, by: UserName) throws

    // Register imports
    func registerImport(sha256: String) throws -> PreviousRegisterImport?
    func nextRegisterImportID() throws -> Int64
    /// For a bulk load into an empty register: the register's indexes may go until `endBulkRegisterLoad`.
    func beginBulkRegisterLoad() throws
    func endBulkRegisterLoad() throws
    func recordRegisterImport(id: Int64, _ result: RegisterImportResult, at: Timestamp, by: UserName) throws

    // Flags
    /// Days before a batch's creation in which an account change holds the beneficiary out; nil when never set.
    func changeWindowDays() throws -> Int?
    func setChangeWindowDays(_ days: Int) throws
    /// Appends to the settings' history: `key` took `value` at `at`, set by `by`.
    func recordSettingChange(key: String, value: String, at: Timestamp, by: UserName) throws
    /// Raises every flag the register calls for (`FlagKind`: shared numbers among active mobile-money beneficiaries,
    /// account changes at or after `windowStart`); a flag once cleared stays cleared for the same evidence. Returns how
    /// many were raised. One set-based statement per kind: a register of millions is checked in the database.
    func raiseFlags(at now: Timestamp, windowStart: Timestamp) throws -> Int
    /// Flags in id order: every one when `openSince` is nil, else the open ones that hold a beneficiary out at a
    /// moment whose change window began at `openSince`.
    func flags(openSince: Timestamp?) throws -> [FraudFlag]
    func flag(id: Int64) throws -> FraudFlag?
    func clearFlag(id: Int64, at: Timestamp, by: UserName, reason: String) throws

    // Rates and carriers
    func rateTable() throws -> RateTable
    /// `province` nil: the national level.
    func hasBaseLevel(from day: CalendarDate, province: String?) throws -> Bool
    func insertBaseLevel(_ level: RateTable.BaseLevel, at: Timestamp, by: UserName) throws
    func hasCategory(_ code: Code) throws -> Bool
    func hasCoefficient(of code: Code, from day: CalendarDate) throws -> Bool
    func insertCategory(_ category: RateTable.Category) throws
    func insertRate(_ rate: RateTable.CategoryRate, basis: String, at: Timestamp, by: UserName) throws
    func setting(_ key: String) throws -> String?
    func setSetting(_ key: String, _ value: String) throws
    func categoryCodes() throws -> Set<String>
    func carriers() throws -> [(code: Code, name: String)]
    func insertCarrier(_ code: Code, name: String) throws
    /// Alias keys (`CarrierAlias.key`) → carrier codes.
    func carrierAliases() throws -> [String: String]
    func insertCarrierAlias(_ key: String, carrier: Code, at: Timestamp, by: UserName) throws
    func communes() throws -> [Commune]
    /// Adds the commune or replaces its row, and makes its `replaces` the old codes read as it.
    func saveCommune(_ commune: Commune, at: Timestamp, by: UserName) throws
    /// Old commune codes → the listed commune each is now read as.
    func communeReplacements() throws -> [String: String]
}

package protocol BeneficiaryInserter {
    func insert(_ details: BeneficiaryDetails) throws -> BeneficiaryID
}

/// A history row about to be written.
package struct NewBeneficiaryEvent: Sendable {
    package let beneficiary: BeneficiaryID
    package let at: Timestamp
    package let by: UserName
    package let kind: BeneficiaryEvent.Kind
    package var field: String?
    package var oldValue: String?
    package var newValue: String?
    package var reason: String?
    package var importID: Int64?

    package init(beneficiary: BeneficiaryID, at: Timestamp, by: UserName, kind: BeneficiaryEvent.Kind, field: String? = nil,
                 oldValue: String? = nil, newValue: String? = nil, reason: String? = nil, importID: Int64? = nil) {
        self.beneficiary = beneficiary
        self.at = at
        self.by = by
        self.kind = kind
        self.field = field
        self.oldValue = oldValue
        self.newValue = newValue
        self.reason = reason
        self.importID = importID
    }
}

/// The import that brought the same bytes in before.
package struct PreviousRegisterImport: Sendable {
    package let at: String
    package let by: String
    package let lines: Int

    package init(at: String, by: String, lines: Int) {
        self.at = at
        self.by = by
        self.lines = lines
    }
}
