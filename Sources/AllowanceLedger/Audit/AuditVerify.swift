import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One check of an export that failed: which file, which line where it can tell, and what is wrong.
public struct AuditFinding: Sendable, Equatable, CustomStringConvertible {
    public let file: String
    /// The line in the file (the header is line 1), when one line is to blame.
    public let line: Int?
    public let message: String

    public var description: String { line.map { "\(file):\($0): \(message)" } ?? "\(file): \(message)" }
}

/// The verifier's verdict: every failed check, and what was checked.
public struct AuditVerification: Sendable {
    public let manifest: AuditManifest?
    public let findings: [AuditFinding]
    /// What was checked, in words: files, rows, signatures.
    public let checked: [String]
    /// What could not be checked with the keys given.
    public let notChecked: [String]
    public var passed: Bool { findings.isEmpty }
}

/// Why the verifier cannot run at all.
public enum AuditVerifyError: Error, Sendable, Equatable, CustomStringConvertible {
    case noDirectory(String)
    case noManifest(directory: String)
    case unreadable(FileError)
    case noKey

    public var description: String {
        switch self {
        case .noDirectory(let directory): "\(directory) is not a folder; give the audit export's folder"
        case .noManifest(let directory): "\(directory) has no \(AuditFormat.manifestName): is this an audit export folder?"
        case .unreadable(let error): error.description
        case .noKey: "give the key the export was signed with (--key KEYFILE) or its Ed25519 public key (--public-key FILE)"
        }
    }
}

/// Collects findings, at most `perKindMax` of one kind in one file; past that it counts them.
private struct Findings: Sendable {
    static let perKindMax = 20
    private(set) var list: [AuditFinding] = []
    private var counts: [String: Int] = [:]

    mutating func add(_ file: String, line: Int? = nil, kind: String = "", _ message: String) {
        let key = file + "\u{0}" + kind
        let count = counts[key, default: 0] + 1
        counts[key] = count
        if kind.isEmpty || count <= Self.perKindMax { list.append(AuditFinding(file: file, line: line, message: message)) }
    }

    /// Takes another lane's findings (not yet closed).
    mutating func append(_ other: Findings) {
        list += other.list
        counts.merge(other.counts) { $0 + $1 }
    }

    /// Appends "…and N more" for every kind that went past the limit.
    mutating func close() {
        for (key, count) in counts.sorted(by: { $0.key < $1.key }) where count > Self.perKindMax && !key.hasSuffix("\u{0}") {
            let parts = key.split(separator: "\u{0}", maxSplits: 1)
            list.append(AuditFinding(file: String(parts[0]), line: nil,
                                     message: "\(count - Self.perKindMax) more line(s) fail the \(parts.count > 1 ? String(parts[1]) : "") check"))
        }
    }
}

public enum AuditVerifier {
    static let manifestBytesMax = 4 << 20

    /// Verifies `directory` as `verify(directory:key:publicKey:)` does, and that its chain extends the one an earlier
    /// export (`previous`, verified with the same keys) ended at: the earlier head's entry is in this export with the
    /// same hash, and when this export comes right after that one its link names that manifest's bytes. A chain
    /// rewritten between two exports, even one whose every hash was recomputed, fails here.
    public static func verify(directory: String, key: AuditKey?, publicKey: Ed25519PublicKey?, previous: String)
        throws(AuditVerifyError) -> AuditVerification {
        let current = try verify(directory: directory, key: key, publicKey: publicKey)
        let earlier = try verify(directory: previous, key: key, publicKey: publicKey)
        var findings = current.findings
        var checked = current.checked
        guard let manifest = current.manifest else { return current }
        guard earlier.passed, let old = earlier.manifest else {
            findings.append(AuditFinding(file: previous, line: nil,
                                         message: "the previous export does not verify (\(earlier.findings.count) failed check(s)); nothing can be compared with it"))
            return AuditVerification(manifest: manifest, findings: findings, checked: checked, notChecked: current.notChecked)
        }
        let oldHead = old.journal
        let name = AuditFormat.manifestName
        if oldHead.headEntryID > manifest.journal.headEntryID {
            findings.append(AuditFinding(file: name, line: nil, message: "the previous export's head is entry \(oldHead.headEntryID), past this export's \(manifest.journal.headEntryID): this export is older, or the journal lost entries"))
        } else if oldHead.headEntryID > 0 {
            let found = try entryHash(directory: directory, entry: oldHead.headEntryID)
            if found != oldHead.headHash {
                findings.append(AuditFinding(file: AuditFormat.journal.name, line: nil, message: """
                    entry \(oldHead.headEntryID) has hash \(found?.prefix(16) ?? "(missing)")… here, but the previous export's head is \
                    \(oldHead.headHash.prefix(16))…: the chain was rewritten between the two exports
                    """))
            }
        }
        if manifest.exportID == old.exportID + 1 {
            let oldBytes = try readSmallFile(previous + "/" + name, max: manifestBytesMax) ?? []
            let link = SHA256Hasher.hash(oldBytes).hex
            if manifest.previousManifestSHA256 != link {
                findings.append(AuditFinding(file: name, line: nil, message: "previous_manifest_sha256 is \(manifest.previousManifestSHA256 ?? "null"), but the previous export's manifest hashes to \(link)"))
            }
        }
        checked.append("extends the chain of export \(old.exportID) (entry \(oldHead.headEntryID), \(oldHead.headHash.prefix(16))…)")
        return AuditVerification(manifest: manifest, findings: findings, checked: checked, notChecked: current.notChecked)
    }

    /// The hash an export's journal gives an entry, or nil when it holds no such entry.
    static func entryHash(directory: String, entry: Int64) throws(AuditVerifyError) -> String? {
        let path = directory + "/" + AuditFormat.journal.name
        let reader: CSVReader
        do { reader = try CSVReader(path: path) } catch { throw .unreadable(error) }
        var header = true
        let wanted = String(entry)
        do {
            while try reader.next() {
                if header {
                    header = false
                    continue
                }
                if exportedText(reader, 0) == wanted { return exportedText(reader, 8) }
            }
        } catch {
            throw .unreadable(error)
        }
        return nil
    }

    /// Re-checks an export folder against its manifest, offline: signatures, every file's size, hash, row count and
    /// control totals, the journal chain (each entry's hash from its postings), the batches' seals, and that no file
    /// is missing, extra or renamed.
    public static func verify(directory: String, key: AuditKey?, publicKey: Ed25519PublicKey?) throws(AuditVerifyError) -> AuditVerification {
        guard key != nil || publicKey != nil else { throw .noKey }
        var findings = Findings()
        var checked: [String] = []
        var notChecked: [String] = []
        let manifestPath = directory + "/" + AuditFormat.manifestName
        var info = stat()
        guard stat(directory, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else { throw .noDirectory(directory) }
        guard lstat(manifestPath, &info) == 0 else { throw .noManifest(directory: directory) }
        guard (info.st_mode & S_IFMT) == S_IFREG, info.st_size <= manifestBytesMax,
              let manifestBytes = try readSmallFile(manifestPath, max: manifestBytesMax) else {
            findings.add(AuditFormat.manifestName, "is not a regular file of at most \(manifestBytesMax) bytes: it was replaced")
            return AuditVerification(manifest: nil, findings: findings.list, checked: checked, notChecked: notChecked)
        }
        let json: JSONValue
        let canonical: [UInt8]
        do {
            json = try JSONValue.parse(manifestBytes)
            canonical = try json.canonicalBytes()
        } catch {
            findings.add(AuditFormat.manifestName, "is not valid JSON (\(error)); it was changed after signing")
            return AuditVerification(manifest: nil, findings: findings.list, checked: checked, notChecked: notChecked)
        }
        let manifest: AuditManifest
        do {
            manifest = try AuditManifest(json: json)
        } catch {
            findings.add(AuditFormat.manifestName, error.reason)
            return AuditVerification(manifest: nil, findings: findings.list, checked: checked, notChecked: notChecked)
        }
        let message = Array(AuditFormat.signatureDomain.utf8) + canonical
        // The signature covers the canonical form, the next export's link the file's bytes: they must be the same.
        if manifestBytes != canonical {
            findings.add(AuditFormat.manifestName, "is not in its canonical form (RFC 8785, one line, as the export wrote it): it was re-saved or edited")
        }

        // Signatures.
        if let key {
            if let signature = try signatureFile(directory, AuditFormat.hmacName, bytes: 32, findings: &findings) {
                let expected = HMACSHA256.authenticate(message, key: key.bytes)
                if !HMACSHA256.constantTimeEquals(expected, Digest32(bytes: signature)) {
                    if key.id != manifest.keyID {
                        findings.add(AuditFormat.hmacName, "does not match under key \(key.id); the manifest says it was signed with key \(manifest.keyID)")
                    } else {
                        findings.add(AuditFormat.hmacName, "the HMAC-SHA256 signature does not match manifest.json: the manifest or its signature was changed")
                    }
                }
                checked.append("HMAC-SHA256 signature of the manifest (key \(key.id))")
            }
        } else {
            notChecked.append("HMAC-SHA256 signature (no --key)")
        }
        if let publicKey {
            if manifest.ed25519KeyID == nil {
                findings.add(AuditFormat.ed25519Name, "the manifest names no Ed25519 key: the export was not signed with one")
            } else if let signature = try signatureFile(directory, AuditFormat.ed25519Name, bytes: 64, findings: &findings) {
                if !publicKey.isValidSignature(signature, for: message) {
                    if manifest.ed25519KeyID != publicKey.id {
                        findings.add(AuditFormat.ed25519Name, "does not verify under public key \(publicKey.id); the manifest says it was signed with key \(manifest.ed25519KeyID ?? "-")")
                    } else {
                        findings.add(AuditFormat.ed25519Name, "the Ed25519 signature does not verify: the manifest or its signature was changed")
                    }
                }
                checked.append("Ed25519 signature of the manifest (public key \(publicKey.id))")
            }
        } else if manifest.ed25519KeyID != nil {
            notChecked.append("Ed25519 signature (no --public-key)")
        }

        // The folder holds exactly the manifest's files.
        let expectedNames = AuditFormat.fileNames
        if manifest.files.map(\.name) != expectedNames {
            findings.add(AuditFormat.manifestName, "lists files \(manifest.files.map(\.name).joined(separator: ", ")); an export has \(expectedNames.joined(separator: ", ")) in that order")
        }
        var allowed = Set(manifest.files.map(\.name) + [AuditFormat.manifestName, AuditFormat.hmacName])
        if manifest.ed25519KeyID != nil { allowed.insert(AuditFormat.ed25519Name) }
        let present = try listDirectory(directory)
        for name in present.sorted() where !allowed.contains(name) {
            findings.add(name, "is not listed in the manifest (an extra or renamed file)")
        }
        if !present.contains(AuditFormat.hmacName) && key == nil {
            findings.add(AuditFormat.hmacName, "is missing")
        }

        // Every data file, on three threads: the batches and their items; the reconciliation outcomes; the journal,
        // its postings and the rest (about equal in bytes at scale, and three keep two cores busy when one runs
        // short). Each lane keeps its own cross-file state and findings.
        let own = [AuditFormat.batches.name, AuditFormat.items.name, AuditFormat.reconciliation.name]
        let lanes = [[AuditFormat.batches, AuditFormat.items], [AuditFormat.reconciliation], AuditFormat.files.filter { !own.contains($0.name) }]
        typealias LaneOutcome = Result<(Findings, CrossFileState), AuditVerifyError>
        let results = Beside<LaneOutcome>.all(lanes.map { lane in
            { () -> LaneOutcome in
                Result { () throws(AuditVerifyError) -> (Findings, CrossFileState) in
                    var findings = Findings()
                    var state = CrossFileState()
                    for spec in lane {
                        guard let entry = manifest.files.first(where: { $0.name == spec.name }) else { continue }
                        guard present.contains(spec.name) else {
                            findings.add(spec.name, "is missing")
                            continue
                        }
                        try checkFile(directory: directory, spec: spec, entry: entry, manifest: manifest, state: &state, findings: &findings)
                    }
                    // Entries whose postings should be there but never came.
                    for index in state.entries.indices where state.entries[index].included && !state.entries[index].seen {
                        findings.add(AuditFormat.postings.name, kind: "chain",
                                     "entry \(state.entries[index].id) has no postings in the export, but journal_entries.csv says they are included")
                    }
                    return (findings, state)
                }
            }
        })
        var laneFindings = Findings()
        var combined = CrossFileState()
        for result in results {
            // A lane's body returns its outcome rather than throwing: `get` gives back what it found or its error.
            guard case .success(let outcome) = result else { preconditionFailure("a lane returns its outcome and never throws") }
            let (found, state) = try outcome.get()
            laneFindings.append(found)
            combined.merge(state)
        }
        crossChecks(combined, manifest: manifest, findings: &laneFindings)
        laneFindings.close()
        // Reported in the files' order, whatever lane found them.
        let order = Dictionary(uniqueKeysWithValues: AuditFormat.fileNames.enumerated().map { ($1, $0) })
        let sorted = laneFindings.list.enumerated().sorted { (order[$0.element.file] ?? -1, $0.offset) < (order[$1.element.file] ?? -1, $1.offset) }
        findings.close()
        for spec in AuditFormat.files {
            if let entry = manifest.files.first(where: { $0.name == spec.name }), present.contains(spec.name) {
                checked.append("\(spec.name): \(entry.rows) rows, \(entry.bytes) bytes, SHA-256")
            }
        }
        return AuditVerification(manifest: manifest, findings: findings.list + sorted.map(\.element), checked: checked, notChecked: notChecked)
    }

    /// A signature file: lowercase hex of `bytes` bytes and one line feed, nothing else.
    private static func signatureFile(_ directory: String, _ name: String, bytes: Int, findings: inout Findings) throws(AuditVerifyError) -> [UInt8]? {
        guard let contents = try readSmallFile(directory + "/" + name, max: 4096) else {
            findings.add(name, "is missing")
            return nil
        }
        let lowercaseHex = contents.dropLast().allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
        guard contents.count == 2 * bytes + 1, contents.last == 0x0A, lowercaseHex,
              let signature = Hex.decode(String(decoding: contents.dropLast(), as: UTF8.self)) else {
            findings.add(name, "is not \(2 * bytes) lowercase hex digits and a line feed")
            return nil
        }
        return signature
    }

    private struct EntryHeader: Sendable {
        let id: Int64
        let line: Int
        let at: String, kind: String, key: String, batch: Int64?, memo: String, by: String, prevHash: String, hash: String
        let included: Bool
        var seen = false
    }

    private struct BatchSeal: Sendable {
        let line: Int
        let count: Int64?
        let total: Int64?
        let digest: String?
    }

    /// What one file tells the checks of a later one.
    private struct CrossFileState: Sendable {
        var entries: [EntryHeader] = []
        var batches: [Int64: BatchSeal] = [:]
        var batchOrder: [Int64] = []
        /// Per batch, a SHA-256 over each item's id, beneficiary and amount, in item order, from batch_items.csv …
        var itemDigests: [Int64: (line: Int, digest: String)] = [:]
        /// … and from the credits to the payable in the batch's entitlement entry, in leg order.
        var entitlementDigests: [Int64: (entry: Int64, digest: String)] = [:]

        mutating func merge(_ other: CrossFileState) {
            entries += other.entries
            batches.merge(other.batches) { first, _ in first }
            batchOrder += other.batchOrder
            itemDigests.merge(other.itemDigests) { first, _ in first }
            entitlementDigests.merge(other.entitlementDigests) { first, _ in first }
        }
    }

    /// Checks across files read on different lanes: which entries must carry their postings, that each batch's items
    /// are the ones its entitlement entry credits, and that each batch's sealed digest is the one its entitlement memo
    /// (covered by the chain) names.
    private static func crossChecks(_ state: CrossFileState, manifest: AuditManifest, findings: inout Findings) {
        let journal = AuditFormat.journal.name
        let batchIDs = Set(state.batchOrder)
        let scopeKind = manifest.scope["kind"]?.stringValue
        let scopeBatches = Set(manifest.scope["batches"]?.arrayValue?.compactMap(\.int64Value) ?? [])
        let period: Period? = {
            guard let text = manifest.scope["period"]?.stringValue else { return nil }
            do { return try Period(parsing: text) } catch { return nil }
        }()
        for entry in state.entries {
            let expected: Bool
            switch scopeKind {
            case "all": expected = true
            case "batches": expected = entry.batch.map(scopeBatches.contains) ?? false
            case "period":
                if let batch = entry.batch {
                    expected = batchIDs.contains(batch)
                } else if let period {
                    let month = Timestamp.vietnamRange(of: period)
                    expected = entry.at >= month.lowerBound.description && entry.at < month.upperBound.description
                } else {
                    expected = entry.included
                }
            default: expected = entry.included
            }
            if expected != entry.included {
                findings.add(journal, line: entry.line, kind: "scope",
                             "entry \(entry.id) is \(entry.included ? "" : "not ")marked as having its postings here, but the export's scope says it should\(expected ? "" : " not")")
            }
        }
        for batch in state.batchOrder {
            guard let seal = state.batches[batch], let count = seal.count else { continue }
            if state.itemDigests[batch] == nil, count > 0 {
                findings.add(AuditFormat.batches.name, line: seal.line, kind: "seal",
                             "batch \(batch) was approved with \(count) items; batch_items.csv has none of them")
            }
            if let items = state.itemDigests[batch], let credits = state.entitlementDigests[batch], items.digest != credits.digest {
                findings.add(AuditFormat.items.name, line: items.line, kind: "seal",
                             "batch \(batch)'s items are not the ones entitlement entry \(credits.entry) credits: an item's id, beneficiary or amount was changed")
            }
            if let digest = seal.digest,
               let entitlement = state.entries.first(where: { $0.batch == batch && $0.kind == EntryKind.entitlement.rawValue }),
               !entitlement.memo.contains("items sha256 \(digest)") {
                findings.add(AuditFormat.batches.name, line: seal.line, kind: "seal",
                             "batch \(batch)'s item_digest is not the one entitlement entry \(entitlement.id) recorded at approval")
            }
        }
    }

    /// A file's bytes and parsed rows against the manifest and the format.
    private static func checkFile(directory: String, spec: AuditFormat.FileSpec, entry: AuditFileEntry, manifest: AuditManifest,
                                  state: inout CrossFileState, findings: inout Findings) throws(AuditVerifyError) {
        let path = directory + "/" + spec.name
        // Only a plain file: a link to /dev/zero or a folder in its place would never end or never read.
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            findings.add(spec.name, "is not a regular file (a link, a folder or a device took its place)")
            return
        }
        let reader: CSVReader
        do { reader = try CSVReader(path: path, recordBytesMax: 1 << 20) } catch { throw .unreadable(error) }
        let hasher = SHA256Hasher()
        reader.hasher = hasher
        var totals = ControlTotals(spec)
        var rows: Int64 = 0
        var headerChecked = false
        var headerMatches = true
        let integerColumns = Set(spec.totals.map { spec.column($0.column) })
        var rowChecks = RowChecks(spec: spec, manifest: manifest)
        do {
            while try reader.next() {
                if let error = reader.recordError {
                    findings.add(spec.name, line: reader.recordLine, kind: "format", "\(error)")
                    continue
                }
                if !headerChecked {
                    headerChecked = true
                    let header = (0..<reader.fieldCount).map { reader.string($0) ?? "" }
                    if header != spec.columns {
                        findings.add(spec.name, line: reader.recordLine, "header is \(header.joined(separator: ",")); expected \(spec.columns.joined(separator: ","))")
                        headerMatches = false
                    }
                    continue
                }
                rows += 1
                // With another header the columns cannot be trusted: the file is still hashed and counted.
                guard headerMatches else { continue }
                guard reader.fieldCount == spec.columns.count else {
                    findings.add(spec.name, line: reader.recordLine, kind: "format", "has \(reader.fieldCount) fields; expected \(spec.columns.count)")
                    continue
                }
                for column in integerColumns {
                    let value = reader.withField(column) { parseInteger($0) }
                    switch value {
                    case .some(.some(let number)): totals.add(column: column, number)
                    case .some(.none): break
                    case .none: findings.add(spec.name, line: reader.recordLine, kind: "format", "\(spec.columns[column]) is not a whole number")
                    }
                }
                rowChecks.check(reader, state: &state, findings: &findings)
            }
        } catch {
            throw .unreadable(error)
        }
        rowChecks.finish(state: &state, findings: &findings)
        if !headerChecked { findings.add(spec.name, "is empty; every export file starts with its header") }
        let sha256 = hasher.finalize().hex
        if reader.bytesConsumed != entry.bytes {
            findings.add(spec.name, "has \(reader.bytesConsumed) bytes; the manifest says \(entry.bytes)")
        }
        if sha256 != entry.sha256 {
            findings.add(spec.name, "SHA-256 is \(sha256); the manifest says \(entry.sha256): the file was changed after export")
        }
        if rows != entry.rows {
            findings.add(spec.name, "has \(rows) rows; the manifest says \(entry.rows)")
        }
        let computed = totals.named
        let listed = entry.totals
        // Totals read from columns under another header would only add noise.
        guard headerMatches else { return }
        let stated = Dictionary(listed.map { ($0.name, $0.value) }) { first, _ in first }
        if Set(stated.keys) != Set(computed.map(\.name)) || stated.count != listed.count {
            findings.add(spec.name, "the manifest's control totals are \(listed.map(\.name).sorted()); expected \(computed.map(\.name).sorted())")
        } else if totals.overflowed {
            findings.add(spec.name, "a control total overflows a 64-bit sum")
        } else {
            for total in computed where stated[total.name] != total.value {
                findings.add(spec.name, "control total \(total.name) adds up to \(total.value) from the rows; the manifest says \(stated[total.name] ?? 0)")
            }
        }
    }

    /// Column positions the row checks read, looked up once rather than by name on every row.
    private enum Column {
        static let batchesBatchID = AuditFormat.batches.column("batch_id")
        static let batchesItemCount = AuditFormat.batches.column("item_count")
        static let batchesItemDigest = AuditFormat.batches.column("item_digest")
        static let batchesItemTotal = AuditFormat.batches.column("item_total")
        static let itemsAccountName = AuditFormat.items.column("account_name")
        static let itemsAmount = AuditFormat.items.column("amount")
        static let itemsItemID = AuditFormat.items.column("item_id")
        static let itemsSeq = AuditFormat.items.column("seq")
        static let itemsBatchID = AuditFormat.items.column("batch_id")
        static let itemsBeneficiaryID = AuditFormat.items.column("beneficiary_id")
        static let itemsCarrier = AuditFormat.items.column("carrier")
        static let itemsMethod = AuditFormat.items.column("method")
        static let itemsMsisdn = AuditFormat.items.column("msisdn")
        static let itemsReference = AuditFormat.items.column("reference")
        static let journalAt = AuditFormat.journal.column("at")
        static let journalBatchID = AuditFormat.journal.column("batch_id")
        static let journalCreatedBy = AuditFormat.journal.column("created_by")
        static let journalEntryID = AuditFormat.journal.column("entry_id")
        static let journalHash = AuditFormat.journal.column("hash")
        static let journalIdempotencyKey = AuditFormat.journal.column("idempotency_key")
        static let journalKind = AuditFormat.journal.column("kind")
        static let journalMemo = AuditFormat.journal.column("memo")
        static let journalPostingsIncluded = AuditFormat.journal.column("postings_included")
        static let journalPrevHash = AuditFormat.journal.column("prev_hash")
        static let postingsAccount = AuditFormat.postings.column("account")
        static let postingsAmount = AuditFormat.postings.column("amount")
        static let postingsBeneficiaryID = AuditFormat.postings.column("beneficiary_id")
        static let postingsEntryID = AuditFormat.postings.column("entry_id")
        static let postingsItemID = AuditFormat.postings.column("item_id")
        static let postingsLeg = AuditFormat.postings.column("leg")
        static let postingsSubAccount = AuditFormat.postings.column("sub_account")
    }

    /// The checks that read a file's rows: the journal chain, each entry's balance, the batches' seals.
    private struct RowChecks {
        enum Kind { case journal, postings, batches, items, other }
        let spec: AuditFormat.FileSpec
        let kind: Kind
        let fullPersonalData: Bool
        let head: AuditManifest.Journal
        // The postings of the entry being read.
        var current: Int? = nil
        var hasher: ChainHasher? = nil
        var legs: Int64 = 0
        var sum: Int64 = 0
        var overflow = false
        var lastEntryIndex = -1
        // Items of the batch being read.
        var batch: Int64? = nil
        var sealer = ItemSealer()
        // Each batch's items as its entitlement entry credits them: id, beneficiary, amount.
        let itemHasher = SHA256Hasher()
        var itemBuffer: [UInt8] = []
        var itemFirstLine = 0
        var lastSeq: Int64 = 0
        // The payable credits of the entitlement entry being read, the same way.
        var creditHasher: SHA256Hasher? = nil
        var itemCount: Int64 = 0
        var itemTotal: Int64 = 0
        var batchesSeen: Set<Int64> = []

        init(spec: AuditFormat.FileSpec, manifest: AuditManifest) {
            self.spec = spec
            self.kind = switch spec.name {
            case AuditFormat.journal.name: .journal
            case AuditFormat.postings.name: .postings
            case AuditFormat.batches.name: .batches
            case AuditFormat.items.name: .items
            default: .other
            }
            self.fullPersonalData = manifest.personalData == .full
            self.head = manifest.journal
        }

        mutating func check(_ reader: CSVReader, state: inout CrossFileState, findings: inout Findings) {
            switch kind {
            case .journal: journalRow(reader, state: &state, findings: &findings)
            case .postings: postingRow(reader, state: &state, findings: &findings)
            case .batches: batchRow(reader, state: &state, findings: &findings)
            case .items: itemRow(reader, state: &state, findings: &findings)
            case .other: break
            }
        }

        mutating func finish(state: inout CrossFileState, findings: inout Findings) {
            switch kind {
            case .journal:
                let last = state.entries.last
                if (last?.id ?? 0) != head.headEntryID || (last?.hash ?? ChainEncoding.genesis) != head.headHash || Int64(state.entries.count) != head.entries {
                    findings.add(spec.name, "the chain ends at entry \(last?.id ?? 0) (\(last?.hash.prefix(16) ?? "genesis")…, \(state.entries.count) entries); the manifest's head is entry \(head.headEntryID) (\(head.headHash.prefix(16))…, \(head.entries) entries)")
                }
            case .postings:
                closeEntry(state: &state, findings: &findings)
            case .items:
                closeBatch(state: &state, findings: &findings)
            case .batches, .other: break
            }
        }

        private func text(_ reader: CSVReader, _ column: Int) -> String { exportedText(reader, column) }
        private func integer(_ reader: CSVReader, _ column: Int) -> Int64?? { reader.withField(column) { parseInteger($0) } }

        private mutating func journalRow(_ reader: CSVReader, state: inout CrossFileState, findings: inout Findings) {
            let line = reader.recordLine
            guard case .some(.some(let id)) = integer(reader, Column.journalEntryID), case .some(let batch) = integer(reader, Column.journalBatchID),
                  case .some(.some(let included)) = integer(reader, Column.journalPostingsIncluded) else {
                findings.add(spec.name, line: line, kind: "format", "entry_id and postings_included must be whole numbers, batch_id one or empty")
                return
            }
            let expectedID = Int64(state.entries.count) + 1
            let entry = EntryHeader(id: id, line: line, at: text(reader, Column.journalAt), kind: text(reader, Column.journalKind), key: text(reader, Column.journalIdempotencyKey),
                                    batch: batch, memo: text(reader, Column.journalMemo), by: text(reader, Column.journalCreatedBy),
                                    prevHash: text(reader, Column.journalPrevHash), hash: text(reader, Column.journalHash), included: included == 1)
            if id != expectedID {
                findings.add(spec.name, line: line, kind: "chain", "entry \(id) where entry \(expectedID) should be: an entry was removed, added or moved")
            }
            let previousHash = state.entries.last?.hash ?? ChainEncoding.genesis
            if entry.prevHash != previousHash {
                findings.add(spec.name, line: line, kind: "chain", "entry \(id)'s prev_hash is not the hash of the entry before it: the chain is broken here")
            }
            state.entries.append(entry)
        }

        private mutating func postingRow(_ reader: CSVReader, state: inout CrossFileState, findings: inout Findings) {
            let line = reader.recordLine
            guard case .some(.some(let entryID)) = integer(reader, Column.postingsEntryID), case .some(.some(let leg)) = integer(reader, Column.postingsLeg),
                  case .some(let beneficiary) = integer(reader, Column.postingsBeneficiaryID), case .some(let item) = integer(reader, Column.postingsItemID),
                  case .some(.some(let amount)) = integer(reader, Column.postingsAmount) else {
                findings.add(spec.name, line: line, kind: "format", "entry_id, leg and amount must be whole numbers")
                return
            }
            if current.map({ state.entries[$0].id }) != entryID {
                closeEntry(state: &state, findings: &findings)
                guard entryID >= 1, entryID <= Int64(state.entries.count), Int(entryID - 1) > lastEntryIndex else {
                    findings.add(spec.name, line: line, kind: "chain", "posting of entry \(entryID) is out of order or names no entry of journal_entries.csv")
                    return
                }
                let index = Int(entryID - 1)
                lastEntryIndex = index
                current = index
                state.entries[index].seen = true
                let header = state.entries[index]
                if !header.included {
                    findings.add(spec.name, line: line, kind: "chain", "entry \(entryID)'s postings are here, but journal_entries.csv says they are not included")
                }
                hasher = ChainHasher(header: ChainEncoding.header(id: header.id, at: header.at, kind: header.kind, key: header.key, batch: header.batch,
                                                                  by: header.by, memo: header.memo, prevHash: header.prevHash))
                creditHasher = header.kind == EntryKind.entitlement.rawValue && header.batch != nil ? SHA256Hasher() : nil
                legs = 0
                sum = 0
                overflow = false
            }
            legs += 1
            if leg != legs {
                findings.add(spec.name, line: line, kind: "chain", "entry \(entryID) leg \(leg) where leg \(legs) should be")
            }
            let (newSum, overflowed) = sum.addingReportingOverflow(amount)
            sum = newSum
            overflow = overflow || overflowed
            // Read in place: no array per posting on a path that sees millions of them.
            let isPayable = reader.withField(Column.postingsAccount) { unneutralised($0).elementsEqual(Self.payableAccount) }
            if let creditHasher, amount < 0, let item, isPayable {
                var line: [UInt8] = []
                CSVWriter.appendInt(item, to: &line)
                line.append(0x20)
                CSVWriter.appendInt(beneficiary ?? 0, to: &line)
                line.append(0x20)
                CSVWriter.appendInt(-amount, to: &line)
                line.append(0x0A)
                creditHasher.update(line)
            }
            reader.withField(Column.postingsAccount) { account in
                reader.withField(Column.postingsSubAccount) { sub in
                    hasher?.posting(leg: leg, account: unneutralised(account), sub: unneutralised(sub), beneficiary: beneficiary, item: item, amount: amount)
                }
            }
        }

        static let payableAccount = Array(LedgerAccount.payable.rawValue.utf8)

        private mutating func closeEntry(state: inout CrossFileState, findings: inout Findings) {
            guard let index = current, let hasher else { return }
            let header = state.entries[index]
            if let creditHasher, let batch = header.batch {
                state.entitlementDigests[batch] = (header.id, creditHasher.finalize().hex)
            }
            creditHasher = nil
            let hash = hasher.finalize().hex
            if hash != header.hash {
                findings.add(AuditFormat.journal.name, line: header.line, kind: "chain",
                             "entry \(header.id)'s hash does not match its postings and header: the entry or one of its postings was changed")
            }
            if overflow || sum != 0 {
                findings.add(spec.name, kind: "balance", "entry \(header.id)'s postings do not balance (they sum to \(sum) đồng)")
            } else if legs < 2 {
                findings.add(spec.name, kind: "balance", "entry \(header.id) has \(legs) posting; an entry has at least two")
            }
            current = nil
            self.hasher = nil
        }

        private mutating func batchRow(_ reader: CSVReader, state: inout CrossFileState, findings: inout Findings) {
            guard case .some(.some(let id)) = integer(reader, Column.batchesBatchID), case .some(let count) = integer(reader, Column.batchesItemCount),
                  case .some(let total) = integer(reader, Column.batchesItemTotal) else {
                findings.add(spec.name, line: reader.recordLine, kind: "format", "batch_id must be a whole number, item_count and item_total one or empty")
                return
            }
            let digest = text(reader, Column.batchesItemDigest)
            state.batches[id] = BatchSeal(line: reader.recordLine, count: count, total: total, digest: digest.isEmpty ? nil : digest)
            state.batchOrder.append(id)
        }

        private mutating func itemRow(_ reader: CSVReader, state: inout CrossFileState, findings: inout Findings) {
            guard case .some(.some(let batchID)) = integer(reader, Column.itemsBatchID), case .some(.some(let beneficiary)) = integer(reader, Column.itemsBeneficiaryID),
                  case .some(.some(let amount)) = integer(reader, Column.itemsAmount) else {
                findings.add(spec.name, line: reader.recordLine, kind: "format", "batch_id, beneficiary_id and amount must be whole numbers")
                return
            }
            if batch != batchID {
                closeBatch(state: &state, findings: &findings)
                if batchesSeen.contains(batchID) {
                    findings.add(spec.name, line: reader.recordLine, kind: "seal", "items of batch \(batchID) are not together; rows were moved")
                }
                batchesSeen.insert(batchID)
                if state.batches[batchID] == nil {
                    findings.add(spec.name, line: reader.recordLine, kind: "seal", "item of batch \(batchID), which batches.csv does not list")
                }
                batch = batchID
                sealer = ItemSealer()
                itemCount = 0
                itemTotal = 0
                itemFirstLine = reader.recordLine
                lastSeq = 0
            }
            if case .some(.some(let item)) = integer(reader, Column.itemsItemID), case .some(.some(let seq)) = integer(reader, Column.itemsSeq) {
                if seq != lastSeq + 1 {
                    findings.add(spec.name, line: reader.recordLine, kind: "seal", "item seq \(seq) of batch \(batchID) where \(lastSeq + 1) should be: an item was removed, added or moved")
                }
                lastSeq = seq
                CSVWriter.appendInt(item, to: &itemBuffer)
                itemBuffer.append(0x20)
                CSVWriter.appendInt(beneficiary, to: &itemBuffer)
                itemBuffer.append(0x20)
                CSVWriter.appendInt(amount, to: &itemBuffer)
                itemBuffer.append(0x0A)
                if itemBuffer.count >= 1 << 16 {
                    itemHasher.update(itemBuffer)
                    itemBuffer.removeAll(keepingCapacity: true)
                }
            } else {
                findings.add(spec.name, line: reader.recordLine, kind: "format", "item_id and seq must be whole numbers")
            }
            itemCount += 1
            let (total, overflow) = itemTotal.addingReportingOverflow(amount)
            itemTotal = total
            // The digest covers numbers and names, which only a full export holds.
            guard fullPersonalData else {
                if overflow { findings.add(spec.name, line: reader.recordLine, kind: "seal", "the amounts of batch \(batchID) overflow a 64-bit sum") }
                return
            }
            let carrier = text(reader, Column.itemsCarrier)
            let msisdn = text(reader, Column.itemsMsisdn)
            do {
                try sealer.add(reference: text(reader, Column.itemsReference), beneficiary: beneficiary, method: text(reader, Column.itemsMethod),
                               carrier: carrier.isEmpty ? nil : carrier, msisdn: msisdn.isEmpty ? nil : msisdn,
                               name: text(reader, Column.itemsAccountName), amount: amount)
            } catch {
                findings.add(spec.name, line: reader.recordLine, kind: "seal", "the amounts of batch \(batchID) overflow a 64-bit sum")
            }
        }

        /// Compares the items just read with the seal their batch was approved with.
        private mutating func closeBatch(state: inout CrossFileState, findings: inout Findings) {
            guard let id = batch else { return }
            batch = nil
            itemHasher.update(itemBuffer)
            itemBuffer.removeAll(keepingCapacity: true)
            state.itemDigests[id] = (itemFirstLine, itemHasher.finalize().hex)
            guard let seal = state.batches[id] else { return }
            let actual = sealer.finish()
            guard let count = seal.count, let total = seal.total else { return }
            if itemCount != count || itemTotal != total {
                findings.add(AuditFormat.batches.name, line: seal.line, kind: "seal",
                             "batch \(id) was approved with \(count) items totalling \(total) đồng; batch_items.csv has \(itemCount) totalling \(itemTotal)")
            } else if fullPersonalData, let digest = seal.digest, digest != actual.digest {
                findings.add(AuditFormat.batches.name, line: seal.line, kind: "seal",
                             "batch \(id)'s items do not match the digest sealed at approval: a payee, number or amount was changed")
            }
        }
    }

    /// Reads a whole small file; nil when it does not exist.
    static func readSmallFile(_ path: String, max: Int) throws(AuditVerifyError) -> [UInt8]? {
        var info = stat()
        if lstat(path, &info) != 0, errno == ENOENT { return nil }
        let fd: Int32
        do { fd = try Files.openRegular(path).fd } catch { throw .unreadable(error) }
        defer { close(fd) }
        let contents: [UInt8]?
        do { contents = try readAll(from: fd, path: path, max: max) } catch { throw .unreadable(error) }
        guard let contents else { throw .unreadable(FileError(path: path, reason: "is larger than \(max) bytes")) }
        return contents
    }

    static func listDirectory(_ path: String) throws(AuditVerifyError) -> Set<String> {
        guard let names = directoryEntries(path) else { throw .unreadable(FileError(path: path, errno: errno)) }
        return Set(names)
    }
}

/// An integer cell: nil when it is not a whole number, `.some(nil)` when it is empty.
func parseInteger(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64?? {
    if bytes.isEmpty { return .some(nil) }
    var index = 0
    let negative = bytes[0] == UInt8(ascii: "-")
    if negative { index = 1 }
    guard index < bytes.count, bytes.count - index <= 19 else { return nil }
    var magnitude: UInt64 = 0
    while index < bytes.count {
        let digit = bytes[index] &- 0x30
        guard digit <= 9 else { return nil }
        magnitude = magnitude * 10 + UInt64(digit)
        index += 1
    }
    // Only the canonical spelling: no leading zeros or "-0", so that every value has one way to be written.
    guard !(bytes.count - (negative ? 1 : 0) > 1 && bytes[negative ? 1 : 0] == 0x30), !(negative && magnitude == 0) else { return nil }
    if negative {
        guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
        return .some(magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude))
    }
    guard magnitude <= UInt64(Int64.max) else { return nil }
    return .some(Int64(magnitude))
}

/// A text cell of an export as the ledger held it: a leading apostrophe was added by the writer (`reversible`).
func exportedText(_ reader: CSVReader, _ column: Int) -> String {
    reader.withField(column) { String(decoding: unneutralised($0), as: UTF8.self) }
}

/// A cell's bytes without the apostrophe the writer put in front (`reversible`).
func unneutralised(_ field: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
    field.first == UInt8(ascii: "'") ? UnsafeBufferPointer(rebasing: field[1...]) : field
}
