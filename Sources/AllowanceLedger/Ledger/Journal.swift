/// The journal: budget received, balances. The CLI and a server call it the same way; the user who acts is a parameter.
public struct Journal: Sendable {
    let storage: any JournalStorage
    public let clock: Clock

    package init(storage: any JournalStorage, clock: Clock) {
        self.storage = storage
        self.clock = clock
    }

    /// Records budget received: Dr Treasury / Cr Budget appropriation. The reference is the idempotency key:
    /// recording the same reference and amount again changes nothing.
    public func fund(amount: Money, reference: String, by user: UserName, memo: String? = nil) throws -> FundResult {
        guard amount.dong > 0 else { throw LedgerError.notPositive }
        let reference = reference.trimmingSpaces
        guard !reference.isEmpty, reference.count <= 100 else { throw FieldError("reference must be 1 to 100 characters") }
        // The journal is never edited and every audit export carries its text: no one's phone number or ID goes in.
        for (name, text) in [("reference", reference), ("memo", memo ?? "")] where containsIdentifier(text) {
            throw FieldError("the \(name) holds what looks like a phone number or national ID (\(redactIdentifiers(text))); the journal keeps it forever and audit exports show it, so leave it out")
        }
        let key = "fund:" + reference
        return try storage.write { tx in
            if let existing = try tx.entry(key: key) {
                guard existing.firstLegAmount == amount else { throw LedgerError.idempotencyConflict(key: reference) }
                return FundResult(entryID: existing.id, amount: amount, alreadyRecorded: true)
            }
            let id = try tx.post(at: clock.now(), kind: .fund, key: key, batch: nil, by: user,
                                 memo: memo ?? "Budget received, reference \(reference)",
                                 postings: [.debit(.treasury, amount), .credit(.budget, amount)])
            return FundResult(entryID: id, amount: amount, alreadyRecorded: false)
        }
    }

    /// Re-checks the whole ledger: balances, hashes, the chain, the batches' seals and item states. `progress` hears
    /// how many entries were read so far.
    public func verify(progress: ((Int) -> Void)? = nil) throws -> LedgerVerification {
        try storage.verify(progress: progress)
    }

    /// A signed receipt of the chain's head now (`AnchorReceipt`), for the office to hand to someone who keeps it.
    public func receipt(key: AuditKey, ed25519: Ed25519PrivateKey? = nil, office: String,
                        by user: UserName) throws -> (receipt: AnchorReceipt, bytes: [UInt8]) {
        let (head, register) = try storage.read { (try $0.head(), try $0.registerHead()) }
        let receipt = AnchorReceipt(office: office, createdAt: clock.now().description, createdBy: user.value, journal: head,
                                    register: register, keyID: key.id)
        return (receipt, try receipt.signed(with: key, ed25519: ed25519))
    }

    /// Whether the register chain still holds the link a receipt recorded, with the same hash.
    public func holds(register head: RegisterHead) throws -> AnchorCheck {
        AnchorCheck(entry: head.link, expected: head.hash, found: try storage.read { try $0.registerLinkHash(id: head.link) })
    }

    /// Whether the journal still holds an anchor's head: the entry a signed export (or a receipt taken from it) ended
    /// at, with the same hash. A chain rewritten since, even with every hash recomputed, no longer does.
    public func holds(anchor head: AuditManifest.Journal) throws -> AnchorCheck {
        let found: String? = head.headEntryID == 0 ? ChainEncoding.genesis : try storage.read { try $0.entryHash(id: head.headEntryID) }
        return AnchorCheck(entry: head.headEntryID, expected: head.headHash, found: found)
    }

    /// Balances per account and sub-account from the journal, up to the end of `asOf` (Vietnam time), or for one
    /// beneficiary.
    public func balances(asOf: CalendarDate? = nil, beneficiary: BeneficiaryID? = nil) throws -> [AccountBalance] {
        // The end of that day in Vietnam (UTC+7, no daylight saving); the journal keeps UTC.
        let before = asOf.map { Timestamp.vietnamMidnight(CalendarDate(daysSinceEpoch: $0.daysSinceEpoch + 1)) }
        return try storage.read { try $0.balances(before: before, beneficiary: beneficiary) }
    }
}

package protocol JournalStorage: Sendable {
    func read<T>(_ body: (any JournalTransaction) throws -> T) throws -> T
    func write<T>(_ body: (any JournalTransaction) throws -> T) throws -> T
    /// Re-checks, in one read, every entry's balance and hash, the chain, each batch's item seal against its entries,
    /// and that every outcome, state and posting agrees with the journal (`LedgerVerification` lists what it checks).
    /// A backend reads its rows in order and feeds the same hashers (`ChainHasher`, `ItemSealer`) the writers used.
    func verify(progress: ((Int) -> Void)?) throws -> LedgerVerification
}

/// An anchor compared with the live journal.
public struct AnchorCheck: Sendable, Equatable {
    public let entry: Int64
    public let expected: String
    /// The live journal's hash for the entry; nil when it has no such entry.
    public let found: String?
    public var holds: Bool { found == expected }
}
