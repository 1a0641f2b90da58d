import AllowanceLedger

extension PostgresStorage: AccountStorage {
    func read<T>(_ body: (any AccountTransaction) throws -> T) throws -> T { try store.read { try body(PostgresTransaction(db: $0)) } }
    func write<T>(_ body: (any AccountTransaction) throws -> T) throws -> T { try store.write { try body(PostgresTransaction(db: $0)) } }
}

/// Accounts, sessions and the activity log on a server: an account's name matches whatever the case of its ASCII
/// letters (`lower(name COLLATE "C")`, which a unique index keeps one per name), as SQLite's `COLLATE NOCASE` does; a
/// session names its account exactly.
extension PostgresTransaction: AccountTransaction {
    private static let accountColumns = "name, role, communes, disabled, created_at, created_by, password_hash, otp_secret, failed_logins, locked_until, language"

    func account(named name: String) throws -> AccountRecord? {
        try db.query("SELECT \(Self.accountColumns) FROM account WHERE lower(name COLLATE \"C\") = lower($1 COLLATE \"C\")", [name]).first.map(Self.record(from:))
    }

    func accounts() throws -> [Account] {
        try db.query("SELECT \(Self.accountColumns) FROM account ORDER BY name").map { try Self.record(from: $0).account }
    }

    private static func record(from row: [String?]) throws -> AccountRecord {
        let communes = (row[2] ?? "").split(separator: ",").map { Code(trusted: String($0)) }
        let account = Account(name: try UserName(parsing: row[0] ?? ""), role: Role(rawValue: row[1] ?? "") ?? .official, communes: communes,
                              disabled: row[3] != "0", createdAt: row[4] ?? "", createdBy: row[5] ?? "", language: row[10] ?? "vi")
        return AccountRecord(account: account, passwordHash: row[6] ?? "", oneTimeSecret: row[7], failedLogins: Int(row[8] ?? "") ?? 0,
                             lockedUntil: try row[9].map { try Timestamp(parsing: $0) })
    }

    func insertAccount(_ record: AccountRecord) throws -> Bool {
        let account = record.account
        // The unique index on lower(name) decides between two admins adding the same name at once.
        let inserted = try db.query("""
            INSERT INTO account(name, role, communes, disabled, created_at, created_by, password_hash, otp_secret)
            VALUES ($1, $2, $3, 0, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING name
            """, [account.name.value, account.role.rawValue, account.communes.map(\.value).joined(separator: ","), account.createdAt,
                  account.createdBy, record.passwordHash, record.oneTimeSecret])
        return !inserted.isEmpty
    }

    func setPassword(of name: String, hash: String, oneTimeSecret: String?) throws {
        try db.query("UPDATE account SET password_hash = $1, otp_secret = $2 WHERE lower(name COLLATE \"C\") = lower($3 COLLATE \"C\")", [hash, oneTimeSecret, name])
    }

    func setLanguage(of name: String, to language: String) throws {
        try db.query("UPDATE account SET language = $1 WHERE lower(name COLLATE \"C\") = lower($2 COLLATE \"C\")", [language, name])
    }

    func setDisabled(_ name: String, _ disabled: Bool) throws {
        try db.query("UPDATE account SET disabled = $1::integer WHERE lower(name COLLATE \"C\") = lower($2 COLLATE \"C\")", [disabled ? "1" : "0", name])
    }

    func setLoginFailures(of name: String, count: Int, lockedUntil: Timestamp?) throws {
        try db.query("UPDATE account SET failed_logins = $1::integer, locked_until = $2 WHERE lower(name COLLATE \"C\") = lower($3 COLLATE \"C\")",
                     [String(count), lockedUntil?.description, name])
    }

    func insertSession(tokenSHA256: String, account: String, csrfToken: String, at: Timestamp) throws {
        try db.query("INSERT INTO session(token_sha256, account, csrf_token, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $4)",
                     [tokenSHA256, account, csrfToken, at.description])
    }

    func session(tokenSHA256: String) throws -> SessionRecord? {
        try db.query("SELECT account, csrf_token, created_at, last_seen_at FROM session WHERE token_sha256 = $1", [tokenSHA256]).first.map {
            SessionRecord(account: $0[0] ?? "", csrfToken: $0[1] ?? "", createdAt: try Timestamp(parsing: $0[2] ?? ""),
                          lastSeenAt: try Timestamp(parsing: $0[3] ?? ""))
        }
    }

    func touchSession(tokenSHA256: String, at: Timestamp) throws {
        try db.query("UPDATE session SET last_seen_at = $1 WHERE token_sha256 = $2", [at.description, tokenSHA256])
    }

    func deleteSession(tokenSHA256: String) throws {
        try db.query("DELETE FROM session WHERE token_sha256 = $1", [tokenSHA256])
    }

    func deleteSessions(of account: String) throws {
        try db.query("DELETE FROM session WHERE account = $1", [account])
    }

    func recordActivity(_ activity: Activity) throws {
        try db.query("INSERT INTO activity(at, account, what, detail) VALUES ($1, $2, $3, $4)",
                     [activity.at, activity.account, activity.what, activity.detail])
    }

    func activity(limit: Int) throws -> [Activity] {
        try db.query("SELECT at, account, what, detail FROM activity ORDER BY id DESC LIMIT $1::integer", [String(limit)]).map {
            Activity(at: $0[0] ?? "", account: $0[1] ?? "", what: $0[2] ?? "", detail: $0[3] ?? "")
        }
    }
}

extension PostgresStore {
    /// The web application's accounts, sessions and activity log on this ledger.
    public var accounts: Accounts { Accounts(storage: PostgresStorage(store: self), clock: clock) }
}
