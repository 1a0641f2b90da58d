import CLibCrypto

/// Time-based one-time codes (RFC 6238: HMAC-SHA-1, 30-second steps, 6 digits), as authenticator apps make them.
public struct OneTimeCode: Sendable, Equatable {
    /// The shared secret: 20 random bytes, as RFC 4226 recommends.
    public let secret: [UInt8]
    public static let digits = 6
    public static let step: Int64 = 30

    public init(secret: [UInt8]) {
        self.secret = secret
    }

    public static func generate() throws(CryptoError) -> OneTimeCode {
        OneTimeCode(secret: try SecureRandom.bytes(20))
    }

    public init?(base32: String) {
        guard let bytes = Base32.decode(base32), !bytes.isEmpty else { return nil }
        secret = bytes
    }

    public var base32: String { Base32.encode(secret) }

    /// The code for the step holding `unixTime` (RFC 4226, section 5.3: dynamic truncation).
    public func code(at unixTime: Int64) -> String {
        let counter = UInt64(max(0, unixTime) / Self.step)
        let message = (0..<8).map { UInt8(truncatingIfNeeded: counter >> (56 - 8 * UInt64($0))) }
        let mac = HMACSHA1.authenticate(message, key: secret)
        let offset = Int(mac[19] & 0x0F)
        let binary = (UInt32(mac[offset] & 0x7F) << 24) | (UInt32(mac[offset + 1]) << 16) | (UInt32(mac[offset + 2]) << 8)
            | UInt32(mac[offset + 3])
        let value = binary % 1_000_000
        let text = String(value)
        return String(repeating: "0", count: Self.digits - text.count) + text
    }

    /// Whether `code` is the one for `unixTime`'s step or a neighbour (a clock 30 s off, a code typed as it turned).
    public func accepts(_ code: String, at unixTime: Int64) -> Bool {
        let typed = code.filter { $0 != " " }
        return [-1, 0, 1].contains { self.code(at: unixTime + $0 * Self.step) == typed }
    }

    /// The URI an authenticator app takes (scanned or typed): `otpauth://totp/ISSUER:NAME?secret=…`.
    public func uri(account: String, issuer: String) -> String {
        func escaped(_ text: String) -> String {
            var out = ""
            for byte in text.utf8 {
                switch byte {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                     UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                    out.unicodeScalars.append(Unicode.Scalar(byte))
                default:
                    out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
                }
            }
            return out
        }
        return "otpauth://totp/\(escaped(issuer)):\(escaped(account))?secret=\(base32)&issuer=\(escaped(issuer))"
            + "&algorithm=SHA1&digits=\(Self.digits)&period=\(Self.step)"
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

/// RFC 4648 base32, upper case, no padding (what authenticator apps read).
public enum Base32 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 5 {
                out.append(alphabet[Int((buffer >> UInt32(bits - 5)) & 31)])
                bits -= 5
            }
        }
        if bits > 0 { out.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)]) }
        return String(decoding: out, as: UTF8.self)
    }

    public static func decode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for byte in text.utf8 where byte != UInt8(ascii: "=") && byte != UInt8(ascii: " ") {
            let upper = byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") ? byte - 32 : byte
            guard let value = alphabet.firstIndex(of: upper) else { return nil }
            buffer = (buffer << 5) | UInt32(value)
            bits += 5
            if bits >= 8 {
                out.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits - 8)))
                bits -= 8
            }
        }
        return out
    }
}

/// HMAC-SHA-1, for one-time codes only (RFC 6238 names it; nothing else here uses SHA-1).
public enum HMACSHA1 {
    public static func authenticate(_ message: [UInt8], key: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let result = key.withUnsafeBytes { keyBytes in
            message.withUnsafeBytes { messageBytes in
                HMAC(EVP_sha1(), keyBytes.baseAddress, Int32(keyBytes.count),
                     messageBytes.baseAddress?.assumingMemoryBound(to: UInt8.self), messageBytes.count, &out, &length)
            }
        }
        precondition(result != nil && length == 20, "HMAC-SHA-1 failed")
        return Array(out.prefix(20))
    }
}
