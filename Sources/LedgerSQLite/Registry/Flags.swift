import AllowanceLedger
import GRDB

extension Store {
    /// Raises every flag the register calls for (`RegistryTransaction.raiseFlags`); a flag once cleared stays cleared for
    /// the same evidence. Returns how many new flags were raised.
    static func raiseFlags(_ db: Database, at now: Timestamp, windowStart: Timestamp) throws -> Int {
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

    static let flagColumns = """
        f.id, f.beneficiary_id, f.kind, f.evidence, f.evidence_at, f.detail, f.raised_at, f.cleared_at, f.cleared_by, f.clear_reason
        """

    static func flag(from row: Row) -> FraudFlag {
        FraudFlag(id: row[0], beneficiaryID: BeneficiaryID(row[1]), kind: FlagKind(rawValue: row[2]) ?? .sharedMSISDN,
             evidence: row[3], evidenceAt: row[4], detail: row[5], raisedAt: row[6], clearedAt: row[7], clearedBy: row[8],
             clearReason: row[9])
    }
}
