import CLibCrypto

/// Incremental SHA-256 over OpenSSL's EVP interface.
///
/// A class because it owns an `EVP_MD_CTX`; not `Sendable`, one hasher belongs to one task.
public final class SHA256Hasher {
    private let context: OpaquePointer

    public init() {
        guard let context = EVP_MD_CTX_new() else {
            preconditionFailure("OpenSSL could not allocate a digest context")
        }
        self.context = context
        precondition(EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1, "EVP_DigestInit_ex failed")
    }

    deinit { EVP_MD_CTX_free(context) }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        precondition(EVP_DigestUpdate(context, base, bytes.count) == 1, "EVP_DigestUpdate failed")
    }

    public func update<Bytes: Sequence<UInt8>>(_ bytes: Bytes) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { update(UnsafeRawBufferPointer($0)) }
        if done == nil {
            let array = Array(bytes)
            array.withUnsafeBytes { update($0) }
        }
    }

    public func update(_ text: String) {
        var text = text
        text.withUTF8 { update(UnsafeRawBufferPointer($0)) }
    }

    /// The digest; the hasher starts over afterwards.
    public func finalize() -> Digest32 {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        precondition(EVP_DigestFinal_ex(context, &out, &length) == 1 && length == 32, "EVP_DigestFinal_ex failed")
        precondition(EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1, "EVP_DigestInit_ex failed")
        return Digest32(bytes: Array(out.prefix(32)))
    }

    public static func hash<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> Digest32 {
        let hasher = SHA256Hasher()
        hasher.update(bytes)
        return hasher.finalize()
    }

    public static func hash(_ text: String) -> Digest32 { hash(Array(text.utf8)) }
}

/// A 32-byte digest or MAC.
public struct Digest32: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) {
        precondition(bytes.count == 32, "a SHA-256 digest has 32 bytes")
        self.bytes = bytes
    }

    /// Parses 64 hexadecimal digits.
    public init?(hex: String) {
        guard let bytes = Hex.decode(hex), bytes.count == 32 else { return nil }
        self.bytes = bytes
    }

    public var hex: String { Hex.encode(bytes) }
    public var description: String { hex }
}

public enum HMACSHA256 {
    /// HMAC-SHA256 of `message` under `key` (RFC 2104).
    public static func authenticate(_ message: [UInt8], key: [UInt8]) -> Digest32 {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let result = key.withUnsafeBytes { keyBytes in
            message.withUnsafeBytes { messageBytes in
                HMAC(EVP_sha256(), keyBytes.baseAddress, Int32(keyBytes.count),
                     messageBytes.baseAddress?.assumingMemoryBound(to: UInt8.self), messageBytes.count,
                     &out, &length)
            }
        }
        precondition(result != nil && length == 32, "HMAC-SHA256 failed")
        return Digest32(bytes: Array(out.prefix(32)))
    }

    /// Compares two MACs in time independent of where they differ.
    public static func constantTimeEquals(_ a: Digest32, _ b: Digest32) -> Bool {
        a.bytes.withUnsafeBytes { left in
            b.bytes.withUnsafeBytes { right in CRYPTO_memcmp(left.baseAddress, right.baseAddress, 32) == 0 }
        }
    }
}

/// HMAC-SHA256 under one fixed key, many messages: the padded key's two blocks are hashed once and their
/// digest states copied per message, instead of OpenSSL's one-shot `HMAC()` redoing them (and its lookups) each time.
///
/// A class because it owns digest contexts; not `Sendable`, one instance belongs to one task.
public final class KeyedHMACSHA256 {
    private let inner: OpaquePointer
    private let outer: OpaquePointer
    private let work: OpaquePointer

    public init(key: [UInt8]) {
        var block = key.count > 64 ? SHA256Hasher.hash(key).bytes : key
        block += [UInt8](repeating: 0, count: 64 - block.count)
        guard let inner = EVP_MD_CTX_new(), let outer = EVP_MD_CTX_new(), let work = EVP_MD_CTX_new() else {
            preconditionFailure("OpenSSL could not allocate a digest context")
        }
        self.inner = inner
        self.outer = outer
        self.work = work
        for (context, pad) in [(inner, UInt8(0x36)), (outer, UInt8(0x5c))] {
            let padded = block.map { $0 ^ pad }
            precondition(EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1, "EVP_DigestInit_ex failed")
            precondition(padded.withUnsafeBytes { EVP_DigestUpdate(context, $0.baseAddress, 64) } == 1, "EVP_DigestUpdate failed")
        }
    }

    deinit {
        EVP_MD_CTX_free(inner)
        EVP_MD_CTX_free(outer)
        EVP_MD_CTX_free(work)
    }

    public func authenticate(_ message: UnsafeRawBufferPointer) -> Digest32 {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        precondition(EVP_MD_CTX_copy_ex(work, inner) == 1, "EVP_MD_CTX_copy_ex failed")
        if let base = message.baseAddress, message.count > 0 {
            precondition(EVP_DigestUpdate(work, base, message.count) == 1, "EVP_DigestUpdate failed")
        }
        precondition(EVP_DigestFinal_ex(work, &digest, &length) == 1 && length == 32, "EVP_DigestFinal_ex failed")
        precondition(EVP_MD_CTX_copy_ex(work, outer) == 1, "EVP_MD_CTX_copy_ex failed")
        precondition(EVP_DigestUpdate(work, digest, 32) == 1, "EVP_DigestUpdate failed")
        precondition(EVP_DigestFinal_ex(work, &digest, &length) == 1 && length == 32, "EVP_DigestFinal_ex failed")
        return Digest32(bytes: Array(digest.prefix(32)))
    }

    public func authenticate(_ message: [UInt8]) -> Digest32 {
        message.withUnsafeBytes { authenticate($0) }
    }
}

public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func decode(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = value(utf8[index]), let low = value(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    private static func value(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// SHA-256 over bytes written a few at a time (the journal's chain hash, a batch's item seal): they gather in a fixed
/// 64 KiB buffer and reach the hasher in large updates. A raw buffer instead of a Swift array: an array append checked
/// uniqueness and capacity each time, about 90 instructions for a few bytes, 11 % of an approval's instructions.
final class StagedSHA256 {
    private static let capacity = 1 << 16
    private let hasher = SHA256Hasher()
    private let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: StagedSHA256.capacity)
    private var count = 0

    deinit { buffer.deallocate() }

    private func flush() {
        hasher.update(UnsafeRawBufferPointer(start: buffer, count: count))
        count = 0
    }

    func byte(_ value: UInt8) {
        if count == Self.capacity { flush() }
        buffer[count] = value
        count += 1
    }

    func bytes(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        if bytes.count > Self.capacity - count {
            flush()
            if bytes.count > Self.capacity { return hasher.update(UnsafeRawBufferPointer(bytes)) }
        }
        (buffer + count).update(from: base, count: bytes.count)
        count += bytes.count
    }

    /// A decimal integer, as `String(value)` spells it.
    func int(_ value: Int64) {
        withDecimalDigits(of: value) { bytes($0) }
    }

    /// `<byte count>:<bytes>`.
    func lengthPrefixed(_ field: UnsafeBufferPointer<UInt8>) {
        int(Int64(field.count))
        byte(0x3A)
        bytes(field)
    }

    /// A decimal integer as a length-prefixed field: `<digit count>:<digits>`.
    func lengthPrefixed(_ value: Int64) {
        withDecimalDigits(of: value) { lengthPrefixed($0) }
    }

    func finalize() -> Digest32 {
        flush()
        return hasher.finalize()
    }
}

/// SHA-256 of a whole file, read in fixed-size chunks.
public func fileSHA256(path: String) throws(FileError) -> Digest32 {
    let fd = try Files.openRegular(path).fd
    defer { close(fd) }
    let hasher = SHA256Hasher()
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
    defer { buffer.deallocate() }
    while true {
        let count = read(fd, buffer.baseAddress, buffer.count)
        if count < 0 {
            if errno == EINTR { continue }
            throw FileError(path: path, errno: errno)
        }
        if count == 0 { break }
        hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
    }
    return hasher.finalize()
}

/// The size of a file in bytes, for progress.
public func fileSize(path: String) -> Int64? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    return Int64(info.st_size)
}
