import GRDB

public enum BatchStatus: String, Sendable, CaseIterable {
    case created, approved, exported, closed
}

public struct Batch: Sendable, Equatable {
    public let id: BatchID
    public let period: Period
    /// Communes in scope; empty means every commune.
    public let communes: [Code]
    public let status: BatchStatus
    public let retryOf: BatchID?
    public let createdBy: String
    public let createdAt: String
    public let approvedBy: String?
    public let approvedAt: String?
    public let exportedAt: String?
    public let heldOut: Int
}

public enum BatchError: Error, Sendable, Equatable, CustomStringConvertible {
    case notFound(String)
    case alreadyInBatch(period: Period, batches: [(BatchID, Int)], example: BeneficiaryID)
    case noEligible(period: Period, heldOut: Int)
    case makerIsChecker(batch: BatchID, user: String)
    case wrongStatus(batch: BatchID, status: BatchStatus, action: String)
    case noMobileMoneyItems(BatchID, carrier: Code?)
    case noCashItems(BatchID)
    case rate(RateError)

    public static func == (lhs: BatchError, rhs: BatchError) -> Bool { lhs.description == rhs.description }

    public var description: String {
        switch self {
        case .notFound(let key): "no batch \(key); `allowance batch list` shows them"
        case .alreadyInBatch(let period, let batches, let example):
            "\(batches.map { "\($0.1) beneficiar\($0.1 == 1 ? "y" : "ies") in scope (e.g. beneficiary \(example)) already in batch \($0.0) for \(period)" }.joined(separator: "; ")); "
                + "narrow the scope with --commune, or pass --skip-existing to leave them out"
        case .noEligible(let period, let heldOut):
            "no active, unflagged beneficiary in scope is without a batch for \(period)" + (heldOut > 0 ? " (\(heldOut) held out by flags; see `allowance beneficiary flags`)" : "")
        case .makerIsChecker(let batch, let user):
            "batch \(batch) was created by \(user); a different person must approve it (maker-checker)"
        case .wrongStatus(let batch, let status, let action): "batch \(batch) is \(status.rawValue); cannot \(action)"
        case .noMobileMoneyItems(let batch, let carrier):
            "batch \(batch) has no mobile-money items\(carrier.map { " for carrier \($0)" } ?? ""); nothing to send to a carrier"
        case .noCashItems(let batch): "batch \(batch) has no cash items"
        case .rate(let error): error.description
        }
    }
}

public struct BatchCreateOptions: Sendable {
    public var period: Period
    public var communes: [Code] = []
    public var skipExisting = false
    public var by: UserName

    public init(period: Period, by: UserName) {
        self.period = period
        self.by = by
    }
}

public struct BatchCreateResult: Sendable, Equatable {
    public let batch: Batch
    public let items: Int
    public let total: Money
    public let mobileMoneyItems: Int
    public let cashItems: Int
    /// Held out by flags, per flag kind (a beneficiary with two kinds counts under both).
    public let heldOutByKind: [String: Int]
    public let skippedExisting: Int
}

extension Store {
    static func batch(from row: Row) throws -> Batch {
        let scope: String = row[2]
        return Batch(id: BatchID(row[0]), period: try Period(parsing: row[1]),
                     communes: scope == "*" ? [] : scope.split(separator: ",").map { Code(trusted: String($0)) },
                     status: BatchStatus(rawValue: row[3]) ?? .created, retryOf: (row[4] as Int64?).map(BatchID.init),
                     createdBy: row[5], createdAt: row[6], approvedBy: row[7], approvedAt: row[8], exportedAt: row[9], heldOut: row[10])
    }

    static let batchColumns = "id, period, scope, status, retry_of, created_by, created_at, approved_by, approved_at, exported_at, held_out"

    static func fetchBatch(_ db: Database, _ id: BatchID) throws -> Batch {
        guard let row = try Row.fetchOne(db, sql: "SELECT \(batchColumns) FROM batch WHERE id = ?", arguments: [id.rawValue]) else {
            throw BatchError.notFound(id.description)
        }
        return try batch(from: row)
    }

    public func batch(_ id: BatchID) throws -> Batch { try read { try Self.fetchBatch($0, id) } }

    public func batches(period: Period? = nil) throws -> [Batch] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.batchColumns) FROM batch \(period == nil ? "" : "WHERE period = ?") ORDER BY id",
                             arguments: period.map { [$0.description] } ?? []).map(Self.batch(from:))
        }
    }

    /// The item reference the carrier echoes back: ASCII letters, digits and dashes, at most 32 characters,
    /// unique across batches because the batch number is in it.
    public static func itemReference(period: Period, batch: BatchID, seq: Int64) -> String {
        "AL-\(period.compact)-\(pad(Int(batch.rawValue), 6))-\(pad(Int(seq), 7))"
    }

    /// Creates the month's batch: one item per active, unflagged beneficiary in scope, cash ones included, with
    /// the amount from the rates in effect in the period and the account snapshotted into the item.
    public func createBatch(_ options: BatchCreateOptions, progress: ((Int) -> Void)? = nil) throws -> BatchCreateResult {
        try write { db in
            let now = clock.now()
            let period = options.period
            try Self.raiseFlags(db, at: now)
            let holds = try Self.openFlags(db, at: now)
            let rates = try Self.loadRates(db)

            let communes = Array(Set(options.communes)).sorted()
            let scopeSQL = communes.isEmpty ? "" : "AND b.commune_code IN (\(communes.map { _ in "?" }.joined(separator: ", ")))"
            let communeArguments = StatementArguments(communes.map(\.value))

            let existing = try Row.fetchAll(db, sql: """
                SELECT i.batch_id, COUNT(*), MIN(i.beneficiary_id) FROM batch_item i JOIN beneficiary b ON b.id = i.beneficiary_id
                WHERE i.period = ? AND i.retry_of_item IS NULL AND b.status = 'active' \(scopeSQL)
                GROUP BY i.batch_id ORDER BY i.batch_id
                """, arguments: [period.description] + communeArguments)
            let skippedExisting = existing.reduce(0) { $0 + ($1[1] as Int) }
            if !existing.isEmpty && !options.skipExisting {
                throw BatchError.alreadyInBatch(period: period, batches: existing.map { (BatchID($0[0]), $0[1]) },
                                                example: BeneficiaryID(existing[0][2]))
            }

            try db.execute(sql: """
                INSERT INTO batch(period, scope, status, created_by, created_at) VALUES (?, ?, 'created', ?, ?)
                """, arguments: [period.description, communes.isEmpty ? "*" : communes.map(\.value).joined(separator: ","),
                                 options.by.value, now.description])
            let batchID = BatchID(db.lastInsertedRowID)

            var amounts: [String: Money] = [:]
            let insertItem = try FastStatement(db, """
                INSERT INTO batch_item(batch_id, seq, reference, beneficiary_id, period, commune_code, category, method,
                                       carrier, msisdn, account_name, amount)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            let insertHold = try FastStatement(db, "INSERT INTO batch_hold(batch_id, beneficiary_id, reason) VALUES (?, ?, ?)")
            let candidates = try FastStatement(db, """
                SELECT b.id, b.commune_code, b.category, b.payment_method, b.carrier, b.msisdn, b.full_name
                FROM beneficiary b
                WHERE b.status = 'active' \(scopeSQL)
                  AND NOT EXISTS (SELECT 1 FROM batch_item i WHERE i.beneficiary_id = b.id AND i.period = ?
                                  AND i.retry_of_item IS NULL)
                ORDER BY b.commune_code, b.id
                """)
            defer { candidates.reset() }
            for (index, commune) in communes.enumerated() { candidates.bind(Int32(index + 1), commune.value) }
            candidates.bind(Int32(communes.count + 1), period.description)

            var seq: Int64 = 0
            var total = Money.zero
            var mobile = 0
            var cash = 0
            var heldByKind: [String: Int] = [:]
            var heldOut = 0
            let periodText = period.description
            while try candidates.step() {
                let beneficiary = candidates.int64(0)
                if let kinds = holds[BeneficiaryID(beneficiary)] {
                    heldOut += 1
                    let unique = Array(Set(kinds.map(\.rawValue))).sorted()
                    for kind in unique { heldByKind[kind, default: 0] += 1 }
                    insertHold.bind(1, batchID.rawValue)
                    insertHold.bind(2, beneficiary)
                    insertHold.bind(3, unique.joined(separator: ","))
                    try insertHold.run()
                    continue
                }
                let category = candidates.string(2)
                let amount: Money
                if let known = amounts[category] {
                    amount = known
                } else {
                    switch Result(catching: { () throws(RateError) in try rates.monthlyAmount(category: Code(trusted: category), period: period) }) {
                    case .success(let value): amount = value
                    case .failure(let error): throw BatchError.rate(error)
                    }
                    amounts[category] = amount
                }
                seq += 1
                let method = candidates.string(3)
                if method == PaymentMethod.mobileMoney.rawValue { mobile += 1 } else { cash += 1 }
                insertItem.bind(1, batchID.rawValue)
                insertItem.bind(2, seq)
                insertItem.bind(3, Self.itemReference(period: period, batch: batchID, seq: seq))
                insertItem.bind(4, beneficiary)
                insertItem.bind(5, periodText)
                insertItem.bind(6, candidates.string(1))
                insertItem.bind(7, category)
                insertItem.bind(8, method)
                if method == PaymentMethod.mobileMoney.rawValue {
                    insertItem.bind(9, candidates.stringOrNil(4))
                    insertItem.bind(10, candidates.stringOrNil(5))
                } else {
                    insertItem.bind(9, nil as String?)
                    insertItem.bind(10, nil as String?)
                }
                insertItem.bind(11, candidates.string(6))
                insertItem.bind(12, amount.dong)
                try insertItem.run()
                total = try total.adding(amount)
                if let progress, seq % 50_000 == 0 { progress(Int(seq)) }
            }
            guard seq > 0 else { throw BatchError.noEligible(period: period, heldOut: heldOut) }
            try db.execute(sql: "UPDATE batch SET held_out = ? WHERE id = ?", arguments: [heldOut, batchID.rawValue])
            return BatchCreateResult(batch: try Self.fetchBatch(db, batchID), items: Int(seq), total: total, mobileMoneyItems: mobile,
                                     cashItems: cash, heldOutByKind: heldByKind, skippedExisting: options.skipExisting ? skippedExisting : 0)
        }
    }

    /// Approves a batch as its checker and posts the entitlements (Dr expense / Cr payable, per item).
    ///
    /// The approver must differ from the creator; the database refuses it too, whatever writes the row.
    public func approveBatch(_ id: BatchID, by user: UserName) throws -> (batch: Batch, entry: JournalEntryID, total: Money) {
        try write { db in
            let batch = try Self.fetchBatch(db, id)
            guard batch.status == .created else { throw BatchError.wrongStatus(batch: id, status: batch.status, action: "approve it again") }
            if let creator = try? UserName(parsing: batch.createdBy), creator.isSamePerson(as: user) {
                throw BatchError.makerIsChecker(batch: id, user: batch.createdBy)
            }
            let now = clock.now()
            try db.execute(sql: "UPDATE batch SET status = 'approved', approved_by = ?, approved_at = ? WHERE id = ?",
                           arguments: [user.value, now.description, id.rawValue])
            let total = Money(dong: try Int64.fetchOne(db, sql: "SELECT SUM(amount) FROM batch_item WHERE batch_id = ?", arguments: [id.rawValue]) ?? 0)
            let writer = try JournalWriter(db, at: now, kind: .entitlement, key: "entitlement:batch:\(id)", batch: id, by: user,
                                           memo: "Entitlements of batch \(id) for \(batch.period), approved by \(user)")
            try writer.append(.debit(.expense, total))
            let items = try FastStatement(db, "SELECT id, beneficiary_id, amount FROM batch_item WHERE batch_id = ? ORDER BY seq")
            defer { items.reset() }
            items.bind(1, id.rawValue)
            while try items.step() {
                try writer.append(.credit(.payable, Money(dong: items.int64(2)), beneficiary: BeneficiaryID(items.int64(1)),
                                          item: BatchItemID(items.int64(0))))
            }
            let entry = try writer.finish()
            return (try Self.fetchBatch(db, id), entry, total)
        }
    }
}
