import HummingbirdBcrypt

/// What a person may do in the office's web application (and, once the CLI takes roles, there too).
public enum Role: String, Sendable, CaseIterable {
    case officer, approver, auditor, official, admin

    /// Approvers and admins log in with a password and a one-time code.
    public var needsOneTimeCode: Bool { self == .approver || self == .admin }

    public func may(_ action: Action) -> Bool {
        switch action {
        case .importRegister, .manageBeneficiaries, .createBatch, .downloadInstructions: self == .officer
        case .approveBatch, .cancelBatch, .clearFlag: self == .approver
        case .reconcile, .retryBatch, .verifyLedger, .exportAudit: self == .auditor
        case .viewBatches, .viewBeneficiaries: self == .officer || self == .approver || self == .auditor
        case .viewReports: self != .admin
        case .manageAccounts: self == .admin
        case .viewActivity: self == .admin || self == .auditor
        }
    }
}

/// Everything the application lets someone do, each checked against the role before a service runs it.
public enum Action: String, Sendable, CaseIterable {
    case importRegister = "import_register", manageBeneficiaries = "manage_beneficiaries", createBatch = "create_batch"
    case downloadInstructions = "download_instructions", approveBatch = "approve_batch", cancelBatch = "cancel_batch"
    case clearFlag = "clear_flag", reconcile, retryBatch = "retry_batch", verifyLedger = "verify_ledger"
    case exportAudit = "export_audit", viewBatches = "view_batches", viewBeneficiaries = "view_beneficiaries"
    case viewReports = "view_reports", manageAccounts = "manage_accounts", viewActivity = "view_activity"
}

public struct Account: Sendable, Equatable {
    public let name: UserName
    public let role: Role
    /// The communes the account sees and acts on; empty: the whole office.
    public let communes: [Code]
    public let disabled: Bool
    public let createdAt: String
    public let createdBy: String
    /// The language of the pages for this person: `vi` or `en`.
    public let language: String

    package init(name: UserName, role: Role, communes: [Code], disabled: Bool, createdAt: String, createdBy: String, language: String = "vi") {
        self.language = language
        self.name = name
        self.role = role
        self.communes = communes
        self.disabled = disabled
        self.createdAt = createdAt
        self.createdBy = createdBy
    }

    /// Whether the account may act on `commune`'s beneficiaries and batches.
    public func covers(_ commune: Code) -> Bool { communes.isEmpty || communes.contains(commune) }
}

/// An account as stored: with its password's bcrypt hash, its one-time-code secret and its failed logins.
package struct AccountRecord: Sendable {
    package let account: Account
    package let passwordHash: String
    package let oneTimeSecret: String?
    package let failedLogins: Int
    package let lockedUntil: Timestamp?

    package init(account: Account, passwordHash: String, oneTimeSecret: String?, failedLogins: Int, lockedUntil: Timestamp?) {
        self.account = account
        self.passwordHash = passwordHash
        self.oneTimeSecret = oneTimeSecret
        self.failedLogins = failedLogins
        self.lockedUntil = lockedUntil
    }
}

package struct SessionRecord: Sendable {
    package let account: String
    package let csrfToken: String
    package let createdAt: Timestamp
    package let lastSeenAt: Timestamp

    package init(account: String, csrfToken: String, createdAt: Timestamp, lastSeenAt: Timestamp) {
        self.account = account
        self.csrfToken = csrfToken
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
    }
}

/// A logged-in session: whose, and the token that must come back with every change (`X-CSRF-Token`).
public struct Session: Sendable, Equatable {
    public let account: Account
    public let csrfToken: String
    /// The cookie's value; only when the session was just made (the ledger keeps its SHA-256, never the token).
    public let token: String?

    /// Whether a change sent `sent` as its CSRF token: compared in constant time (through their digests, which have
    /// one length whatever was sent).
    public func accepts(csrfToken sent: String?) -> Bool {
        guard let sent else { return false }
        return HMACSHA256.constantTimeEquals(SHA256Hasher.hash(sent), SHA256Hasher.hash(csrfToken))
    }
}

/// One line of the activity log: logins, failed logins, downloads of instruction files and exports.
public struct Activity: Sendable, Equatable {
    public let at: String
    public let account: String
    public let what: String
    public let detail: String

    package init(at: String, account: String, what: String, detail: String) {
        self.at = at
        self.account = account
        self.what = what
        self.detail = detail
    }
}

package protocol AccountStorage: Sendable {
    func read<T>(_ body: (any AccountTransaction) throws -> T) throws -> T
    /// One transaction: an account's change and its activity line land together, or neither.
    func write<T>(_ body: (any AccountTransaction) throws -> T) throws -> T
}

/// Accounts, sessions and the activity log inside one transaction.
package protocol AccountTransaction {
    func account(named name: String) throws -> AccountRecord?
    func accounts() throws -> [Account]
    /// False when the name is taken (names compare without case).
    func insertAccount(_ record: AccountRecord) throws -> Bool
    func setPassword(of name: String, hash: String, oneTimeSecret: String?) throws
    func setDisabled(_ name: String, _ disabled: Bool) throws
    func setLanguage(of name: String, to language: String) throws
    func setLoginFailures(of name: String, count: Int, lockedUntil: Timestamp?) throws
    func insertSession(tokenSHA256: String, account: String, csrfToken: String, at: Timestamp) throws
    func session(tokenSHA256: String) throws -> SessionRecord?
    func touchSession(tokenSHA256: String, at: Timestamp) throws
    func deleteSession(tokenSHA256: String) throws
    func deleteSessions(of account: String) throws
    func recordActivity(_ activity: Activity) throws
    func activity(limit: Int) throws -> [Activity]
}

public enum AccessError: Error, Sendable, Equatable, CustomStringConvertible {
    case badCredentials
    case locked(until: String)
    case oneTimeCodeRequired
    case notLoggedIn
    case forbidden(Action)
    /// The account does not cover the commune (or the batch is not of its communes).
    case outsideCommunes
    case nameTaken(String)
    case noSuchAccount(String)
    case weakPassword
    case invalid(String)

    /// The API's error code.
    public var code: String {
        switch self {
        case .badCredentials: "bad_credentials"
        case .locked: "locked"
        case .oneTimeCodeRequired: "otp_required"
        case .notLoggedIn: "not_logged_in"
        case .forbidden: "forbidden"
        case .outsideCommunes: "commune"
        case .nameTaken: "name_taken"
        case .noSuchAccount: "no_such_account"
        case .weakPassword: "weak_password"
        case .invalid: "invalid"
        }
    }

    public var description: String {
        switch self {
        case .badCredentials: "the user name, password or one-time code is wrong"
        case .locked(let until): "too many failed logins: the account is locked until \(until)"
        case .oneTimeCodeRequired: "this account logs in with a one-time code from its authenticator app as well"
        case .notLoggedIn: "log in first"
        case .forbidden(let action): "your role may not \(action.rawValue.replacingOccurrences(of: "_", with: " "))"
        case .outsideCommunes: "you may act on your own communes only"
        case .nameTaken(let name): "an account named \(name) exists already"
        case .noSuchAccount(let name): "no account named \(name)"
        case .weakPassword: "a password has at least \(Accounts.passwordLengthMin) characters"
        case .invalid(let reason): reason
        }
    }
}

/// Accounts, logins and sessions: bcrypt passwords (cost 12), one-time codes for approvers and admins, five failed
/// logins lock an account for 15 minutes, sessions end after 30 idle minutes or 8 hours.
public struct Accounts: Sendable {
    let storage: any AccountStorage
    let clock: Clock

    package init(storage: any AccountStorage, clock: Clock) {
        self.storage = storage
        self.clock = clock
    }

    public static let bcryptCost: UInt8 = 12
    public static let passwordLengthMin = 10
    public static let failuresBeforeLock = 5
    public static let lockSeconds: Int64 = 15 * 60
    public static let idleSeconds: Int64 = 30 * 60
    public static let lifetimeSeconds: Int64 = 8 * 3600
    public static let issuer = "AllowanceLedger"

    /// Creates an account; returns it with the `otpauth://` URI to add to an authenticator app (approvers and admins).
    public func add(_ name: UserName, role: Role, communes: [Code], password: String, by user: UserName) throws -> (Account, otpURI: String?) {
        guard password.count >= Self.passwordLengthMin else { throw AccessError.weakPassword }
        let oneTime = role.needsOneTimeCode ? try OneTimeCode.generate() : nil
        let account = Account(name: name, role: role, communes: communes, disabled: false, createdAt: clock.now().description,
                              createdBy: user.value)
        let record = AccountRecord(account: account, passwordHash: Bcrypt.hash(password, cost: Self.bcryptCost),
                                   oneTimeSecret: oneTime?.base32, failedLogins: 0, lockedUntil: nil)
        try storage.write { tx in
            guard try tx.insertAccount(record) else { throw AccessError.nameTaken(name.value) }
            try tx.recordActivity(Activity(at: account.createdAt, account: user.value, what: "account_added", detail: "\(name.value) (\(role.rawValue))"))
        }
        return (account, oneTime?.uri(account: name.value, issuer: Self.issuer))
    }

    public func list() throws -> [Account] { try storage.read { try $0.accounts() } }

    /// The pages' language for an account: `vi` or `en`.
    public func setLanguage(of name: UserName, to language: String) throws {
        guard language == "vi" || language == "en" else { throw AccessError.invalid("a language is vi or en") }
        try storage.write { try $0.setLanguage(of: name.value, to: language) }
    }

    public func disable(_ name: UserName, by user: UserName) throws {
        let now = clock.now()
        try storage.write { tx in
            guard try tx.account(named: name.value) != nil else { throw AccessError.noSuchAccount(name.value) }
            try tx.setDisabled(name.value, true)
            try tx.deleteSessions(of: name.value)
            try tx.recordActivity(Activity(at: now.description, account: user.value, what: "account_disabled", detail: name.value))
        }
    }

    /// Sets a new password (and, for approvers and admins, a new one-time secret, returned as its URI); ends the
    /// account's sessions and lifts a lock.
    public func resetPassword(_ name: UserName, to password: String, by user: UserName) throws -> String? {
        guard password.count >= Self.passwordLengthMin else { throw AccessError.weakPassword }
        guard let record = try storage.read({ try $0.account(named: name.value) }) else { throw AccessError.noSuchAccount(name.value) }
        let oneTime = record.account.role.needsOneTimeCode ? try OneTimeCode.generate() : nil
        // Hashed before the transaction: bcrypt takes a quarter of a second, which no write should wait for.
        let hash = Bcrypt.hash(password, cost: Self.bcryptCost)
        let now = clock.now()
        try storage.write { tx in
            try tx.setPassword(of: name.value, hash: hash, oneTimeSecret: oneTime?.base32)
            try tx.setLoginFailures(of: name.value, count: 0, lockedUntil: nil)
            try tx.deleteSessions(of: name.value)
            try tx.recordActivity(Activity(at: now.description, account: user.value, what: "password_reset", detail: name.value))
        }
        return oneTime?.uri(account: name.value, issuer: Self.issuer)
    }

    /// Checks a login and opens a session. Every failure says the same (`badCredentials`) whatever was wrong, but for
    /// a locked account and a missing one-time code after a right password; the fifth failure in a row locks it for
    /// 15 minutes. The password is checked outside any transaction (bcrypt is slow); its outcome is written in one.
    public func logIn(name: String, password: String, oneTimeCode: String?) throws -> Session {
        let now = clock.now()
        guard let record = try storage.read({ try $0.account(named: name) }), !record.account.disabled else {
            // The same work as a real check, so that a missing name takes as long as a wrong password.
            _ = Bcrypt.verify(password, hash: Self.decoyHash)
            try record("login_failed", detail: "unknown or disabled", at: now, by: redactIdentifiers(name))
            throw AccessError.badCredentials
        }
        if let until = record.lockedUntil, now < until { throw AccessError.locked(until: until.description) }
        var good = Bcrypt.verify(password, hash: record.passwordHash)
        if good, record.account.role.needsOneTimeCode {
            guard let typed = oneTimeCode, !typed.isEmpty else { throw AccessError.oneTimeCodeRequired }
            good = record.oneTimeSecret.flatMap(OneTimeCode.init(base32:))?.accepts(typed, at: now.secondsSinceEpoch) ?? false
        }
        let name = record.account.name.value
        guard good else {
            let failures = (record.lockedUntil.map { now >= $0 } ?? false) ? 1 : record.failedLogins + 1
            let lock = failures >= Self.failuresBeforeLock ? Timestamp(secondsSinceEpoch: now.secondsSinceEpoch + Self.lockSeconds) : nil
            try storage.write { tx in
                try tx.setLoginFailures(of: name, count: lock == nil ? failures : 0, lockedUntil: lock)
                try tx.recordActivity(Activity(at: now.description, account: name, what: "login_failed",
                                               detail: lock.map { "locked until \($0.description)" } ?? "failure \(failures)"))
            }
            throw AccessError.badCredentials
        }
        let token = Hex.encode(try SecureRandom.bytes(32))
        let csrf = Hex.encode(try SecureRandom.bytes(32))
        try storage.write { tx in
            try tx.setLoginFailures(of: name, count: 0, lockedUntil: nil)
            try tx.insertSession(tokenSHA256: SHA256Hasher.hash(token).hex, account: name, csrfToken: csrf, at: now)
            try tx.recordActivity(Activity(at: now.description, account: name, what: "login", detail: ""))
        }
        return Session(account: record.account, csrfToken: csrf, token: token)
    }

    /// The session a cookie names, when it is still open: at most 30 minutes since it was last used and 8 hours since
    /// it began. Using it moves its idle clock, written at most once a minute so that reading pages writes nothing.
    public func session(token: String) throws -> Session? {
        let key = SHA256Hasher.hash(token).hex
        let now = clock.now()
        guard let (record, account) = try storage.read({ tx -> (SessionRecord, AccountRecord?)? in
            guard let record = try tx.session(tokenSHA256: key) else { return nil }
            return (record, try tx.account(named: record.account))
        }) else { return nil }
        guard now.secondsSinceEpoch - record.lastSeenAt.secondsSinceEpoch <= Self.idleSeconds,
              now.secondsSinceEpoch - record.createdAt.secondsSinceEpoch <= Self.lifetimeSeconds,
              let account, !account.account.disabled else {
            try storage.write { try $0.deleteSession(tokenSHA256: key) }
            return nil
        }
        if now.secondsSinceEpoch - record.lastSeenAt.secondsSinceEpoch >= Self.touchSeconds {
            try storage.write { try $0.touchSession(tokenSHA256: key, at: now) }
        }
        return Session(account: account.account, csrfToken: record.csrfToken, token: nil)
    }

    /// How stale a session's last use may be before a request writes it again.
    static let touchSeconds: Int64 = 60

    public func logOut(token: String) throws {
        try storage.write { try $0.deleteSession(tokenSHA256: SHA256Hasher.hash(token).hex) }
    }

    public func record(_ what: String, detail: String = "", by account: UserName) throws {
        try record(what, detail: redactIdentifiers(detail), at: clock.now(), by: account.value)
    }

    private func record(_ what: String, detail: String, at: Timestamp, by account: String) throws {
        try storage.write { try $0.recordActivity(Activity(at: at.description, account: account, what: what, detail: detail)) }
    }

    public func activity(limit: Int = 200) throws -> [Activity] { try storage.read { try $0.activity(limit: limit) } }

    /// Refuses `action` to an account whose role may not take it.
    public static func check(_ account: Account, may action: Action) throws(AccessError) {
        guard account.role.may(action) else { throw .forbidden(action) }
    }

    /// A bcrypt hash at the same cost, checked against when the name is unknown.
    static let decoyHash = Bcrypt.hash("not a password anyone has", cost: bcryptCost)
}
