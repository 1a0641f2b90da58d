import Testing
@testable import AllowanceLedger
@testable import LedgerSQLite

@Suite struct CryptoTests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func sha256MatchesFIPS180Vectors(message: String, digest: String) {
        #expect(SHA256Hasher.hash(message).hex == digest)
    }

    @Test func sha256IsTheSameWhenFedInPieces() {
        let text = String(repeating: "Trợ cấp xã hội ", count: 1000)
        let hasher = SHA256Hasher()
        for piece in text.split(separator: " ", omittingEmptySubsequences: false) {
            hasher.update(String(piece))
            hasher.update(" ")
        }
        let whole = SHA256Hasher.hash(text + " ")
        #expect(hasher.finalize() == whole)
        // The hasher starts over after finalize.
        hasher.update("abc")
        #expect(hasher.finalize().hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    static let largeKey = [UInt8](repeating: 0xaa, count: 131)

    /// RFC 4231 test cases 1, 2, 3, 4, 6 and 7 (case 5 tests truncation, which we never do).
    @Test(arguments: [
        ([UInt8](repeating: 0x0b, count: 20), Array("Hi There".utf8),
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        (Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        ([UInt8](repeating: 0xaa, count: 20), [UInt8](repeating: 0xdd, count: 50),
         "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
        (Array(1...25), [UInt8](repeating: 0xcd, count: 50),
         "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
        (largeKey, Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
        (largeKey, Array("This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.".utf8),
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
    ] as [([UInt8], [UInt8], String)])
    func hmacMatchesRFC4231(key: [UInt8], message: [UInt8], mac: String) {
        #expect(HMACSHA256.authenticate(message, key: key).hex == mac)
    }

    @Test func constantTimeComparisonTellsEqualFromDifferent() throws {
        let a = HMACSHA256.authenticate(Array("x".utf8), key: [1])
        var bytes = a.bytes
        bytes[31] ^= 1
        #expect(HMACSHA256.constantTimeEquals(a, a))
        #expect(!HMACSHA256.constantTimeEquals(a, Digest32(bytes: bytes)))
    }

    @Test func hexRoundTripsAndRejectsNonsense() {
        #expect(Hex.decode("00ff10Ab") == [0x00, 0xff, 0x10, 0xab])
        #expect(Hex.encode([0x00, 0xff, 0x10, 0xab]) == "00ff10ab")
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.decode("zz") == nil)
        #expect(Digest32(hex: "00") == nil)
    }
}
