#if canImport(Glibc)
import Glibc
#endif

/// A small signed note of the journal's head (`allowance-anchor/v1`), for an office to hand to its province or
/// auditor every day: `ledger verify --anchor RECEIPT` then checks that the ledger still holds that head, and the
/// register chain's head (`register_link`, `register_hash`) when the receipt has one. One line of RFC 8785 canonical
/// JSON; `hmac_sha256` signs the object without its signatures under the audit key, `ed25519` (when the office signs
/// with an Ed25519 key) under a key whose public half lets an auditor verify without being able to sign.
public struct AnchorReceipt: Sendable, Equatable {
    public static let format = "allowance-anchor/v1"
    /// A receipt is one short line; anything larger is not one.
    static let bytesMax = 1 << 16
    static let signatureDomain = "allowance-anchor/v1\n"

    public let office: String
    public let createdAt: String
    public let createdBy: String
    public let journal: AuditManifest.Journal
    /// The register chain's last link and its hash; nil in a receipt made before the register had a chain.
    public let register: RegisterHead?
    public let keyID: String

    public init(office: String, createdAt: String, createdBy: String, journal: AuditManifest.Journal, register: RegisterHead? = nil,
                keyID: String) {
        self.office = office
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.journal = journal
        self.register = register
        self.keyID = keyID
    }

    private var unsigned: JSONValue {
        var members: [String: JSONValue] = [
            "format": .string(Self.format), "office": .string(office), "created_at": .string(createdAt),
            "created_by": .string(createdBy), "head_entry_id": .integer(journal.headEntryID), "head_hash": .string(journal.headHash),
            "entries": .integer(journal.entries), "key_id": .string(keyID),
        ]
        if let register {
            members["register_link"] = .integer(register.link)
            members["register_hash"] = .string(register.hash)
        }
        return .object(members)
    }

    /// The receipt's bytes, signed with `key` (HMAC) and with `ed25519` when given, a line feed at the end.
    public func signed(with key: AuditKey, ed25519: Ed25519PrivateKey? = nil) throws(JSONError) -> [UInt8] {
        let message = Array(Self.signatureDomain.utf8) + (try unsigned.canonicalBytes())
        guard case .object(var members) = unsigned else { preconditionFailure("a receipt is an object") }
        members["hmac_sha256"] = .string(HMACSHA256.authenticate(message, key: key.bytes).hex)
        if let ed25519 { members["ed25519"] = .string(Hex.encode(ed25519.signature(for: message))) }
        return try JSONValue.object(members).canonicalBytes() + [0x0A]
    }

    /// Reads a receipt and checks its signature: the HMAC under `key`, or the Ed25519 signature under `publicKey`
    /// (which must be there); the reason says what is wrong.
    public static func verified(_ bytes: [UInt8], key: AuditKey?, publicKey: Ed25519PublicKey? = nil) throws(AnchorReceiptError) -> AnchorReceipt {
        var body = bytes
        if body.last == 0x0A { body.removeLast() }
        let json: JSONValue
        do { json = try JSONValue.parse(body) } catch { throw .malformed("is not JSON (\(error))") }
        guard case .object(var members) = json, case .string(let format)? = members["format"], format == Self.format else {
            throw .malformed("is not an \(Self.format) receipt")
        }
        let ed25519 = members.removeValue(forKey: "ed25519")
        guard case .string(let signature)? = members.removeValue(forKey: "hmac_sha256") else { throw .malformed("has no hmac_sha256") }
        guard case .string(let office)? = members["office"], case .string(let createdAt)? = members["created_at"],
              case .string(let createdBy)? = members["created_by"], let entry = members["head_entry_id"]?.int64Value,
              case .string(let hash)? = members["head_hash"], let entries = members["entries"]?.int64Value,
              case .string(let keyID)? = members["key_id"] else { throw .malformed("lacks one of its members") }
        var register: RegisterHead?
        if let link = members["register_link"]?.int64Value {
            guard case .string(let hash)? = members["register_hash"] else { throw .malformed("has a register_link without its register_hash") }
            register = RegisterHead(link: link, hash: hash)
        }
        let receipt = AnchorReceipt(office: office, createdAt: createdAt, createdBy: createdBy,
                                    journal: AuditManifest.Journal(headEntryID: entry, headHash: hash, entries: entries), register: register,
                                    keyID: keyID)
        let message: [UInt8]
        do { message = Array(signatureDomain.utf8) + (try JSONValue.object(members).canonicalBytes()) } catch {
            throw .malformed("cannot be re-encoded (\(error))")
        }
        if let publicKey {
            guard case .string(let hex)? = ed25519, let signature = Hex.decode(hex) else { throw .malformed("has no ed25519 signature") }
            guard publicKey.isValidSignature(signature, for: message) else { throw .badSignature }
        }
        if let key {
            let expected = HMACSHA256.authenticate(message, key: key.bytes).hex
            guard expected == signature, key.id == keyID else {
                throw key.id == keyID ? .badSignature : .otherKey(receiptKey: keyID, given: key.id)
            }
        }
        guard key != nil || publicKey != nil else { throw .noKey }
        return receipt
    }
}

public enum AnchorReceiptError: Error, Sendable, Equatable, CustomStringConvertible {
    case malformed(String)
    case badSignature
    case otherKey(receiptKey: String, given: String)
    case noKey

    public var description: String {
        switch self {
        case .malformed(let reason): "the receipt \(reason)"
        case .badSignature: "the receipt's signature does not match its contents: it was changed"
        case .otherKey(let receiptKey, let given): "the receipt was signed with key \(receiptKey), not \(given)"
        case .noKey: "a receipt is checked with --key (the audit key) or --public-key (its Ed25519 public key)"
        }
    }
}

/// The chain's head as something kept away from the ledger recorded it: a signed audit export or a receipt.
public struct ChainAnchor: Sendable, Equatable {
    /// `export 3` or `receipt FILE`, for messages.
    public let label: String
    public let exportID: Int64?
    public let head: AuditManifest.Journal
    /// The register chain's head as a receipt recorded it.
    public let register: RegisterHead?

    /// Reads the anchor at `path`: a folder is an audit export, which must verify under the keys given; a file is a
    /// receipt (`ledger anchor`), whose signature is checked under `key`.
    public static func load(_ path: String, key: AuditKey?, publicKey: Ed25519PublicKey?) throws(AnchorError) -> ChainAnchor {
        var info = stat()
        if stat(path, &info) == 0, info.st_mode & S_IFMT != S_IFDIR {
            guard key != nil || publicKey != nil else { throw .receiptNeedsKey(path) }
            let opened: (fd: Int32, size: Int64)
            do { opened = try Files.openRegular(path) } catch { throw .file(error) }
            defer { close(opened.fd) }
            let bytes: [UInt8]?
            do { bytes = try readAll(from: opened.fd, path: path, max: AnchorReceipt.bytesMax) } catch { throw .file(error) }
            guard let bytes else { throw .receiptTooLarge(path) }
            do {
                let receipt = try AnchorReceipt.verified(bytes, key: key, publicKey: publicKey)
                return ChainAnchor(label: "receipt \(path)", exportID: nil, head: receipt.journal, register: receipt.register)
            } catch {
                throw .receipt(path, error)
            }
        }
        let verified: AuditVerification
        do { verified = try AuditVerifier.verify(directory: path, key: key, publicKey: publicKey) } catch { throw .export(path, error) }
        guard verified.passed, let manifest = verified.manifest else { throw .exportFails(path, findings: verified.findings.count) }
        return ChainAnchor(label: "export \(manifest.exportID)", exportID: manifest.exportID, head: manifest.journal, register: nil)
    }
}

public enum AnchorError: Error, Sendable, Equatable, CustomStringConvertible {
    case receiptNeedsKey(String)
    case receiptTooLarge(String)
    case file(FileError)
    case receipt(String, AnchorReceiptError)
    case export(String, AuditVerifyError)
    case exportFails(String, findings: Int)

    public var description: String {
        switch self {
        case .receiptNeedsKey(let path): "--anchor \(path) is a receipt: give --key (the audit key that signed it) or --public-key"
        case .receiptTooLarge(let path): "--anchor \(path) is too large for a receipt"
        case .file(let error): error.description
        case .receipt(let path, let error): "--anchor \(path): \(error.description)"
        case .export(let path, let error): "--anchor \(path): \(error.description)"
        case .exportFails(let path, let findings):
            "--anchor \(path) does not verify (\(findings) failed check(s); `allowance audit verify` names them); it cannot anchor anything"
        }
    }
}

/// The register chain's head (`RegisterChain`): its last link and that link's hash.
public struct RegisterHead: Sendable, Equatable {
    public let link: Int64
    public let hash: String

    public init(link: Int64, hash: String) {
        self.link = link
        self.hash = hash
    }
}
