import AllowanceLedger
import GRDB

/// A feature's statements on one connection, inside the transaction the storage opened: the registry's here, the
/// others' in their folders.
struct SQLiteTransaction: RegistryTransaction {
    let db: Database
    /// The beneficiaries whose rows this transaction found as the register last sealed them: checked once, before the
    /// transaction's first change to each.
    private let sealChecked = SealChecks()

    init(db: Database) {
        self.db = db
    }

    private final class SealChecks {
        var ids: Set<Int64> = []
    }

    private func checkSealed(_ id: BeneficiaryID) throws {
        guard sealChecked.ids.insert(id.rawValue).inserted else { return }
        try Store.checkSealed(db, beneficiary: id)
    }

    func beneficiary(id: BeneficiaryID) throws -> Beneficiary? {
        try Store.fetchBeneficiary(db, id: id)
    }

    func beneficiary(nationalID: NationalID) throws -> Beneficiary? {
        try Store.fetchBeneficiary(db, nationalID: nationalID)
    }

    func beneficiaries(_ filter: BeneficiaryFilter) throws -> [Beneficiary] {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let commune = filter.commune { conditions.append("commune_code = ?"); arguments += [commune.value] }
        if let status = filter.status { conditions.append("status = ?"); arguments += [status.rawValue] }
        if let method = filter.method { conditions.append("payment_method = ?"); arguments += [method.rawValue] }
        if !filter.communes.isEmpty {
            conditions.append("commune_code IN (" + filter.communes.map { _ in "?" }.joined(separator: ",") + ")")
            for commune in filter.communes { arguments += [commune.value] }
        }
        // A name is matched without diacritics (`allowance_fold`, CSQLiteTuning): the register streams past it in SQLite.
        if let name = filter.name, !name.trimmingSpaces.isEmpty {
            conditions.append("instr(allowance_fold(full_name), allowance_fold(?)) > 0")
            arguments += [name]
        }
        var sql = "SELECT \(Store.beneficiaryColumns) FROM beneficiary"
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        sql += " ORDER BY id"
        if let limit = filter.limit { sql += " LIMIT \(max(0, limit))" }
        return try Row.fetchAll(db, sql: sql, arguments: arguments).map(Store.beneficiary(from:))
    }

    func events(of beneficiary: BeneficiaryID) throws -> [BeneficiaryEvent] {
        try Row.fetchAll(db, sql: """
            SELECT at, by, kind, field, old_value, new_value, reason FROM beneficiary_event
            WHERE beneficiary_id = ? ORDER BY id
            """, arguments: [beneficiary.rawValue]).map { row in
            BeneficiaryEvent(at: row[0], by: row[1], kind: BeneficiaryEvent.Kind(rawValue: row[2]) ?? .updated,
                             field: row[3], oldValue: row[4], newValue: row[5], reason: row[6])
        }
    }

    func isRegisterEmpty() throws -> Bool {
        try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM beneficiary")! == 0
    }

    func insertBeneficiary(_ details: BeneficiaryDetails, at: Timestamp, by: UserName) throws -> BeneficiaryID {
        try Store.insertBeneficiary(db, details, at: at.description, by: by)
    }

    func beneficiaryInserter(at: Timestamp, by: UserName) throws -> any BeneficiaryInserter {
        try BeneficiaryInsert(db, at: at.description, by: by)
    }

    func updateBeneficiary(_ id: BeneficiaryID, to details: BeneficiaryDetails) throws {
        try checkSealed(id)
        let statement = try FastStatement(db, """
            UPDATE beneficiary SET full_name = ?, date_of_birth = ?, gender = ?, commune_code = ?, category = ?,
                payment_method = ?, carrier = ?, msisdn = ?, household_status = ? WHERE id = ?
            """)
        statement.bind(1, details.fullName)
        statement.bind(2, details.dateOfBirth.description)
        statement.bind(3, details.gender.rawValue)
        statement.bind(4, details.commune.value)
        statement.bind(5, details.category.value)
        statement.bind(6, details.paymentMethod.rawValue)
        statement.bind(7, details.account?.carrier.value)
        statement.bind(8, details.account?.msisdn.canonical)
        statement.bind(9, details.householdStatus?.rawValue)
        statement.bind(10, id.rawValue)
        try statement.run()
    }

    func setStatus(of id: BeneficiaryID, to status: BeneficiaryStatus) throws {
        try checkSealed(id)
        try db.execute(sql: "UPDATE beneficiary SET status = ? WHERE id = ?", arguments: [status.rawValue, id.rawValue])
    }

    func insertEvent(_ event: NewBeneficiaryEvent) throws {
        try checkSealed(event.beneficiary)
        try Store.insertEvent(db, beneficiary: event.beneficiary, at: event.at, by: event.by, kind: event.kind, field: event.field,
                              old: event.oldValue, new: event.newValue, reason: event.reason, importID: event.importID)
    }

    func eventActor(id: Int64) throws -> String? {
        try String.fetchOne(db, sql: "SELECT by FROM beneficiary_event WHERE id = ?", arguments: [id])
    }

    func sealRegister(at: Timestamp, by: UserName) throws {
        try Store.sealRegister(db, at: at.description, by: by.value)
    }

    func registerImport(sha256: String) throws -> PreviousRegisterImport? {
        try Row.fetchOne(db, sql: "SELECT imported_at, imported_by, lines FROM register_import WHERE sha256 = ?",
                         arguments: [sha256]).map { PreviousRegisterImport(at: $0[0], by: $0[1], lines: $0[2]) }
    }

    func nextRegisterImportID() throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) + 1 FROM register_import")!
    }

    /// Into an empty register, a million rows go in faster without the indexes, rebuilt at the end in one sort each.
    func beginBulkRegisterLoad() throws {
        for index in Migrations.beneficiaryIndexes { try db.execute(sql: "DROP INDEX \(index.name)") }
    }

    func endBulkRegisterLoad() throws {
        for index in Migrations.beneficiaryIndexes { try db.execute(sql: index.sql) }
    }

    func recordRegisterImport(id: Int64, _ result: RegisterImportResult, at: Timestamp, by: UserName) throws {
        try db.execute(sql: """
            INSERT INTO register_import(id, sha256, file_name, imported_at, imported_by, lines, created, updated, unchanged, rejected)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [id, result.sha256, result.file, at.description, by.value, result.lines, result.created,
                             result.updated, result.unchanged, result.rejected])
    }

    func changeWindowDays() throws -> Int? {
        try String.fetchOne(db, sql: "SELECT value FROM setting WHERE key = 'account_change_window_days'").flatMap { Int($0) }
    }

    func setChangeWindowDays(_ days: Int) throws {
        try db.execute(sql: """
            INSERT INTO setting(key, value) VALUES ('account_change_window_days', ?)
            ON CONFLICT(key) DO UPDATE SET value = excluded.value
            """, arguments: [String(days)])
    }

    func recordSettingChange(key: String, value: String, at: Timestamp, by: UserName) throws {
        try db.execute(sql: "INSERT INTO setting_event(key, value, at, by) VALUES (?, ?, ?, ?)",
                       arguments: [key, value, at.description, by.value])
    }

    func raiseFlags(at now: Timestamp, windowStart: Timestamp) throws -> Int {
        try Store.raiseFlags(db, at: now, windowStart: windowStart)
    }

    func flags(openSince: Timestamp?) throws -> [FraudFlag] {
        let condition = openSince == nil ? "1" : Store.openFlagCondition
        return try Row.fetchAll(db, sql: """
            SELECT \(Store.flagColumns) FROM flag f WHERE \(condition) ORDER BY f.id
            """, arguments: openSince.map { [$0.description] } ?? []).map(Store.flag(from:))
    }

    func flag(id: Int64) throws -> FraudFlag? {
        try Row.fetchOne(db, sql: "SELECT \(Store.flagColumns) FROM flag f WHERE f.id = ?", arguments: [id]).map(Store.flag(from:))
    }

    func clearFlag(id: Int64, at: Timestamp, by: UserName, reason: String) throws {
        try db.execute(sql: "UPDATE flag SET cleared_at = ?, cleared_by = ?, clear_reason = ? WHERE id = ?",
                       arguments: [at.description, by.value, reason, id])
    }

    func rateTable() throws -> RateTable {
        try Store.loadRates(db)
    }

    func hasBaseLevel(from day: CalendarDate, province: String?) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT 1 FROM base_level WHERE province = ? AND effective_from = ?",
                          arguments: [province ?? "", day.description]) == true
    }

    func insertBaseLevel(_ level: RateTable.BaseLevel, at: Timestamp, by: UserName) throws {
        try db.execute(sql: "INSERT INTO base_level(province, effective_from, amount, basis, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)",
                       arguments: [level.province ?? "", level.effectiveFrom.description, level.amount.dong, level.basis, at.description, by.value])
    }

    func setting(_ key: String) throws -> String? {
        try String.fetchOne(db, sql: "SELECT value FROM setting WHERE key = ?", arguments: [key])
    }

    func setSetting(_ key: String, _ value: String) throws {
        try db.execute(sql: "INSERT INTO setting(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                       arguments: [key, value])
    }

    func hasCategory(_ code: Code) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT 1 FROM category WHERE code = ?", arguments: [code.value]) == true
    }

    func hasCoefficient(of code: Code, from day: CalendarDate) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT 1 FROM category_rate WHERE category = ? AND effective_from = ?",
                          arguments: [code.value, day.description]) == true
    }

    func insertCategory(_ category: RateTable.Category) throws {
        try db.execute(sql: """
            INSERT INTO category(code, description, programme, qualifies_from_age, qualifies_from_age_poor, becomes, becomes_at_age)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """, arguments: [category.code.value, category.description, category.programme.value, category.qualifiesFromAge,
                             category.qualifiesFromAgePoorHousehold, category.becomes?.value, category.becomesAtAge])
    }

    func insertRate(_ rate: RateTable.CategoryRate, basis: String, at: Timestamp, by: UserName) throws {
        try db.execute(sql: """
            INSERT INTO category_rate(category, effective_from, coefficient_milli, amount, basis, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?)
            """, arguments: [rate.category.value, rate.effectiveFrom.description, rate.coefficient?.milli, rate.amount?.dong, basis,
                             at.description, by.value])
    }

    func categoryCodes() throws -> Set<String> {
        Set(try String.fetchAll(db, sql: "SELECT code FROM category"))
    }

    func carriers() throws -> [(code: Code, name: String)] {
        try Row.fetchAll(db, sql: "SELECT code, name FROM carrier ORDER BY code").map { (Code(trusted: $0[0]), $0[1]) }
    }

    func carrierAliases() throws -> [String: String] {
        var aliases: [String: String] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT alias, carrier FROM carrier_alias") { aliases[row[0]] = row[1] }
        return aliases
    }

    func insertCarrierAlias(_ key: String, carrier: Code, at: Timestamp, by: UserName) throws {
        try db.execute(sql: "INSERT INTO carrier_alias(alias, carrier, created_at, created_by) VALUES (?, ?, ?, ?)",
                       arguments: [key, carrier.value, at.description, by.value])
    }

    func communes() throws -> [Commune] {
        var replaces: [String: [String]] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT old_code, code FROM commune_replacement ORDER BY old_code") {
            replaces[row[1], default: []].append(row[0])
        }
        return try Row.fetchAll(db, sql: "SELECT code, name, province_code, province_name, valid_from, source FROM commune ORDER BY code").map { row in
            Commune(code: Code(trusted: row[0]), name: row[1], provinceCode: Code(trusted: row[2]), provinceName: row[3],
                    validFrom: try CalendarDate(parsing: row[4]), replaces: replaces[row[0]] ?? [], source: row[5])
        }
    }

    func saveCommune(_ commune: Commune, at: Timestamp, by: UserName) throws {
        try db.execute(sql: """
            INSERT INTO commune(code, name, province_code, province_name, valid_from, source, updated_at, updated_by)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(code) DO UPDATE SET name = excluded.name, province_code = excluded.province_code,
                province_name = excluded.province_name, valid_from = excluded.valid_from, source = excluded.source,
                updated_at = excluded.updated_at, updated_by = excluded.updated_by
            """, arguments: [commune.code.value, commune.name, commune.provinceCode.value, commune.provinceName, commune.validFrom.description,
                             commune.source, at.description, by.value])
        try db.execute(sql: "DELETE FROM commune_replacement WHERE code = ?", arguments: [commune.code.value])
        for old in commune.replaces {
            try db.execute(sql: """
                INSERT INTO commune_replacement(old_code, code) VALUES (?, ?) ON CONFLICT(old_code) DO UPDATE SET code = excluded.code
                """, arguments: [old, commune.code.value])
        }
    }

    func communeReplacements() throws -> [String: String] {
        var replacements: [String: String] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT old_code, code FROM commune_replacement") { replacements[row[0]] = row[1] }
        return replacements
    }

    func insertCarrier(_ code: Code, name: String) throws {
        try db.execute(sql: "INSERT INTO carrier(code, name) VALUES (?, ?)", arguments: [code.value, name])
    }
}

extension Migrations {
    /// The official communes (issue 22) and the older codes each replaced; a code is listed or replaced, never both.
    static let communesV16 = """
    CREATE TABLE commune(
        code TEXT PRIMARY KEY CHECK(length(code) BETWEEN 1 AND 16),
        name TEXT NOT NULL CHECK(length(name) BETWEEN 1 AND 800),
        province_code TEXT NOT NULL CHECK(length(province_code) BETWEEN 1 AND 16),
        province_name TEXT NOT NULL CHECK(length(province_name) BETWEEN 1 AND 800),
        valid_from TEXT NOT NULL,
        source TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        updated_by TEXT NOT NULL);
    CREATE TABLE commune_replacement(
        old_code TEXT PRIMARY KEY CHECK(length(old_code) BETWEEN 1 AND 16),
        code TEXT NOT NULL REFERENCES commune(code),
        CHECK(old_code <> code));
    CREATE INDEX commune_replacement_code ON commune_replacement(code);
    """

    /// Aliases are stored by their key (`CarrierAlias.key`: upper case, single spaces).
    static let carrierAliasesV15 = """
    CREATE TABLE carrier_alias(
        alias TEXT PRIMARY KEY CHECK(length(alias) BETWEEN 1 AND 60 AND alias = upper(alias)),
        carrier TEXT NOT NULL REFERENCES carrier(code),
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL);
    INSERT INTO carrier_alias(alias, carrier, created_at, created_by)
        SELECT alias, carrier, '2026-12-07T00:00:00Z', 'migration v15' FROM (
            SELECT 'VIETTEL MONEY' AS alias, 'VIETTEL' AS carrier UNION ALL SELECT 'VIETTELPAY', 'VIETTEL'
            UNION ALL SELECT 'VIETTEL PAY', 'VIETTEL' UNION ALL SELECT 'VNPT MONEY', 'VNPT' UNION ALL SELECT 'VNPT PAY', 'VNPT'
            UNION ALL SELECT 'VNPTPAY', 'VNPT' UNION ALL SELECT 'MOBIFONE MONEY', 'MOBIFONE' UNION ALL SELECT 'MOBIMONEY', 'MOBIFONE'
            UNION ALL SELECT 'MOBI MONEY', 'MOBIFONE')
        WHERE carrier IN (SELECT code FROM carrier);
    """
}

extension Store {
    /// Benefit programmes as dated data (issue 22). `category_rate` and `base_level` are rebuilt: a rate is now a
    /// coefficient or a fixed amount, and a base level may be a province's. Nothing references either table.
    static let benefitsV17 = """
    CREATE TABLE programme(
        code TEXT PRIMARY KEY CHECK(length(code) BETWEEN 1 AND 40),
        name TEXT NOT NULL CHECK(length(name) BETWEEN 1 AND 200),
        basis TEXT NOT NULL);
    INSERT INTO programme(code, name, basis) VALUES
        ('SOCIAL_ALLOWANCE', 'Monthly social allowance (trợ cấp xã hội hằng tháng)', 'Decree 20/2021/ND-CP; base level from Decree 76/2024/ND-CP'),
        ('SOCIAL_PENSION', 'Social pension (trợ cấp hưu trí xã hội)', 'Law on Social Insurance 41/2024/QH15, Articles 21-22; Decree 176/2025/ND-CP');

    ALTER TABLE category ADD COLUMN programme TEXT NOT NULL DEFAULT 'SOCIAL_ALLOWANCE';
    ALTER TABLE category ADD COLUMN qualifies_from_age INTEGER CHECK(qualifies_from_age IS NULL OR qualifies_from_age BETWEEN 0 AND 150);
    ALTER TABLE category ADD COLUMN qualifies_from_age_poor INTEGER
        CHECK(qualifies_from_age_poor IS NULL OR qualifies_from_age_poor BETWEEN 0 AND 150);
    ALTER TABLE category ADD COLUMN becomes TEXT CHECK(becomes IS NULL OR becomes <> code);
    ALTER TABLE category ADD COLUMN becomes_at_age INTEGER
        CHECK((becomes IS NULL) = (becomes_at_age IS NULL) AND (becomes_at_age IS NULL OR becomes_at_age BETWEEN 0 AND 150));
    CREATE TRIGGER category_programme_known BEFORE INSERT ON category
    WHEN NOT EXISTS (SELECT 1 FROM programme WHERE code = NEW.programme)
    BEGIN SELECT RAISE(ABORT, 'a category belongs to a known programme'); END;

    CREATE TABLE category_rate_v17(
        category TEXT NOT NULL REFERENCES category(code),
        effective_from TEXT NOT NULL CHECK(effective_from GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
        coefficient_milli INTEGER CHECK(coefficient_milli IS NULL OR (typeof(coefficient_milli) = 'integer' AND coefficient_milli > 0)),
        amount INTEGER CHECK(amount IS NULL OR (typeof(amount) = 'integer' AND amount > 0)),
        basis TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL,
        CHECK((coefficient_milli IS NULL) <> (amount IS NULL)),
        PRIMARY KEY(category, effective_from));
    INSERT INTO category_rate_v17(category, effective_from, coefficient_milli, basis, created_at, created_by)
        SELECT category, effective_from, coefficient_milli, CASE created_by WHEN 'seed' THEN 'Decree 20/2021/ND-CP' ELSE '' END,
               created_at, created_by FROM category_rate;
    DROP TABLE category_rate;
    ALTER TABLE category_rate_v17 RENAME TO category_rate;

    CREATE TABLE base_level_v17(
        province TEXT NOT NULL DEFAULT '' CHECK(length(province) <= 16),
        effective_from TEXT NOT NULL CHECK(effective_from GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
        amount INTEGER NOT NULL CHECK(typeof(amount) = 'integer' AND amount > 0),
        basis TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL,
        PRIMARY KEY(province, effective_from));
    INSERT INTO base_level_v17(province, effective_from, amount, basis, created_at, created_by)
        SELECT '', effective_from, amount,
               CASE WHEN created_by <> 'seed' THEN '' WHEN effective_from = '2021-07-01' THEN 'Decree 20/2021/ND-CP, Article 4'
                    ELSE 'Decree 76/2024/ND-CP' END,
               created_at, created_by FROM base_level;
    DROP TABLE base_level;
    ALTER TABLE base_level_v17 RENAME TO base_level;

    -- The age rules of Decree 20/2021 (Article 5): 2.0 from 80 for elderly of poor households with no supporter; 2.5
    -- under 4 years for orphans, 1.5 from 4.
    UPDATE category SET becomes = 'ELDERLY_POOR_80', becomes_at_age = 80
        WHERE code = 'ELDERLY_POOR' AND EXISTS (SELECT 1 FROM category WHERE code = 'ELDERLY_POOR_80');
    UPDATE category SET becomes = 'ORPHAN', becomes_at_age = 4
        WHERE code = 'ORPHAN_UNDER_4' AND EXISTS (SELECT 1 FROM category WHERE code = 'ORPHAN');
    -- The social pension: 75 and over with no pension, 70 to 75 in a poor or near-poor household; 500,000 đ a month
    -- from 2025-07-01.
    INSERT INTO category(code, description, programme, qualifies_from_age, qualifies_from_age_poor)
        SELECT 'SOCIAL_PENSION', 'Social pension: 75 and over without a pension, or 70 and over in a poor or near-poor household',
               'SOCIAL_PENSION', 75, 70
        WHERE NOT EXISTS (SELECT 1 FROM category WHERE code = 'SOCIAL_PENSION');
    INSERT INTO category_rate(category, effective_from, amount, basis, created_at, created_by)
        SELECT 'SOCIAL_PENSION', '2025-07-01', 500000, 'Decree 176/2025/ND-CP', '2025-07-01T00:00:00Z', 'seed'
        WHERE NOT EXISTS (SELECT 1 FROM category_rate WHERE category = 'SOCIAL_PENSION');

    ALTER TABLE beneficiary ADD COLUMN household_status TEXT
        CHECK(household_status IS NULL OR household_status = 'poor' OR household_status = 'near_poor');

    -- A one-off payment (a Tết gift): its name, paid once to a person, and its amount per person.
    ALTER TABLE batch ADD COLUMN one_off TEXT CHECK(one_off IS NULL OR length(one_off) BETWEEN 1 AND 200);
    ALTER TABLE batch ADD COLUMN one_off_amount INTEGER CHECK((one_off IS NULL) = (one_off_amount IS NULL) AND (one_off_amount IS NULL OR one_off_amount > 0));
    CREATE TRIGGER batch_one_off_frozen BEFORE UPDATE OF one_off, one_off_amount ON batch
    BEGIN SELECT RAISE(ABORT, 'a batch''s one-off payment cannot change once created'); END;
    ALTER TABLE batch_item ADD COLUMN one_off TEXT NOT NULL DEFAULT '';
    DROP INDEX batch_item_once_per_period;
    CREATE UNIQUE INDEX batch_item_once_per_period ON batch_item(beneficiary_id, period, attempt, one_off);
    CREATE INDEX batch_one_off ON batch(one_off) WHERE one_off IS NOT NULL;
    """
}
