import AllowanceLedger
import Reconcile

/// What one logged-in person may do with the ledger: every action of the office's web application, each checked
/// against the account's role (`Role.may`) and communes before the service runs it, with the account as the actor.
///
/// The server reaches the services only through a desk, so a page and a route cannot check differently and neither
/// can forget to: the checks live here, beside the services, not in the front end. The CLI does not use one yet: who
/// runs it is the operating system's account (`init --actor os`), and roles there are the next step.
public struct Desk: Sendable {
    public let account: Account
    private let ledger: Ledger

    public init(ledger: Ledger, account: Account) {
        self.ledger = ledger
        self.account = account
    }

    private var actor: UserName { account.name }

    /// Refuses `action` to a role that may not take it.
    public func check(_ action: Action) throws(AccessError) {
        try Accounts.check(account, may: action)
    }

    /// Refuses a commune the account does not cover.
    public func check(commune: Code) throws(AccessError) {
        guard account.covers(commune) else { throw .outsideCommunes }
    }

    /// Whether the account may see `batch`: an account of some communes sees only batches of those communes (a batch of
    /// the whole office is not theirs).
    public func covers(_ batch: Batch) -> Bool {
        account.communes.isEmpty || (!batch.communes.isEmpty && batch.communes.allSatisfy(account.covers))
    }

    /// The batch, when the role may take `action` and the batch is of the account's communes.
    public func batch(_ id: BatchID, for action: Action) throws -> Batch {
        try check(action)
        let batch = try ledger.payouts.batch(id)
        guard covers(batch) else { throw AccessError.outsideCommunes }
        return batch
    }

    // MARK: Batches

    public func batches() throws -> [Batch] {
        try check(.viewBatches)
        return try ledger.payouts.batches().filter(covers)
    }

    /// The month's batch; an account of some communes makes batches of those communes only (all of them when none
    /// is named).
    /// A month's batch, or a one-off payment's (`oneOff`, narrowed to `categories`), as the account may make it.
    public func createBatch(period: Period, communes: [Code], oneOff: OneOffPayment? = nil, categories: [Code] = []) throws -> BatchCreateResult {
        try check(.createBatch)
        var scope = communes
        if !account.communes.isEmpty {
            if scope.isEmpty { scope = account.communes }
            for commune in scope { try check(commune: commune) }
        }
        var options = BatchCreateOptions(period: period, by: actor)
        options.communes = scope
        options.oneOff = oneOff
        options.categories = categories
        return try ledger.payouts.createBatch(options)
    }

    public func batchSummary(_ id: BatchID) throws -> (summary: BatchSummary, changes: [NumberChange]) {
        _ = try batch(id, for: .viewBatches)
        return (try ledger.payouts.batchSummary(id), try ledger.payouts.numberChanges(id))
    }

    public func approveBatch(_ id: BatchID) throws -> (result: (batch: Batch, entry: JournalEntryID, total: Money), changes: [NumberChange]) {
        _ = try batch(id, for: .approveBatch)
        return (try ledger.payouts.approveBatch(id, by: actor), try ledger.payouts.numberChanges(id))
    }

    public func cancelBatch(_ id: BatchID, reason: String) throws -> Batch {
        _ = try batch(id, for: .cancelBatch)
        return try ledger.payouts.cancelBatch(id, reason: reason, by: actor)
    }

    public func retryBatch(_ id: BatchID) throws -> BatchRetryResult {
        _ = try batch(id, for: .retryBatch)
        return try ledger.payouts.retryBatch(id, by: actor)
    }

    /// Writes the carrier's instruction file to `path` (posting the transfer the first time) and records the download.
    public func exportBatch(_ id: BatchID, to path: String) throws -> BatchExportResult {
        _ = try batch(id, for: .downloadInstructions)
        let result = try ledger.payouts.exportBatch(id, to: path, by: actor)
        try ledger.accounts.record("instructions_downloaded", detail: "batch \(id), \(result.lines) lines", by: actor)
        return result
    }

    // MARK: Reconciliation

    public func reconcile(_ path: String, batch id: BatchID, profile: CarrierProfile, displayName: String) throws -> ReconciliationResult {
        _ = try batch(id, for: .reconcile)
        var options = ReconcileOptions(by: actor)
        options.profile = profile
        options.displayName = displayName
        return try ledger.reconciliation.reconcileResultFile(path, batch: id, options: options)
    }

    public func reconcileStatus(_ id: BatchID) throws -> ReconcileStatus {
        _ = try batch(id, for: .viewBatches)
        return try ledger.reconciliation.status(batch: id)
    }

    public func reconcileRows(_ id: BatchID, includeMissing: Bool, exceptionsOnly: Bool, _ body: (ReconcileReportRow) throws -> Void) throws {
        _ = try batch(id, for: .viewBatches)
        try ledger.reconciliation.reportRows(batch: id, includeMissing: includeMissing, exceptionsOnly: exceptionsOnly, body)
    }

    // MARK: The register

    public func importRegister(_ path: String, displayName: String, skipInvalid: Bool, rejectsPath: String,
                               onProblem: @escaping (LineProblem) -> Void) throws -> RegisterImportResult {
        try check(.importRegister)
        var options = RegisterImportOptions(by: actor)
        options.skipInvalid = skipInvalid
        options.rejectsPath = rejectsPath
        return try ledger.registry.importRegister(path: path, displayName: displayName, options: options, onProblem: onProblem)
    }

    /// The official communes' names by code, for the pages: public names, no personal data, any role.
    public func communeNames() throws -> [String: String] {
        try ledger.registry.communeNames()
    }

    /// The beneficiaries the filter finds among the account's communes.
    public func beneficiaries(_ filter: BeneficiaryFilter) throws -> [Beneficiary] {
        try check(.viewBeneficiaries)
        if let commune = filter.commune { try check(commune: commune) }
        var scoped = filter
        scoped.communes = account.communes
        return try ledger.registry.beneficiaries(scoped)
    }

    public func beneficiary(_ id: BeneficiaryID) throws -> (person: Beneficiary, events: [BeneficiaryEvent], flags: [FraudFlag]) {
        try check(.viewBeneficiaries)
        let (person, events) = try ledger.registry.history(of: id.description)
        try check(commune: person.details.commune)
        return (person, events, try ledger.registry.flags(includeCleared: true).filter { $0.beneficiaryID == person.id })
    }

    public func clearFlag(_ id: Int64, reason: String) throws -> FraudFlag {
        try check(.clearFlag)
        guard let flag = try ledger.registry.flags(includeCleared: true).first(where: { $0.id == id }) else {
            throw AccessError.invalid("no flag \(id)")
        }
        try check(commune: try ledger.registry.beneficiary(flag.beneficiaryID.description).details.commune)
        return try ledger.registry.clearFlag(id, reason: reason, by: actor)
    }

    // MARK: Reports, audit, accounts

    public func nonCash(from: Period, to: Period, grouping: NonCashGrouping, target: Share) throws -> NonCashReport {
        try check(.viewReports)
        return try ledger.reports.nonCash(from: from, to: to, grouping: grouping, target: target)
    }

    public func verifyLedger() throws -> LedgerVerification {
        try check(.verifyLedger)
        return try ledger.journal.verify(progress: nil)
    }

    /// The signed audit export of `scope`, personal data masked, written into `directory`; recorded like any export,
    /// and its download in the activity log.
    public func auditExport(to directory: String, scope: AuditScope, key: AuditKey) throws -> AuditExportResult {
        try check(.exportAudit)
        let result = try ledger.audit.export(to: directory, scope: scope, personalData: .masked, key: key, by: actor)
        try ledger.accounts.record("audit_exported", detail: "export \(result.exportID), \(scope), manifest \(result.manifestSHA256.prefix(16))", by: actor)
        return result
    }

    public func activity(limit: Int = 500) throws -> [Activity] {
        try check(.viewActivity)
        return try ledger.accounts.activity(limit: limit)
    }

    public func accounts() throws -> [Account] {
        try check(.manageAccounts)
        return try ledger.accounts.list()
    }

    public func addAccount(_ name: UserName, role: Role, communes: [Code], password: String) throws -> (Account, otpURI: String?) {
        try check(.manageAccounts)
        return try ledger.accounts.add(name, role: role, communes: communes, password: password, by: actor)
    }

    public func disableAccount(_ name: UserName) throws {
        try check(.manageAccounts)
        try ledger.accounts.disable(name, by: actor)
    }
}

extension Ledger {
    /// The desk of the account a session names: what the server calls for everything that person does.
    public func desk(for account: Account) -> Desk { Desk(ledger: self, account: account) }
}
