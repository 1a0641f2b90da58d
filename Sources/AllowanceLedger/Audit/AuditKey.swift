#if canImport(Glibc)
import Glibc
#endif

/// Why a key file cannot be used.
public enum KeyFileError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case readableByOthers(path: String, mode: UInt32)
    case notAFile(path: String)
    case exists(path: String)
    case malformed(path: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "key file \(path): \(reason)"
        case .readableByOthers(let path, let mode):
            "key file \(path) has mode \(String(mode & 0o777, radix: 8)): group or others can read it; run `chmod 600 \(path)` and keep it that way"
        case .notAFile(let path): "key file \(path) is not a regular file"
        case .exists(let path): "\(path) already exists; a key is never overwritten, pick another --out"
        case .malformed(let path, let reason): "key file \(path): \(reason)"
        }
    }
}

/// Reading and writing key files: secret ones must be private to their owner.
public enum KeyFile {
    static let bytesMax = 16 * 1024

    /// The contents of a secret key file, refused when group or others have any access to it.
    public static func readSecret(path: String) throws(KeyFileError) -> [UInt8] {
        try read(path: path, secret: true)
    }

    /// The contents of a public key file (any mode).
    public static func readPublic(path: String) throws(KeyFileError) -> [UInt8] {
        try read(path: path, secret: false)
    }

    private static func read(path: String, secret: Bool) throws(KeyFileError) -> [UInt8] {
        // Non-blocking, so that a FIFO named as a key is refused below instead of waiting for a writer.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw .notAFile(path: path) }
        if secret, info.st_mode & 0o077 != 0 { throw .readableByOthers(path: path, mode: UInt32(info.st_mode)) }
        let contents: [UInt8]?
        do { contents = try readAll(from: fd, path: path, max: bytesMax) } catch { throw .unreadable(path: path, reason: error.reason) }
        guard let contents else { throw .malformed(path: path, reason: "is larger than \(bytesMax) bytes; is this a key file?") }
        return contents
    }

    /// Creates `path` (never overwriting) with `mode`, whatever the umask, and syncs it.
    public static func write(_ bytes: [UInt8], path: String, mode: mode_t) throws(KeyFileError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else {
            if errno == EEXIST { throw .exists(path: path) }
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        guard fchmod(fd, mode) == 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        do { try writeAll(bytes, to: fd, path: path) } catch { throw .unreadable(path: path, reason: error.reason) }
        guard fsync(fd) == 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
    }
}

/// The auditor's 32-byte secret: it signs export manifests (HMAC-SHA256) and, through a key derived from it,
/// turns national IDs into pseudonyms.
///
/// The file holds 64 hex digits and a line feed (`openssl rand -hex 32` writes the same); 32 raw bytes
/// (`openssl rand 32`) are read too.
public struct AuditKey: Sendable {
    public static let byteCount = 32
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) {
        precondition(bytes.count == Self.byteCount, "an audit key has 32 bytes")
        self.bytes = bytes
    }

    public static func generate() throws(CryptoError) -> AuditKey {
        AuditKey(bytes: try SecureRandom.bytes(byteCount))
    }

    public static func load(path: String) throws(KeyFileError) -> AuditKey {
        let contents = try KeyFile.readSecret(path: path)
        if contents.count == byteCount, Hex.decode(String(decoding: contents, as: UTF8.self)) == nil {
            return AuditKey(bytes: contents)
        }
        var text = String(decoding: contents, as: UTF8.self)
        while let last = text.last, last == "\n" || last == "\r" || last == " " { text.removeLast() }
        guard text.utf8.count == 2 * byteCount, let bytes = Hex.decode(text) else {
            if text.hasPrefix("-----BEGIN") {
                throw .malformed(path: path, reason: "is a PEM key; an Ed25519 private key goes to --sign-ed25519, its public key to --public-key, and --key takes the HMAC key `allowance audit keygen` writes")
            }
            throw .malformed(path: path, reason: "expected 64 hex digits (as `allowance audit keygen` writes) or 32 raw bytes")
        }
        return AuditKey(bytes: bytes)
    }

    /// The file's contents: 64 lowercase hex digits and a line feed.
    public var fileContents: [UInt8] { Array((Hex.encode(bytes) + "\n").utf8) }

    /// Names the key without revealing it: the first 16 hex digits of HMAC(key, "allowance-audit-key-id/v1").
    public var id: String { String(HMACSHA256.authenticate(Array("allowance-audit-key-id/v1".utf8), key: bytes).hex.prefix(16)) }

    /// HMAC over the domain-separation prefix and `message`.
    public func authenticate(_ message: [UInt8], domain: String) -> Digest32 {
        HMACSHA256.authenticate(Array(domain.utf8) + message, key: bytes)
    }
}

extension Ed25519PublicKey {
    /// The first 16 hex digits of SHA-256 over the raw public key.
    public var id: String { String(SHA256Hasher.hash(raw).hex.prefix(16)) }
}

/// A national ID's pseudonym under the office's pseudonym secret: the same person gets the same pseudonym in every
/// file and every export of the ledger, and nobody without the secret can tell who it is. The secret is the ledger's
/// own and never leaves it: a national ID has few enough candidates (its structure, commune and category narrow it to
/// millions) that whoever holds the secret can try them all, and every auditor holds the audit key.
///
/// A class because it owns digest contexts; one instance belongs to one export.
package final class Pseudonymizer {
    /// Bytes of a new ledger's pseudonym secret.
    package static let secretBytes = 32
    private let hmac: KeyedHMACSHA256

    package init(secret: [UInt8]) { hmac = KeyedHMACSHA256(key: secret) }

    /// `P-` and 24 hex digits (96 bits: no collision among a country's beneficiaries).
    package func pseudonym(nationalID: UnsafeBufferPointer<UInt8>) -> String {
        "P-" + hmac.authenticate(UnsafeRawBufferPointer(nationalID)).hex.prefix(24)
    }

    func pseudonym(nationalID: String) -> String {
        var text = nationalID
        return text.withUTF8 { pseudonym(nationalID: $0) }
    }
}
