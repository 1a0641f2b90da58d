import Foundation
import LedgerPostgres
import Testing

/// A database of its own for a test on the run's server, dropped afterwards.
final class ScratchDatabase {
    let name: String
    let location: PostgresLocation
    private let admin: PGConnection

    init?(sourceLocation: SourceLocation = #_sourceLocation) throws {
        guard let admin = try TestServer.connect(sourceLocation: sourceLocation), let server = TestServer.location else { return nil }
        name = "allowance_t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        try admin.execute("CREATE DATABASE \(name)")
        let uri = server.uri
        let query = uri.firstIndex(of: "?").map { String(uri[$0...]) } ?? ""
        let path = uri.firstIndex(of: "?").map { String(uri[..<$0]) } ?? uri
        let base = path[..<path.index(after: path.lastIndex(of: "/")!)]
        location = PostgresLocation(base + name + query)!
        self.admin = admin
    }

    deinit { try? admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
}

@Suite(.serialized) struct SchemaTests {
    static let hash = String(repeating: "a", count: 64)

    /// Runs `sql`, which the database must refuse with an error whose words contain `words`.
    static func refused(_ db: PGConnection, _ sql: String, _ parameters: [String?], _ words: String, sourceLocation: SourceLocation) {
        do {
            try db.query(sql, parameters)
            Issue.record("taken: \(sql)", sourceLocation: sourceLocation)
        } catch let error as PGError {
            #expect(error.description.contains(words), "\(sql): \(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("\(error)", sourceLocation: sourceLocation)
        }
    }

    /// Beneficiaries (cash, ELDERLY_80) that items can name.
    static func register(_ db: PGConnection, ids: [Int]) throws {
        try db.query("INSERT INTO programme(code, name, basis) VALUES ('SOCIAL_ALLOWANCE', 'Monthly social allowance', 'Decree 20/2021/ND-CP')")
        try db.query("INSERT INTO category(code, description) VALUES ('ELDERLY_80', 'Elderly 80 and over without a pension')")
        for id in ids {
            try db.query("""
                INSERT INTO beneficiary(id, national_id, full_name, date_of_birth, gender, commune_code, category, payment_method, registered_at, registered_by)
                VALUES ($1::bigint, '0790400000' || lpad($1::text, 2, '0'), 'Người ' || $1::text, '1940-07-01', 'M', '26734', 'ELDERLY_80', 'cash', 'now', 'officer')
                """, [String(id)])
        }
    }

    func entry(_ db: PGConnection, id: Int, key: String) throws {
        try db.query("INSERT INTO journal_entry(id, at, kind, idempotency_key, memo, created_by, prev_hash, hash) VALUES ($1, $2, 'funding', $3, 'm', 'head', $4, $5)",
                     [String(id), "2026-12-08T00:00:00Z", key, Self.hash, Self.hash])
        try db.query("INSERT INTO posting(entry_id, leg, account, amount) VALUES ($1, 1, '1000', 500000), ($1, 2, '3000', -500000)", [String(id)])
    }

    @Test func migrationsApplyOnceAndTheJournalIsAppendOnlyInTheDatabase() throws {
        guard let scratch = try ScratchDatabase() else { return }
        let db = try PGConnection(scratch.location)
        #expect(try PostgresSchema.migrate(db) == PostgresSchema.migrations.map(\.version))
        #expect(try PostgresSchema.migrate(db).isEmpty)
        try entry(db, id: 1, key: "fund:1")
        try entry(db, id: 2, key: "fund:2")
        // The head moved with each entry, by the database's trigger.
        #expect(try db.query("SELECT entry_id, entries FROM journal_head") == [["2", "2"]])

        for (statement, words) in [("UPDATE journal_entry SET memo = 'rewritten' WHERE id = 1", "append-only"),
                                   ("DELETE FROM journal_entry WHERE id = 2", "append-only"),
                                   ("UPDATE posting SET amount = 1 WHERE entry_id = 1 AND leg = 1", "append-only"),
                                   ("DELETE FROM posting WHERE entry_id = 1", "append-only"),
                                   ("TRUNCATE posting", "append-only"),
                                   ("UPDATE journal_head SET entry_id = 1, entries = 3", "only moves forward"),
                                   ("DELETE FROM journal_head", "cannot be deleted")] {
            do {
                try db.execute(statement)
                Issue.record("\(statement) was taken")
            } catch let error as PGError {
                #expect(error.message.contains(words), "\(statement): \(error)")
            }
        }
        // A zero leg and a repeated idempotency key are refused too.
        #expect(throws: PGError.self) { try db.query("INSERT INTO posting(entry_id, leg, account, amount) VALUES (1, 3, '1000', 0)") }
        do {
            try entry(db, id: 3, key: "fund:1")
            Issue.record("a second entry with the same key was taken")
        } catch let error as PGError {
            #expect(error.isUniqueViolation)
        }
        #expect(try db.query("SELECT count(*), sum(amount) FROM posting") == [["4", "0"]])
    }

    @Test func makerIsNeverCheckerAndAnApprovedBatchStaysAsApproved() throws {
        guard let scratch = try ScratchDatabase() else { return }
        let db = try PGConnection(scratch.location)
        try PostgresSchema.migrate(db)
        func refused(_ sql: String, _ parameters: [String?] = [], _ words: String, sourceLocation: SourceLocation = #_sourceLocation) {
            Self.refused(db, sql, parameters, words, sourceLocation: sourceLocation)
        }
        try Self.register(db, ids: [7, 8])
        try db.query("INSERT INTO batch(id, period, scope, status, created_by, created_at) VALUES (1, '2026-12', '*', 'created', 'Officer.Lan', 'now')")
        let item = "INSERT INTO batch_item(id, batch_id, seq, reference, beneficiary_id, period, commune_code, category, method, account_name, amount) "
            + "VALUES ($1::bigint, 1, $1::bigint, 'AL-202612-000001-' || $1::text, $2::bigint, '2026-12', '26734', 'ELDERLY_80', 'cash', 'Trần Văn Hùng', 500000)"
        try db.query(item, ["1", "7"])
        try db.query(item, ["2", "8"])
        // The same person twice in a month is refused by the key, whatever writes the row.
        refused(item, ["3", "7"], "batch_item_once_per_period")
        // The creator approving, however they spell their name, is refused by the CHECK.
        refused("UPDATE batch SET status = 'approved', approved_by = ' officer.lan ', approved_at = 'now', item_count = 2, item_total = 1000000, item_digest = 'd' WHERE id = 1",
                [], "batch_maker_is_not_checker")
        // Unapproved: an item may go (a cancelled batch's items do).
        try db.query("DELETE FROM batch_item WHERE id = 2")
        try db.query("UPDATE batch SET status = 'approved', approved_by = 'head.minh', approved_at = 'now', item_count = 1, item_total = 500000, item_digest = 'd' WHERE id = 1")
        refused("UPDATE batch SET item_total = 1 WHERE id = 1", [], "an approved batch cannot change")
        refused("UPDATE batch SET one_off = 'Tết', one_off_amount = 1 WHERE id = 1", [], "one-off payment cannot change")
        refused("DELETE FROM batch WHERE id = 1", [], "an approved batch cannot be deleted")
        refused("DELETE FROM batch_item WHERE id = 1", [], "items of an approved batch cannot be deleted")
        refused("UPDATE batch_item SET msisdn = '84912345678' WHERE id = 1", [], "cannot change once created")
        // A payment state moves from paid to failed only (a reversal), never back to open.
        try db.query("INSERT INTO item_state(item_id, state) VALUES (1, 'paid')")
        try db.query("UPDATE item_state SET state = 'failed' WHERE item_id = 1")
        refused("UPDATE item_state SET state = 'paid' WHERE item_id = 1", [], "only moves from paid to failed")
        refused("DELETE FROM item_state WHERE item_id = 1", [], "never returns to open")
        // The journal names only batches and items that exist.
        refused("INSERT INTO journal_entry(id, at, kind, idempotency_key, batch_id, memo, created_by, prev_hash, hash) VALUES (1, 'now', 'entitlement', 'k', 99, 'm', 'head', $1, $1)",
                [Self.hash], "journal_entry_batch_fk")
    }

    @Test func theRegistersHistoryAndChainAreAppendOnlyAndItemsNameRealPeople() throws {
        guard let scratch = try ScratchDatabase() else { return }
        let db = try PGConnection(scratch.location)
        try PostgresSchema.migrate(db)
        try db.query("INSERT INTO programme(code, name, basis) VALUES ('SOCIAL_ALLOWANCE', 'Monthly social allowance', 'Decree 20/2021/ND-CP')")
        try db.query("INSERT INTO category(code, description) VALUES ('ELDERLY_80', 'Elderly 80 and over without a pension')")
        try db.query("""
            INSERT INTO beneficiary(id, national_id, full_name, date_of_birth, gender, commune_code, category, payment_method, carrier, msisdn,
                                    registered_at, registered_by)
            VALUES (1, '079040000002', 'Trần Văn Hùng', '1940-07-01', 'M', '26734', 'ELDERLY_80', 'mobile_money', 'VIETTEL', '84912345678', 'now', 'officer')
            """)
        try db.query("INSERT INTO beneficiary_event(id, beneficiary_id, at, by, kind) VALUES (1, 1, 'now', 'officer', 'registered')")
        try db.query("INSERT INTO register_link(id, at, by, beneficiaries_through, events_through, sealed, prev_hash, hash) VALUES (1, 'now', 'officer', 1, 1, 1, $1, $1)",
                     [Self.hash])
        try db.query("INSERT INTO beneficiary_seal(beneficiary_id, link_id, digest) VALUES (1, 1, decode(repeat('ab', 32), 'hex'))")
        #expect(try db.query("SELECT link_id FROM register_head") == [["1"]])
        for (statement, words) in [("UPDATE beneficiary_event SET reason = 'x'", "history is append-only"),
                                   ("DELETE FROM beneficiary_event", "history is append-only"),
                                   ("UPDATE beneficiary_seal SET link_id = 2", "register chain is append-only"),
                                   ("DELETE FROM register_link", "register chain is append-only"),
                                   ("TRUNCATE beneficiary_seal", "register chain is append-only"),
                                   ("UPDATE register_head SET link_id = 0", "only moves forward"),
                                   ("UPDATE beneficiary SET msisdn = '0912345678' WHERE id = 1", "beneficiary_msisdn_check"),
                                   ("INSERT INTO category(code, description, becomes, becomes_at_age) VALUES ('SELF', 'x', 'SELF', 80)", "category_check"),
                                   ("INSERT INTO category(code, description, programme) VALUES ('X', 'x', 'NOPE')", "category_programme_fkey")] {
            do {
                try db.execute(statement)
                Issue.record("\(statement) was taken")
            } catch let error as PGError {
                #expect(error.description.contains(words), "\(statement): \(error)")
            }
        }
        // An item for nobody in the register is refused by its key.
        try db.query("INSERT INTO batch(id, period, scope, status, created_by, created_at) VALUES (1, '2026-12', '*', 'created', 'officer', 'now')")
        do {
            try db.query("""
                INSERT INTO batch_item(id, batch_id, seq, reference, beneficiary_id, period, commune_code, category, method, account_name, amount)
                VALUES (1, 1, 1, 'AL-202612-000001-0000001', 99, '2026-12', '26734', 'ELDERLY_80', 'cash', 'Ai Đó', 500000)
                """)
            Issue.record("an item for a beneficiary who does not exist was taken")
        } catch let error as PGError {
            #expect(error.description.contains("batch_item_beneficiary_fk"))
        }
    }

    @Test func outcomesRatesLogsAndAccountsHoldTheirRulesInTheDatabase() throws {
        guard let scratch = try ScratchDatabase() else { return }
        let db = try PGConnection(scratch.location)
        try PostgresSchema.migrate(db)
        func refused(_ sql: String, _ parameters: [String?] = [], _ words: String, sourceLocation: SourceLocation = #_sourceLocation) {
            Self.refused(db, sql, parameters, words, sourceLocation: sourceLocation)
        }
        try Self.register(db, ids: [7])
        try db.query("INSERT INTO batch(id, period, scope, status, created_by, created_at) VALUES (1, '2026-12', '*', 'created', 'officer', 'now')")
        try db.query("""
            INSERT INTO batch_item(id, batch_id, seq, reference, beneficiary_id, period, commune_code, category, method, account_name, amount)
            VALUES (1, 1, 1, 'AL-202612-000001-0000001', 7, '2026-12', '26734', 'ELDERLY_80', 'cash', 'Trần Văn Hùng', 500000)
            """)
        // A result file's line count is filled in once; nothing else about it changes, and it never goes.
        try db.query("""
            INSERT INTO result_file(id, batch_id, sha256, file_name, byte_size, profile, profile_sha256, imported_at, imported_by, lines)
            VALUES (1, 1, $1, 'viettel.csv', 10, 'generic', $1, 'now', 'auditor', 0)
            """, [Self.hash])
        try db.query("UPDATE result_file SET lines = 2 WHERE id = 1")
        refused("UPDATE result_file SET sha256 = $1 WHERE id = 1", [String(repeating: "b", count: 64)], "an imported result file cannot change")
        refused("DELETE FROM result_file WHERE id = 1", [], "cannot be deleted")
        let line = """
            INSERT INTO result_line(file_id, line, outcome, effect, item_id, reference, status, carrier_txn_id, completed_at, reason_code,
                                    reason_text, note, fingerprint, leg) VALUES (1, $1::bigint, 'paid', 'settle', $2::bigint, NULL, 'paid', 'T1', 'now', '', '', '', 1, 1)
            """
        try db.query(line, ["2", "1"])
        refused(line, ["3", "99"], "result_line_item_id_fkey")
        refused("UPDATE result_line SET outcome = 'failed'", [], "append-only")
        refused("DELETE FROM result_line", [], "append-only")
        refused("TRUNCATE result_line", [], "append-only")
        refused("""
            INSERT INTO result_line(file_id, line, outcome, effect, reference, carrier_txn_id, completed_at, reason_code, reason_text, note,
                                    fingerprint, leg) VALUES (1, 4, 'unknown_reference', 'settle', 'AL-x', '', '', '', '', '', 0, 1)
            """, [], "check constraint")
        // Rates are dated history; a rate is a coefficient or an amount, never both.
        try db.query("INSERT INTO base_level(province, effective_from, amount, created_at, created_by) VALUES ('', '2024-07-01', 500000, 'now', 'head')")
        refused("UPDATE base_level SET amount = 1", [], "a base level once set is history")
        refused("""
            INSERT INTO category_rate(category, effective_from, coefficient_milli, amount, created_at, created_by)
            VALUES ('ELDERLY_80', '2024-07-01', 1500, 750000, 'now', 'head')
            """, [], "check constraint")
        refused("INSERT INTO base_level(effective_from, amount, created_at, created_by) VALUES ('1/7/2024', 1, 'now', 'head')", [], "check constraint")
        // A flag is cleared once, with who and why.
        try db.query("""
            INSERT INTO flag(id, beneficiary_id, kind, evidence, evidence_at, detail, raised_at) VALUES (1, 7, 'shared_msisdn', 'e', 'now', 'd', 'now')
            """)
        refused("UPDATE flag SET cleared_at = 'now' WHERE id = 1", [], "check constraint")
        try db.query("UPDATE flag SET cleared_at = 'now', cleared_by = 'head', clear_reason = 'checked in person' WHERE id = 1")
        refused("UPDATE flag SET cleared_by = 'somebody else' WHERE id = 1", [], "a flag is only cleared, once")
        refused("DELETE FROM flag", [], "clear it instead")
        // Logs are history.
        for (table, columns, values) in [("setting_event", "id, key, value, at, by", "1, 'k', 'v', 'now', 'head'"),
                                          ("disclosure", "id, at, by, what", "1, 'now', 'auditor', 'register revealed'"),
                                          ("operator_log", "id, at, actor, os_account, host, command", "1, 'now', 'a', 'root', 'h', 'c'"),
                                          ("activity", "id, at, account, what, detail", "1, 'now', 'lan', 'login', ''"),
                                          ("audit_export", "id, created_at, created_by, directory, scope, pii, key_id, journal_head_entry_id, manifest_sha256",
                                           "1, 'now', 'auditor', '/x', '*', 'masked', 'k', 0, '\(Self.hash)'")] {
            try db.query("INSERT INTO \(table)(\(columns)) VALUES (\(values))")
            // restrict_violation: the refusal of every append-only table.
            refused("UPDATE \(table) SET id = 2", [], "SQLSTATE 23001")
            refused("DELETE FROM \(table)", [], "SQLSTATE 23001")
        }
        // One account per name whatever its case; the read-only role never reads password hashes or sessions.
        let account = "INSERT INTO account(name, role, created_at, created_by, password_hash) VALUES ($1, 'officer', 'now', 'admin', 'h')"
        try db.query(account, ["Lan"])
        refused(account, ["LAN"], "account_name_any_case")
        try db.execute("SET ROLE \(PostgresSchema.readOnlyRole)")
        refused("SELECT * FROM account", [], "permission denied")
        #expect(try db.query("SELECT count(*) FROM result_line") == [["1"]])
        try db.execute("RESET ROLE")
    }

    @Test func theApplicationRoleAppendsAndTheReadOnlyRoleReads() throws {
        guard let scratch = try ScratchDatabase() else { return }
        let db = try PGConnection(scratch.location)
        try PostgresSchema.migrate(db)
        let app = PostgresSchema.applicationRole, read = PostgresSchema.readOnlyRole
        func may(_ role: String, _ table: String, _ privilege: String) throws -> Bool {
            try db.query("SELECT has_table_privilege($1, $2, $3)", [role, table, privilege]) == [["t"]]
        }
        for table in ["journal_entry", "posting"] {
            #expect(try may(app, table, "INSERT") && may(app, table, "SELECT"))
            #expect(try !may(app, table, "UPDATE") && !may(app, table, "DELETE") && !may(app, table, "TRUNCATE"))
            #expect(try may(read, table, "SELECT") && !may(read, table, "INSERT"))
        }
        // Acting as the application's role: appending works, changing is refused by the grants before any trigger.
        try db.execute("SET ROLE \(app)")
        try entry(db, id: 1, key: "fund:1")
        do {
            try db.execute("UPDATE journal_entry SET memo = 'x'")
            Issue.record("the application's role changed the journal")
        } catch let error as PGError {
            #expect(error.sqlState == "42501")
        }
        try db.execute("RESET ROLE; SET ROLE \(read)")
        #expect(try db.query("SELECT count(*) FROM posting") == [["2"]])
        #expect(throws: PGError.self) { try entry(db, id: 2, key: "fund:2") }
        try db.execute("RESET ROLE")
    }

    @Test func twoProcessesOpeningANewLedgerApplyEachMigrationOnce() throws {
        guard let scratch = try ScratchDatabase() else { return }
        let location = scratch.location
        let results = Results()
        let threads = (0..<2).map { _ in
            Thread {
                do {
                    let db = try PGConnection(location)
                    results.add(try PostgresSchema.migrate(db))
                } catch {
                    results.add(error)
                }
            }
        }
        threads.forEach { $0.start() }
        while results.count < 2 { Thread.sleep(forTimeInterval: 0.02) }
        #expect(results.errors.isEmpty, "\(results.errors)")
        #expect(results.applied.flatMap { $0 }.sorted() == PostgresSchema.migrations.map(\.version))
        let db = try PGConnection(location)
        #expect(try db.query("SELECT count(*) FROM schema_migration") == [[String(PostgresSchema.migrations.count)]])
    }
}

final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var applied: [[Int]] = []
    private(set) var errors: [String] = []
    var count: Int { lock.withLock { applied.count + errors.count } }
    func add(_ versions: [Int]) { lock.withLock { applied.append(versions) } }
    func add(_ error: any Error) { lock.withLock { errors.append("\(error)") } }
}
