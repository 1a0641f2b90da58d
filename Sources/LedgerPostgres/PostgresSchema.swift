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
            -- Roles belong to the cluster, and the migration lock to one database: two databases of one cluster made at
            -- once both find a role missing, and the second to create it gets a duplicate (found by CI's parallel
            -- suites). Either outcome leaves the role there; the schema this makes is what it always made.
            DO $$ BEGIN
                BEGIN CREATE ROLE \(applicationRole) NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
                BEGIN CREATE ROLE \(readOnlyRole) NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
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
        Migration(version: 5, name: "rates-flags-reconciliation-audit-access", sql: """
            -- Amounts as dated data: a base level per province ('' is the national one), and each category's amount as
            -- a coefficient of it (in thousandths) or a fixed amount.
            CREATE TABLE base_level(
                province TEXT NOT NULL DEFAULT '' CHECK(length(province) <= 16),
                effective_from TEXT NOT NULL CHECK(effective_from ~ '^[0-9]{4}-[0-1][0-9]-[0-3][0-9]$'),
                amount BIGINT NOT NULL CHECK(amount > 0),
                basis TEXT NOT NULL DEFAULT '',
                created_at TEXT NOT NULL,
                created_by TEXT NOT NULL,
                PRIMARY KEY(province, effective_from));
            CREATE TABLE category_rate(
                category TEXT NOT NULL REFERENCES category(code),
                effective_from TEXT NOT NULL CHECK(effective_from ~ '^[0-9]{4}-[0-1][0-9]-[0-3][0-9]$'),
                coefficient_milli BIGINT CHECK(coefficient_milli IS NULL OR coefficient_milli > 0),
                amount BIGINT CHECK(amount IS NULL OR amount > 0),
                basis TEXT NOT NULL DEFAULT '',
                created_at TEXT NOT NULL,
                created_by TEXT NOT NULL,
                CHECK((coefficient_milli IS NULL) <> (amount IS NULL)),
                PRIMARY KEY(category, effective_from));
            -- A rate once set for a day stays: a correction is a new day's rate (as on SQLite, where nothing updates them).
            \(appendOnly("base_level", "a base level once set is history; set a new one from a later day"))
            \(appendOnly("category_rate", "a rate once set is history; set a new one from a later day"))

            CREATE TABLE carrier_alias(
                alias TEXT PRIMARY KEY CHECK(length(alias) BETWEEN 1 AND 60 AND alias = upper(alias)),
                carrier TEXT NOT NULL REFERENCES carrier(code),
                created_at TEXT NOT NULL,
                created_by TEXT NOT NULL);
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

            CREATE TABLE setting(key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE setting_event(
                id BIGINT PRIMARY KEY,
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                at TEXT NOT NULL,
                by TEXT NOT NULL);
            \(appendOnly("setting_event", "a setting change is history; it is never edited or removed"))

            CREATE TABLE flag(
                id BIGINT PRIMARY KEY,
                beneficiary_id BIGINT NOT NULL REFERENCES beneficiary(id),
                kind TEXT NOT NULL CHECK(kind IN ('shared_msisdn', 'recent_account_change')),
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
            -- A flag is cleared once, with who and why, and never raised again for the same evidence.
            CREATE FUNCTION flag_cleared_once() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF OLD.cleared_at IS NOT NULL OR NEW.id <> OLD.id OR NEW.beneficiary_id <> OLD.beneficiary_id OR NEW.kind <> OLD.kind
                   OR NEW.evidence <> OLD.evidence OR NEW.evidence_at <> OLD.evidence_at OR NEW.detail <> OLD.detail
                   OR NEW.raised_at <> OLD.raised_at THEN
                    RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'a flag is only cleared, once';
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER flag_cleared_once BEFORE UPDATE ON flag FOR EACH ROW EXECUTE FUNCTION flag_cleared_once();
            CREATE TRIGGER flag_no_delete BEFORE DELETE ON flag
                FOR EACH ROW EXECUTE FUNCTION allowance_refuse('a flag is history; clear it instead');

            -- A carrier's result file as read, and every line's outcome, append-only; only the file's line count is
            -- filled in once its lines are stored.
            CREATE TABLE result_file(
                id BIGINT PRIMARY KEY,
                batch_id BIGINT NOT NULL REFERENCES batch(id),
                sha256 TEXT NOT NULL CHECK(length(sha256) = 64),
                file_name TEXT NOT NULL,
                byte_size BIGINT NOT NULL,
                profile TEXT NOT NULL,
                profile_sha256 TEXT NOT NULL CHECK(length(profile_sha256) = 64),
                imported_at TEXT NOT NULL,
                imported_by TEXT NOT NULL,
                lines BIGINT NOT NULL,
                profile_rules TEXT,
                UNIQUE(batch_id, sha256, profile_sha256));
            CREATE FUNCTION result_file_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF (to_jsonb(NEW) - 'lines') <> (to_jsonb(OLD) - 'lines') THEN
                    RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'an imported result file cannot change';
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER result_file_frozen BEFORE UPDATE ON result_file FOR EACH ROW EXECUTE FUNCTION result_file_frozen();
            CREATE TRIGGER result_file_no_delete BEFORE DELETE ON result_file
                FOR EACH ROW EXECUTE FUNCTION allowance_refuse('an imported result file is part of the record and cannot be deleted');
            CREATE TRIGGER result_file_no_truncate BEFORE TRUNCATE ON result_file
                FOR EACH STATEMENT EXECUTE FUNCTION allowance_refuse('an imported result file is part of the record and cannot be deleted');
            CREATE TABLE result_line(
                file_id BIGINT NOT NULL REFERENCES result_file(id),
                line BIGINT NOT NULL,
                outcome TEXT NOT NULL CHECK(outcome IN ('paid', 'failed', 'pending', 'reversed', 'amount_mismatch', 'msisdn_mismatch',
                                                        'unknown_reference', 'duplicate', 'invalid_line')),
                effect TEXT CHECK(effect IS NULL OR effect IN ('settle', 'refund', 'reverse')),
                item_id BIGINT REFERENCES batch_item(id),
                reference TEXT CHECK(reference IS NOT NULL OR item_id IS NOT NULL),
                status TEXT CHECK(status IS NULL OR status IN ('paid', 'failed', 'pending', 'reversed')),
                msisdn TEXT,
                amount BIGINT,
                carrier_txn_id TEXT NOT NULL,
                completed_at TEXT NOT NULL,
                reason_code TEXT NOT NULL,
                reason_text TEXT NOT NULL,
                note TEXT NOT NULL,
                fingerprint BIGINT NOT NULL,
                leg BIGINT CHECK((leg IS NULL) = (effect IS NULL)),
                conflicting INTEGER NOT NULL DEFAULT 0 CHECK(conflicting = 0 OR (conflicting = 1 AND outcome = 'duplicate')),
                carrier_status TEXT,
                CHECK(effect IS NULL OR item_id IS NOT NULL),
                PRIMARY KEY(file_id, line));
            CREATE INDEX result_line_moved_back ON result_line(item_id) WHERE effect = 'refund' OR effect = 'reverse';
            \(appendOnly("result_line", "reconciliation outcomes are append-only"))

            CREATE TABLE audit_export(
                id BIGINT PRIMARY KEY,
                created_at TEXT NOT NULL,
                created_by TEXT NOT NULL,
                directory TEXT NOT NULL,
                scope TEXT NOT NULL,
                pii TEXT NOT NULL CHECK(pii IN ('masked', 'full')),
                key_id TEXT NOT NULL,
                journal_head_entry_id BIGINT NOT NULL,
                manifest_sha256 TEXT NOT NULL UNIQUE CHECK(length(manifest_sha256) = 64),
                previous_manifest_sha256 TEXT CHECK(previous_manifest_sha256 IS NULL OR length(previous_manifest_sha256) = 64));
            \(appendOnly("audit_export", "the list of audit exports is append-only"))
            CREATE TABLE disclosure(id BIGINT PRIMARY KEY, at TEXT NOT NULL, by TEXT NOT NULL, what TEXT NOT NULL);
            \(appendOnly("disclosure", "the access log is history; it is never edited or removed"))
            CREATE TABLE operator_log(
                id BIGINT PRIMARY KEY,
                at TEXT NOT NULL,
                actor TEXT NOT NULL,
                os_account TEXT NOT NULL,
                host TEXT NOT NULL,
                command TEXT NOT NULL);
            \(appendOnly("operator_log", "the operator log is history; it is never edited or removed"))

            -- The web application's people: a name is one account whatever its case in ASCII letters, as SQLite's COLLATE
            -- NOCASE folds them (lower() in the "C" collation: "Đức" and "đức" are two names there too).
            CREATE TABLE account(
                name TEXT PRIMARY KEY,
                role TEXT NOT NULL CHECK(role IN ('officer', 'approver', 'auditor', 'official', 'admin')),
                communes TEXT NOT NULL DEFAULT '',
                disabled INTEGER NOT NULL DEFAULT 0,
                created_at TEXT NOT NULL,
                created_by TEXT NOT NULL,
                password_hash TEXT NOT NULL,
                otp_secret TEXT,
                failed_logins INTEGER NOT NULL DEFAULT 0,
                locked_until TEXT,
                language TEXT NOT NULL DEFAULT 'vi' CHECK(language IN ('vi', 'en')));
            CREATE UNIQUE INDEX account_name_any_case ON account(lower(name COLLATE "C"));
            CREATE TABLE session(
                token_sha256 TEXT PRIMARY KEY,
                account TEXT NOT NULL REFERENCES account(name),
                csrf_token TEXT NOT NULL,
                created_at TEXT NOT NULL,
                last_seen_at TEXT NOT NULL);
            CREATE INDEX session_account ON session(account);
            CREATE TABLE activity(id BIGINT PRIMARY KEY, at TEXT NOT NULL, account TEXT NOT NULL, what TEXT NOT NULL, detail TEXT NOT NULL);
            \(appendOnly("activity", "the activity log is history; it is never edited or removed"))

            GRANT SELECT ON base_level, category_rate, carrier_alias, commune, commune_replacement, setting, setting_event, flag,
                            result_file, result_line, audit_export, disclosure, operator_log, account, session, activity
                TO \(applicationRole), \(readOnlyRole);
            -- Accounts hold password hashes, sessions their tokens' hashes, settings the secret behind an export's pseudonyms.
            REVOKE SELECT ON account, session, setting FROM \(readOnlyRole);
            GRANT INSERT ON base_level, category_rate, carrier_alias, commune, commune_replacement, setting, setting_event, flag,
                            result_file, result_line, audit_export, disclosure, operator_log, account, session, activity
                TO \(applicationRole);
            GRANT UPDATE ON commune, setting, flag, result_file, account, session TO \(applicationRole);
            GRANT DELETE ON commune_replacement, session TO \(applicationRole);
            """),
        Migration(version: 6, name: "treasury-named-as-on-sqlite", sql: """
            -- The chart of accounts reads as a file's does, so that a ledger copied to the server keeps its words.
            UPDATE ledger_account SET name = 'Treasury (allowance funds held by the office)' WHERE code = '1000';
            """),
        Migration(version: 7, name: "ids-numbered-by-the-server", sql: """
            -- The rows SQLite numbers itself (a table's INTEGER PRIMARY KEY) are numbered by the server: each writer gets
            -- the next id without reading the last one, so two officers never take the same. `store copy` moves each
            -- sequence past the ids it copied.
            \(autoNumbered.map { "ALTER TABLE \($0) ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY;" }.joined(separator: "\n"))
            """),
    ]

    /// Tables whose ids the server hands out (migration 7).
    public static let autoNumbered = ["activity", "batch", "batch_item", "beneficiary", "beneficiary_event", "disclosure", "operator_log",
                                      "result_file", "setting_event", "flag"]

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
