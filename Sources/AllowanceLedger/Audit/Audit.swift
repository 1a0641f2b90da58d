/// Audits: the signed export an auditor takes away (`audit verify` checks it without the ledger, `AuditVerifier`), and
/// the office's name that manifests carry.
public struct Audit: Sendable {
    let storage: any AuditStorage
    public let clock: Clock

    package init(storage: any AuditStorage, clock: Clock) {
        self.storage = storage
        self.clock = clock
    }

    /// Writes a signed audit export of `scope` into `directory` (created; it must not hold files yet).
    ///
    /// The ledger is read in one transaction, which also records the export so that the next one names this
    /// manifest's SHA-256: the data files are a function of the ledger and the scope alone, byte for byte.
    public func export(to directory: String, scope: AuditScope, personalData: PersonalData, key: AuditKey,
                       ed25519 signingKey: Ed25519PrivateKey? = nil, office: String? = nil, by user: UserName) throws -> AuditExportResult {
        // One scope, one spelling: `--batch 2 1 1` is batches 1 and 2.
        let scope: AuditScope = if case .batches(let ids) = scope { .batches(Array(Set(ids)).sorted()) } else { scope }
        var directory = directory
        while directory.count > 1, directory.hasSuffix("/") { directory.removeLast() }
        return try storage.exportAudit(to: directory, scope: scope, personalData: personalData, key: key, ed25519: signingKey,
                                       office: office, by: user)
    }

    /// Records that `what` was shown with phone numbers and national IDs whole, to `user`, now: the office's access log
    /// of personal data (`disclosure`), never edited or removed.
    public func recordDisclosure(_ what: String, by user: UserName) throws {
        try storage.recordDisclosure(redactIdentifiers(what), at: clock.now(), by: user)
    }

    /// The office's name, as audit manifests carry it.
    public func officeName() throws -> String? {
        try storage.officeName()
    }

    public func setOfficeName(_ name: String, by user: UserName) throws {
        let name = name.trimmingSpaces
        guard !name.isEmpty, name.count <= 200 else { throw FieldError("the office's name must be 1 to 200 characters") }
        try storage.setOfficeName(name, at: clock.now(), by: user)
    }

    /// Who a command may say acts: anyone it names (`declared`, the default), or only the operating-system account
    /// running it (`os`), for a machine several people share under their own accounts.
    public func actorMode() throws -> ActorMode {
        ActorMode(rawValue: try storage.setting("actor_mode") ?? "") ?? .declared
    }

    public func setActorMode(_ mode: ActorMode, by user: UserName) throws {
        try storage.setSetting("actor_mode", to: mode.rawValue, at: clock.now(), by: user)
    }

    /// Records who ran a command that writes: the actor it acts as, beside the operating-system account and host that
    /// ran it, and the command line with identifiers masked. Kept even when the command then fails.
    public func recordOperator(actor: UserName, osAccount: String, host: String, command: String) throws {
        try storage.recordOperator(actor: actor, osAccount: osAccount, host: host, command: redactIdentifiers(command), at: clock.now())
    }
}

public enum ActorMode: String, Sendable, CaseIterable {
    case declared
    case os
}

/// What audits need of a ledger's storage.
package protocol AuditStorage: Sendable {
    /// Writes the files `AuditFormat` defines, masked as `personalData` says, from one consistent read that also records
    /// the export; signs the manifest (HMAC with `key`, Ed25519 when given) and renames the folder into place at commit.
    func exportAudit(to directory: String, scope: AuditScope, personalData: PersonalData, key: AuditKey,
                     ed25519 signingKey: Ed25519PrivateKey?, office: String?, by user: UserName) throws -> AuditExportResult
    func recordDisclosure(_ what: String, at: Timestamp, by user: UserName) throws
    func officeName() throws -> String?
    /// Sets the office's name and records who set it, in one transaction.
    func setOfficeName(_ name: String, at: Timestamp, by user: UserName) throws
    func setting(_ key: String) throws -> String?
    /// Sets a setting and records who set it, in one transaction.
    func setSetting(_ key: String, to value: String, at: Timestamp, by user: UserName) throws
    func recordOperator(actor: UserName, osAccount: String, host: String, command: String, at: Timestamp) throws
}
