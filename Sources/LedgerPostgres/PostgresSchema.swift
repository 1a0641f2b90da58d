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
            CREATE TRIGGER journal_entry_no_update BEFORE UPDATE ON journal_entry
                FOR EACH ROW EXECUTE FUNCTION allowance_refuse('the journal is append-only; post a reversing entry instead');
            CREATE TRIGGER journal_entry_no_delete BEFORE DELETE ON journal_entry
                FOR EACH ROW EXECUTE FUNCTION allowance_refuse('the journal is append-only; post a reversing entry instead');
            CREATE TRIGGER journal_entry_no_truncate BEFORE TRUNCATE ON journal_entry
                FOR EACH STATEMENT EXECUTE FUNCTION allowance_refuse('the journal is append-only; post a reversing entry instead');

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
            CREATE TRIGGER posting_no_update BEFORE UPDATE ON posting
                FOR EACH ROW EXECUTE FUNCTION allowance_refuse('the journal is append-only; post a reversing entry instead');
            CREATE TRIGGER posting_no_delete BEFORE DELETE ON posting
                FOR EACH ROW EXECUTE FUNCTION allowance_refuse('the journal is append-only; post a reversing entry instead');
            CREATE TRIGGER posting_no_truncate BEFORE TRUNCATE ON posting
                FOR EACH STATEMENT EXECUTE FUNCTION allowance_refuse('the journal is append-only; post a reversing entry instead');

            -- What is append-only is appended to and read, never changed, by the application's role; the read-only
            -- role reads.
            GRANT SELECT ON ledger_account TO \(applicationRole), \(readOnlyRole);
            GRANT SELECT, INSERT ON journal_entry, posting TO \(applicationRole);
            GRANT SELECT, INSERT, UPDATE ON journal_head TO \(applicationRole);
            GRANT SELECT ON journal_entry, posting, journal_head TO \(readOnlyRole);
            """),
    ]

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
