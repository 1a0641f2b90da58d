/// What payouts (batches, instruction files, cash, retries) need of a ledger's storage. A batch of a million items
/// is made, sealed and credited in the database, set by set; the rules (who may approve, what is stale, what a
/// category is paid, what a retry takes) are the `Payouts` service's.
package protocol PayoutsStorage: Sendable {
    func read<T>(_ body: (any PayoutsTransaction) throws -> T) throws -> T
    func write<T>(_ body: (any PayoutsTransaction) throws -> T) throws -> T
    /// Like `write`, for bulk writes whose every key (items, beneficiaries) was read in the same transaction.
    func writeBulk<T>(_ body: (any PayoutsTransaction) throws -> T) throws -> T
}

package protocol PayoutsTransaction: RegistryTransaction, JournalTransaction {
    /// `ReportsStorage.writeStamp()`, inside this transaction.
    func writeStamp() throws -> [Int64]
    /// The batch, or `BatchError.notFound`.
    func batch(_ id: BatchID) throws -> Batch
    func batches(period: Period?) throws -> [Batch]
    func summary(of batch: Batch) throws -> BatchSummary
    /// The batch's mobile-money items, in seq order, whose number differs from the one their beneficiary was last paid
    /// on in an earlier month.
    func numberChanges(batch: BatchID) throws -> [NumberChange]

    // Making a batch
    /// Per batch, the first attempts of the month (or of the one-off) already made for active beneficiaries in scope.
    func itemsAlreadyMade(_ scope: BatchScope) throws -> [(batch: BatchID, items: Int, example: BeneficiaryID)]
    func insertBatch(_ scope: BatchScope, retryOf: BatchID?, at: Timestamp, by: UserName) throws -> BatchID
    /// The one-off payments' batches, cancelled ones left out.
    func oneOffBatches() throws -> [Batch]
    /// Someone active in scope registered in a step's `to` category who had not reached its age in the plan's month.
    func reachedLater(_ scope: BatchScope, plan: BenefitPlan) throws -> (beneficiary: BeneficiaryID, from: Code, to: Code)?
    /// One of `categories` that an active beneficiary in scope has (not yet in a batch of the month when
    /// `skipMade`), or nil.
    func candidateCategory(among categories: [Code], _ scope: BatchScope, skipMade: Bool) throws -> Code?
    /// Who, active and in scope, the period moves to another category or newly qualifies by age, by the plan.
    func benefitChanges(_ scope: BatchScope, plan: BenefitPlan) throws -> [BenefitChange]
    /// Records the held beneficiaries in scope and inserts one item per other active beneficiary in scope (not yet
    /// in a batch of the month when `skipMade`), in register order, the account snapshotted: a month's item pays the
    /// highest benefit the person qualifies for by the plan, a one-off's its amount.
    func makeItems(batch: BatchID, _ scope: BatchScope, plan: BenefitPlan?, holds: [BeneficiaryID: [FlagKind]],
                   skipMade: Bool) throws -> MadeItems
    /// Removes an unapproved batch's items and holds; the batch stays, cancelled, with who, when and why.
    func cancel(_ batch: BatchID, at: Timestamp, by: UserName, reason: String) throws

    // Approving
    /// One pass over the items in seq order beside their register rows: their seal, their credits, and the items
    /// whose beneficiary is no longer active or whose account changed; then the items of beneficiaries with a flag
    /// open since `flagsOpenSince`.
    func approvalScan(batch: BatchID, flagsOpenSince: Timestamp) throws -> ApprovalScan
    func markApproved(batch: BatchID, at: Timestamp, by: UserName, seal: ItemSeal) throws

    // Instruction files and transfers
    /// Writes the batch's mobile-money items (one carrier's when given) in seq order through `rows`, and tallies them.
    func writeInstructions(batch: BatchID, carrier: Code?, into rows: inout InstructionRows) throws -> [String: Money]
    func markExported(batch: BatchID, at: Timestamp) throws

    // Cash
    func cashTotalsByCommune(batch: BatchID) throws -> [String: Money]
    func cashItemCount(batch: BatchID, state: ItemState) throws -> Int
    /// The cash items with no payment state yet, in seq order.
    func openCashItems(batch: BatchID) throws -> [CashItem]
    /// The item a reference names exactly, with its batch, method and state.
    func item(reference: String) throws -> (item: CashItem, batch: BatchID, method: PaymentMethod, state: ItemState)?
    func markPaidCash(_ item: Int64) throws
    /// Commune cash desks that paid out more than they were advanced.
    func shortCashDesks() throws -> [String: Money]

    // Retries
    func resultFileCount(batch: BatchID) throws -> Int
    /// The batch's mobile-money items not retried yet that failed, or went to the carrier and no result line named.
    func retryCandidates(batch: BatchID) throws -> [RetryCandidate]
    func insertRetryItems(batch: BatchID, period: Period, oneOff: String?, _ items: [RetryCandidate]) throws
}

/// What `makeItems` made.
/// What a batch covers: a month, the communes (all when empty), the registered categories (all when empty), and
/// the one-off payment it makes, if it is one.
package struct BatchScope: Sendable {
    package let period: Period
    package let communes: [Code]
    package let categories: [Code]
    package let oneOff: OneOffPayment?

    package init(period: Period, communes: [Code], categories: [Code] = [], oneOff: OneOffPayment? = nil) {
        self.period = period
        self.communes = Array(Set(communes)).sorted()
        self.categories = Array(Set(categories)).sorted()
        self.oneOff = oneOff
    }
}

package struct MadeItems: Sendable {
    package var items = 0
    package var total = Money.zero
    package var mobileMoney = 0
    package var heldOut = 0
    package var heldOutByKind: [String: Int] = [:]
    package var twoBenefits = 0
    package var paidByAge: [Code: Int] = [:]

    package init() {}
}

package struct ApprovalScan: Sendable {
    package struct Stale: Sendable {
        package let beneficiary: Int64
        /// The register's status now, or empty for an item found only by its open flag.
        package let status: String
        package let accountChanged: Bool
        package let seq: Int64

        package init(beneficiary: Int64, status: String, accountChanged: Bool, seq: Int64) {
            self.beneficiary = beneficiary
            self.status = status
            self.accountChanged = accountChanged
            self.seq = seq
        }
    }

    package let seal: ItemSeal
    package let credits: [PayableLeg]
    package let stale: [Stale]
    /// Items whose beneficiary has an open flag: (beneficiary, seq).
    package let flagged: [(beneficiary: Int64, seq: Int64)]

    package init(seal: ItemSeal, credits: [PayableLeg], stale: [Stale], flagged: [(beneficiary: Int64, seq: Int64)]) {
        self.seal = seal
        self.credits = credits
        self.stale = stale
        self.flagged = flagged
    }
}

package struct CashItem: Sendable {
    package let item: Int64
    package let beneficiary: Int64
    package let commune: String
    package let amount: Int64

    package init(item: Int64, beneficiary: Int64, commune: String, amount: Int64) {
        self.item = item
        self.beneficiary = beneficiary
        self.commune = commune
        self.amount = amount
    }
}

/// An item a retry may take over, beside its beneficiary's register row as it is now.
package struct RetryCandidate: Sendable {
    package let item: Int64
    package let beneficiary: Int64
    package let amount: Int64
    package let attempt: Int64
    package let state: ItemState
    package let commune: String
    package let category: String
    package let status: String
    package let method: String
    package let carrier: String?
    package let msisdn: String?
    package let name: String

    package init(item: Int64, beneficiary: Int64, amount: Int64, attempt: Int64, state: ItemState, commune: String, category: String,
                 status: String, method: String, carrier: String?, msisdn: String?, name: String) {
        self.item = item
        self.beneficiary = beneficiary
        self.amount = amount
        self.attempt = attempt
        self.state = state
        self.commune = commune
        self.category = category
        self.status = status
        self.method = method
        self.carrier = carrier
        self.msisdn = msisdn
        self.name = name
    }
}

/// The instruction file's lines (`reference,msisdn,account_name,amount,narrative`), encoded into a buffer and handed to
/// the writer 64 KiB at a time: an access to the writer per cell cost more than the encoding.
package struct InstructionRows {
    package static let header = ["reference", "msisdn", "account_name", "amount", "narrative"]
    package static let columnKinds: [ColumnKind] = [.text, .text, .text, .amount, .text]
    private let writer: CSVWriter?
    /// The workbook written instead of CSV: cell by cell, the same values.
    private let workbook: XLSXWriter?
    private let narrative: [UInt8]
    private var rows: [UInt8] = []
    private var rowsInBuffer = 0
    package private(set) var lines = 0
    package private(set) var total = Money.zero

    package init(writer: any TableWriter, narrative: String) throws {
        self.writer = writer as? CSVWriter
        self.workbook = writer as? XLSXWriter
        precondition(self.writer != nil || workbook != nil, "instructions are written as CSV or xlsx")
        self.narrative = Array(narrative.utf8)
        rows.reserveCapacity(1 << 16 + 4096)
        try writer.row(Self.header)
    }

    package mutating func add(reference: UnsafeBufferPointer<UInt8>, msisdn: UnsafeBufferPointer<UInt8>,
                              name: UnsafeBufferPointer<UInt8>, amount: Money) throws {
        if let workbook {
            workbook.text(bytes: reference)
            workbook.text(bytes: msisdn)
            workbook.text(bytes: name)
            workbook.int(amount.dong)
            narrative.withUnsafeBufferPointer { workbook.text(bytes: $0) }
            try workbook.endRow()
            lines += 1
            total = try total.adding(amount)
            return
        }
        let comma = UInt8(ascii: ","), lineFeed = UInt8(ascii: "\n")
        CSVWriter.appendText(reference, to: &rows)
        rows.append(comma)
        CSVWriter.appendText(msisdn, to: &rows)
        rows.append(comma)
        CSVWriter.appendText(name, to: &rows)
        rows.append(comma)
        CSVWriter.appendInt(amount.dong, to: &rows)
        rows.append(comma)
        narrative.withUnsafeBufferPointer { CSVWriter.appendText($0, to: &rows) }
        rows.append(lineFeed)
        rowsInBuffer += 1
        if rows.count >= 1 << 16 { try flush() }
        lines += 1
        total = try total.adding(amount)
    }

    package mutating func flush() throws {
        guard let writer else { return }
        try writer.append(encodedRows: rows, count: rowsInBuffer)
        rows.removeAll(keepingCapacity: true)
        rowsInBuffer = 0
    }
}
