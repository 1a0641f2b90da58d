/// Payouts: the month's batch, its approval by a second person, the carrier's instruction file and the funds sent,
/// cash paid at the commune, and retries. The CLI and a server call it the same way; the user who acts is always a
/// parameter, and every command is one transaction.
public struct Payouts: Sendable {
    let storage: any PayoutsStorage
    public let clock: Clock
    /// A batch's summary and number changes scan its items (a million for a national month): kept until the ledger
    /// changes, for the batch page many people open.
    private let summaries = StampedMemo<BatchID, BatchSummary>()
    private let changes = StampedMemo<BatchID, [NumberChange]>()

    package init(storage: any PayoutsStorage, clock: Clock) {
        self.storage = storage
        self.clock = clock
    }

    public func batch(_ id: BatchID) throws -> Batch {
        try storage.read { try $0.batch(id) }
    }

    public func batches(period: Period? = nil) throws -> [Batch] {
        try storage.read { try $0.batches(period: period) }
    }

    public func batchSummary(_ id: BatchID) throws -> BatchSummary {
        try storage.read { tx in
            let batch = try tx.batch(id)
            return try summaries.value(for: id, stamp: try Self.stamp(tx, batch)) { try tx.summary(of: batch) }
        }
    }

    /// What changes whenever a batch's summary or number changes could: the ledger's write stamp and the batch's status.
    private static func stamp(_ tx: any PayoutsTransaction, _ batch: Batch) throws -> [Int64] {
        try tx.writeStamp() + [Int64(BatchStatus.allCases.firstIndex(of: batch.status) ?? -1)]
    }

    /// Every payee of the batch to be paid on another number than the one they were last paid on: what the checker
    /// looks at before approving (`batch show`, `batch approve`), since a redirected payment looks like this whether
    /// the number was changed through the ledger or behind it.
    public func numberChanges(_ id: BatchID) throws -> [NumberChange] {
        try storage.read { tx in
            let batch = try tx.batch(id)
            return try changes.value(for: id, stamp: try Self.stamp(tx, batch)) { try tx.numberChanges(batch: id) }
        }
    }

    /// The idempotency key of the funds sent to one carrier for a batch; reconciliation reads it to know which
    /// items went out.
    package static func transferKey(batch: BatchID, carrier: String) -> String { "transfer:batch:\(batch):\(carrier)" }

    /// The entitlement entry's memo carries the items' digest, so the hash chain covers every payee too.
    package static func entitlementMemo(batch: BatchID, period: String, createdBy: String, approvedBy: String, digest: String,
                                        oneOff: OneOffPayment? = nil) -> String {
        let what = oneOff.map { "One-off payment \"\($0.name)\" of \($0.amount.dong) đồng each, batch" } ?? "Entitlements of batch"
        return "\(what) \(batch) for \(period), created by \(createdBy), approved by \(approvedBy); items sha256 \(digest)"
    }

    // MARK: Making and approving

    /// Creates the month's batch: one item per active, unflagged beneficiary in scope, cash ones included, with the
    /// account snapshotted into the item. A month's item pays the highest monthly benefit the person qualifies for in
    /// the period (one benefit a person, Law on Social Insurance 2024 Article 22 and Decree 20/2021 Article 6), after the
    /// month's changes by age are written into the register with their history; a one-off's item pays its amount, once
    /// a person.
    public func createBatch(_ options: BatchCreateOptions) throws -> BatchCreateResult {
        // A month pays everyone in scope whatever their category; only a one-off is narrowed to some.
        if options.oneOff == nil && !options.categories.isEmpty { throw BatchError.categoriesWithoutOneOff }
        // Every item is made from a beneficiary row read in this transaction, for the batch it inserts.
        return try storage.writeBulk { tx in
            let now = clock.now()
            let period = options.period
            var oneOff = options.oneOff
            if let asked = oneOff {
                // The same payment whatever the case or composition of its name: it keeps the name it was first made under.
                let earlier = try tx.oneOffBatches().filter { $0.oneOff?.key == asked.key }
                if let other = earlier.first(where: { $0.period != period || $0.oneOff?.amount != asked.amount }) {
                    throw BatchError.oneOffPaid(name: other.oneOff?.name ?? asked.name, period: other.period, batches: earlier.map(\.id))
                }
                if let first = earlier.first?.oneOff { oneOff = first }
            }
            let scope = BatchScope(period: period, communes: options.communes, categories: options.categories, oneOff: oneOff)
            try Registry.raiseFlags(tx, at: now)
            let holds = try Self.openFlags(tx, at: now)
            let rates = try tx.rateTable()
            for category in scope.categories where rates.categories[category] == nil { throw BatchError.rate(.unknownCategory(category)) }

            let made = try tx.itemsAlreadyMade(scope)
            let skippedExisting = made.reduce(0) { $0 + $1.items }
            if let oneOff, !made.isEmpty && !options.skipExisting {
                throw BatchError.oneOffPaid(name: oneOff.name, period: period, batches: made.map(\.batch))
            }
            if !made.isEmpty && !options.skipExisting {
                throw BatchError.alreadyInBatch(period: period, batches: made.map { ($0.batch, $0.items) }, example: made[0].example)
            }
            var plan: BenefitPlan?
            var changes: [BenefitChange] = []
            if oneOff == nil {
                let rule = try Registry.ageMonthRule(tx)
                let monthPlan = BenefitPlan(rates: rates, period: period, rule: rule)
                try Self.refuseEarlierMonth(tx, scope, plan: monthPlan)
                changes = try Self.applyBenefitChanges(tx, scope, plan: monthPlan, rule: rule, at: now, by: options.by)
                // A category without a rate in the period matters only if someone in scope has it.
                let unpriced = monthPlan.unpriced.keys.sorted()
                if !unpriced.isEmpty, let category = try tx.candidateCategory(among: unpriced, scope, skipMade: !made.isEmpty) {
                    throw BatchError.rate(monthPlan.unpriced[category]!)
                }
                plan = monthPlan
            }
            let batchID = try tx.insertBatch(scope, retryOf: nil, at: now, by: options.by)
            let items = try tx.makeItems(batch: batchID, scope, plan: plan, holds: holds, skipMade: !made.isEmpty)
            guard items.items > 0 else { throw BatchError.noEligible(period: period, heldOut: items.heldOut) }
            return BatchCreateResult(batch: try tx.batch(batchID), items: items.items, total: items.total,
                                     mobileMoneyItems: items.mobileMoney, cashItems: items.items - items.mobileMoney,
                                     heldOutByKind: items.heldOutByKind, skippedExisting: options.skipExisting ? skippedExisting : 0,
                                     changes: changes, twoBenefits: items.twoBenefits, paidByAge: items.paidByAge)
        }
    }

    /// Writes the period's category steps into the register (one history event each, the row resealed) and records
    /// each new qualification by age in the history; returns both. Steps run until none is left, so a category that
    /// moves on twice (a child past two limits at once) lands where the person's age puts them.
    static func applyBenefitChanges(_ tx: any PayoutsTransaction, _ scope: BatchScope, plan: BenefitPlan, rule: AgeMonthRule,
                                    at now: Timestamp, by user: UserName) throws -> [BenefitChange] {
        var all: [BenefitChange] = []
        var rounds = 0
        while true {
            let changes = try tx.benefitChanges(scope, plan: plan)
            let steps = changes.filter { $0.kind == .category }
            if rounds == 0 { all += changes.filter { $0.kind == .qualified } }
            if steps.isEmpty || rounds == 8 { break }
            rounds += 1
            for step in steps {
                guard let found = try tx.beneficiary(id: step.beneficiary) else { continue }
                var details = found.details
                details.category = step.to
                _ = try Registry.applyChanges(tx, to: found, details, at: now, by: user, reason: step.reason(rule: rule, period: plan.period),
                                              importID: nil)
            }
            all += steps
        }
        // A qualification is recorded once: a second batch of the month (another commune's, or one made again) lists
        // only what is new.
        var recorded = Set<String>()
        for change in all where change.kind == .qualified {
            if try tx.events(of: change.beneficiary).contains(where: { $0.field == "qualifies_for" && $0.newValue == change.to.value }) {
                recorded.insert("\(change.beneficiary.rawValue) \(change.to.value)")
            }
        }
        all.removeAll { $0.kind == .qualified && recorded.contains("\($0.beneficiary.rawValue) \($0.to.value)") }
        for change in all where change.kind == .qualified {
            try tx.insertEvent(NewBeneficiaryEvent(beneficiary: change.beneficiary, at: now, by: user, kind: .updated, field: "qualifies_for",
                                                   oldValue: nil, newValue: change.to.value, reason: change.reason(rule: rule, period: plan.period),
                                                   importID: nil))
        }
        if !all.isEmpty { try tx.sealRegister(at: now, by: user) }
        if let through = try tx.setting(Self.changesThroughKey).flatMap({ try? Period(parsing: $0) }), through >= plan.period {
            return all.sorted { ($0.beneficiary.rawValue, $0.kind.rawValue) < ($1.beneficiary.rawValue, $1.kind.rawValue) }
        }
        try tx.setSetting(Self.changesThroughKey, plan.period.description)
        return all.sorted { ($0.beneficiary.rawValue, $0.kind.rawValue) < ($1.beneficiary.rawValue, $1.kind.rawValue) }
    }

    /// The latest month whose changes by age were written into the register.
    static let changesThroughKey = "benefit_changes_through"

    /// A month made after a later one moved people on by age would pay them the later category: refused while anyone
    /// in scope holds a category reached by age that they had not reached in this month.
    static func refuseEarlierMonth(_ tx: any PayoutsTransaction, _ scope: BatchScope, plan: BenefitPlan) throws {
        guard let through = try tx.setting(changesThroughKey).flatMap({ try? Period(parsing: $0) }), through > plan.period else { return }
        if let early = try tx.reachedLater(scope, plan: plan) {
            throw BatchError.movedOnLater(period: plan.period, through: through, beneficiary: early.beneficiary, from: early.from, to: early.to)
        }
    }

    /// Who the period changes by age, before its batch is made (`beneficiary due`): category steps and new
    /// qualifications, for active beneficiaries in the communes (all when empty). Nothing is written.
    public func dueChanges(period: Period, communes: [Code] = []) throws -> (rule: AgeMonthRule, changes: [BenefitChange]) {
        try storage.read { tx in
            let rule = try Registry.ageMonthRule(tx)
            let plan = BenefitPlan(rates: try tx.rateTable(), period: period, rule: rule)
            let changes = try tx.benefitChanges(BatchScope(period: period, communes: communes), plan: plan)
            return (rule, changes.sorted { ($0.beneficiary.rawValue, $0.kind.rawValue) < ($1.beneficiary.rawValue, $1.kind.rawValue) })
        }
    }

    /// Open flags by beneficiary: the ones that hold beneficiaries out of a batch made at `now`.
    static func openFlags(_ tx: any PayoutsTransaction, at now: Timestamp) throws -> [BeneficiaryID: [FlagKind]] {
        let since = now.adding(days: -(try Registry.changeWindowDays(tx)))
        var result: [BeneficiaryID: [FlagKind]] = [:]
        for flag in try tx.flags(openSince: since) { result[flag.beneficiaryID, default: []].append(flag.kind) }
        return result
    }

    /// Cancels a batch nobody has approved yet: its items are removed (so the month can be made again) and the batch
    /// row stays, marked cancelled, with who, when and why.
    public func cancelBatch(_ id: BatchID, reason: String, by user: UserName) throws -> Batch {
        let reason = reason.trimmingSpaces
        guard !reason.isEmpty else { throw RegistryError.reasonRequired }
        return try storage.writeBulk { tx in
            let batch = try tx.batch(id)
            guard batch.status == .created else {
                throw BatchError.wrongStatus(batch: id, status: batch.status, action: "cancel it; only an unapproved batch can be cancelled")
            }
            try tx.cancel(id, at: clock.now(), by: user, reason: reason)
            return try tx.batch(id)
        }
    }

    /// Approves a batch as its checker and posts the entitlements (Dr expense / Cr payable, per item).
    ///
    /// The approver must differ from the creator; the database refuses it too, whatever writes the row.
    public func approveBatch(_ id: BatchID, by user: UserName) throws -> (batch: Batch, entry: JournalEntryID, total: Money) {
        // Every credit names an item (and its beneficiary) of the batch, read in this transaction.
        try storage.writeBulk { tx in
            let batch = try tx.batch(id)
            guard batch.status == .created else { throw BatchError.wrongStatus(batch: id, status: batch.status, action: "approve it again") }
            if let creator = try? UserName(parsing: batch.createdBy), creator.isSamePerson(as: user) {
                throw BatchError.makerIsChecker(batch: id, user: batch.createdBy)
            }
            let now = clock.now()
            // What changed in the register since the batch was made: the checker must not approve a payment to
            // someone who died, or to a number that is no longer theirs.
            let since = now.adding(days: -(try Registry.changeWindowDays(tx)))
            let scan = try tx.approvalScan(batch: id, flagsOpenSince: since)
            var stale = scan.stale
            let staleIDs = Set(stale.map(\.beneficiary))
            stale += scan.flagged.filter { !staleIDs.contains($0.beneficiary) }.map {
                ApprovalScan.Stale(beneficiary: $0.beneficiary, status: "", accountChanged: false, seq: $0.seq)
            }
            stale.sort { $0.seq < $1.seq }
            if !stale.isEmpty {
                let examples = stale.prefix(3).map { item -> String in
                    let who = "beneficiary \(item.beneficiary)"
                    if !item.status.isEmpty && item.status != BeneficiaryStatus.active.rawValue { return "\(who) is \(item.status)" }
                    if item.accountChanged { return "\(who)'s account changed after the batch was created" }
                    return "\(who) has an open fraud flag"
                }
                throw BatchError.staleItems(batch: id, count: stale.count, examples: Array(examples))
            }
            let total = Money(dong: scan.seal.total)
            try tx.markApproved(batch: id, at: now, by: user, seal: scan.seal)
            let entry = try tx.journalEntry(at: now, kind: .entitlement, key: "entitlement:batch:\(id)", batch: id, by: user,
                                            memo: Self.entitlementMemo(batch: id, period: batch.period.description,
                                                                       createdBy: batch.createdBy, approvedBy: user.value,
                                                                       digest: scan.seal.digest, oneOff: batch.oneOff))
            if batch.retryOf == nil {
                try entry.append(.debit(.expense, total))
            } else {
                try entry.appendRetryCarryOver(batch: id)
            }
            try entry.appendItemCredits(batch: id, read: scan.credits)
            let entryID = try entry.finish()
            return (try tx.batch(id), entryID, total)
        }
    }

    // MARK: Paying

    /// Writes the payment instruction file for the batch's mobile-money items and records the funds sent to each
    /// carrier (Dr carrier clearing / Cr treasury). Exporting again writes the same bytes and posts nothing twice.
    /// The file is an xlsx workbook when `format` says so, or when it is nil and `path` ends `.xlsx`; else CSV.
    public func exportBatch(_ id: BatchID, to path: String, carrier: Code? = nil, format: TableFormat? = nil, by user: UserName) throws -> BatchExportResult {
        try storage.write { tx in
            let batch = try tx.batch(id)
            guard batch.status == .approved || batch.status == .exported else {
                throw BatchError.wrongStatus(batch: id, status: batch.status,
                                             action: batch.status == .created ? "export it before it is approved" : "export it")
            }
            let writer = try tableWriter(path: path, format: format ?? TableFormat(path: path), sheet: "instructions",
                                         columns: InstructionRows.columnKinds)
            var rows = try InstructionRows(writer: writer, narrative: batch.narrative)
            let perCarrier = try tx.writeInstructions(batch: id, carrier: carrier, into: &rows)
            try rows.flush()
            guard rows.lines > 0 else { throw BatchError.noMobileMoneyItems(id, carrier: carrier) }
            let now = clock.now()
            var posted: [String: Money] = [:]
            var already: [String: Money] = [:]
            for (code, amount) in perCarrier.sorted(by: { $0.key < $1.key }) {
                let key = Self.transferKey(batch: id, carrier: code)
                if try tx.entry(key: key) != nil {
                    already[code] = amount
                    continue
                }
                try tx.post(at: now, kind: .carrierTransfer, key: key, batch: id, by: user,
                            memo: "Funds for batch \(id) (\(batch.period)) sent to \(code)",
                            postings: [.debit(.carrierClearing, amount, sub: code), .credit(.treasury, amount)])
                posted[code] = amount
            }
            if batch.status == .approved { try tx.markExported(batch: id, at: now) }
            let treasury = try tx.balance(of: .treasury)
            // The file lands only if the transaction is about to commit; a rerun rewrites the same bytes.
            try writer.commit()
            return BatchExportResult(batch: try tx.batch(id), path: path, lines: rows.lines, total: rows.total,
                                     transfersPosted: posted, transfersAlreadyPosted: already, treasuryBalance: treasury)
        }
    }

    /// Records the cash handed to each commune's cash desk for the batch's cash items (Dr 1200 per commune /
    /// Cr 1000), so that paying them out leaves the desks at zero. Once per batch; again changes nothing.
    public func advanceCash(_ id: BatchID, by user: UserName) throws -> (perCommune: [String: Money], alreadyRecorded: Bool) {
        try storage.write { tx in
            let batch = try tx.batch(id)
            guard batch.status == .approved || batch.status == .exported else {
                throw BatchError.wrongStatus(batch: id, status: batch.status, action: "advance cash before it is approved")
            }
            let perCommune = try tx.cashTotalsByCommune(batch: id)
            let key = "cash-advance:batch:\(id)"
            if try tx.entry(key: key) != nil { return (perCommune, true) }
            guard !perCommune.isEmpty else { throw BatchError.noCashItems(id) }
            let entry = try tx.journalEntry(at: clock.now(), kind: .cashAdvance, key: key, batch: id, by: user,
                                            memo: "Cash for batch \(id) (\(batch.period)) handed to the commune cash desks")
            var total = Money.zero
            for (commune, amount) in perCommune.sorted(by: { $0.key < $1.key }) {
                try entry.append(.debit(.cashDisbursement, amount, sub: commune))
                total = try total.adding(amount)
            }
            try entry.append(.credit(.treasury, total))
            try entry.finish()
            return (perCommune, false)
        }
    }

    /// Records cash items paid at the commune (Dr payable / Cr cash disbursement, per commune cash desk).
    ///
    /// Good references are settled and bad ones reported; an item already settled is counted, not paid twice.
    public func settleCash(_ id: BatchID, _ selection: CashSelection, by user: UserName) throws -> CashSettlementResult {
        try storage.write { tx in
            let batch = try tx.batch(id)
            guard batch.status == .approved || batch.status == .exported else {
                throw BatchError.wrongStatus(batch: id, status: batch.status, action: "settle cash before it is approved")
            }
            var problems: [String] = []
            var alreadySettled = 0
            var selected: [CashItem] = []
            switch selection {
            case .all:
                alreadySettled = try tx.cashItemCount(batch: id, state: .paidCash)
                selected = try tx.openCashItems(batch: id)
            case .references(let references):
                var seen = Set<String>()
                for entry in references {
                    let reference = entry.reference.trimmingSpaces
                    let place = entry.origin.map { "\($0): " } ?? ""
                    guard seen.insert(reference).inserted else { continue }
                    guard let found = try tx.item(reference: reference) else {
                        problems.append("\(place)reference \(redactIdentifiers(reference)) names no batch item")
                        continue
                    }
                    if found.batch != id {
                        problems.append("\(place)reference \(reference) belongs to batch \(found.batch), not batch \(id)")
                        continue
                    }
                    if found.method != .cash {
                        problems.append("\(place)reference \(reference) is a mobile-money item; the carrier's result file settles it (`allowance reconcile`)")
                        continue
                    }
                    if found.state != .open {
                        alreadySettled += 1
                        continue
                    }
                    selected.append(found.item)
                }
            }
            guard !selected.isEmpty else {
                return CashSettlementResult(batch: id, settled: 0, amount: .zero, alreadySettled: alreadySettled, entry: nil, problems: problems)
            }
            let now = clock.now()
            let sequence = try tx.entryCount(batch: id, kind: .cashSettlement) + 1
            let entry = try tx.journalEntry(at: now, kind: .cashSettlement, key: "cash:batch:\(id):\(sequence)", batch: id, by: user,
                                            memo: "Cash paid at the commune for batch \(id) (\(batch.period)), \(selected.count) item(s)")
            var perCommune: [String: Money] = [:]
            var total = Money.zero
            for item in selected {
                try tx.markPaidCash(item.item)
                let amount = Money(dong: item.amount)
                try entry.append(.debit(.payable, amount, beneficiary: BeneficiaryID(item.beneficiary), item: BatchItemID(item.item)))
                perCommune[item.commune, default: .zero] = try perCommune[item.commune, default: .zero].adding(amount)
                total = try total.adding(amount)
            }
            for (commune, amount) in perCommune.sorted(by: { $0.key < $1.key }) {
                try entry.append(.credit(.cashDisbursement, amount, sub: commune))
            }
            let entryID = try entry.finish()
            return CashSettlementResult(batch: id, settled: selected.count, amount: total, alreadySettled: alreadySettled, entry: entryID,
                                        problems: problems, desksShort: try tx.shortCashDesks())
        }
    }

    /// Creates a follow-up batch for a reconciled batch's failed and missing mobile-money items. Each retry item
    /// pays the same amount to the beneficiary's account as the register holds it now (cash if they no longer have
    /// mobile money), and is approved by a second person like any batch; approval moves the payable over from the
    /// original item instead of spending again.
    public func retryBatch(_ id: BatchID, by user: UserName) throws -> BatchRetryResult {
        try storage.write { tx in
            let original = try tx.batch(id)
            guard original.status == .exported || original.status == .closed else {
                throw BatchError.wrongStatus(batch: id, status: original.status, action: "retry it before its payments went to the carrier")
            }
            guard try tx.resultFileCount(batch: id) > 0 else {
                throw BatchError.nothingToRetry(id, "no result file has been reconciled for it yet (`allowance reconcile \(id) FILE`)")
            }
            let now = clock.now()
            try Registry.raiseFlags(tx, at: now)
            let held = Set(try Self.openFlags(tx, at: now).keys)
            let candidates = try tx.retryCandidates(batch: id)
            var leftOut: [String: Int] = [:]
            var chosen: [RetryCandidate] = []
            for candidate in candidates {
                if candidate.status != BeneficiaryStatus.active.rawValue {
                    leftOut["beneficiary \(candidate.status)", default: 0] += 1
                } else if held.contains(BeneficiaryID(candidate.beneficiary)) {
                    leftOut["open fraud flag", default: 0] += 1
                } else {
                    chosen.append(candidate)
                }
            }
            guard !chosen.isEmpty else {
                let why = candidates.isEmpty ? "every item is paid, pending, in an exception, or already retried"
                    : "the \(candidates.count) failed or missing item(s) belong to beneficiaries no longer active or held by a flag"
                throw BatchError.nothingToRetry(id, why)
            }
            let batchID = try tx.insertBatch(BatchScope(period: original.period, communes: original.communes, oneOff: original.oneOff),
                                             retryOf: id, at: now, by: user)
            try tx.insertRetryItems(batch: batchID, period: original.period, oneOff: original.oneOff?.name, chosen)
            var total = Money.zero
            for item in chosen { total = try total.adding(Money(dong: item.amount)) }
            let failed = chosen.count { $0.state == .failed }
            let mobile = chosen.count { $0.method == PaymentMethod.mobileMoney.rawValue }
            return BatchRetryResult(batch: try tx.batch(batchID), retryOf: id, items: chosen.count, total: total, failed: failed,
                                    missing: chosen.count - failed, mobileMoneyItems: mobile, cashItems: chosen.count - mobile,
                                    leftOut: leftOut)
        }
    }
}
