import AllowanceLedger
import GRDB

/// The schema, one migration per shipped change; a shipped migration is never edited.
enum Migrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-schema") { db in
            try db.execute(sql: schemaV1)
        }
        migrator.registerMigration("v1-seed") { db in
            try db.execute(sql: seedV1)
        }
        migrator.registerMigration("v2-reconcile") { db in
            try db.execute(sql: reconcileV2)
        }
        migrator.registerMigration("v3-audit") { db in
            try db.execute(sql: auditV3)
        }
        migrator.registerMigration("v4-report-indexes") { db in
            try db.execute(sql: reportIndexesV4)
        }
        migrator.registerMigration("v5-item-state") { db in
            // A state outside the four (written by hand) would fail the new table's CHECK with SQLite's bare message.
            if let row = try Row.fetchOne(db, sql: """
                SELECT id, state, (SELECT COUNT(*) FROM batch_item WHERE state NOT IN ('open', 'paid', 'failed', 'paid_cash'))
                FROM batch_item WHERE state NOT IN ('open', 'paid', 'failed', 'paid_cash') ORDER BY id LIMIT 1
                """) {
                throw DatabaseError(resultCode: .SQLITE_CONSTRAINT, message: """
                    cannot upgrade the ledger: \(row[2] as Int) batch item(s) have a payment state that is none of open, paid, failed, \
                    paid_cash (item \(row[0] as Int64): "\(row[1] as String)"); the file was edited by hand, restore it from a copy
                    """)
            }
            try db.execute(sql: itemStateV5)
        }
        migrator.registerMigration("v6-posting-indexes") { db in
            try db.execute(sql: postingIndexesV6)
        }
        // From here on a migration checks the foreign keys of what it rebuilt itself (`checkForeignKeys`): GRDB's
        // check after each migration reads every key of the whole ledger, 1.3 s of v7's upgrade at a million items, and
        // refused an upgrade for a dangling key the migration had nothing to do with. v7 shipped with GRDB's check; the
        // schema it makes is unchanged (the same SQL), only what it checks before committing. Every migration added
        // below runs with no key check unless it calls `checkForeignKeys` for the tables it rebuilds.
        migrator = migrator.disablingDeferredForeignKeyChecks()
        migrator.registerMigration("v7-item-reference-derived") { db in
            // Every writer made the reference from the item's month, batch and seq; one that differs was edited by hand,
            // and could no longer be found through (batch, seq). Rewriting what a payee was paid under is not for a
            // migration to do.
            if let row = try Row.fetchOne(db, sql: """
                SELECT id, CAST(reference AS TEXT), (SELECT COUNT(*) FROM batch_item WHERE reference IS NOT \(itemReferenceFunction))
                FROM batch_item WHERE reference IS NOT \(itemReferenceFunction) ORDER BY id LIMIT 1
                """) {
                throw DatabaseError(resultCode: .SQLITE_CONSTRAINT, message: """
                    cannot upgrade the ledger: \(row[2] as Int) batch item(s) have a reference that is not made from their month, \
                    batch and seq (item \(row[0] as Int64): "\(row[1] as String)"); the file was edited by hand, restore it from a copy
                    """)
            }
            try db.execute(sql: itemReferenceV7)
            // Every item keeps its id (the copy is all or nothing), so what points at items (postings, outcome lines,
            // states) points where it did; the items' own keys are checked.
            try checkForeignKeys(db, of: "batch_item")
        }
        migrator.registerMigration("v8-result-line-item-index") { db in
            try db.execute(sql: resultLineItemIndexV8)
        }
        migrator.registerMigration("v9-setting-events") { db in
            try db.execute(sql: settingEventsV9)
        }
        migrator.registerMigration("v10-disclosure") { db in
            try db.execute(sql: disclosureV10)
        }
        migrator.registerMigration("v11-register-chain") { db in
            try db.execute(sql: registerChainV11)
            try sealExistingRegister(db)
        }
        migrator.registerMigration("v12-operators-and-carrier-words") { db in
            try db.execute(sql: operatorsAndCarrierWordsV12)
        }
        migrator.registerMigration("v13-accounts") { db in
            try db.execute(sql: accountsV13)
        }
        // Each account's language for the pages, so that it follows the person from one browser to the next.
        migrator.registerMigration("v14-account-language") { db in
            try db.execute(sql: "ALTER TABLE account ADD COLUMN language TEXT NOT NULL DEFAULT 'vi' CHECK(language = 'vi' OR language = 'en')")
        }
        // Carrier names as people write them in a register (issue 21), the seeded carriers' usual names among them.
        migrator.registerMigration("v15-carrier-aliases") { db in
            try db.execute(sql: carrierAliasesV15)
        }
        // Communes by name and the codes merged into them since 2025-07-01 (issue 22).
        migrator.registerMigration("v16-communes") { db in
            try db.execute(sql: communesV16)
        }
        // Benefit programmes, fixed amounts, provincial base levels, age rules, household status, one-off payments
        // (issue 22).
        migrator.registerMigration("v17-benefits") { db in
            try db.execute(sql: Store.benefitsV17)
        }
        // Each item's legs in a table of their own, written sorted (issue 17).
        migrator.registerMigration("v18-posting-item-table") { db in
            try db.execute(sql: postingItemTableV18)
        }
        return migrator
    }

    /// GRDB's check after the migrations up to v6 refuses a dangling key printing the whole row (", in [name:… msisdn:…]"):
    /// the same refusal, with the tables and columns only.
    static func withoutRowContents(_ error: DatabaseError) -> DatabaseError {
        let message = error.message ?? ""
        guard message.hasPrefix("FOREIGN KEY constraint violation") else { return error }
        let keys = message.range(of: ", in ").map { String(message[..<$0.lowerBound]) } ?? message
        return DatabaseError(resultCode: .SQLITE_CONSTRAINT_FOREIGNKEY, message: """
            cannot upgrade the ledger: a row names a row that does not exist (\(keys)); the file was edited by hand, \
            restore it from a copy
            """)
    }

    /// Refuses a migration whose rebuilt table `table` names a row that does not exist, saying which by rowid (GRDB's
    /// own message prints the whole row, names and phone numbers included).
    static func checkForeignKeys(_ db: Database, of table: String) throws {
        guard let row = try Row.fetchOne(db, sql: """
            SELECT c."table", c.rowid, c.parent, (SELECT COUNT(*) FROM pragma_foreign_key_check(?1, 'main'))
            FROM pragma_foreign_key_check(?1, 'main') c LIMIT 1
            """, arguments: [table]) else { return }
        let child = (row[1] as Int64?).map { "\(row[0] as String) row \($0)" } ?? "a row of \(row[0] as String)"
        throw DatabaseError(resultCode: .SQLITE_CONSTRAINT_FOREIGNKEY, message: """
            cannot upgrade the ledger: \(row[3] as Int) row(s) of \(row[0] as String) name a row that does not exist \
            (\(child) names a missing \(row[2] as String) row); the file was edited by hand, restore it from a copy
            """)
    }

    /// The register's indexes as they are now (v4), by name. A bulk import into an empty register drops and rebuilds
    /// them (sorting once beats a million random inserts); the national ID's uniqueness lives here, so the rebuild
    /// re-checks it.
    static let beneficiaryIndexes: [(name: String, sql: String)] = [
        ("beneficiary_national_id", "CREATE UNIQUE INDEX beneficiary_national_id ON beneficiary(national_id)"),
        ("beneficiary_commune", "CREATE INDEX beneficiary_commune ON beneficiary(commune_code, status, msisdn IS NULL)"),
        ("beneficiary_msisdn", "CREATE INDEX beneficiary_msisdn ON beneficiary(msisdn) WHERE msisdn IS NOT NULL"),
    ]

    // CHECKs spell out `a = 'x' OR a = 'y'`: SQLite evaluates `a IN ('x', 'y', …)` in a CHECK through an
    // ephemeral table built per row, which made every insert several times slower.
    static let schemaV1 = """
    CREATE TABLE setting(key TEXT PRIMARY KEY, value TEXT NOT NULL);

    CREATE TABLE carrier(
        code TEXT PRIMARY KEY CHECK(length(code) BETWEEN 1 AND 40),
        name TEXT NOT NULL);

    CREATE TABLE base_level(
        effective_from TEXT PRIMARY KEY CHECK(effective_from GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
        amount INTEGER NOT NULL CHECK(typeof(amount) = 'integer' AND amount > 0),
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL);

    CREATE TABLE category(
        code TEXT PRIMARY KEY CHECK(length(code) BETWEEN 1 AND 40),
        description TEXT NOT NULL);

    CREATE TABLE category_rate(
        category TEXT NOT NULL REFERENCES category(code),
        effective_from TEXT NOT NULL CHECK(effective_from GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
        coefficient_milli INTEGER NOT NULL CHECK(typeof(coefficient_milli) = 'integer' AND coefficient_milli > 0),
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL,
        PRIMARY KEY(category, effective_from));

    CREATE TABLE beneficiary(
        id INTEGER PRIMARY KEY,
        national_id TEXT NOT NULL CHECK(length(national_id) = 12),
        full_name TEXT NOT NULL CHECK(length(full_name) > 0),
        date_of_birth TEXT NOT NULL,
        gender TEXT NOT NULL CHECK(gender = 'M' OR gender = 'F'),
        commune_code TEXT NOT NULL,
        category TEXT NOT NULL REFERENCES category(code),
        payment_method TEXT NOT NULL CHECK(payment_method = 'mobile_money' OR payment_method = 'cash'),
        carrier TEXT REFERENCES carrier(code),
        msisdn TEXT CHECK(msisdn IS NULL OR (length(msisdn) = 11 AND substr(msisdn, 1, 2) = '84')),
        status TEXT NOT NULL DEFAULT 'active' CHECK(status = 'active' OR status = 'suspended' OR status = 'deceased'),
        registered_at TEXT NOT NULL,
        registered_by TEXT NOT NULL,
        CHECK(payment_method = 'cash' OR (carrier IS NOT NULL AND msisdn IS NOT NULL)),
        CHECK((carrier IS NULL) = (msisdn IS NULL)));
    CREATE UNIQUE INDEX beneficiary_national_id ON beneficiary(national_id);
    CREATE INDEX beneficiary_commune ON beneficiary(commune_code);
    CREATE INDEX beneficiary_msisdn ON beneficiary(msisdn) WHERE msisdn IS NOT NULL;

    -- Every change to a beneficiary, account changes included: who, when, what, why.
    CREATE TABLE beneficiary_event(
        id INTEGER PRIMARY KEY,
        beneficiary_id INTEGER NOT NULL REFERENCES beneficiary(id),
        at TEXT NOT NULL,
        by TEXT NOT NULL,
        kind TEXT NOT NULL CHECK(kind = 'registered' OR kind = 'updated' OR kind = 'suspended' OR kind = 'reinstated' OR kind = 'deceased' OR kind = 'account_linked' OR kind = 'account_changed' OR kind = 'account_closed' OR kind = 'flag_cleared'),
        field TEXT,
        old_value TEXT,
        new_value TEXT,
        reason TEXT,
        import_id INTEGER REFERENCES register_import(id));
    CREATE INDEX beneficiary_event_beneficiary ON beneficiary_event(beneficiary_id);
    CREATE INDEX beneficiary_event_kind_at ON beneficiary_event(kind, at);
    CREATE TRIGGER beneficiary_event_no_update BEFORE UPDATE ON beneficiary_event
    BEGIN SELECT RAISE(ABORT, 'beneficiary history is append-only'); END;
    CREATE TRIGGER beneficiary_event_no_delete BEFORE DELETE ON beneficiary_event
    BEGIN SELECT RAISE(ABORT, 'beneficiary history is append-only'); END;

    CREATE TABLE register_import(
        id INTEGER PRIMARY KEY,
        sha256 TEXT NOT NULL UNIQUE,
        file_name TEXT NOT NULL,
        imported_at TEXT NOT NULL,
        imported_by TEXT NOT NULL,
        lines INTEGER NOT NULL,
        created INTEGER NOT NULL,
        updated INTEGER NOT NULL,
        unchanged INTEGER NOT NULL,
        rejected INTEGER NOT NULL);

    -- Fraud safeguards. A flag holds its beneficiary out of new batches until cleared with a reason.
    CREATE TABLE flag(
        id INTEGER PRIMARY KEY,
        beneficiary_id INTEGER NOT NULL REFERENCES beneficiary(id),
        kind TEXT NOT NULL CHECK(kind = 'shared_msisdn' OR kind = 'recent_account_change'),
        evidence TEXT NOT NULL,
        evidence_at TEXT NOT NULL,
        detail TEXT NOT NULL,
        raised_at TEXT NOT NULL,
        cleared_at TEXT,
        cleared_by TEXT,
        clear_reason TEXT,
        UNIQUE(beneficiary_id, kind, evidence),
        CHECK((cleared_at IS NULL) = (cleared_by IS NULL) AND (cleared_at IS NULL) = (clear_reason IS NULL)));
    CREATE INDEX flag_open ON flag(beneficiary_id) WHERE cleared_at IS NULL;

    CREATE TABLE ledger_account(
        code TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        kind TEXT NOT NULL CHECK(kind = 'asset' OR kind = 'liability' OR kind = 'funding' OR kind = 'expense'));

    CREATE TABLE batch(
        id INTEGER PRIMARY KEY,
        period TEXT NOT NULL CHECK(period GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]'),
        scope TEXT NOT NULL,
        status TEXT NOT NULL CHECK(status = 'created' OR status = 'approved' OR status = 'exported' OR status = 'closed' OR status = 'cancelled'),
        retry_of INTEGER REFERENCES batch(id),
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        approved_by TEXT,
        approved_at TEXT,
        exported_at TEXT,
        held_out INTEGER NOT NULL DEFAULT 0,
        -- Sealed at approval: what the checker approved (count, total, and a SHA-256 over every item's payee and amount).
        item_count INTEGER,
        item_total INTEGER,
        item_digest TEXT,
        cancelled_at TEXT,
        cancelled_by TEXT,
        cancel_reason TEXT,
        -- Maker-checker: the approver is never the creator, whatever writes the row.
        CHECK(approved_by IS NULL OR lower(trim(approved_by)) <> lower(trim(created_by))),
        CHECK((approved_by IS NULL) = (approved_at IS NULL)),
        CHECK(status = 'created' OR status = 'cancelled' OR approved_by IS NOT NULL),
        CHECK((status = 'cancelled') = (cancelled_at IS NOT NULL)),
        CHECK((approved_by IS NULL) = (item_count IS NULL) AND (item_count IS NULL) = (item_total IS NULL)
              AND (item_count IS NULL) = (item_digest IS NULL)));
    CREATE TRIGGER batch_frozen BEFORE UPDATE ON batch
    WHEN OLD.status <> 'created' AND (NEW.period IS NOT OLD.period OR NEW.scope IS NOT OLD.scope
        OR NEW.created_by IS NOT OLD.created_by OR NEW.created_at IS NOT OLD.created_at
        OR NEW.approved_by IS NOT OLD.approved_by OR NEW.approved_at IS NOT OLD.approved_at
        OR NEW.retry_of IS NOT OLD.retry_of OR NEW.held_out IS NOT OLD.held_out OR NEW.status = 'created'
        OR NEW.item_count IS NOT OLD.item_count OR NEW.item_total IS NOT OLD.item_total OR NEW.item_digest IS NOT OLD.item_digest)
    BEGIN SELECT RAISE(ABORT, 'an approved batch cannot change'); END;
    CREATE TRIGGER batch_no_delete BEFORE DELETE ON batch WHEN OLD.status <> 'created'
    BEGIN SELECT RAISE(ABORT, 'an approved batch cannot be deleted'); END;

    CREATE TABLE batch_hold(
        batch_id INTEGER NOT NULL REFERENCES batch(id),
        beneficiary_id INTEGER NOT NULL REFERENCES beneficiary(id),
        reason TEXT NOT NULL,
        PRIMARY KEY(batch_id, beneficiary_id)) WITHOUT ROWID;

    CREATE TABLE batch_item(
        id INTEGER PRIMARY KEY,
        batch_id INTEGER NOT NULL REFERENCES batch(id),
        seq INTEGER NOT NULL,
        -- ASCII letters, digits and dashes, made by Store.itemReference; only the length is checked here, since a
        -- character-class GLOB on every row cost a second per million items.
        reference TEXT NOT NULL UNIQUE CHECK(length(reference) BETWEEN 1 AND 32),
        beneficiary_id INTEGER NOT NULL REFERENCES beneficiary(id),
        period TEXT NOT NULL,
        commune_code TEXT NOT NULL,
        category TEXT NOT NULL,
        method TEXT NOT NULL CHECK(method = 'mobile_money' OR method = 'cash'),
        carrier TEXT,
        msisdn TEXT,
        account_name TEXT NOT NULL,
        amount INTEGER NOT NULL CHECK(typeof(amount) = 'integer' AND amount > 0),
        retry_of_item INTEGER REFERENCES batch_item(id),
        -- 1 for the month's first item for a beneficiary, 2 for its retry, and so on.
        attempt INTEGER NOT NULL DEFAULT 1 CHECK(attempt >= 1),
        -- The one mutable column: where the payment stands.
        state TEXT NOT NULL DEFAULT 'open' CHECK(state = 'open' OR state = 'paid' OR state = 'failed' OR state = 'paid_cash'),
        CHECK(method = 'cash' OR (carrier IS NOT NULL AND msisdn IS NOT NULL)),
        CHECK((attempt = 1) = (retry_of_item IS NULL)),
        UNIQUE(batch_id, seq));
    CREATE UNIQUE INDEX batch_item_once_per_period ON batch_item(beneficiary_id, period, attempt);
    -- Foreign-key checks look children up by these columns; without the index each check scans the table.
    CREATE INDEX batch_item_retry_of ON batch_item(retry_of_item) WHERE retry_of_item IS NOT NULL;
    CREATE TRIGGER batch_item_frozen BEFORE UPDATE ON batch_item
    WHEN NEW.id IS NOT OLD.id OR NEW.batch_id IS NOT OLD.batch_id OR NEW.seq IS NOT OLD.seq
        OR NEW.reference IS NOT OLD.reference OR NEW.beneficiary_id IS NOT OLD.beneficiary_id
        OR NEW.period IS NOT OLD.period OR NEW.commune_code IS NOT OLD.commune_code
        OR NEW.category IS NOT OLD.category OR NEW.method IS NOT OLD.method OR NEW.carrier IS NOT OLD.carrier
        OR NEW.msisdn IS NOT OLD.msisdn OR NEW.account_name IS NOT OLD.account_name
        OR NEW.amount IS NOT OLD.amount OR NEW.retry_of_item IS NOT OLD.retry_of_item OR NEW.attempt IS NOT OLD.attempt
    BEGIN SELECT RAISE(ABORT, 'a batch item cannot change once created; only its payment state moves'); END;
    CREATE TRIGGER batch_item_state_needs_approval BEFORE UPDATE OF state ON batch_item
    WHEN (SELECT status FROM batch WHERE id = NEW.batch_id) = 'created'
    BEGIN SELECT RAISE(ABORT, 'an unapproved batch cannot be paid'); END;
    -- No per-row INSERT trigger guards approved batches: it cost four seconds per million items. Approval seals
    -- the batch's item count and total instead, and `ledger verify` checks the items against the seal.
    CREATE TRIGGER batch_item_no_delete BEFORE DELETE ON batch_item
    WHEN (SELECT status FROM batch WHERE id = OLD.batch_id) <> 'created'
    BEGIN SELECT RAISE(ABORT, 'items of an approved batch cannot be deleted'); END;

    -- The journal: append-only, every entry balanced and chained to the one before by SHA-256.
    CREATE TABLE journal_entry(
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        kind TEXT NOT NULL,
        idempotency_key TEXT NOT NULL UNIQUE,
        batch_id INTEGER REFERENCES batch(id),
        memo TEXT NOT NULL,
        created_by TEXT NOT NULL,
        prev_hash TEXT NOT NULL CHECK(length(prev_hash) = 64),
        hash TEXT NOT NULL CHECK(length(hash) = 64));
    CREATE INDEX journal_entry_batch ON journal_entry(batch_id);
    CREATE TABLE posting(
        entry_id INTEGER NOT NULL REFERENCES journal_entry(id),
        leg INTEGER NOT NULL,
        account TEXT NOT NULL REFERENCES ledger_account(code),
        sub_account TEXT NOT NULL DEFAULT '',
        beneficiary_id INTEGER REFERENCES beneficiary(id),
        item_id INTEGER REFERENCES batch_item(id),
        amount INTEGER NOT NULL CHECK(typeof(amount) = 'integer' AND amount <> 0),
        PRIMARY KEY(entry_id, leg)) WITHOUT ROWID;
    CREATE INDEX posting_beneficiary ON posting(beneficiary_id) WHERE beneficiary_id IS NOT NULL;
    CREATE INDEX posting_item ON posting(item_id) WHERE item_id IS NOT NULL;
    CREATE TRIGGER journal_entry_no_update BEFORE UPDATE ON journal_entry
    BEGIN SELECT RAISE(ABORT, 'the journal is append-only; post a reversing entry instead'); END;
    CREATE TRIGGER journal_entry_no_delete BEFORE DELETE ON journal_entry
    BEGIN SELECT RAISE(ABORT, 'the journal is append-only; post a reversing entry instead'); END;
    -- The chain's head, kept by a trigger, so that deleting the newest entries is caught too; it only moves forward.
    CREATE TABLE journal_head(
        singleton INTEGER PRIMARY KEY CHECK(singleton = 1),
        entry_id INTEGER NOT NULL,
        hash TEXT NOT NULL,
        entries INTEGER NOT NULL);
    CREATE TRIGGER journal_head_advance AFTER INSERT ON journal_entry
    BEGIN
        INSERT INTO journal_head(singleton, entry_id, hash, entries) VALUES (1, NEW.id, NEW.hash, 1)
        ON CONFLICT(singleton) DO UPDATE SET entry_id = NEW.id, hash = NEW.hash, entries = entries + 1;
    END;
    CREATE TRIGGER journal_head_forward_only BEFORE UPDATE ON journal_head
    WHEN NEW.entry_id <= OLD.entry_id OR NEW.entries <> OLD.entries + 1
    BEGIN SELECT RAISE(ABORT, 'the journal head only moves forward'); END;
    CREATE TRIGGER journal_head_no_delete BEFORE DELETE ON journal_head
    BEGIN SELECT RAISE(ABORT, 'the journal head cannot be deleted'); END;
    CREATE TRIGGER posting_no_update BEFORE UPDATE ON posting
    BEGIN SELECT RAISE(ABORT, 'the journal is append-only; post a reversing entry instead'); END;
    CREATE TRIGGER posting_no_delete BEFORE DELETE ON posting
    BEGIN SELECT RAISE(ABORT, 'the journal is append-only; post a reversing entry instead'); END;
    """

    static let seedV1 = """
    INSERT INTO ledger_account(code, name, kind) VALUES
        ('1000', 'Treasury (allowance funds held by the office)', 'asset'),
        ('1100', 'Carrier clearing', 'asset'),
        ('1200', 'Cash disbursement (commune cash desks)', 'asset'),
        ('2000', 'Beneficiary payable', 'liability'),
        ('3000', 'Budget appropriation', 'funding'),
        ('5000', 'Allowance expense', 'expense');

    INSERT INTO carrier(code, name) VALUES
        ('VIETTEL', 'Viettel Money'),
        ('VNPT', 'VNPT Money'),
        ('MOBIFONE', 'MobiFone Money');

    -- Decree 20/2021/ND-CP, then Decree 76/2024/ND-CP from 1 July 2024.
    INSERT INTO base_level(effective_from, amount, created_at, created_by) VALUES
        ('2021-07-01', 360000, '2021-07-01T00:00:00Z', 'seed'),
        ('2024-07-01', 500000, '2024-07-01T00:00:00Z', 'seed');

    INSERT INTO category(code, description) VALUES
        ('ELDERLY_POOR', 'Elderly, poor household, no supporter, 60 to 80'),
        ('ELDERLY_POOR_80', 'Elderly, poor household, no supporter, 80 and over'),
        ('ELDERLY_80', 'Elderly 80 and over without a pension'),
        ('DISABLED_SEVERE', 'Severely disabled'),
        ('DISABLED_EXTREME', 'Extremely severely disabled'),
        ('DISABLED_SEVERE_CHILD_ELDERLY', 'Severely disabled child or elderly person'),
        ('DISABLED_EXTREME_CHILD_ELDERLY', 'Extremely severely disabled child or elderly person'),
        ('ORPHAN_UNDER_4', 'Orphan under 4 years old'),
        ('ORPHAN', 'Orphan, 4 years and older'),
        ('SINGLE_PARENT_POOR', 'Single parent in a poor household');

    INSERT INTO category_rate(category, effective_from, coefficient_milli, created_at, created_by) VALUES
        ('ELDERLY_POOR', '2021-07-01', 1500, '2021-07-01T00:00:00Z', 'seed'),
        ('ELDERLY_POOR_80', '2021-07-01', 2000, '2021-07-01T00:00:00Z', 'seed'),
        ('ELDERLY_80', '2021-07-01', 1000, '2021-07-01T00:00:00Z', 'seed'),
        ('DISABLED_SEVERE', '2021-07-01', 1500, '2021-07-01T00:00:00Z', 'seed'),
        ('DISABLED_EXTREME', '2021-07-01', 2000, '2021-07-01T00:00:00Z', 'seed'),
        ('DISABLED_SEVERE_CHILD_ELDERLY', '2021-07-01', 2000, '2021-07-01T00:00:00Z', 'seed'),
        ('DISABLED_EXTREME_CHILD_ELDERLY', '2021-07-01', 2500, '2021-07-01T00:00:00Z', 'seed'),
        ('ORPHAN_UNDER_4', '2021-07-01', 2500, '2021-07-01T00:00:00Z', 'seed'),
        ('ORPHAN', '2021-07-01', 1500, '2021-07-01T00:00:00Z', 'seed'),
        ('SINGLE_PARENT_POOR', '2021-07-01', 1000, '2021-07-01T00:00:00Z', 'seed');
    """

    /// The carrier's result files and what each of their lines came to.
    ///
    /// Also makes moving a million items' payment state affordable: the trigger that freezes an item now fires only
    /// for updates naming a frozen column (as a `WHEN` over fifteen comparisons it cost more than the update), and
    /// the per-row lookup of the batch's status on every state change (half the update's time) gives way to
    /// `ledger verify`, which reports an item of an unapproved batch that is not open.
    static let reconcileV2 = """
    DROP TRIGGER batch_item_frozen;
    CREATE TRIGGER batch_item_frozen BEFORE UPDATE OF id, batch_id, seq, reference, beneficiary_id, period, commune_code, category,
        method, carrier, msisdn, account_name, amount, retry_of_item, attempt ON batch_item
    BEGIN SELECT RAISE(ABORT, 'a batch item cannot change once created; only its payment state moves'); END;
    DROP TRIGGER batch_item_state_needs_approval;

    CREATE TABLE result_file(
        id INTEGER PRIMARY KEY,
        batch_id INTEGER NOT NULL REFERENCES batch(id),
        sha256 TEXT NOT NULL CHECK(length(sha256) = 64),
        file_name TEXT NOT NULL,
        byte_size INTEGER NOT NULL,
        profile TEXT NOT NULL,
        -- SHA-256 of the profile's rules: the same bytes read under corrected rules are a new reading.
        profile_sha256 TEXT NOT NULL CHECK(length(profile_sha256) = 64),
        imported_at TEXT NOT NULL,
        imported_by TEXT NOT NULL,
        lines INTEGER NOT NULL,
        UNIQUE(batch_id, sha256, profile_sha256));
    CREATE TRIGGER result_file_no_delete BEFORE DELETE ON result_file
    BEGIN SELECT RAISE(ABORT, 'an imported result file is part of the record and cannot be deleted'); END;
    CREATE TRIGGER result_file_frozen BEFORE UPDATE ON result_file
    WHEN NEW.id IS NOT OLD.id OR NEW.batch_id IS NOT OLD.batch_id OR NEW.sha256 IS NOT OLD.sha256 OR NEW.imported_at IS NOT OLD.imported_at
    BEGIN SELECT RAISE(ABORT, 'an imported result file cannot change'); END;

    -- One row per non-blank data line of a result file: what the carrier said, and what it came to.
    -- effect: the posting the line caused (settle: Dr payable / Cr clearing; refund: Dr treasury / Cr clearing;
    -- reverse: Dr treasury / Cr payable, the settlement undone with the funds back); NULL when it posted nothing.
    -- For a line naming an item, reference, msisdn and amount are NULL when they are the item's own.
    CREATE TABLE result_line(
        file_id INTEGER NOT NULL REFERENCES result_file(id),
        line INTEGER NOT NULL,
        outcome TEXT NOT NULL CHECK(outcome = 'paid' OR outcome = 'failed' OR outcome = 'pending' OR outcome = 'reversed'
            OR outcome = 'amount_mismatch' OR outcome = 'msisdn_mismatch' OR outcome = 'unknown_reference' OR outcome = 'duplicate'
            OR outcome = 'invalid_line'),
        effect TEXT CHECK(effect IS NULL OR effect = 'settle' OR effect = 'refund' OR effect = 'reverse'),
        item_id INTEGER REFERENCES batch_item(id),
        reference TEXT CHECK(reference IS NOT NULL OR item_id IS NOT NULL),
        status TEXT CHECK(status IS NULL OR status = 'paid' OR status = 'failed' OR status = 'pending' OR status = 'reversed'),
        msisdn TEXT,
        amount INTEGER,
        carrier_txn_id TEXT NOT NULL,
        completed_at TEXT NOT NULL,
        reason_code TEXT NOT NULL,
        reason_text TEXT NOT NULL,
        -- Why the line is an exception, or which earlier line it repeats.
        note TEXT NOT NULL,
        -- What makes two lines for one item the same report: status, amount, number and carrier transaction.
        fingerprint INTEGER NOT NULL,
        -- The line's first leg in the file's journal entry (reconcile:file:<file_id>), when it posted.
        leg INTEGER CHECK((leg IS NULL) = (effect IS NULL)),
        -- A duplicate that disagrees with the line it repeats.
        conflicting INTEGER NOT NULL DEFAULT 0 CHECK(conflicting = 0 OR (conflicting = 1 AND outcome = 'duplicate')),
        CHECK(effect IS NULL OR item_id IS NOT NULL),
        PRIMARY KEY(file_id, line)) WITHOUT ROWID;
    CREATE INDEX result_line_item ON result_line(item_id) WHERE item_id IS NOT NULL;
    CREATE TRIGGER result_line_no_update BEFORE UPDATE ON result_line
    BEGIN SELECT RAISE(ABORT, 'reconciliation outcomes are append-only'); END;
    CREATE TRIGGER result_line_no_delete BEFORE DELETE ON result_line
    BEGIN SELECT RAISE(ABORT, 'reconciliation outcomes are append-only'); END;
    """

    /// Every audit export made from this ledger, so that each manifest can name the one before it.
    static let auditV3 = """
    CREATE TABLE audit_export(
        id INTEGER PRIMARY KEY,
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL,
        directory TEXT NOT NULL,
        scope TEXT NOT NULL,
        pii TEXT NOT NULL CHECK(pii = 'masked' OR pii = 'full'),
        key_id TEXT NOT NULL,
        journal_head_entry_id INTEGER NOT NULL,
        manifest_sha256 TEXT NOT NULL UNIQUE CHECK(length(manifest_sha256) = 64),
        previous_manifest_sha256 TEXT CHECK(previous_manifest_sha256 IS NULL OR length(previous_manifest_sha256) = 64));
    CREATE TRIGGER audit_export_no_update BEFORE UPDATE ON audit_export
    BEGIN SELECT RAISE(ABORT, 'the list of audit exports is append-only'); END;
    CREATE TRIGGER audit_export_no_delete BEFORE DELETE ON audit_export
    BEGIN SELECT RAISE(ABORT, 'the list of audit exports is append-only'); END;
    """
}

extension Migrations {
    /// What the non-cash report reads, without reading the tables: the register's coverage per commune from the commune
    /// index alone (it carries the status and whether there is a number now; a scan of the whole register took 2 s of
    /// the report's 4.5 at a million; indexing the number itself made a bulk import's rebuild 1.1 s slower, the
    /// `IS NULL` 0.35 s), and the few lines that sent funds back without scanning every line.
    static let reportIndexesV4 = """
    DROP INDEX beneficiary_commune;
    CREATE INDEX beneficiary_commune ON beneficiary(commune_code, status, msisdn IS NULL);
    CREATE INDEX result_line_moved_back ON result_line(item_id) WHERE effect = 'refund' OR effect = 'reverse';
    """

    /// An item's payment state moves out of its row into a narrow table that holds only the items no longer open.
    /// Reconciling a national month moved a million states, and each move rewrote the whole 130-byte item row:
    /// 136 MB of pages written twice (WAL and checkpoint), 2.7 s of a 1M-line file. Items are now immutable
    /// outright, and a state only ever leaves `open` or goes from paid to failed (the carrier reversed it).
    static let itemStateV5 = """
    CREATE TABLE item_state(
        item_id INTEGER PRIMARY KEY REFERENCES batch_item(id),
        state TEXT NOT NULL CHECK(state = 'paid' OR state = 'failed' OR state = 'paid_cash'));
    INSERT INTO item_state(item_id, state) SELECT id, state FROM batch_item WHERE state <> 'open' ORDER BY id;
    DROP TRIGGER batch_item_frozen;
    ALTER TABLE batch_item DROP COLUMN state;
    CREATE TRIGGER batch_item_no_update BEFORE UPDATE ON batch_item
    BEGIN SELECT RAISE(ABORT, 'a batch item cannot change once created; its payment state is in item_state'); END;
    CREATE TRIGGER item_state_no_delete BEFORE DELETE ON item_state
    BEGIN SELECT RAISE(ABORT, 'a payment state never returns to open'); END;
    CREATE TRIGGER item_state_moves_forward BEFORE UPDATE ON item_state
    WHEN NOT (OLD.item_id = NEW.item_id AND OLD.state = 'paid' AND NEW.state = 'failed')
    BEGIN SELECT RAISE(ABORT, 'a payment state only moves from paid to failed, when the carrier reverses the payment'); END;
    """

    /// The postings' beneficiary index goes: a beneficiary's postings are the payable legs of their items, found
    /// through the items' beneficiary index and the postings' item index (`balances(beneficiary:)`). Keeping it cost
    /// every approval and every reconciled file a second index insert per posting, 28 MB and 0.4 s per million.
    static let postingIndexesV6 = "DROP INDEX posting_beneficiary"

    /// The outcome lines lose their item index. A carrier reports in its own order, so a reconciled file inserted its
    /// million keys into that index at random, each into a page no longer in the processor's cache: at a million lines
    /// in a carrier's order that cost about a second of reconcile's storing thread. What read through it now reads a
    /// batch's lines through its files (`Store.namedItemsSQL`), and `batch cancel`, which deleted items under a key
    /// check that needed the index, checks the items' references itself (`cancelBatch`).
    static let resultLineItemIndexV8 = "DROP INDEX result_line_item"

    /// The postings' item index becomes a table the journal writer fills itself, each entry's item legs sorted by item,
    /// up to 65,536 at a time (`JournalWriter`). A carrier reports in its own order, and its file's entry inserted a
    /// million keys into that index at random, each into a page no longer in the processor's cache: the same file
    /// sorted by reference did not pay that. Postings keep their leg order (the entry's hash covers it). `ledger verify`
    /// checks that the table holds exactly the postings' item legs.
    static let postingItemTableV18 = """
    DROP INDEX posting_item;
    CREATE TABLE posting_item(
        item_id INTEGER NOT NULL REFERENCES batch_item(id),
        entry_id INTEGER NOT NULL,
        leg INTEGER NOT NULL,
        PRIMARY KEY(item_id, entry_id, leg),
        FOREIGN KEY(entry_id, leg) REFERENCES posting(entry_id, leg)) WITHOUT ROWID;
    INSERT INTO posting_item(item_id, entry_id, leg)
    SELECT item_id, entry_id, leg FROM posting WHERE item_id IS NOT NULL ORDER BY item_id, entry_id, leg;
    CREATE TRIGGER posting_item_no_update BEFORE UPDATE ON posting_item
    BEGIN SELECT RAISE(ABORT, 'the journal is append-only; post a reversing entry instead'); END;
    CREATE TRIGGER posting_item_no_delete BEFORE DELETE ON posting_item
    BEGIN SELECT RAISE(ABORT, 'the journal is append-only; post a reversing entry instead'); END;
    """

    /// An item's reference, `AL-202611-000001-0000001`, from its month, batch and seq: what `ItemReference.canonical` writes,
    /// in SQL any SQLite reads. `batch create` computes it with `allowance_item_reference`, a C function that gives the
    /// same bytes for any row in a fraction of the time (ItemReferenceSQLTests).
    static let itemReferenceSQL = "printf('AL-%s%s-%06d-%07d', substr(period, 1, 4), substr(period, 6, 2), batch_id, seq)"
    static let itemReferenceFunction = "allowance_item_reference(period, batch_id, seq)"

    /// An item's reference loses its unique index: it is made from the item's month, batch and seq, which the (batch,
    /// seq) index already keeps unique, and a reference finds its item through that index (`Store.itemByReferenceSQL`).
    /// At a million items the index was 38 MB that `batch create` wrote in its transaction, WAL and checkpoint. The
    /// reference stays stored: computing it on every read (a view, or a generated column, which SQLite also computes on
    /// every insert) cost approval, export, verify and the audit export each a microsecond an item.
    ///
    /// SQLite cannot drop a UNIQUE constraint, so the table is rebuilt (its ids kept, so every posting, line and state
    /// still names its item), and its indexes and triggers made again as they were.
    static let itemReferenceV7 = """
    CREATE TABLE batch_item_v7(
        id INTEGER PRIMARY KEY,
        batch_id INTEGER NOT NULL REFERENCES batch(id),
        seq INTEGER NOT NULL,
        -- ASCII letters, digits and dashes, made from period, batch_id and seq (Migrations.itemReferenceSQL); unique
        -- because (batch_id, seq) is.
        reference TEXT NOT NULL CHECK(length(reference) BETWEEN 1 AND 32),
        beneficiary_id INTEGER NOT NULL REFERENCES beneficiary(id),
        period TEXT NOT NULL,
        commune_code TEXT NOT NULL,
        category TEXT NOT NULL,
        method TEXT NOT NULL CHECK(method = 'mobile_money' OR method = 'cash'),
        carrier TEXT,
        msisdn TEXT,
        account_name TEXT NOT NULL,
        amount INTEGER NOT NULL CHECK(typeof(amount) = 'integer' AND amount > 0),
        retry_of_item INTEGER REFERENCES batch_item(id),
        -- 1 for the month's first item for a beneficiary, 2 for its retry, and so on.
        attempt INTEGER NOT NULL DEFAULT 1 CHECK(attempt >= 1),
        CHECK(method = 'cash' OR (carrier IS NOT NULL AND msisdn IS NOT NULL)),
        CHECK((attempt = 1) = (retry_of_item IS NULL)),
        UNIQUE(batch_id, seq));
    INSERT INTO batch_item_v7(id, batch_id, seq, reference, beneficiary_id, period, commune_code, category, method, carrier, msisdn,
                              account_name, amount, retry_of_item, attempt)
    SELECT id, batch_id, seq, reference, beneficiary_id, period, commune_code, category, method, carrier, msisdn,
           account_name, amount, retry_of_item, attempt FROM batch_item ORDER BY id;
    DROP TABLE batch_item;
    ALTER TABLE batch_item_v7 RENAME TO batch_item;
    CREATE UNIQUE INDEX batch_item_once_per_period ON batch_item(beneficiary_id, period, attempt);
    -- Foreign-key checks look children up by these columns; without the index each check scans the table.
    CREATE INDEX batch_item_retry_of ON batch_item(retry_of_item) WHERE retry_of_item IS NOT NULL;
    CREATE TRIGGER batch_item_no_update BEFORE UPDATE ON batch_item
    BEGIN SELECT RAISE(ABORT, 'a batch item cannot change once created; its payment state is in item_state'); END;
    -- No per-row INSERT trigger guards approved batches: it cost four seconds per million items. Approval seals
    -- the batch's item count and total instead, and `ledger verify` checks the items against the seal.
    CREATE TRIGGER batch_item_no_delete BEFORE DELETE ON batch_item
    WHEN (SELECT status FROM batch WHERE id = OLD.batch_id) <> 'created'
    BEGIN SELECT RAISE(ABORT, 'items of an approved batch cannot be deleted'); END;
    """
}

extension Migrations {
    /// Who changed a setting (the account-change window, the office's name) or added a carrier, and when: history like
    /// the register's, never edited or removed. The `setting` table keeps only the value in force.
    static let settingEventsV9 = """
    CREATE TABLE setting_event(
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        at TEXT NOT NULL,
        by TEXT NOT NULL);
    CREATE TRIGGER setting_event_no_update BEFORE UPDATE ON setting_event
    BEGIN SELECT RAISE(ABORT, 'a setting change is history; it is never edited'); END;
    CREATE TRIGGER setting_event_no_delete BEFORE DELETE ON setting_event
    BEGIN SELECT RAISE(ABORT, 'a setting change is history; it is never removed'); END;
    """
}

extension Migrations {
    /// The access log of personal data: who was shown phone numbers and national IDs whole (`--reveal`), when, and what.
    static let disclosureV10 = """
    CREATE TABLE disclosure(
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        by TEXT NOT NULL,
        what TEXT NOT NULL);
    CREATE TRIGGER disclosure_no_update BEFORE UPDATE ON disclosure
    BEGIN SELECT RAISE(ABORT, 'the access log is history; it is never edited'); END;
    CREATE TRIGGER disclosure_no_delete BEFORE DELETE ON disclosure
    BEGIN SELECT RAISE(ABORT, 'the access log is history; it is never removed'); END;
    """
}

extension Migrations {
    /// Who ran each command that writes (beside the actor it named), and what a result file's carrier actually wrote.
    static let operatorsAndCarrierWordsV12 = """
    -- What a result file was read with, and what each line's carrier wrote as its status (NULL: the status's own name).
    ALTER TABLE result_file ADD COLUMN profile_rules TEXT;
    ALTER TABLE result_line ADD COLUMN carrier_status TEXT;
    CREATE TRIGGER result_file_rules_frozen BEFORE UPDATE OF profile, profile_sha256, profile_rules ON result_file
    BEGIN SELECT RAISE(ABORT, 'an imported result file cannot change'); END;

    -- Who ran each command that writes: the actor it acted as, and the operating-system account and host behind it.
    CREATE TABLE operator_log(
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        os_account TEXT NOT NULL,
        host TEXT NOT NULL,
        command TEXT NOT NULL);
    CREATE TRIGGER operator_log_no_update BEFORE UPDATE ON operator_log
    BEGIN SELECT RAISE(ABORT, 'the operator log is history; it is never edited'); END;
    CREATE TRIGGER operator_log_no_delete BEFORE DELETE ON operator_log
    BEGIN SELECT RAISE(ABORT, 'the operator log is history; it is never removed'); END;
    """
}
