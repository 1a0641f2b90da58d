import AllowanceLedger
import GRDB

/// The register's chain in SQLite (`RegisterChain`): links in `register_link`, row seals in `beneficiary_seal`.
extension Store {
    /// A row's seal, computed in SQL over `Store.beneficiaryColumns` in order (the same bytes as `RegisterChain.rowDigest`).
    /// `household_status` (v17) joins the sealed values only when set, so that the rows sealed before it still match.
    static func rowDigestSQL(_ alias: String? = nil) -> String {
        let columns = beneficiaryColumns.split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .map { column in alias.map { "\($0).\(column)" } ?? column }
        let household = columns.last!
        precondition(household.hasSuffix("household_status"), "household_status is the last of the beneficiary's columns")
        let before = columns.dropLast().joined(separator: ", ")
        return "CASE WHEN \(household) IS NULL THEN allowance_row_digest(\(before)) ELSE allowance_row_digest(\(before), \(household)) END"
    }

    struct RegisterHead {
        var id: Int64 = 0
        var hash = RegisterChain.genesis
        var beneficiariesThrough: Int64 = 0
        var eventsThrough: Int64 = 0
    }

    static func registerHead(_ db: Database) throws -> RegisterHead {
        guard let row = try Row.fetchOne(db, sql: """
            SELECT id, hash, beneficiaries_through, events_through FROM register_link ORDER BY id DESC LIMIT 1
            """) else { return RegisterHead() }
        return RegisterHead(id: row[0], hash: row[1], beneficiariesThrough: row[2], eventsThrough: row[3])
    }

    /// Appends a link sealing every beneficiary registered since the last link and every one whose history gained an
    /// event that changes the row; covers the new events. Nothing when the register did not change. `at` and `by` are
    /// the command's.
    static func sealRegister(_ db: Database, at: String, by: String) throws {
        let head = try registerHead(db)
        let lastBeneficiary = try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM beneficiary") ?? 0
        let lastEvent = try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM beneficiary_event") ?? 0
        guard lastBeneficiary > head.beneficiariesThrough || lastEvent > head.eventsThrough else { return }
        let link = head.id + 1
        // Sealed and summed in SQL: a million new rows through Swift one by one cost two seconds of an import.
        let changed = "SELECT beneficiary_id FROM beneficiary_event WHERE id > ?2 AND kind <> 'flag_cleared'"
        try db.execute(sql: """
            INSERT INTO beneficiary_seal(beneficiary_id, link_id, digest)
            SELECT id, ?3, \(rowDigestSQL()) FROM beneficiary WHERE id > ?1
            UNION ALL
            SELECT id, ?3, \(rowDigestSQL()) FROM beneficiary WHERE id <= ?1 AND id IN (\(changed))
            """, arguments: [head.beneficiariesThrough, head.eventsThrough, link])
        let sums = try FastStatement(db, """
            SELECT allowance_sum256(digest), COUNT(*) FROM (
                SELECT digest FROM beneficiary_seal WHERE beneficiary_id > ?1 AND link_id = ?3
                UNION ALL
                SELECT digest FROM beneficiary_seal WHERE beneficiary_id <= ?1 AND link_id = ?3 AND beneficiary_id IN (\(changed)))
            """)
        sums.bind(1, head.beneficiariesThrough)
        sums.bind(2, head.eventsThrough)
        sums.bind(3, link)
        defer { sums.reset() }
        try sums.step()
        let sum = sums.blobHex(0), sealed = sums.int64(1)
        let eventsDigest = try eventsDigest(db, after: head.eventsThrough, through: lastEvent)
        let hash = RegisterChain.linkHash(prevHash: head.hash, id: link, at: at, by: by, beneficiariesThrough: lastBeneficiary,
                                          eventsThrough: lastEvent, sealed: sealed, sealSum: sum, eventsDigest: eventsDigest)
        try db.execute(sql: """
            INSERT INTO register_link(id, at, by, beneficiaries_through, events_through, sealed, prev_hash, hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [link, at, by, lastBeneficiary, lastEvent, sealed, head.hash, hash])
    }

    /// Refuses to change a row whose content is no longer what the register last sealed: a change made outside the
    /// ledger would otherwise be sealed along with this one, and pass as the ledger's own. Run before a transaction's
    /// first change to the row (`SQLiteTransaction` remembers which it checked).
    static func checkSealed(_ db: Database, beneficiary id: BeneficiaryID) throws {
        // A row registered in this transaction is not sealed yet, and is this command's own.
        let holds = try Bool.fetchOne(db, sql: """
            SELECT \(rowDigestSQL()) IS (SELECT digest FROM beneficiary_seal WHERE beneficiary_id = ?1 ORDER BY link_id DESC LIMIT 1)
                OR ?1 > (SELECT COALESCE(MAX(beneficiaries_through), 0) FROM register_link)
            FROM beneficiary WHERE id = ?1
            """, arguments: [id.rawValue])
        if holds == false { throw RegistryError.changedOutsideTheLedger(id) }
    }

    /// SHA-256 over the canonical text of the history events with ids in (`after`, `through`], in id order.
    static func eventsDigest(_ db: Database, after: Int64, through: Int64) throws -> Digest32 {
        let hasher = SHA256Hasher()
        let events = try FastStatement(db, """
            SELECT id, beneficiary_id, at, by, kind, field, old_value, new_value, reason, import_id FROM beneficiary_event
            WHERE id > ? AND id <= ? ORDER BY id
            """)
        events.bind(1, after)
        events.bind(2, through)
        defer { events.reset() }
        while try events.step() {
            hasher.update(eventText(events))
        }
        return hasher.finalize()
    }

    private static func eventText(_ events: FastStatement) -> String {
        RegisterChain.eventText(id: events.int64(0), beneficiary: events.int64(1), at: events.string(2), by: events.string(3),
                                kind: events.string(4), field: events.stringOrNil(5), old: events.stringOrNil(6), new: events.stringOrNil(7),
                                reason: events.stringOrNil(8), importID: events.int64OrNil(9))
    }

    /// Re-checks the register's chain: every link's hash from the seals and events it covers, the chain's order and
    /// head, that every beneficiary and event is covered, and that every row is what its last seal says.
    static func verifyRegister(_ db: Database, into result: inout LedgerVerification) throws {
        // Each link's seals, summed in one grouped pass over the seals.
        var sums: [Int64: (sum: String, count: Int64)] = [:]
        let grouped = try FastStatement(db, "SELECT link_id, allowance_sum256(digest), COUNT(*) FROM beneficiary_seal GROUP BY link_id")
        defer { grouped.reset() }
        while try grouped.step() { sums[grouped.int64(0)] = (grouped.blobHex(1), grouped.int64(2)) }
        let events = try FastStatement(db, """
            SELECT id, beneficiary_id, at, by, kind, field, old_value, new_value, reason, import_id FROM beneficiary_event ORDER BY id
            """)
        defer { events.reset() }
        var haveEvent = try events.step()
        var previous = RegisterHead()
        let links = try Row.fetchAll(db, sql: """
            SELECT id, at, by, beneficiaries_through, events_through, sealed, prev_hash, hash FROM register_link ORDER BY id
            """)
        for row in links {
            let id: Int64 = row[0], at: String = row[1], by: String = row[2]
            let beneficiaries: Int64 = row[3], eventsThrough: Int64 = row[4], sealed: Int64 = row[5]
            let prevHash: String = row[6], hash: String = row[7]
            if prevHash != previous.hash || id != previous.id + 1 {
                result.report(.registerChainBroken, entry: nil, "register link \(id) does not follow link \(previous.id): a link was deleted, inserted or altered")
            }
            if beneficiaries < previous.beneficiariesThrough || eventsThrough < previous.eventsThrough {
                result.report(.registerChainBroken, entry: nil, "register link \(id) goes back to beneficiary \(beneficiaries) or event \(eventsThrough)")
            }
            let hasher = SHA256Hasher()
            while haveEvent && events.int64(0) <= eventsThrough {
                if events.int64(0) > previous.eventsThrough { hasher.update(eventText(events)) }
                haveEvent = try events.step()
            }
            let found = sums.removeValue(forKey: id) ?? (SealSum().hex, 0)
            let expected = RegisterChain.linkHash(prevHash: prevHash, id: id, at: at, by: by, beneficiariesThrough: beneficiaries,
                                                  eventsThrough: eventsThrough, sealed: sealed, sealSum: found.sum, eventsDigest: hasher.finalize())
            if found.count != sealed || expected != hash {
                result.report(.registerChainBroken, entry: nil, """
                    register link \(id) (by \(by) at \(at)) no longer matches what it sealed: a beneficiary's seal or a history \
                    event it covers was changed, added or removed
                    """)
            }
            previous = RegisterHead(id: id, hash: hash, beneficiariesThrough: beneficiaries, eventsThrough: eventsThrough)
        }
        result.registerLinks = links.count
        result.registerHeadHash = previous.hash
        for link in sums.keys.sorted() {
            result.report(.registerChainBroken, entry: nil, "seals name register link \(link), which does not exist: the link was deleted")
        }
        if let head = try Row.fetchOne(db, sql: "SELECT link_id, hash FROM register_head WHERE singleton = 1") {
            if head[0] as Int64 != previous.id || head[1] as String != previous.hash {
                result.report(.registerChainBroken, entry: nil, "the register's head records link \(head[0] as Int64), but the chain ends at link \(previous.id): links were deleted")
            }
        } else if !links.isEmpty {
            result.report(.registerChainBroken, entry: nil, "the register's head record is missing: it was deleted")
        }
        var unsealedEvents = 0
        while haveEvent {
            unsealedEvents += 1
            haveEvent = try events.step()
        }
        let unsealed = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM beneficiary WHERE id > ?", arguments: [previous.beneficiariesThrough]) ?? 0
        if unsealed > 0 || unsealedEvents > 0 {
            result.report(.registerUnsealed, entry: nil, """
                \(unsealed) beneficiary row(s) and \(unsealedEvents) history event(s) were written after the register's last link: \
                written outside the ledger
                """)
        }
        // Every row against its last seal: a direct UPDATE of a name, number or status shows here.
        // A scalar subquery on the seals' key per row: half the time of a join on each beneficiary's latest seal.
        let latest = "FROM beneficiary_seal WHERE beneficiary_id = b.id ORDER BY link_id DESC LIMIT 1"
        let rows = try FastStatement(db, """
            SELECT b.id, (SELECT link_id \(latest)) FROM beneficiary b
            WHERE b.id <= ? AND \(rowDigestSQL("b")) IS NOT (SELECT digest \(latest))
            ORDER BY b.id
            """)
        rows.bind(1, previous.beneficiariesThrough)
        defer { rows.reset() }
        while try rows.step() {
            let link = rows.int64OrNil(1)
            result.report(.registerRowChanged, entry: nil, link.map { """
                beneficiary \(rows.int64(0))'s row differs from what register link \($0) sealed: it was changed outside the ledger \
                (`beneficiary history` shows the ledger's own changes)
                """ } ?? "beneficiary \(rows.int64(0)) has no seal: its row was written outside the ledger")
        }
        let missing = try Int.fetchOne(db, sql: """
            SELECT COUNT(DISTINCT beneficiary_id) FROM beneficiary_seal WHERE beneficiary_id NOT IN (SELECT id FROM beneficiary)
            """) ?? 0
        if missing > 0 {
            result.report(.registerRowChanged, entry: nil, "\(missing) sealed beneficiary row(s) are missing: deleted outside the ledger")
        }
    }
}

extension Migrations {
    /// The register's chain (`RegisterChain`): a link per command that changed the register, each row's seal per link,
    /// and the head kept by a trigger (as the journal's), so that deleting the newest links is caught too.
    static let registerChainV11 = """
    CREATE TABLE register_link(
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        by TEXT NOT NULL,
        -- How far the register was sealed once this link was written: the highest beneficiary and event ids.
        beneficiaries_through INTEGER NOT NULL,
        events_through INTEGER NOT NULL,
        sealed INTEGER NOT NULL,
        prev_hash TEXT NOT NULL CHECK(length(prev_hash) = 64),
        hash TEXT NOT NULL CHECK(length(hash) = 64));
    CREATE TRIGGER register_link_no_update BEFORE UPDATE ON register_link
    BEGIN SELECT RAISE(ABORT, 'the register chain is append-only'); END;
    CREATE TRIGGER register_link_no_delete BEFORE DELETE ON register_link
    BEGIN SELECT RAISE(ABORT, 'the register chain is append-only'); END;
    CREATE TABLE beneficiary_seal(
        beneficiary_id INTEGER NOT NULL,
        link_id INTEGER NOT NULL,
        digest BLOB NOT NULL,
        PRIMARY KEY(beneficiary_id, link_id)) WITHOUT ROWID;
    CREATE TRIGGER beneficiary_seal_no_update BEFORE UPDATE ON beneficiary_seal
    BEGIN SELECT RAISE(ABORT, 'the register chain is append-only'); END;
    CREATE TRIGGER beneficiary_seal_no_delete BEFORE DELETE ON beneficiary_seal
    BEGIN SELECT RAISE(ABORT, 'the register chain is append-only'); END;
    CREATE TABLE register_head(
        singleton INTEGER PRIMARY KEY CHECK(singleton = 1),
        link_id INTEGER NOT NULL,
        hash TEXT NOT NULL);
    CREATE TRIGGER register_head_advance AFTER INSERT ON register_link
    BEGIN
        INSERT INTO register_head(singleton, link_id, hash) VALUES (1, NEW.id, NEW.hash)
        ON CONFLICT(singleton) DO UPDATE SET link_id = NEW.id, hash = NEW.hash;
    END;
    CREATE TRIGGER register_head_forward_only BEFORE UPDATE ON register_head WHEN NEW.link_id <= OLD.link_id
    BEGIN SELECT RAISE(ABORT, 'the register head only moves forward'); END;
    CREATE TRIGGER register_head_no_delete BEFORE DELETE ON register_head
    BEGIN SELECT RAISE(ABORT, 'the register head cannot be deleted'); END;

    """

    /// Seals a register that existed before v11 in one link, dated by its newest registration or event.
    static func sealExistingRegister(_ db: Database) throws {
        let at = try String.fetchOne(db, sql: """
            SELECT MAX(at) FROM (SELECT MAX(registered_at) AS at FROM beneficiary UNION ALL SELECT MAX(at) FROM beneficiary_event)
            """)
        guard let at else { return }
        try Store.sealRegister(db, at: at, by: "ledger upgrade (v11)")
    }
}
