import CLibCrypto

/// Bytes from OpenSSL's CSPRNG (RAND_bytes).
public enum SecureRandom {
    /// `count` random bytes; throws only when OpenSSL's generator cannot be seeded.
    public static func bytes(_ count: Int) throws(CryptoError) -> [UInt8] {
        precondition(count >= 0 && count <= Int(Int32.max), "SecureRandom.bytes: count \(count) is out of range")
        var out = [UInt8](repeating: 0, count: count)
        guard count > 0 else { return out }
        ERR_clear_error()
        let result = out.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        guard result == 1 else { throw .openSSL("OpenSSL's random generator could not produce \(count) bytes") }
        return out
    }
}

/// Why a key could not be made, read or drawn; `reason` carries OpenSSL's own error text where it has one.
public struct CryptoError: Error, Sendable, Equatable, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}

extension CryptoError {
    /// `what`, followed by the errors OpenSSL queued on this thread, which this empties.
    ///
    /// The queue is thread-local and holds at most 16 entries, so the loop is bounded and reads only this call's errors
    /// as long as the operation began with `ERR_clear_error()`.
    static func openSSL(_ what: String) -> CryptoError {
        var details: [String] = []
        var buffer = [CChar](repeating: 0, count: 256)
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            ERR_error_string_n(code, &buffer, buffer.count)
            let detail = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            // OpenSSL's decoders queue the same error once per decoder they try.
            if !details.contains(detail) { details.append(detail) }
        }
        return CryptoError(reason: details.isEmpty ? what : what + ": " + details.joined(separator: "; "))
    }
}

/// An Ed25519 private key (RFC 8032), kept as its 32-byte seed; operations build an EVP_PKEY on demand so the
/// value stays a Sendable struct.
public struct Ed25519PrivateKey: Sendable {
    public let seed: [UInt8]
    /// Derived once in `init`, so reading it never fails and costs nothing.
    public let publicKey: Ed25519PublicKey

    /// The key whose RFC 8032 secret is `seed`; any 32 bytes are a valid seed.
    public init(seed: [UInt8]) throws(CryptoError) {
        guard seed.count == Ed25519.seedCount else {
            throw CryptoError(reason: "an Ed25519 seed has \(Ed25519.seedCount) bytes, not \(seed.count)")
        }
        ERR_clear_error()
        guard let key = Ed25519.privateKey(seed: seed) else {
            throw .openSSL("OpenSSL could not make an Ed25519 key from the seed")
        }
        defer { EVP_PKEY_free(key) }
        self.seed = seed
        self.publicKey = Ed25519PublicKey(trusted: Ed25519.rawPublicKey(of: key))
    }

    /// Reads an unencrypted PKCS#8 `-----BEGIN PRIVATE KEY-----` block, as `openssl genpkey -algorithm ed25519` writes.
    public init(pem: [UInt8]) throws(CryptoError) {
        // OpenSSL's reason for an encrypted key is "unable to get passphrase", which hides the fix.
        if pem.count <= Ed25519.pemBytesMax, pem.firstRange(of: Array("-----BEGIN ENCRYPTED PRIVATE KEY-----".utf8)) != nil {
            throw CryptoError(reason: "the PEM holds an encrypted private key; store it unencrypted (`openssl pkey -in KEY -out PLAIN`)")
        }
        let key = try Ed25519.readPEM(pem, holding: "an Ed25519 private key") { bio in
            // Without a callback OpenSSL would prompt on the terminal for an encrypted key's passphrase.
            PEM_read_bio_PrivateKey(bio, nil, { _, _, _, _ in -1 }, nil)
        }
        defer { EVP_PKEY_free(key) }
        var seed = [UInt8](repeating: 0, count: Ed25519.seedCount)
        var length = seed.count
        guard EVP_PKEY_get_raw_private_key(key, &seed, &length) == 1, length == Ed25519.seedCount else {
            throw .openSSL("the PEM holds no Ed25519 private key")
        }
        try self.init(seed: seed)
    }

    /// A new key from a seed drawn from OpenSSL's CSPRNG, which is all RFC 8032 key generation is.
    public static func generate() throws(CryptoError) -> Ed25519PrivateKey {
        try Ed25519PrivateKey(seed: SecureRandom.bytes(Ed25519.seedCount))
    }

    /// Unencrypted PKCS#8 PEM, byte-identical to what `openssl pkey` writes.
    public var pem: [UInt8] {
        let key = Ed25519.privateKeyFromValidSeed(seed)
        defer { EVP_PKEY_free(key) }
        return Ed25519.writePEM { bio in PEM_write_bio_PrivateKey(bio, key, nil, nil, 0, nil, nil) }
    }

    /// The 64-byte RFC 8032 signature of `message`; deterministic, so signing twice gives the same bytes.
    public func signature(for message: [UInt8]) -> [UInt8] {
        let key = Ed25519.privateKeyFromValidSeed(seed)
        defer { EVP_PKEY_free(key) }
        guard let context = EVP_MD_CTX_new() else { preconditionFailure("OpenSSL could not allocate a digest context") }
        defer { EVP_MD_CTX_free(context) }
        // Ed25519 hashes internally (PureEdDSA), so it takes no digest and only the one-shot call.
        precondition(EVP_DigestSignInit(context, nil, nil, nil, key) == 1, "EVP_DigestSignInit failed for Ed25519")
        var signature = [UInt8](repeating: 0, count: Ed25519.signatureCount)
        var length = signature.count
        let result = message.withUnsafeBufferPointer { bytes in
            EVP_DigestSign(context, &signature, &length, bytes.baseAddress, bytes.count)
        }
        precondition(result == 1 && length == Ed25519.signatureCount, "EVP_DigestSign failed for Ed25519")
        return signature
    }
}

extension Ed25519PrivateKey: CustomStringConvertible, CustomDebugStringConvertible {
    /// Names the public key only, so a key that reaches a log or a test failure does not leak its seed.
    public var description: String { "Ed25519PrivateKey(publicKey: \(Hex.encode(publicKey.raw)))" }
    public var debugDescription: String { description }
}

/// An Ed25519 public key (RFC 8032), kept as its 32-byte encoding.
public struct Ed25519PublicKey: Sendable, Equatable {
    public let raw: [UInt8]

    /// The key with encoding `raw`; OpenSSL decodes the point only when verifying, where a bad one fails to verify.
    public init(raw: [UInt8]) throws(CryptoError) {
        guard raw.count == Ed25519.publicKeyCount else {
            throw CryptoError(reason: "an Ed25519 public key has \(Ed25519.publicKeyCount) bytes, not \(raw.count)")
        }
        ERR_clear_error()
        guard let key = Ed25519.publicKey(raw: raw) else {
            throw .openSSL("OpenSSL could not make an Ed25519 public key from the bytes")
        }
        EVP_PKEY_free(key)
        self.raw = raw
    }

    /// Reads a `-----BEGIN PUBLIC KEY-----` (SubjectPublicKeyInfo) block, as `openssl pkey -pubout` writes.
    public init(pem: [UInt8]) throws(CryptoError) {
        let key = try Ed25519.readPEM(pem, holding: "an Ed25519 public key") { bio in
            PEM_read_bio_PUBKEY(bio, nil, { _, _, _, _ in -1 }, nil)
        }
        defer { EVP_PKEY_free(key) }
        self.init(trusted: Ed25519.rawPublicKey(of: key))
    }

    init(trusted raw: [UInt8]) {
        precondition(raw.count == Ed25519.publicKeyCount, "an Ed25519 public key has 32 bytes")
        self.raw = raw
    }

    /// SubjectPublicKeyInfo PEM, byte-identical to what `openssl pkey -pubout` writes.
    public var pem: [UInt8] {
        let key = Ed25519.publicKeyFromValidRaw(raw)
        defer { EVP_PKEY_free(key) }
        return Ed25519.writePEM { bio in PEM_write_bio_PUBKEY(bio, key) }
    }

    /// Whether `signature` is this key's RFC 8032 signature of `message`; false, never a trap, for malformed input.
    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        guard signature.count == Ed25519.signatureCount else { return false }
        let key = Ed25519.publicKeyFromValidRaw(raw)
        defer { EVP_PKEY_free(key) }
        guard let context = EVP_MD_CTX_new() else { preconditionFailure("OpenSSL could not allocate a digest context") }
        defer { EVP_MD_CTX_free(context) }
        precondition(EVP_DigestVerifyInit(context, nil, nil, nil, key) == 1, "EVP_DigestVerifyInit failed for Ed25519")
        let result = message.withUnsafeBufferPointer { bytes in
            EVP_DigestVerify(context, signature, signature.count, bytes.baseAddress, bytes.count)
        }
        // A rejected signature leaves errors on the thread's queue; drop them so they are not blamed on a later call.
        ERR_clear_error()
        return result == 1
    }
}

/// Sizes and the OpenSSL plumbing the two key types share.
enum Ed25519 {
    static let seedCount = 32
    static let publicKeyCount = 32
    static let signatureCount = 64
    /// A key PEM is a few hundred bytes; the limit keeps a mistaken file from being handed to OpenSSL whole.
    static let pemBytesMax = 64 * 1024

    /// A new EVP_PKEY the caller frees, or nil with the reason on OpenSSL's error queue.
    static func privateKey(seed: [UInt8]) -> OpaquePointer? {
        seed.withUnsafeBufferPointer { EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nil, $0.baseAddress, $0.count) }
    }

    static func publicKey(raw: [UInt8]) -> OpaquePointer? {
        raw.withUnsafeBufferPointer { EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, $0.baseAddress, $0.count) }
    }

    /// For a seed `init` already accepted, where only allocation can fail.
    static func privateKeyFromValidSeed(_ seed: [UInt8]) -> OpaquePointer {
        guard let key = privateKey(seed: seed) else { preconditionFailure("OpenSSL refused an Ed25519 seed it accepted before") }
        return key
    }

    static func publicKeyFromValidRaw(_ raw: [UInt8]) -> OpaquePointer {
        guard let key = publicKey(raw: raw) else { preconditionFailure("OpenSSL refused an Ed25519 public key it accepted before") }
        return key
    }

    static func rawPublicKey(of key: OpaquePointer) -> [UInt8] {
        var raw = [UInt8](repeating: 0, count: publicKeyCount)
        var length = raw.count
        precondition(EVP_PKEY_get_raw_public_key(key, &raw, &length) == 1 && length == publicKeyCount,
                      "EVP_PKEY_get_raw_public_key failed for an Ed25519 key")
        return raw
    }

    /// The key `read` finds in the first PEM block of `pem`, checked to be Ed25519; the caller frees it.
    static func readPEM(_ pem: [UInt8], holding what: String,
                        _ read: (OpaquePointer) -> OpaquePointer?) throws(CryptoError) -> OpaquePointer {
        guard !pem.isEmpty else { throw CryptoError(reason: "the PEM for \(what) is empty") }
        guard pem.count <= pemBytesMax else {
            throw CryptoError(reason: "the PEM for \(what) has \(pem.count) bytes; a key PEM has at most \(pemBytesMax)")
        }
        ERR_clear_error()
        let key = pem.withUnsafeBytes { bytes -> OpaquePointer? in
            guard let bio = BIO_new_mem_buf(bytes.baseAddress, Int32(bytes.count)) else { return nil }
            defer { BIO_free(bio) }
            return read(bio)
        }
        guard let key else { throw .openSSL("could not read \(what) from the PEM") }
        guard EVP_PKEY_is_a(key, "ED25519") == 1 else {
            let found = EVP_PKEY_get0_type_name(key).map { "an \(String(cString: $0)) key" } ?? "a key of another algorithm"
            EVP_PKEY_free(key)
            throw CryptoError(reason: "the PEM holds \(found), not \(what); make one with `openssl genpkey -algorithm ed25519`")
        }
        return key
    }

    /// What `write` puts into a memory BIO; writing a valid key to memory fails only if allocation does.
    static func writePEM(_ write: (OpaquePointer) -> Int32) -> [UInt8] {
        guard let bio = BIO_new(BIO_s_mem()) else { preconditionFailure("OpenSSL could not allocate a memory BIO") }
        defer { BIO_free(bio) }
        precondition(write(bio) == 1, "OpenSSL could not write an Ed25519 key as PEM")
        // BIO_pending is a macro, which Swift cannot import; this is its function form.
        let pending = BIO_ctrl(bio, BIO_CTRL_PENDING, 0, nil)
        precondition(pending > 0 && pending <= Int(Int32.max), "OpenSSL wrote no PEM")
        var out = [UInt8](repeating: 0, count: Int(pending))
        let count = BIO_read(bio, &out, Int32(pending))
        precondition(count == Int32(pending), "BIO_read returned \(count) of \(pending) bytes")
        return out
    }
}
