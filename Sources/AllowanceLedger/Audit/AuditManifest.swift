/// `manifest.json`: what an export holds, signed as RFC 8785 canonical JSON.
public struct AuditManifest: Sendable {
    public struct Journal: Sendable, Equatable {
        public let headEntryID: Int64
        public let headHash: String
        public let entries: Int64

        package init(headEntryID: Int64, headHash: String, entries: Int64) {
            self.headEntryID = headEntryID
            self.headHash = headHash
            self.entries = entries
        }
    }

    public let exportID: Int64
    public let office: String
    public let scope: JSONValue
    public let createdAt: String
    public let createdBy: String
    public let personalData: PersonalData
    public let files: [AuditFileEntry]
    public let journal: Journal
    public let keyID: String
    public let ed25519KeyID: String?
    public let previousManifestSHA256: String?

    package var json: JSONValue {
        .object([
            "format": .string(AuditFormat.version),
            "export_id": .integer(exportID),
            "office": .string(office),
            "scope": scope,
            "created_at": .string(createdAt),
            "created_by": .string(createdBy),
            "pii": .string(personalData.rawValue),
            "files": .array(files.map { file in
                .object([
                    "name": .string(file.name),
                    "bytes": .integer(file.bytes),
                    "rows": .integer(file.rows),
                    "sha256": .string(file.sha256),
                    "totals": .object(Dictionary(uniqueKeysWithValues: file.totals.map { ($0.name, JSONValue.integer($0.value)) })),
                ])
            }),
            "journal": .object([
                "head_entry_id": .integer(journal.headEntryID),
                "head_hash": .string(journal.headHash),
                "entries": .integer(journal.entries),
            ]),
            "key_id": .string(keyID),
            "ed25519_key_id": ed25519KeyID.map(JSONValue.string) ?? .null,
            "previous_manifest_sha256": previousManifestSHA256.map(JSONValue.string) ?? .null,
        ])
    }

    package init(exportID: Int64, office: String, scope: JSONValue, createdAt: String, createdBy: String, personalData: PersonalData,
         files: [AuditFileEntry], journal: Journal, keyID: String, ed25519KeyID: String?, previousManifestSHA256: String?) {
        self.exportID = exportID
        self.office = office
        self.scope = scope
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.personalData = personalData
        self.files = files
        self.journal = journal
        self.keyID = keyID
        self.ed25519KeyID = ed25519KeyID
        self.previousManifestSHA256 = previousManifestSHA256
    }

    /// Reads a parsed manifest; the reason names the first member that is missing or of the wrong type.
    init(json: JSONValue) throws(AuditManifestError) {
        func member(_ value: JSONValue?, _ path: String) throws(AuditManifestError) -> JSONValue {
            guard let value else { throw AuditManifestError(reason: "\(path) is missing") }
            return value
        }
        func string(_ value: JSONValue?, _ path: String) throws(AuditManifestError) -> String {
            guard let text = try member(value, path).stringValue else { throw AuditManifestError(reason: "\(path) must be a string") }
            return text
        }
        func integer(_ value: JSONValue?, _ path: String) throws(AuditManifestError) -> Int64 {
            guard case .integer(let number) = try member(value, path) else { throw AuditManifestError(reason: "\(path) must be an integer") }
            return number
        }
        func optionalString(_ value: JSONValue?, _ path: String) throws(AuditManifestError) -> String? {
            if case .null = try member(value, path) { return nil }
            return try string(value, path)
        }
        guard case .object = json else { throw AuditManifestError(reason: "the manifest is not a JSON object") }
        let format = try string(json["format"], "format")
        guard format == AuditFormat.version else {
            throw AuditManifestError(reason: "format \"\(format)\" is not \(AuditFormat.version); this verifier cannot read it")
        }
        exportID = try integer(json["export_id"], "export_id")
        office = try string(json["office"], "office")
        scope = try member(json["scope"], "scope")
        createdAt = try string(json["created_at"], "created_at")
        createdBy = try string(json["created_by"], "created_by")
        let pii = try string(json["pii"], "pii")
        guard let personalData = PersonalData(rawValue: pii) else { throw AuditManifestError(reason: "pii \"\(pii)\" is neither masked nor full") }
        self.personalData = personalData
        guard let files = try member(json["files"], "files").arrayValue else { throw AuditManifestError(reason: "files must be an array") }
        var entries: [AuditFileEntry] = []
        for (index, file) in files.enumerated() {
            let path = "files[\(index)]"
            guard let totals = try member(file["totals"], path + ".totals").objectValue else {
                throw AuditManifestError(reason: "\(path).totals must be an object")
            }
            var named: [(name: String, value: Int64)] = []
            for name in totals.keys.sorted() { named.append((name, try integer(totals[name], "\(path).totals.\(name)"))) }
            entries.append(AuditFileEntry(name: try string(file["name"], path + ".name"), bytes: try integer(file["bytes"], path + ".bytes"),
                                          rows: try integer(file["rows"], path + ".rows"), sha256: try string(file["sha256"], path + ".sha256"),
                                          totals: named))
        }
        self.files = entries
        let journal = try member(json["journal"], "journal")
        self.journal = Journal(headEntryID: try integer(journal["head_entry_id"], "journal.head_entry_id"),
                               headHash: try string(journal["head_hash"], "journal.head_hash"),
                               entries: try integer(journal["entries"], "journal.entries"))
        keyID = try string(json["key_id"], "key_id")
        ed25519KeyID = try optionalString(json["ed25519_key_id"], "ed25519_key_id")
        previousManifestSHA256 = try optionalString(json["previous_manifest_sha256"], "previous_manifest_sha256")
    }
}

public struct AuditManifestError: Error, Sendable, Equatable, CustomStringConvertible {
    public let reason: String
    public var description: String { "manifest.json: \(reason)" }
}
