import AllowanceLedger
import GRDB

extension Store {
    /// Re-checks every entry's balance and hash, the whole chain, and the batch invariants.
    ///
    /// Reads the journal in one pass, merging entries with their postings in order; memory grows only with the
    /// number of batch items (16 bytes each, bounded by `ItemNets.denseIDsMax`).
    package func verifyLedger(progress: ((Int) -> Void)? = nil) throws -> LedgerVerification {
        // The register's chain on a second connection, beside the journal's pass: the two checks share no rows, and
        // each is one consistent read of its own.
        let register = Beside { [self] in
            try read { db in
                var result = LedgerVerification()
                try Self.verifyRegister(db, into: &result)
                return result
            }
        }
        var result = try verifyJournal(progress: progress)
        let registerResult = try register.join()
        result.registerLinks = registerResult.registerLinks
        result.registerHeadHash = registerResult.registerHeadHash
        for problem in registerResult.problems { result.report(problem.kind, entry: problem.entryID, problem.message) }
        result.problemCount += registerResult.problemCount - registerResult.problems.count
        return result
    }

    private func verifyJournal(progress: ((Int) -> Void)?) throws -> LedgerVerification {
        try read { db in
            var result = LedgerVerification()
            let entries = try FastStatement(db, """
                SELECT id, at, kind, idempotency_key, batch_id, memo, created_by, prev_hash, hash FROM journal_entry ORDER BY id
                """)
            let postings = try FastStatement(db, """
                SELECT entry_id, leg, account, sub_account, beneficiary_id, item_id, amount FROM posting ORDER BY entry_id, leg
                """)
            defer { entries.reset(); postings.reset() }
            var havePosting = try postings.step()
            var previousHash = ChainEncoding.genesis
            // Carrier clearing per batch and carrier, and each item's payable, summed on the way through: one pass over
            // the postings instead of an index probe per item afterwards.
            var clearing: [BatchCarrier: Int64] = [:]
            var payable = try ItemNets(db)
            // What each batch's entitlement entries credited to payables, and the first such entry.
            var entitled: [Int64: (credited: Int64, entry: Int64, overflow: Bool)] = [:]
            // The postings' item legs, to hold `posting_item` to them.
            var itemLegs = ItemLegDigest()
            while try entries.step() {
                let id = entries.int64(0)
                let prevHash = entries.string(7)
                let storedHash = entries.string(8)
                result.entries += 1
                if let progress, result.entries % 10_000 == 0 { progress(result.entries) }
                if prevHash != previousHash {
                    result.report(.chainBroken, entry: id,
                                  "prev_hash does not match the hash of the entry before it: an entry was deleted, inserted or altered")
                }
                let hasher = ChainHasher(header: ChainEncoding.header(
                    id: id, at: entries.string(1), kind: entries.string(2), key: entries.string(3), batch: entries.int64OrNil(4),
                    by: entries.string(6), memo: entries.string(5), prevHash: prevHash))
                // Postings of entries that no longer exist come before this one.
                var orphans = 0
                while havePosting && postings.int64(0) < id {
                    orphans += 1
                    havePosting = try postings.step()
                }
                if orphans > 0 {
                    result.report(.orphanPostings, entry: id, "\(orphans) posting(s) before this entry belong to no entry: an entry was deleted")
                }
                var count: Int64 = 0
                var sum: Int64 = 0
                var overflow = false
                var legsInOrder = true
                let entitlementOf = entries.withText(2) { $0.elementsEqual("entitlement".utf8) } ? entries.int64OrNil(4) : nil
                if let batch = entitlementOf, entitled[batch] == nil { entitled[batch] = (0, id, false) }
                while havePosting && postings.int64(0) == id {
                    count += 1
                    let leg = postings.int64(1)
                    if leg != count { legsInOrder = false }
                    let amount = postings.int64(6)
                    let (newSum, didOverflow) = sum.addingReportingOverflow(amount)
                    sum = newSum
                    overflow = overflow || didOverflow
                    let item = postings.int64OrNil(5)
                    if let item { itemLegs.add(item: item, entry: postings.int64(0), leg: leg) }
                    // Hashed from SQLite's bytes: two million postings build no strings.
                    let account = postings.withText(2) { account in
                        postings.withText(3) { sub in
                            hasher.posting(leg: leg, account: account, sub: sub, beneficiary: postings.int64OrNil(4), item: item, amount: amount)
                        }
                        return Self.accountCode(account)
                    }
                    if account == .payable, let batch = entitlementOf, amount < 0 {
                        let (credited, overflow) = entitled[batch]!.credited.subtractingReportingOverflow(amount)
                        entitled[batch]!.credited = credited
                        entitled[batch]!.overflow = entitled[batch]!.overflow || overflow
                    }
                    if account == .payable, let item {
                        payable.add(item: item, amount: amount, entry: id)
                    } else if account == .carrierClearing, let batch = entries.int64OrNil(4) {
                        clearing[BatchCarrier(batch: batch, carrier: postings.string(3)), default: 0] &+= amount
                    }
                    result.postings += 1
                    havePosting = try postings.step()
                }
                let computed = hasher.finalize().hex
                if computed != storedHash {
                    result.report(.hashMismatch, entry: id, "stored hash does not match the entry's contents: a row was altered")
                }
                if count < 2 {
                    result.report(.tooFewPostings, entry: id, "has \(count) posting(s); an entry has at least two")
                }
                if !legsInOrder {
                    result.report(.legsOutOfOrder, entry: id, "posting legs are not numbered 1…\(count): a posting was deleted")
                }
                if overflow || sum != 0 {
                    result.report(.unbalanced, entry: id, "postings sum to \(overflow ? "an overflowing amount" : String(sum)) đồng instead of 0")
                }
                previousHash = storedHash
            }
            var trailing = 0
            while havePosting {
                trailing += 1
                if let item = postings.int64OrNil(5) { itemLegs.add(item: item, entry: postings.int64(0), leg: postings.int64(1)) }
                havePosting = try postings.step()
            }
            if trailing > 0 {
                result.report(.orphanPostings, entry: nil, "\(trailing) posting(s) after the last entry belong to no entry: an entry was deleted")
            }
            result.headHash = previousHash
            try Self.verifyItemLegs(db, postings: itemLegs, into: &result)

            // The head kept by the trigger must be the last entry: deleting entries from the end is caught here.
            let lastID = try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM journal_entry")
            if let head = try Row.fetchOne(db, sql: "SELECT entry_id, hash, entries FROM journal_head WHERE singleton = 1") {
                let headID: Int64 = head[0]
                let headHash: String = head[1]
                let headEntries: Int = head[2]
                if headID != lastID || headHash != previousHash || headEntries != result.entries {
                    result.report(.headMismatch, entry: headID,
                                  "the journal's head records \(headEntries) entries ending at entry \(headID), but the journal holds \(result.entries) ending at entry \(lastID.map(String.init) ?? "none"): entries were deleted or the head was altered")
                }
            } else if result.entries > 0 {
                result.report(.headMismatch, entry: nil, "the journal's head record is missing: it was deleted")
            }

            // Each approved batch still holds, payee for payee, the items its checker approved.
            for row in try Row.fetchAll(db, sql: """
                SELECT b.id, b.item_count, b.item_total, b.item_digest, b.approved_by, b.created_by, b.period, e.id, e.created_by, e.memo,
                       b.one_off, b.one_off_amount
                FROM batch b LEFT JOIN journal_entry e ON e.batch_id = b.id AND e.kind = 'entitlement'
                WHERE b.approved_by IS NOT NULL
                """) {
                let batch = BatchID(row[0])
                // Read as optionals: a tampered row may hold NULLs, and verify reports rather than crashes.
                let sealed = ItemSeal(count: row[1] ?? -1, total: row[2] ?? -1, digest: row[3] ?? "")
                let entry: Int64? = row[7]
                let actual = try Self.itemSeal(db, batch: batch)
                if sealed.count != actual.count || sealed.total != actual.total {
                    result.report(.batchSealBroken, entry: entry,
                                  "batch \(batch) was approved with \(sealed.count) items of \(sealed.total) đồng but now holds \(actual.count) items of \(actual.total) đồng: items were added or removed after approval")
                }
                if sealed.digest != actual.digest {
                    result.report(.batchSealBroken, entry: entry,
                                  "batch \(batch)'s items no longer match what was approved (a payee, number, name or amount was changed)")
                }
                if let entry, let entryBy: String = row[8], let memo: String = row[9] {
                    let approvedBy: String = row[4] ?? ""
                    if entryBy != approvedBy {
                        result.report(.approverMismatch, entry: entry, "batch \(batch) names \(approvedBy) as approver but entry \(entry) was posted by \(entryBy)")
                    }
                    let expected = Payouts.entitlementMemo(batch: batch, period: row[6] ?? "", createdBy: row[5] ?? "", approvedBy: approvedBy,
                                                        digest: sealed.digest,
                                                        oneOff: (row[10] as String?).map { OneOffPayment(trusted: $0, amount: Money(dong: row[11] ?? 0)) })
                    if memo != expected {
                        result.report(.batchSealBroken, entry: entry, "batch \(batch)'s maker, checker or seal differ from what entry \(entry) recorded")
                    }
                }
            }
            // Each item's reference is the one its month, batch and seq make, as `batch create` writes it. Since v7 no
            // unique index stands behind it: an item written by hand with another's reference, or with one that no
            // carrier line or cash settlement can name, shows here (in any batch, approved or not).
            let references = try FastStatement(db, """
                SELECT id, batch_id, seq, CAST(reference AS TEXT), \(Migrations.itemReferenceFunction) FROM batch_item
                WHERE reference IS NOT \(Migrations.itemReferenceFunction) ORDER BY id
                """)
            defer { references.reset() }
            while try references.step() {
                result.report(.itemReferenceMismatch, entry: nil, """
                    item \(references.int64(0)) (batch \(references.int64(1)), seq \(references.int64(2))) has the reference \
                    "\(redactIdentifiers(references.stringOrNil(3) ?? ""))" where its month, batch and seq make \(references.stringOrNil(4) ?? "?"): \
                    it was written by hand, not by `batch create` or `batch retry`
                    """)
            }
            // Each item's payable agrees with its payment state: owed while open or failed, settled once paid, and
            // carried over to the retry item once an approved retry batch took it over.
            let retried = Set(try Int64.fetchAll(db, sql: """
                SELECT r.retry_of_item FROM batch_item r JOIN batch rb ON rb.id = r.batch_id
                WHERE r.retry_of_item IS NOT NULL AND rb.approved_by IS NOT NULL
                """))
            // The same pass sums each batch's items (against its entitlement) and what is still open with each
            // carrier (against the clearing account): one read of the items instead of one per batch and carrier.
            let items = try FastStatement(db, """
                SELECT i.id, i.amount, i.batch_id, i.carrier, i.method = 'mobile_money'
                FROM batch_item i JOIN batch b ON b.id = i.batch_id WHERE b.approved_by IS NOT NULL
                ORDER BY i.id
                """)
            defer { items.reset() }
            // Reported after the entitlements, which are summed in the same pass.
            var itemChecks = LedgerVerification()
            // The items no longer open, read in id order beside the items: a merge, not a lookup per item. A state row
            // the pass skips belongs to an unapproved batch's item (reported below) or to no item at all.
            let states = try FastStatement(db, "SELECT item_id, state FROM item_state ORDER BY item_id")
            defer { states.reset() }
            var stateItem: Int64? = try states.step() ? states.int64(0) : nil
            // Each skipped row is looked up (a key lookup; they are few unless someone wrote them).
            let itemExists = try FastStatement(db, "SELECT 1 FROM batch_item WHERE id = ?")
            func checkSkipped(_ item: Int64) throws {
                itemExists.bind(1, item)
                defer { itemExists.reset() }
                if try !itemExists.step() {
                    itemChecks.report(.itemStateMismatch, entry: nil, "a payment state is recorded for item \(item), which is no batch item")
                }
            }
            var itemTotals: [Int64: Int64] = [:]
            var stillOpen: [BatchCarrier: Int64] = [:]
            var carriers = InternedTexts()
            while try items.step() {
                let item = items.int64(0)
                let amount = items.int64(1)
                let batch = items.int64(2)
                while let skipped = stateItem, skipped < item {
                    try checkSkipped(skipped)
                    stateItem = try states.step() ? states.int64(0) : nil
                }
                var stateText = ItemState.open.rawValue
                var state: ItemState? = .open
                if stateItem == item {
                    // An open item has no row: a row saying `open` is no state at all.
                    state = states.withText(1) { ItemState(bytes: $0) }.flatMap { $0 == .open ? nil : $0 }
                    stateText = states.string(1)
                    stateItem = try states.step() ? states.int64(0) : nil
                }
                itemTotals[batch, default: 0] &+= amount
                if items.int64(4) == 1 && state == .open {
                    let number = carriers.number(items, 3)
                    let carrier = carriers.texts[number]
                    stillOpen[BatchCarrier(batch: batch, carrier: carrier), default: 0] &+= amount
                }
                let (net, entry) = try payable.net(of: item, db)
                guard let state else {
                    itemChecks.report(.itemStateMismatch, entry: entry, stateText == ItemState.open.rawValue
                        ? "item \(item) has a state row saying \"open\"; an open item has none"
                        : "item \(item) has the unknown state \"\(stateText)\"")
                    continue
                }
                let owed = state == .open || state == .failed
                if owed && !retried.contains(item) && net == -amount { continue }
                if owed && retried.contains(item) && net == 0 { continue }
                if (state == .paid || state == .paidCash) && net == 0 { continue }
                if net > 0 {
                    itemChecks.report(.itemOverpaid, entry: entry, "item \(item) was paid \(net) đồng more than it is owed")
                } else if net == 0 {
                    itemChecks.report(.itemStateMismatch, entry: entry, "item \(item) is marked \(stateText) but its payment is posted")
                } else if net == -amount {
                    itemChecks.report(.itemStateMismatch, entry: entry, "item \(item) is marked \(stateText) but no payment is posted")
                } else {
                    itemChecks.report(.itemStateMismatch, entry: entry, "item \(item) (\(stateText)) has \(-net) đồng payable instead of \(amount) or 0")
                }
            }
            // A skipped state row whose item exists is an unapproved batch's, reported below.
            while let skipped = stateItem {
                try checkSkipped(skipped)
                stateItem = try states.step() ? states.int64(0) : nil
            }
            // Each approved batch's entitlement equals the sum of its items.
            let approved = try Int64.fetchAll(db, sql: "SELECT id FROM batch WHERE approved_by IS NOT NULL ORDER BY id")
            for batch in approved {
                let total = itemTotals[batch] ?? 0
                let posted = entitled[batch]?.credited ?? 0
                if total != posted || entitled[batch]?.overflow == true {
                    let postedText = entitled[batch]?.overflow == true ? "an overflowing amount" : "\(posted) đồng"
                    result.report(.entitlementMismatch, entry: entitled[batch]?.entry,
                                  "batch \(batch): items total \(total) đồng but the entitlement posted \(postedText)")
                }
            }
            for problem in itemChecks.problems { result.report(problem.kind, entry: problem.entryID, problem.message) }
            result.problemCount += itemChecks.problemCount - itemChecks.problems.count
            // Nothing of a batch nobody approved is paid. Unapproved batches are few: `CROSS JOIN` starts from them
            // (left alone, SQLite walked every item of the ledger, 0.2 s per million).
            for row in try Row.fetchAll(db, sql: """
                SELECT b.id, COUNT(*) FROM batch b CROSS JOIN batch_item i ON i.batch_id = b.id
                CROSS JOIN item_state s ON s.item_id = i.id WHERE b.approved_by IS NULL GROUP BY b.id ORDER BY b.id
                """) {
                result.report(.unapprovedItemPaid, entry: nil,
                              "batch \(row[0] as Int64) was never approved but \(row[1] as Int) of its items are marked paid or failed")
            }
            // What a batch's carriers hold is what they were sent for the items still open: nothing, once every
            // item is paid or failed.
            let approvedSet = Set(approved)
            for (key, net) in clearing.sorted(by: { ($0.key.batch, $0.key.carrier) < ($1.key.batch, $1.key.carrier) }) {
                // The item pass covers approved batches; a clearing for any other batch (a tampered one) is summed
                // from its items here.
                let open = approvedSet.contains(key.batch) ? stillOpen[key] ?? 0 : try Int64.fetchOne(db, sql: """
                    SELECT COALESCE(SUM(i.amount), 0) FROM batch_item i
                    WHERE i.batch_id = ? AND i.carrier = ? AND i.method = 'mobile_money' AND \(Store.itemStateSQL("i")) = 'open'
                    """, arguments: [key.batch, key.carrier]) ?? 0
                if net != open {
                    result.report(.clearingMismatch, entry: nil,
                                  "batch \(key.batch): carrier clearing \(key.carrier) holds \(net) đồng but the batch's open items for \(key.carrier) total \(open) đồng")
                }
            }
            // Maker and checker are two people even where a write skipped the CHECK (`ignore_check_constraints`).
            for row in try Row.fetchAll(db, sql: """
                SELECT id, created_by FROM batch WHERE approved_by IS NOT NULL AND lower(trim(approved_by)) = lower(trim(created_by))
                ORDER BY id
                """) {
                result.report(.makerIsChecker, entry: nil, "batch \(row[0] as Int64) was created and approved by the same person, \(row[1] as String)")
            }
            return result
        }
    }
}

/// Each item's payable net and the last entry that touched it, summed in flat arrays indexed by item id while the
/// ids stay below `denseIDsMax` (16 bytes an id: 128 MB at the cap); past it, each item is looked up with a query,
/// which is slower but keeps memory bounded.
private struct ItemNets {
    static let denseIDsMax: Int64 = 8_000_000
    private var nets: [Int64] = []
    private var entries: [Int64] = []
    private let dense: Bool

    init(_ db: Database) throws {
        let maxID = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) FROM batch_item") ?? 0
        dense = maxID >= 0 && maxID <= Self.denseIDsMax
        if dense {
            nets = [Int64](repeating: 0, count: Int(maxID) + 1)
            entries = [Int64](repeating: 0, count: Int(maxID) + 1)
        }
    }

    mutating func add(item: Int64, amount: Int64, entry: Int64) {
        guard dense, item >= 0, item < Int64(nets.count) else { return }
        nets[Int(item)] &+= amount
        entries[Int(item)] = max(entries[Int(item)], entry)
    }

    /// The item's net payable (debits minus credits) and the last entry posting to it (nil when none did).
    func net(of item: Int64, _ db: Database) throws -> (net: Int64, entry: Int64?) {
        if dense, item >= 0, item < Int64(nets.count) {
            let entry = entries[Int(item)]
            return (nets[Int(item)], entry == 0 ? nil : entry)
        }
        let row = try Row.fetchOne(db, sql: """
            SELECT COALESCE(SUM(p.amount), 0), MAX(p.entry_id) FROM posting_item pi JOIN posting p ON p.entry_id = pi.entry_id AND p.leg = pi.leg
            WHERE pi.item_id = ? AND p.account = '2000'
            """, arguments: [item])
        return (row?[0] ?? 0, row?[1])
    }
}

/// An order-free digest of (item, entry, leg) triples: the postings' item legs read in leg order and `posting_item` read in
/// item order give the same digest exactly when they hold the same triples (a 64-bit mix of each, summed, and the count).
struct ItemLegDigest: Equatable {
    private(set) var count = 0
    private var sum: UInt64 = 0

    mutating func add(item: Int64, entry: Int64, leg: Int64) {
        count += 1
        sum &+= Self.mix(UInt64(bitPattern: item) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(bitPattern: entry) &* 0xC2B2_AE3D_27D4_EB4F
                         ^ UInt64(bitPattern: leg) &* 0x1656_67B1_9E37_79F9)
    }

    /// SplitMix64's finaliser.
    private static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension Store {
    /// `posting_item` holds each posting's item leg, and nothing else: what finds an item's or a beneficiary's postings
    /// reads through it.
    fileprivate static func verifyItemLegs(_ db: Database, postings: ItemLegDigest, into result: inout LedgerVerification) throws {
        var table = ItemLegDigest()
        let rows = try FastStatement(db, "SELECT item_id, entry_id, leg FROM posting_item")
        defer { rows.reset() }
        while try rows.step() { table.add(item: rows.int64(0), entry: rows.int64(1), leg: rows.int64(2)) }
        guard table != postings else { return }
        result.report(.itemLegsMismatch, entry: nil, table.count == postings.count
            ? "posting_item does not hold the postings' item legs (\(postings.count) of them): a row was altered"
            : "posting_item holds \(table.count) item leg(s), the postings \(postings.count): rows were added or deleted by hand")
    }

    /// The two accounts verify sums, recognised from their bytes.
    fileprivate static func accountCode(_ bytes: UnsafeBufferPointer<UInt8>) -> LedgerAccount? {
        guard bytes.count == 4 else { return nil }
        if bytes.elementsEqual("2000".utf8) { return .payable }
        if bytes.elementsEqual("1100".utf8) { return .carrierClearing }
        return nil
    }
}
