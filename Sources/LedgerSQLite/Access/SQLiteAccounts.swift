import AllowanceLedger
import GRDB

extension SQLiteStorage: AccountStorage {
    func read<T>(_ body: (any AccountTransaction) throws -> T) throws -> T { try store.read { try body(SQLiteTransaction(db: $0)) } }
    func write<T>(_ body: (any AccountTransaction) throws -> T) throws -> T { try store.write { try body(SQLiteTransaction(db: $0)) } }
}

extension SQLiteTransaction: AccountTransaction {
    private static let accountColumns = "name, role, communes, disabled, created_at, created_by, password_hash, otp_secret, failed_logins, locked_until, language"

    func account(named name: String) throws -> AccountRecord? {
        try Row.fetchOne(db, sql: "SELECT \(Self.accountColumns) FROM account WHERE name = ?", arguments: [name]).map(Self.record(from:))
    }

    func accounts() throws -> [Account] {
        try Row.fetchAll(db, sql: "SELECT \(Self.accountColumns) FROM account ORDER BY name").map { try Self.record(from: $0).account }
    }

    private static func record(from row: Row) throws -> AccountRecord {
        let communes = (row[2] as String).split(separator: ",").map { Code(trusted: String($0)) }
        let account = Account(name: try UserName(parsing: row[0]), role: Role(rawValue: row[1]) ?? .official, communes: communes,
                              disabled: row[3], createdAt: row[4], createdBy: row[5], language: row[10])
        return AccountRecord(account: account, passwordHash: row[6], oneTimeSecret: row[7], failedLogins: row[8],
                             lockedUntil: try (row[9] as String?).map { try Timestamp(parsing: $0) })
    }

    func insertAccount(_ record: AccountRecord) throws -> Bool {
        guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM account WHERE name = ?", arguments: [record.account.name.value]) == 0 else {
            return false
        }
        let account = record.account
        try db.execute(sql: """
            INSERT INTO account(name, role, communes, disabled, created_at, created_by, password_hash, otp_secret)
            VALUES (?, ?, ?, 0, ?, ?, ?, ?)
            """, arguments: [account.name.value, account.role.rawValue, account.communes.map(\.value).joined(separator: ","),
                             account.createdAt, account.createdBy, record.passwordHash, record.oneTimeSecret])
        return true
    }

    func setPassword(of name: String, hash: String, oneTimeSecret: String?) throws {
        try db.execute(sql: "UPDATE account SET password_hash = ?, otp_secret = ? WHERE name = ?", arguments: [hash, oneTimeSecret, name])
    }

    func setLanguage(of name: String, to language: String) throws {
        try db.execute(sql: "UPDATE account SET language = ? WHERE name = ?", arguments: [language, name])
    }

    func setDisabled(_ name: String, _ disabled: Bool) throws {
        try db.execute(sql: "UPDATE account SET disabled = ? WHERE name = ?", arguments: [disabled, name])
    }

    func setLoginFailures(of name: String, count: Int, lockedUntil: Timestamp?) throws {
        try db.execute(sql: "UPDATE account SET failed_logins = ?, locked_until = ? WHERE name = ?", arguments: [count, lockedUntil?.description, name])
    }

    func insertSession(tokenSHA256: String, account: String, csrfToken: String, at: Timestamp) throws {
        try db.execute(sql: "INSERT INTO session(token_sha256, account, csrf_token, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?)",
                       arguments: [tokenSHA256, account, csrfToken, at.description, at.description])
    }

    func session(tokenSHA256: String) throws -> SessionRecord? {
        try Row.fetchOne(db, sql: "SELECT account, csrf_token, created_at, last_seen_at FROM session WHERE token_sha256 = ?",
                         arguments: [tokenSHA256]).map {
            SessionRecord(account: $0[0], csrfToken: $0[1], createdAt: try Timestamp(parsing: $0[2]), lastSeenAt: try Timestamp(parsing: $0[3]))
        }
    }

    func touchSession(tokenSHA256: String, at: Timestamp) throws {
        try db.execute(sql: "UPDATE session SET last_seen_at = ? WHERE token_sha256 = ?", arguments: [at.description, tokenSHA256])
    }

    func deleteSession(tokenSHA256: String) throws {
        try db.execute(sql: "DELETE FROM session WHERE token_sha256 = ?", arguments: [tokenSHA256])
    }

    func deleteSessions(of account: String) throws {
        try db.execute(sql: "DELETE FROM session WHERE account = ?", arguments: [account])
    }

    func recordActivity(_ activity: Activity) throws {
        try db.execute(sql: "INSERT INTO activity(at, account, what, detail) VALUES (?, ?, ?, ?)",
                       arguments: [activity.at, activity.account, activity.what, activity.detail])
    }

    func activity(limit: Int) throws -> [Activity] {
        try Row.fetchAll(db, sql: "SELECT at, account, what, detail FROM activity ORDER BY id DESC LIMIT ?", arguments: [limit]).map {
            Activity(at: $0[0], account: $0[1], what: $0[2], detail: $0[3])
        }
    }
}

extension Migrations {
    /// The web application's accounts (bcrypt hashes, one-time secrets, failed logins), its sessions (kept by the
    /// SHA-256 of their token, so that a copy of the ledger opens none), and its activity log, never edited.
    static let accountsV13 = """
    CREATE TABLE account(
        name TEXT PRIMARY KEY COLLATE NOCASE,
        role TEXT NOT NULL CHECK(role = 'officer' OR role = 'approver' OR role = 'auditor' OR role = 'official' OR role = 'admin'),
        communes TEXT NOT NULL DEFAULT '',
        disabled INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        otp_secret TEXT,
        failed_logins INTEGER NOT NULL DEFAULT 0,
        locked_until TEXT);
    CREATE TABLE session(
        token_sha256 TEXT PRIMARY KEY,
        account TEXT NOT NULL REFERENCES account(name),
        csrf_token TEXT NOT NULL,
        created_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL);
    CREATE INDEX session_account ON session(account);
    CREATE TABLE activity(
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        account TEXT NOT NULL,
        what TEXT NOT NULL,
        detail TEXT NOT NULL);
    CREATE TRIGGER activity_no_update BEFORE UPDATE ON activity
    BEGIN SELECT RAISE(ABORT, 'the activity log is history; it is never edited'); END;
    CREATE TRIGGER activity_no_delete BEFORE DELETE ON activity
    BEGIN SELECT RAISE(ABORT, 'the activity log is history; it is never removed'); END;
    """
}
