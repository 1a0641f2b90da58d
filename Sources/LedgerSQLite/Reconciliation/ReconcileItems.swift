import AllowanceLedger
import Reconcile
import Foundation
import GRDB
import GRDBSQLite

extension ReconcileItems {
    /// From this many items on, two connections read them (`load`).
    static let splitLoadMinimum = 50_000

    /// Loads the batch's items. A batch of `splitLoadMinimum` items or more is read in two halves at once, the second
    /// through a read-only connection of its own to the ledger file at `path` (nil: one connection): reading a million
    /// items took 0.8 s of one core while the other waited for them. Only inside the writer's transaction: in WAL mode
    /// that transaction began on the newest commit and holds the write lock, so no one commits until it ends, and a new
    /// reader sees the last commit, which is what the writer sees but for its own uncommitted writes (none to the items,
    /// which cannot change once created). The merged halves are held to the batch's seal (count and total).
    static func load(_ db: Database, batch: Batch, path: String? = nil, splitLoadMinimum: Int = ReconcileItems.splitLoadMinimum) throws
        -> ReconcileItems {
        // One pass over the batch's items (a second only when their ids do not run with seq): their count and carriers
        // come from the same scan (a COUNT and a DISTINCT first cost two more scans of a million rows). Carriers are
        // numbered as they appear, then renumbered in code order.
        // What the checker approved: the halves read apart must add up to it.
        let seal = try Row.fetchOne(db, sql: "SELECT item_count, item_total FROM batch WHERE id = ?", arguments: [batch.id.rawValue])
            .flatMap { row -> (count: Int, total: Int64)? in
                guard let count: Int = row[0], let total: Int64 = row[1] else { return nil }
                return (count, total)
            }
        var loaded: (rows: ItemRows, connections: Int)?
        if let run = try Store.itemIDRun(db, batch: batch.id) {
            // Only inside the writer's transaction: nothing else can commit until it ends.
            let split = run.count >= max(2, splitLoadMinimum) && sqlite3_txn_state(db.sqliteConnection, "main") == SQLITE_TXN_WRITE
            if let path, split {
                loaded = try ItemRows.readInHalves(db, ids: run, path: path, batch: batch.id, seal: seal)
            } else {
                var rows = ItemRows(reserving: run.count)
                loaded = try rows.read(db, ids: run, firstSeq: 1, batch: batch.id) ? (rows, 1) : nil
            }
        }
        if loaded == nil {
            var rows = ItemRows(reserving: seal?.count ?? 0)
            let statement = try FastStatement(db, "SELECT \(ItemRows.columns) FROM batch_item WHERE batch_id = ? ORDER BY seq")
            statement.bind(1, batch.id.rawValue)
            let whole = try rows.read(statement, firstSeq: 1, batch: batch.id)
            precondition(whole, "batch item seq runs 1, 2, 3, … without gaps")
            loaded = (rows, 1)
        }
        let rows = loaded!.rows
        let connections = loaded!.connections
        let ids = rows.ids
        var carrierIndexes = rows.carrierIndexes
        let carrierNumbers = rows.carriers
        let count = ids.count
        let seen = carrierNumbers.texts
        let sorted = seen.sorted()
        if sorted != seen {
            var renumber = [UInt8](repeating: 0, count: seen.count + 1)
            for (old, code) in seen.enumerated() { renumber[old + 1] = UInt8(sorted.firstIndex(of: code)! + 1) }
            for index in carrierIndexes.indices { carrierIndexes[index] = renumber[Int(carrierIndexes[index])] }
        }
        let carriers = sorted
        let exportedCarriers = try sorted.map { code in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM journal_entry WHERE idempotency_key = ?", arguments: [Payouts.transferKey(batch: batch.id, carrier: code)]) == true
        }
        var named = [Bool](repeating: false, count: count)
        var finalFingerprints = [Int64](repeating: 0, count: count)
        var finalPlaces = [UInt64](repeating: 0, count: count)

        let firstID = ids.first ?? 0
        // Items are inserted by one statement, so their ids usually run with seq; fall back to a map when not.
        let contiguous = ids.last.map { $0 - firstID == Int64(count - 1) } ?? true
        let indexByID: [Int64: Int] = contiguous ? [:] : Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0) })
        func index(of id: Int64) -> Int? { contiguous ? (id >= firstID && id - firstID < Int64(count) ? Int(id - firstID) : nil) : indexByID[id] }

        // Items without a state row are open; the rows in the batch's id range are read in one range scan.
        var states = [ItemState](repeating: .open, count: count)
        let stateRows = try FastStatement(db, "SELECT item_id, state FROM item_state WHERE item_id BETWEEN ? AND ?")
        defer { stateRows.reset() }
        stateRows.bind(1, ids.min() ?? 0)
        stateRows.bind(2, ids.max() ?? -1)
        while try stateRows.step() {
            // The column's CHECK admits only the three states past open.
            if let index = index(of: stateRows.int64(0)) { states[index] = stateRows.withText(1) { ItemState(bytes: $0) } ?? .open }
        }
        var paidBeforeReversal: [Int: (fingerprint: Int64, place: UInt64)] = [:]

        let lines = try FastStatement(db, """
            SELECT r.item_id, r.effect, r.fingerprint, r.file_id, r.line
            FROM result_file f JOIN result_line r ON r.file_id = f.id
            WHERE f.batch_id = ? AND r.item_id IS NOT NULL
            ORDER BY r.file_id, r.line
            """)
        defer { lines.reset() }
        lines.bind(1, batch.id.rawValue)
        while try lines.step() {
            guard let index = index(of: lines.int64(0)) else { continue }
            named[index] = true
            guard let effect = lines.stringOrNil(1).flatMap(ReconcileEffect.init(rawValue:)) else { continue }
            if effect == .reverse { paidBeforeReversal[index] = (finalFingerprints[index], finalPlaces[index]) }
            finalFingerprints[index] = lines.int64(2)
            finalPlaces[index] = UInt64(lines.int64(3)) << 32 | UInt64(lines.int64(4))
        }
        var fileNames: [Int64: String] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT id, file_name FROM result_file WHERE batch_id = ?", arguments: [batch.id.rawValue]) {
            fileNames[row[0]] = row[1]
        }
        var retriedAs: [Int: String] = [:]
        // From the retry side, through the partial index of retries: not a probe per item of this batch.
        for row in try Row.fetchAll(db, sql: """
            SELECT o.seq, r.reference FROM batch_item r CROSS JOIN batch_item o CROSS JOIN batch b
            WHERE r.retry_of_item IS NOT NULL AND o.id = r.retry_of_item AND o.batch_id = ? AND b.id = r.batch_id AND b.status <> 'cancelled'
            """, arguments: [batch.id.rawValue]) {
            retriedAs[Int(row[0] as Int64) - 1] = row[1]
        }
        return ReconcileItems(batch: batch, carriers: carriers, exportedCarriers: exportedCarriers, ids: ids,
                              beneficiaries: rows.beneficiaries, amounts: rows.amounts, msisdns: rows.msisdns,
                              carrierIndexes: carrierIndexes, states: states, named: named, finalFingerprints: finalFingerprints,
                              finalPlaces: finalPlaces, paidBeforeReversal: paidBeforeReversal, retriedAs: retriedAs,
                              fileNames: fileNames, connections: connections)
    }
}

/// A batch's items as read, in seq order, with their carriers numbered as they first appear: the whole batch, or one
/// half of it when two connections read it at once.
struct ItemRows {
    static let columns = "seq, id, beneficiary_id, amount, msisdn, carrier, batch_id"
    var ids: [Int64] = []
    var beneficiaries: [Int64] = []
    var amounts: [Int64] = []
    /// `84xxxxxxxxx` as a number; 0 for cash items.
    var msisdns: [UInt64] = []
    /// 0 for a cash item, else the carrier's number in `carriers` plus one.
    var carrierIndexes: [UInt8] = []
    var carriers = InternedTexts()

    init(reserving count: Int) {
        ids.reserveCapacity(count); beneficiaries.reserveCapacity(count); amounts.reserveCapacity(count)
        msisdns.reserveCapacity(count); carrierIndexes.reserveCapacity(count)
    }

    /// Reads the items with ids `ids`, which must be the batch's items from seq `firstSeq` on, one id per seq; false
    /// when they are not.
    mutating func read(_ db: Database, ids range: ClosedRange<Int64>, firstSeq: Int64, batch: BatchID) throws -> Bool {
        let statement = try FastStatement(db, "SELECT \(Self.columns) FROM batch_item WHERE id BETWEEN ? AND ? ORDER BY id")
        statement.bind(1, range.lowerBound)
        statement.bind(2, range.upperBound)
        let before = ids.count
        return try read(statement, firstSeq: firstSeq, batch: batch) && Int64(ids.count - before) == range.upperBound - range.lowerBound + 1
    }

    /// Appends `rows` (`columns`) while each is the batch's item with the next seq from `firstSeq`; false when one is
    /// not, with the rows read so far kept.
    mutating func read(_ rows: FastStatement, firstSeq: Int64, batch: BatchID) throws -> Bool {
        defer { rows.reset() }
        var seq = firstSeq
        while try rows.step() {
            guard rows.int64(0) == seq, rows.int64(6) == batch.rawValue else { return false }
            seq += 1
            ids.append(rows.int64(1))
            beneficiaries.append(rows.int64(2))
            amounts.append(rows.int64(3))
            msisdns.append(rows.digitsAsUInt64(4))
            if rows.isNull(5) {
                carrierIndexes.append(0)
            } else {
                carrierIndexes.append(try Self.index(carriers.number(rows, 5), batch: batch))
            }
        }
        return true
    }

    /// The rows that follow these, read apart: their carriers take this part's numbers.
    mutating func append(_ other: ItemRows, batch: BatchID) throws {
        var renumber: [UInt8] = [0]
        for code in other.carriers.texts { renumber.append(try Self.index(carriers.number(of: code), batch: batch)) }
        ids += other.ids
        beneficiaries += other.beneficiaries
        amounts += other.amounts
        msisdns += other.msisdns
        carrierIndexes.append(contentsOf: other.carrierIndexes.lazy.map { renumber[Int($0)] })
    }

    private static func index(_ number: Int, batch: BatchID) throws -> UInt8 {
        guard number < 254 else { throw ReconcileError.tooManyCarriers(batch, number + 1) }
        return UInt8(number + 1)
    }

    /// Reads the items `ids` (the batch's, seq 1 on) in two halves at once, the second through a read-only connection
    /// to the ledger file at `path`, and merges them (2 connections; 1 when the second failed and the writer's read its
    /// half too); nil when the ids are not the batch's items one per seq, or the halves do not add up to `seal`.
    static func readInHalves(_ db: Database, ids: ClosedRange<Int64>, path: String, batch: BatchID,
                             seal: (count: Int, total: Int64)?) throws -> (rows: ItemRows, connections: Int)? {
        let middle = ids.lowerBound + Int64(ids.count / 2)
        let tailSeq = Int64(ids.count / 2 + 1)
        let pending = readInBackground(path: path, ids: middle...ids.upperBound, firstSeq: tailSeq, batch: batch)
        var rows = ItemRows(reserving: ids.count)
        let head = Result { try rows.read(db, ids: ids.lowerBound...(middle - 1), firstSeq: 1, batch: batch) }
        // Waited for however the first half went. Nil when its connection failed or the rows were not the batch's: the
        // writer's connection reads that half then, as it would have.
        let tail: ItemRows?
        do {
            tail = try pending.join()
        } catch {
            tail = nil
            Store.trace("reconcile: the second connection could not read batch \(batch)'s items (\(error)); the writer's reads them")
        }
        guard try head.get() else { return nil }
        guard let tail else {
            return try rows.read(db, ids: middle...ids.upperBound, firstSeq: tailSeq, batch: batch) ? (rows, 1) : nil
        }
        try rows.append(tail, batch: batch)
        if let seal, rows.ids.count != seal.count || rows.amounts.reduce(0, &+) != seal.total {
            Store.trace("reconcile: batch \(batch)'s items read in two halves do not match its seal; the writer's connection reads them again")
            return nil
        }
        Store.trace("reconcile: batch \(batch)'s \(rows.ids.count) items read by two connections")
        return (rows, 2)
    }

    /// Starts reading the items `ids` (from seq `firstSeq`) on a thread of its own, through a read-only connection to
    /// the ledger at `path`; `join` gives them, or nil when they are not the batch's next items.
    static func readInBackground(path: String, ids: ClosedRange<Int64>, firstSeq: Int64, batch: BatchID) -> Beside<ItemRows?> {
        Beside {
            var configuration = Configuration()
            configuration.readonly = true
            configuration.label = "reconcile items"
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            return try queue.read { db in
                var rows = ItemRows(reserving: Int(ids.upperBound - ids.lowerBound + 1))
                return try rows.read(db, ids: ids, firstSeq: firstSeq, batch: batch) ? rows : nil
            }
        }
    }
}
