/// The ledger's schema on PostgreSQL, as numbered migrations applied in order, each in its own transaction and
/// recorded in `schema_migration`: the same guarantees as on SQLite, held by the database. Built table group by table
/// group (issue 23); a migration never changes once released, a later one alters what it made.
public enum PostgresSchema {
    public struct Migration: Sendable {
        public let version: Int
        public let name: String
        public let sql: String
    }

    /// The role the application connects as (no UPDATE or DELETE on what is append-only) and the read-only role for
    /// auditors' and officials' tools. Roles belong to the cluster: made once, granted in each ledger's database.
    public static let applicationRole = "allowance_app"
    public static let readOnlyRole = "allowance_read"

    public static let migrations: [Migration] = [
        Migration(version: 1, name: "roles-and-journal", sql: """
            DO $$ BEGIN
                IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '\(applicationRole)') THEN CREATE ROLE \(applicationRole) NOLOGIN; END IF;
                IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '\(readOnlyRole)') THEN CREATE ROLE \(readOnlyRole) NOLOGIN; END IF;
            END $$;

            -- One refusal for every append-only table, worded as SQLite's triggers word it.
            CREATE FUNCTION allowance_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = TG_ARGV[0]; END $$;

            CREATE TABLE ledger_account(
                code TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                kind TEXT NOT NULL CHECK(kind IN ('asset', 'liability', 'funding', 'expense')));
            INSERT INTO ledger_account(code, name, kind) VALUES
                ('1000', 'Treasury', 'asset'),
                ('1100', 'Carrier clearing', 'asset'),
                ('1200', 'Cash disbursement (commune cash desks)', 'asset'),
                ('2000', 'Beneficiary payable', 'liability'),
                ('3000', 'Budget appropriation', 'funding'),
                ('5000', 'Allowance expense', 'expense');

            CREATE TABLE journal_entry(
                id BIGINT PRIMARY KEY,
                at TEXT NOT NULL,
                kind TEXT NOT NULL,
                idempotency_key TEXT NOT NULL UNIQUE,
                batch_id BIGINT,
                memo TEXT NOT NULL,
                created_by TEXT NOT NULL,
                prev_hash TEXT NOT NULL CHECK(length(prev_hash) = 64),
                hash TEXT NOT NULL CHECK(length(hash) = 64));
            CREATE INDEX journal_entry_batch ON journal_entry(batch_id);
            \(appendOnly("journal_entry", "the journal is append-only; post a reversing entry instead"))

            -- The chain's head, one row, moved by every entry: what concurrent writers lock (SELECT … FOR UPDATE) to
            -- append one after another.
            CREATE TABLE journal_head(
                singleton INTEGER PRIMARY KEY CHECK(singleton = 1),
                entry_id BIGINT NOT NULL,
                hash TEXT NOT NULL,
                entries BIGINT NOT NULL);
            CREATE FUNCTION journal_head_advance() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO journal_head(singleton, entry_id, hash, entries) VALUES (1, NEW.id, NEW.hash, 1)
                ON CONFLICT(singleton) DO UPDATE SET entry_id = NEW.id, hash = NEW.hash, entries = journal_head.entries + 1;
                RETURN NULL;
            END $$;
            CREATE TRIGGER journal_head_advance AFTER INSERT ON journal_entry FOR EACH ROW EXECUTE FUNCTION journal_head_advance();
            CREATE FUNCTION journal_head_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.entry_id <= OLD.entry_id OR NEW.entries <> OLD.entries + 1 THEN
                    RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'the journal head only moves forward';
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER journal_head_forward_only BEFORE UPDATE ON journal_head FOR EACH ROW EXECUTE FUNCTION journal_head_forward_only();
            CREATE TRIGGER journal_head_no_delete BEFORE DELETE ON journal_head
                FOR EACH ROW EXECUTE FUNCTION allowance_refuse('the journal head cannot be deleted');

            CREATE TABLE posting(
                entry_id BIGINT NOT NULL REFERENCES journal_entry(id),
                leg INTEGER NOT NULL,
                account TEXT NOT NULL REFERENCES ledger_account(code),
                sub_account TEXT NOT NULL DEFAULT '',
                beneficiary_id BIGINT,
                item_id BIGINT,
                amount BIGINT NOT NULL CHECK(amount <> 0),
                PRIMARY KEY(entry_id, leg));
            CREATE INDEX posting_item ON posting(item_id) WHERE item_id IS NOT NULL;
            \(appendOnly("posting", "the journal is append-only; post a reversing entry instead"))

            -- What is append-only is appended to and read, never changed, by the application's role; the read-only
            -- role reads.
            GRANT SELECT ON ledger_account TO \(applicationRole), \(readOnlyRole);
            GRANT SELECT, INSERT ON journal_entry, posting TO \(applicationRole);
            GRANT SELECT, INSERT, UPDATE ON journal_head TO \(applicationRole);
            GRANT SELECT ON journal_entry, posting, journal_head TO \(readOnlyRole);
            """),
        Migration(version: 2, name: "batches", sql: """
            CREATE TABLE batch(
                id BIGINT PRIMARY KEY,
                period TEXT NOT NULL CHECK(period ~ '^[0-9]{4}-[0-1][0-9]$'),
                scope TEXT NOT NULL,
                status TEXT NOT NULL CHECK(status IN ('created', 'approved', 'exported', 'closed', 'cancelled')),
                retry_of BIGINT REFERENCES batch(id),
                created_by TEXT NOT NULL,
                created_at TEXT NOT NULL,
                approved_by TEXT,
                approved_at TEXT,
                exported_at TEXT,
                held_out BIGINT NOT NULL DEFAULT 0,
                item_count BIGINT,
                item_total BIGINT,
                item_digest TEXT,
                cancelled_at TEXT,
                cancelled_by TEXT,
                cancel_reason TEXT,
                one_off TEXT CHECK(one_off IS NULL OR length(one_off) BETWEEN 1 AND 200),
                one_off_amount BIGINT,
                CHECK((one_off IS NULL) = (one_off_amount IS NULL) AND (one_off_amount IS NULL OR one_off_amount > 0)),
                -- Maker-checker: the approver is never the creator, whatever writes the row.
                CONSTRAINT batch_maker_is_not_checker CHECK(approved_by IS NULL OR lower(btrim(approved_by)) <> lower(btrim(created_by))),
                CHECK((approved_by IS NULL) = (approved_at IS NULL)),
                CHECK(status IN ('created', 'cancelled') OR approved_by IS NOT NULL),
                CHECK((status = 'cancelled') = (cancelled_at IS NOT NULL)),
                CHECK((approved_by IS NULL) = (item_count IS NULL) AND (item_count IS NULL) = (item_total IS NULL)
                      AND (item_count IS NULL) = (item_digest IS NULL)));
            CREATE INDEX batch_one_off ON batch(one_off) WHERE one_off IS NOT NULL;
            CREATE FUNCTION batch_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.one_off IS DISTINCT FROM OLD.one_off OR NEW.one_off_amount IS DISTINCT FROM OLD.one_off_amount THEN
                    RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'a batch''s one-off payment cannot change once created';
                END IF;
                IF OLD.status <> 'created' AND (NEW.period IS DISTINCT FROM OLD.period OR NEW.scope IS DISTINCT FROM OLD.scope
                    OR NEW.created_by IS DISTINCT FROM OLD.created_by OR NEW.created_at IS DISTINCT FROM OLD.created_at
                    OR NEW.approved_by IS DISTINCT FROM OLD.approved_by OR NEW.approved_at IS DISTINCT FROM OLD.approved_at
                    OR NEW.retry_of IS DISTINCT FROM OLD.retry_of OR NEW.held_out IS DISTINCT FROM OLD.held_out OR NEW.status = 'created'
                    OR NEW.item_count IS DISTINCT FROM OLD.item_count OR NEW.item_total IS DISTINCT FROM OLD.item_total
                    OR NEW.item_digest IS DISTINCT FROM OLD.item_digest) THEN
                    RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'an approved batch cannot change';
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER batch_frozen BEFORE UPDATE ON batch FOR EACH ROW EXECUTE FUNCTION batch_frozen();
            CREATE TRIGGER batch_no_delete BEFORE DELETE ON batch FOR EACH ROW WHEN (OLD.status <> 'created')
                EXECUTE FUNCTION allowance_refuse('an approved batch cannot be deleted');

            CREATE TABLE batch_item(
                id BIGINT PRIMARY KEY,
                batch_id BIGINT NOT NULL REFERENCES batch(id),
                seq BIGINT NOT NULL,
                reference TEXT NOT NULL CHECK(length(reference) BETWEEN 1 AND 32),
                beneficiary_id BIGINT NOT NULL,
                period TEXT NOT NULL,
                commune_code TEXT NOT NULL,
                category TEXT NOT NULL,
                method TEXT NOT NULL CHECK(method IN ('mobile_money', 'cash')),
                carrier TEXT,
                msisdn TEXT,
                account_name TEXT NOT NULL,
                amount BIGINT NOT NULL CHECK(amount > 0),
                retry_of_item BIGINT REFERENCES batch_item(id),
                attempt INTEGER NOT NULL DEFAULT 1 CHECK(attempt >= 1),
                one_off TEXT NOT NULL DEFAULT '',
                CHECK(method = 'cash' OR (carrier IS NOT NULL AND msisdn IS NOT NULL)),
                CHECK((attempt = 1) = (retry_of_item IS NULL)),
                UNIQUE(batch_id, seq));
            CREATE INDEX batch_item_retry_of ON batch_item(retry_of_item) WHERE retry_of_item IS NOT NULL;
            -- A person is paid a month once, and a one-off once.
            CREATE UNIQUE INDEX batch_item_once_per_period ON batch_item(beneficiary_id, period, attempt, one_off);
            CREATE TRIGGER batch_item_no_update BEFORE UPDATE ON batch_item
                FOR EACH ROW EXECUTE FUNCTION allowance_refuse('a batch item cannot change once created; its payment state is in item_state');
            CREATE FUNCTION batch_item_no_delete() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF (SELECT status FROM batch WHERE id = OLD.batch_id) <> 'created' THEN
                    RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'items of an approved batch cannot be deleted';
                END IF;
                RETURN OLD;
            END $$;
            CREATE TRIGGER batch_item_no_delete BEFORE DELETE ON batch_item FOR EACH ROW EXECUTE FUNCTION batch_item_no_delete();

            CREATE TABLE item_state(
                item_id BIGINT PRIMARY KEY REFERENCES batch_item(id),
                state TEXT NOT NULL CHECK(state IN ('paid', 'failed', 'paid_cash')));
            CREATE TRIGGER item_state_no_delete BEFORE DELETE ON item_state
                FOR EACH ROW EXECUTE FUNCTION allowance_refuse('a payment state never returns to open');
            CREATE TRIGGER item_state_moves_forward BEFORE UPDATE ON item_state FOR EACH ROW
                WHEN (NOT (OLD.item_id = NEW.item_id AND OLD.state = 'paid' AND NEW.state = 'failed'))
                EXECUTE FUNCTION allowance_refuse('a payment state only moves from paid to failed, when the carrier reverses the payment');

            CREATE TABLE batch_hold(
                batch_id BIGINT NOT NULL REFERENCES batch(id),
                beneficiary_id BIGINT NOT NULL,
                reason TEXT NOT NULL,
                PRIMARY KEY(batch_id, beneficiary_id));

            -- The journal names the batches and items it pays.
            ALTER TABLE journal_entry ADD CONSTRAINT journal_entry_batch_fk FOREIGN KEY (batch_id) REFERENCES batch(id);
            ALTER TABLE posting ADD CONSTRAINT posting_item_fk FOREIGN KEY (item_id) REFERENCES batch_item(id);

            -- A batch moves through its statuses and an unapproved one is cancelled (its items and holds go); items
            -- and their states are written, never rewritten.
            GRANT SELECT, INSERT, UPDATE, DELETE ON batch, batch_item, batch_hold TO \(applicationRole);
            GRANT SELECT, INSERT, UPDATE ON item_state TO \(applicationRole);
            GRANT SELECT ON batch, batch_item, batch_hold, item_state TO \(readOnlyRole);
            """),
        Migration(version: 3, name: "register", sql: """
            CREATE TABLE carrier(
                code TEXT PRIMARY KEY CHECK(length(code) BETWEEN 1 AND 40),
                name TEXT NOT NULL);
            INSERT INTO carrier(code, name) VALUES ('VIETTEL', 'Viettel Money'), ('VNPT', 'VNPT Money'), ('MOBIFONE', 'MobiFone Money');

            CREATE TABLE programme(
                code TEXT PRIMARY KEY CHECK(length(code) BETWEEN 1 AND 40),
                name TEXT NOT NULL CHECK(length(name) BETWEEN 1 AND 200),
                basis TEXT NOT NULL);
            CREATE TABLE category(
                code TEXT PRIMARY KEY CHECK(length(code) BETWEEN 1 AND 40),
                description TEXT NOT NULL,
                programme TEXT NOT NULL DEFAULT 'SOCIAL_ALLOWANCE' REFERENCES programme(code),
                qualifies_from_age INTEGER CHECK(qualifies_from_age BETWEEN 0 AND 150),
                qualifies_from_age_poor INTEGER CHECK(qualifies_from_age_poor BETWEEN 0 AND 150),
                becomes TEXT REFERENCES category(code) CHECK(becomes <> code),
                becomes_at_age INTEGER CHECK(becomes_at_age BETWEEN 0 AND 150),
                CHECK((becomes IS NULL) = (becomes_at_age IS NULL)));

            CREATE TABLE register_import(
                id BIGINT PRIMARY KEY,
                sha256 TEXT NOT NULL UNIQUE,
                file_name TEXT NOT NULL,
                imported_at TEXT NOT NULL,
                imported_by TEXT NOT NULL,
                lines BIGINT NOT NULL,
                created BIGINT NOT NULL,
                updated BIGINT NOT NULL,
                unchanged BIGINT NOT NULL,
                rejected BIGINT NOT NULL);

            CREATE TABLE beneficiary(
                id BIGINT PRIMARY KEY,
                national_id TEXT NOT NULL UNIQUE CHECK(length(national_id) = 12),
                full_name TEXT NOT NULL CHECK(length(full_name) > 0),
                date_of_birth TEXT NOT NULL,
                gender TEXT NOT NULL CHECK(gender IN ('M', 'F')),
                commune_code TEXT NOT NULL,
                category TEXT NOT NULL REFERENCES category(code),
                payment_method TEXT NOT NULL CHECK(payment_method IN ('mobile_money', 'cash')),
                carrier TEXT REFERENCES carrier(code),
                msisdn TEXT CHECK(msisdn IS NULL OR (length(msisdn) = 11 AND left(msisdn, 2) = '84')),
                status TEXT NOT NULL DEFAULT 'active' CHECK(status IN ('active', 'suspended', 'deceased')),
                registered_at TEXT NOT NULL,
                registered_by TEXT NOT NULL,
                household_status TEXT CHECK(household_status IN ('poor', 'near_poor')),
                CHECK(payment_method = 'cash' OR (carrier IS NOT NULL AND msisdn IS NOT NULL)),
                CHECK((carrier IS NULL) = (msisdn IS NULL)));
            CREATE INDEX beneficiary_msisdn ON beneficiary(msisdn) WHERE msisdn IS NOT NULL;
            CREATE INDEX beneficiary_commune ON beneficiary(commune_code, status, (msisdn IS NULL));

            CREATE TABLE beneficiary_event(
                id BIGINT PRIMARY KEY,
                beneficiary_id BIGINT NOT NULL REFERENCES beneficiary(id),
                at TEXT NOT NULL,
                by TEXT NOT NULL,
                kind TEXT NOT NULL CHECK(kind IN ('registered', 'updated', 'suspended', 'reinstated', 'deceased', 'account_linked',
                                                  'account_changed', 'account_closed', 'flag_cleared')),
                field TEXT,
                old_value TEXT,
                new_value TEXT,
                reason TEXT,
                import_id BIGINT REFERENCES register_import(id));
            CREATE INDEX beneficiary_event_beneficiary ON beneficiary_event(beneficiary_id);
            CREATE INDEX beneficiary_event_kind_at ON beneficiary_event(kind, at);
            \(appendOnly("beneficiary_event", "beneficiary history is append-only"))

            -- The register's own chain (RegisterChain): row seals and links, append-only, and its head.
            CREATE TABLE beneficiary_seal(
                beneficiary_id BIGINT NOT NULL,
                link_id BIGINT NOT NULL,
                digest BYTEA NOT NULL CHECK(length(digest) = 32),
                PRIMARY KEY(beneficiary_id, link_id));
            CREATE TABLE register_link(
                id BIGINT PRIMARY KEY,
                at TEXT NOT NULL,
                by TEXT NOT NULL,
                beneficiaries_through BIGINT NOT NULL,
                events_through BIGINT NOT NULL,
                sealed BIGINT NOT NULL,
                prev_hash TEXT NOT NULL CHECK(length(prev_hash) = 64),
                hash TEXT NOT NULL CHECK(length(hash) = 64));
            CREATE TABLE register_head(
                singleton INTEGER PRIMARY KEY CHECK(singleton = 1),
                link_id BIGINT NOT NULL,
                hash TEXT NOT NULL);
            \(appendOnly("beneficiary_seal", "the register chain is append-only"))
            \(appendOnly("register_link", "the register chain is append-only"))
            CREATE FUNCTION register_head_advance() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO register_head(singleton, link_id, hash) VALUES (1, NEW.id, NEW.hash)
                ON CONFLICT(singleton) DO UPDATE SET link_id = NEW.id, hash = NEW.hash;
                RETURN NULL;
            END $$;
            CREATE TRIGGER register_head_advance AFTER INSERT ON register_link FOR EACH ROW EXECUTE FUNCTION register_head_advance();
            CREATE TRIGGER register_head_forward_only BEFORE UPDATE ON register_head FOR EACH ROW WHEN (NEW.link_id <= OLD.link_id)
                EXECUTE FUNCTION allowance_refuse('the register head only moves forward');
            CREATE TRIGGER register_head_no_delete BEFORE DELETE ON register_head
                FOR EACH ROW EXECUTE FUNCTION allowance_refuse('the register head cannot be deleted');

            -- Items, holds and postings name beneficiaries that exist.
            ALTER TABLE batch_item ADD CONSTRAINT batch_item_beneficiary_fk FOREIGN KEY (beneficiary_id) REFERENCES beneficiary(id);
            ALTER TABLE batch_hold ADD CONSTRAINT batch_hold_beneficiary_fk FOREIGN KEY (beneficiary_id) REFERENCES beneficiary(id);
            ALTER TABLE posting ADD CONSTRAINT posting_beneficiary_fk FOREIGN KEY (beneficiary_id) REFERENCES beneficiary(id);

            -- The register changes through the ledger (rows updated, sealed again); its history and chain are appended.
            GRANT SELECT ON carrier, programme, category TO \(readOnlyRole), \(applicationRole);
            GRANT INSERT, UPDATE ON carrier, programme, category TO \(applicationRole);
            GRANT SELECT, INSERT, UPDATE ON beneficiary, register_head TO \(applicationRole);
            GRANT SELECT, INSERT ON register_import, beneficiary_event, beneficiary_seal, register_link TO \(applicationRole);
            GRANT SELECT ON register_import, beneficiary, beneficiary_event, beneficiary_seal, register_link, register_head TO \(readOnlyRole);
            """),
        Migration(version: 4, name: "postings-before-their-entry", sql: """
            -- The journal writer hashes an entry's postings as they go in and writes its header, which holds the hash,
            -- last (an entry of a million postings never sits in memory): the key from a posting to its entry is checked
            -- at commit, as on SQLite.
            ALTER TABLE posting ALTER CONSTRAINT posting_entry_id_fkey DEFERRABLE INITIALLY DEFERRED;
            """),
    ]

    /// Triggers refusing UPDATE, DELETE and TRUNCATE of `table` with `message`, whoever connects.
    static func appendOnly(_ table: String, _ message: String) -> String {
        precondition(!message.contains("'"), "a refusal's words are written into SQL as a literal")
        return [("UPDATE", "ROW"), ("DELETE", "ROW"), ("TRUNCATE", "STATEMENT")].map { event, level in
            "CREATE TRIGGER \(table)_no_\(event.lowercased()) BEFORE \(event) ON \(table) FOR EACH \(level) EXECUTE FUNCTION allowance_refuse('\(message)');"
        }.joined(separator: "\n")
    }

    /// Brings the database's schema up to date: each migration not yet applied, in order, in its own transaction,
    /// under a lock so that two processes opening a new ledger at once apply each migration once. Returns the versions
    /// applied.
    @discardableResult
    public static func migrate(_ connection: PGConnection) throws -> [Int] {
        // Under the same lock: two processes creating the table at once collide in the catalogue (found by the test).
        try connection.transaction {
            try connection.query("SELECT pg_advisory_xact_lock(7220231)")
            try connection.execute("""
                CREATE TABLE IF NOT EXISTS schema_migration(version INTEGER PRIMARY KEY, name TEXT NOT NULL,
                                                            applied_at TIMESTAMPTZ NOT NULL DEFAULT now())
                """)
        }
        var applied: [Int] = []
        for migration in migrations {
            let done = try connection.transaction {
                // Held to the end of the transaction: a second process waits here, then sees the row.
                try connection.query("SELECT pg_advisory_xact_lock(7220231)")
                if try !connection.query("SELECT 1 FROM schema_migration WHERE version = $1", [String(migration.version)]).isEmpty { return false }
                try connection.execute(migration.sql)
                try connection.query("INSERT INTO schema_migration(version, name) VALUES ($1, $2)", [String(migration.version), migration.name])
                return true
            }
            if done { applied.append(migration.version) }
        }
        return applied
    }
}
