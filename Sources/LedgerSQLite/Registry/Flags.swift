import AllowanceLedger
import GRDB

extension Store {
    public static let changeWindowDaysDefault = 7

    static func changeWindowDays(_ db: Database) throws -> Int {
        try String.fetchOne(db, sql: "SELECT value FROM setting WHERE key = 'account_change_window_days'").flatMap { Int($0) }
            ?? changeWindowDaysDefault
    }

    /// How many days before a batch's creation an account change holds the beneficiary out (default 7).
    public func changeWindowDays() throws -> Int { try read { try Self.changeWindowDays($0) } }

    public func setChangeWindowDays(_ days: Int) throws {
        precondition(days >= 0, "a window is not negative")
        try write { db in
            try db.execute(sql: "INSERT INTO setting(key, value) VALUES ('account_change_window_days', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                           arguments: [String(days)])
        }
    }

    /// Raises every flag the register calls for at `now`; a flag once cleared stays cleared for the same evidence.
    /// Returns how many new flags were raised.
    @discardableResult
    static func raiseFlags(_ db: Database, at now: Timestamp) throws -> Int {
        let windowStart = now.adding(days: -(try changeWindowDays(db)))
        // Numbers used more than once are found on the msisdn index alone; only those rows are then read.
        try db.execute(sql: """
            WITH repeated AS (SELECT msisdn FROM beneficiary WHERE msisdn IS NOT NULL GROUP BY msisdn HAVING COUNT(*) > 1),
                 active AS (SELECT b.id, b.msisdn FROM repeated r CROSS JOIN beneficiary b ON b.msisdn = r.msisdn
                            WHERE b.status = 'active' AND b.payment_method = 'mobile_money'),
                 shared AS (SELECT msisdn, COUNT(*) AS n FROM active GROUP BY msisdn HAVING COUNT(*) > 1)
            INSERT OR IGNORE INTO flag(beneficiary_id, kind, evidence, evidence_at, detail, raised_at)
            SELECT a.id, 'shared_msisdn', a.msisdn, ?1,
                   'number also used by beneficiar' || CASE WHEN s.n = 2 THEN 'y ' ELSE 'ies ' END
                   || (SELECT group_concat(o.id, ', ') FROM active o WHERE o.msisdn = a.msisdn AND o.id <> a.id),
                   ?1
            FROM active a JOIN shared s ON s.msisdn = a.msisdn
            """, arguments: [now.description])
        var raised = db.lastChanges
        try db.execute(sql: """
            INSERT OR IGNORE INTO flag(beneficiary_id, kind, evidence, evidence_at, detail, raised_at)
            SELECT e.beneficiary_id, 'recent_account_change', 'event:' || e.id, e.at,
                   'account changed at ' || e.at || ' by ' || e.by || COALESCE(' (' || e.reason || ')', ''), ?
            FROM beneficiary_event e JOIN beneficiary b ON b.id = e.beneficiary_id
            WHERE e.at >= ? AND b.status = 'active'
              AND (e.kind = 'account_changed'
                   -- Closing an account and linking a new one is a change too.
                   OR (e.kind = 'account_linked' AND EXISTS (SELECT 1 FROM beneficiary_event c
                       WHERE c.beneficiary_id = e.beneficiary_id AND c.kind = 'account_closed' AND c.id < e.id)))
            """, arguments: [now.description, windowStart.description])
        raised += db.lastChanges
        return raised
    }

    /// SQL that is true for a flag (aliased `f`) that holds its beneficiary out at `?since` (now minus the window).
    static let openFlagCondition = "f.cleared_at IS NULL AND (f.kind <> 'recent_account_change' OR f.evidence_at >= ?)"

    /// Open flags by beneficiary: the ones that hold beneficiaries out of a batch created at `now`.
    static func openFlags(_ db: Database, at now: Timestamp) throws -> [BeneficiaryID: [FlagKind]] {
        let since = now.adding(days: -(try changeWindowDays(db)))
        var result: [BeneficiaryID: [FlagKind]] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT f.beneficiary_id, f.kind FROM flag f WHERE \(openFlagCondition) ORDER BY f.id",
                                    arguments: [since.description]) {
            let kind = FlagKind(rawValue: row[1]) ?? .sharedMSISDN
            result[BeneficiaryID(row[0]), default: []].append(kind)
        }
        return result
    }

    /// Flags raised so far (open ones only unless `includeCleared`).
    public func flags(includeCleared: Bool = false) throws -> [FraudFlag] {
        // Read-only: every change that can raise a flag (import, account change, batch creation) raises it then.
        try read { db in
            let now = clock.now()
            let since = now.adding(days: -(try Self.changeWindowDays(db)))
            let condition = includeCleared ? "1" : Self.openFlagCondition
            return try Row.fetchAll(db, sql: """
                SELECT f.id, f.beneficiary_id, f.kind, f.evidence, f.evidence_at, f.detail, f.raised_at,
                       f.cleared_at, f.cleared_by, f.clear_reason
                FROM flag f WHERE \(condition) ORDER BY f.id
                """, arguments: includeCleared ? [] : [since.description]).map(Self.flag(from:))
        }
    }

    static func flag(from row: Row) -> FraudFlag {
        FraudFlag(id: row[0], beneficiaryID: BeneficiaryID(row[1]), kind: FlagKind(rawValue: row[2]) ?? .sharedMSISDN,
             evidence: row[3], evidenceAt: row[4], detail: row[5], raisedAt: row[6], clearedAt: row[7], clearedBy: row[8],
             clearReason: row[9])
    }

    /// Clears a flag with the officer's reason; the beneficiary goes into the next batch.
    public func clearFlag(_ id: Int64, reason: String, by user: UserName) throws -> FraudFlag {
        let reason = reason.trimmingSpaces
        guard !reason.isEmpty else { throw RegistryError.reasonRequired }
        return try write { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT f.id, f.beneficiary_id, f.kind, f.evidence, f.evidence_at, f.detail, f.raised_at,
                       f.cleared_at, f.cleared_by, f.clear_reason FROM flag f WHERE f.id = ?
                """, arguments: [id]) else { throw RegistryError.flagNotFound(id) }
            let flag = Self.flag(from: row)
            if let at = flag.clearedAt { throw RegistryError.flagAlreadyCleared(id, by: flag.clearedBy ?? "", at: at) }
            let now = clock.now()
            try db.execute(sql: "UPDATE flag SET cleared_at = ?, cleared_by = ?, clear_reason = ? WHERE id = ?",
                           arguments: [now.description, user.value, reason, id])
            try Self.insertEvent(db, beneficiary: flag.beneficiaryID, at: now, by: user, kind: .flagCleared, field: flag.kind.rawValue,
                                 old: nil, new: nil, reason: reason)
            return Self.flag(from: try Row.fetchOne(db, sql: """
                SELECT f.id, f.beneficiary_id, f.kind, f.evidence, f.evidence_at, f.detail, f.raised_at,
                       f.cleared_at, f.cleared_by, f.clear_reason FROM flag f WHERE f.id = ?
                """, arguments: [id])!)
        }
    }
}
