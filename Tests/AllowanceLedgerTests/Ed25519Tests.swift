import Testing
@testable import AllowanceLedger
@testable import LedgerSQLite

@Suite struct Ed25519Tests {
    struct Vector: Sendable, CustomTestStringConvertible {
        let name: String
        let seed: String
        let publicKey: String
        let message: String
        let signature: String
        var testDescription: String { name }
    }

    /// RFC 8032 section 7.1; TEST 2 to SHA(abc) were also checked against `openssl pkeyutl -sign -rawin` here.
    static let rfc8032: [Vector] = [
        Vector(name: "TEST 1",
               seed: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
               publicKey: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
               message: "",
               signature: "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
        Vector(name: "TEST 2",
               seed: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
               publicKey: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
               message: "72",
               signature: "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
        Vector(name: "TEST 3",
               seed: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
               publicKey: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
               message: "af82",
               signature: "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
        Vector(name: "TEST 1024",
               seed: "f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5",
               publicKey: "278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e",
               message: test1024Message,
               signature: "0aab4c900501b3e24d7cdf4663326a3a87df5e4843b2cbdb67cbf6e460fec350aa5371b1508f9f4528ecea23c436d94b5e8fcd4f681e30a6ac00a9704a188a03"),
        Vector(name: "TEST SHA(abc)",
               seed: "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
               publicKey: "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
               message: "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
               signature: "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704"),
    ]

    static let test1024Message = [
        "08b8b2b733424243760fe426a4b54908632110a66c2f6591eabd3345e3e4eb98fa6e264bf09efe12ee50f8f54e9f77b1",
        "e355f6c50544e23fb1433ddf73be84d879de7c0046dc4996d9e773f4bc9efe5738829adb26c81b37c93a1b270b20329d",
        "658675fc6ea534e0810a4432826bf58c941efb65d57a338bbd2e26640f89ffbc1a858efcb8550ee3a5e1998bd177e93a",
        "7363c344fe6b199ee5d02e82d522c4feba15452f80288a821a579116ec6dad2b3b310da903401aa62100ab5d1a36553e",
        "06203b33890cc9b832f79ef80560ccb9a39ce767967ed628c6ad573cb116dbefefd75499da96bd68a8a97b928a8bbc10",
        "3b6621fcde2beca1231d206be6cd9ec7aff6f6c94fcd7204ed3455c68c83f4a41da4af2b74ef5c53f1d8ac70bdcb7ed1",
        "85ce81bd84359d44254d95629e9855a94a7c1958d1f8ada5d0532ed8a5aa3fb2d17ba70eb6248e594e1a2297acbbb39d",
        "502f1a8c6eb6f1ce22b3de1a1f40cc24554119a831a9aad6079cad88425de6bde1a9187ebb6092cf67bf2b13fd65f270",
        "88d78b7e883c8759d2c4f5c65adb7553878ad575f9fad878e80a0c9ba63bcbcc2732e69485bbc9c90bfbd62481d9089b",
        "eccf80cfe2df16a2cf65bd92dd597b0707e0917af48bbb75fed413d238f5555a7a569d80c3414a8d0859dc65a46128ba",
        "b27af87a71314f318c782b23ebfe808b82b0ce26401d2e22f04d83d1255dc51addd3b75a2b1ae0784504df543af8969b",
        "e3ea7082ff7fc9888c144da2af58429ec96031dbcad3dad9af0dcbaaaf268cb8fcffead94f3c7ca495e056a9b47acdb7",
        "51fb73e666c6c655ade8297297d07ad1ba5e43f1bca32301651339e22904cc8c42f58c30c04aafdb038dda0847dd988d",
        "cda6f3bfd15c4b4c4525004aa06eeff8ca61783aacec57fb3d1f92b0fe2fd1a85f6724517b65e614ad6808d6f6ee34df",
        "f7310fdc82aebfd904b01e1dc54b2927094b2db68d6f903b68401adebf5a7e08d78ff4ef5d63653a65040cf9bfd4aca7",
        "984a74d37145986780fc0b16ac451649de6188a7dbdf191f64b5fc5e2ab47b57f7f7276cd419c17a3ca8e1b939ae49e4",
        "88acba6b965610b5480109c8b17b80e1b7b750dfc7598d5d5011fd2dcc5600a32ef5b52a1ecc820e308aa342721aac09",
        "43bf6686b64b2579376504ccc493d97e6aed3fb0f9cd71a43dd497f01f17c0e2cb3797aa2a2f256656168e6c496afc5f",
        "b93246f6b1116398a346f1a641f3b041e989f7914f90cc2c7fff357876e506b50d334ba77c225bc307ba537152f3f161",
        "0e4eafe595f6d9d90d11faa933a15ef1369546868a7f3a45a96768d40fd9d03412c091c6315cf4fde7cb68606937380d",
        "b2eaaa707b4c4185c32eddcdd306705e4dc1ffc872eeee475a64dfac86aba41c0618983f8741c5ef68d3a101e8a3b8ca",
        "c60c905c15fc910840b94c00a0b9d0",
    ].joined()

    static func bytes(_ hex: String) throws -> [UInt8] { try #require(Hex.decode(hex)) }

    static func pem(_ lines: String...) -> [UInt8] { Array((lines.joined(separator: "\n") + "\n").utf8) }

    /// `openssl pkey -inform DER` of the PKCS#8 DER 302e020100300506032b657004220420 || TEST 1 seed, and its `-pubout`.
    static let test1PrivatePEM = pem(
        "-----BEGIN PRIVATE KEY-----",
        "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g",
        "-----END PRIVATE KEY-----")
    static let test1PublicPEM = pem(
        "-----BEGIN PUBLIC KEY-----",
        "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
        "-----END PUBLIC KEY-----")

    @Test(arguments: rfc8032)
    func rfc8032Vector(_ vector: Vector) throws {
        let message = try Self.bytes(vector.message)
        let expectedSignature = try Self.bytes(vector.signature)
        let key = try Ed25519PrivateKey(seed: try Self.bytes(vector.seed))
        #expect(Hex.encode(key.publicKey.raw) == vector.publicKey)
        let signature = key.signature(for: message)
        #expect(Hex.encode(signature) == vector.signature)
        let publicKey = try Ed25519PublicKey(raw: try Self.bytes(vector.publicKey))
        #expect(publicKey == key.publicKey)
        #expect(publicKey.isValidSignature(expectedSignature, for: message))
    }

    @Test func anyFlippedBitFailsVerification() throws {
        let vector = Self.rfc8032[2]
        let message = try Self.bytes(vector.message)
        let signature = try Self.bytes(vector.signature)
        let raw = try Self.bytes(vector.publicKey)
        let publicKey = try Ed25519PublicKey(raw: raw)
        #expect(publicKey.isValidSignature(signature, for: message))
        for bit in 0..<(message.count * 8) {
            var changed = message
            changed[bit / 8] ^= 1 << (bit % 8)
            #expect(!publicKey.isValidSignature(signature, for: changed), "message bit \(bit)")
        }
        for bit in 0..<(signature.count * 8) {
            var changed = signature
            changed[bit / 8] ^= 1 << (bit % 8)
            #expect(!publicKey.isValidSignature(changed, for: message), "signature bit \(bit)")
        }
        for bit in 0..<(raw.count * 8) {
            var changed = raw
            changed[bit / 8] ^= 1 << (bit % 8)
            #expect(!(try Ed25519PublicKey(raw: changed)).isValidSignature(signature, for: message), "public key bit \(bit)")
        }
        #expect(!publicKey.isValidSignature(signature, for: message + [0]))
    }

    @Test(arguments: [0, 1, 63, 65, 128])
    func aSignatureOfTheWrongLengthIsInvalid(count: Int) throws {
        let key = try Ed25519PrivateKey(seed: try Self.bytes(Self.rfc8032[0].seed))
        let valid = key.signature(for: [])
        // The valid signature's own bytes, cut or padded, so only the length is wrong.
        let signature = Array((valid + valid).prefix(count))
        #expect(!key.publicKey.isValidSignature(signature, for: []))
    }

    @Test(arguments: [0, 31, 33, 64])
    func aSeedOrRawPublicKeyOfTheWrongLengthIsRefused(count: Int) {
        let bytes = [UInt8](repeating: 7, count: count)
        #expect(throws: CryptoError(reason: "an Ed25519 seed has 32 bytes, not \(count)")) { try Ed25519PrivateKey(seed: bytes) }
        #expect(throws: CryptoError(reason: "an Ed25519 public key has 32 bytes, not \(count)")) { try Ed25519PublicKey(raw: bytes) }
    }

    @Test func aGeneratedKeyRoundTripsThroughPEM() throws {
        let key = try Ed25519PrivateKey.generate()
        let read = try Ed25519PrivateKey(pem: key.pem)
        #expect(read.seed == key.seed)
        #expect(read.publicKey == key.publicKey)
        #expect(try Ed25519PublicKey(pem: key.publicKey.pem) == key.publicKey)
        let message = Array("manifest".utf8)
        #expect(read.publicKey.isValidSignature(key.signature(for: message), for: message))
        #expect(try Ed25519PrivateKey.generate().seed != key.seed)
    }

    @Test func pemIsTheTextOpenSSLWrites() throws {
        let key = try Ed25519PrivateKey(seed: try Self.bytes(Self.rfc8032[0].seed))
        #expect(String(decoding: key.pem, as: UTF8.self) == String(decoding: Self.test1PrivatePEM, as: UTF8.self))
        #expect(String(decoding: key.publicKey.pem, as: UTF8.self) == String(decoding: Self.test1PublicPEM, as: UTF8.self))
        #expect(try Ed25519PrivateKey(pem: Self.test1PrivatePEM).seed == key.seed)
        #expect(try Ed25519PublicKey(pem: Self.test1PublicPEM) == key.publicKey)
    }

    @Test func theDescriptionOfAPrivateKeyHidesTheSeed() throws {
        let vector = Self.rfc8032[0]
        let key = try Ed25519PrivateKey(seed: try Self.bytes(vector.seed))
        for text in [String(describing: key), String(reflecting: key), "\(key)"] {
            #expect(text == "Ed25519PrivateKey(publicKey: \(vector.publicKey))")
        }
    }

    /// Bytes that `swift test` names by `name` rather than by every byte.
    struct Sample: Sendable, CustomTestStringConvertible {
        let name: String
        let bytes: [UInt8]
        init(_ name: String, _ bytes: [UInt8]) {
            self.name = name
            self.bytes = bytes
        }
        var testDescription: String { name }
    }

    /// Keys `openssl genpkey` made, named as OpenSSL names their algorithm.
    static let otherAlgorithms: [Sample] = [
        Sample("RSA", pem(
            "-----BEGIN PRIVATE KEY-----",
            "MIIBUwIBADANBgkqhkiG9w0BAQEFAASCAT0wggE5AgEAAkEAqmBPWsLqTzoIwPFf",
            "TXoBKoXhiUzwlKarMujEtgLucwLD8bKCNnF4XQSNTEHjZt67uPTqszfEhE37+Hca",
            "6fYxiwIDAQABAkA+TpBWsdd8d83BucPPkqGgimuLia6lvjn3mTZvFa1cM3rQ+2VM",
            "lwvPTTwigKOASgDpzpyV16nxtpMtY6zhYdP5AiEA2aiwTxcGoz2kbwC7Y+bgVGKZ",
            "bvEnbrF5MlrlZrRutbcCIQDIY2kfSaBXgZGUOwvlvh8uvSYrKZL7LXT6G/aTZTbC",
            "zQIgWmHQBKedHAAm3elB5zQiByiCai09oJuVpjFUfReDuXUCIHAxoIjA+0IjLDP2",
            "/0lJMkJD6tvdsgppwAXMpDiQQaG9AiAmL4aWltTDUBlArb1LrZJkKYgol9yW2OSc",
            "T+0V+UB7lA==",
            "-----END PRIVATE KEY-----")),
        Sample("EC", pem(
            "-----BEGIN PRIVATE KEY-----",
            "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgrLXwjnIgY/myQO6K",
            "KuehKsRvk0zKUajb1O8OivaKf36hRANCAARCMsJEEq4KzMNXliYdawy8wDFftqK9",
            "G6NH9rkjmuOgWyl6X3gHAtGdL7O0i+S2pJ7o+aM6heLAjQmd22pA84Wu",
            "-----END PRIVATE KEY-----")),
        // Same curve and encoding as Ed25519, but a key-agreement key: it must not pass for a signing key.
        Sample("X25519", pem(
            "-----BEGIN PRIVATE KEY-----",
            "MC4CAQAwBQYDK2VuBCIEICg/f6mZHos/KQal8aOG97N9H5zKvzpl5QSr3d/QKa1A",
            "-----END PRIVATE KEY-----")),
        Sample("ED448", pem(
            "-----BEGIN PRIVATE KEY-----",
            "MEcCAQAwBQYDK2VxBDsEOVpJ4cZEOGbru4tPi0vh2BxutaFwycuXMGkvuknodp/8",
            "NxS99+uRtbjUnZHzufqlePaWPtgekKt7iQ==",
            "-----END PRIVATE KEY-----")),
    ]

    @Test(arguments: otherAlgorithms)
    func aPrivateKeyOfAnotherAlgorithmIsRefused(_ key: Sample) {
        #expect(throws: CryptoError(reason: "the PEM holds an \(key.name) key, not an Ed25519 private key; make one with `openssl genpkey -algorithm ed25519`")) {
            try Ed25519PrivateKey(pem: key.bytes)
        }
    }

    @Test func aPublicKeyOfAnotherAlgorithmIsRefused() {
        let ecPublic = Self.pem(
            "-----BEGIN PUBLIC KEY-----",
            "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEQjLCRBKuCszDV5YmHWsMvMAxX7ai",
            "vRujR/a5I5rjoFspel94BwLRnS+ztIvktqSe6PmjOoXiwI0JndtqQPOFrg==",
            "-----END PUBLIC KEY-----")
        #expect(throws: CryptoError(reason: "the PEM holds an EC key, not an Ed25519 public key; make one with `openssl genpkey -algorithm ed25519`")) {
            try Ed25519PublicKey(pem: ecPublic)
        }
    }

    static let garbage: [Sample] = [
        Sample("text", Array("not a key at all".utf8)),
        Sample("a cut PEM", Array(test1PrivatePEM.prefix(40))),
        Sample("a broken body", pem(
            "-----BEGIN PRIVATE KEY-----",
            "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v!!!!guoRK9JLsLMREScVpezJpGXA7rAMcrn9g",
            "-----END PRIVATE KEY-----")),
        Sample("a body of the wrong structure", pem(
            "-----BEGIN PRIVATE KEY-----",
            "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
            "-----END PRIVATE KEY-----")),
        Sample("binary", [0x30, 0x2e, 0x02, 0x01, 0x00, 0xff, 0x00, 0x0a]),
    ]

    @Test(arguments: garbage)
    func garbageIsRefusedWithOpenSSLsReason(_ garbage: Sample) throws {
        let privateError = try #require(throws: CryptoError.self) { try Ed25519PrivateKey(pem: garbage.bytes) }
        #expect(privateError.reason.hasPrefix("could not read an Ed25519 private key from the PEM: error:"), "\(privateError)")
        let publicError = try #require(throws: CryptoError.self) { try Ed25519PublicKey(pem: garbage.bytes) }
        #expect(publicError.reason.hasPrefix("could not read an Ed25519 public key from the PEM: error:"), "\(publicError)")
    }

    @Test func anEmptyOrOversizedPEMIsRefusedBeforeOpenSSLSeesIt() {
        #expect(throws: CryptoError(reason: "the PEM for an Ed25519 private key is empty")) { try Ed25519PrivateKey(pem: []) }
        #expect(throws: CryptoError(reason: "the PEM for an Ed25519 public key is empty")) { try Ed25519PublicKey(pem: []) }
        let huge = Self.test1PrivatePEM + [UInt8](repeating: UInt8(ascii: "\n"), count: Ed25519.pemBytesMax)
        #expect(throws: CryptoError(reason: "the PEM for an Ed25519 private key has \(huge.count) bytes; a key PEM has at most 65536")) {
            try Ed25519PrivateKey(pem: huge)
        }
    }

    @Test func aPEMOfTheOtherKindIsRefused() throws {
        let privateError = try #require(throws: CryptoError.self) { try Ed25519PrivateKey(pem: Self.test1PublicPEM) }
        #expect(privateError.reason.hasPrefix("could not read an Ed25519 private key from the PEM"), "\(privateError)")
        let publicError = try #require(throws: CryptoError.self) { try Ed25519PublicKey(pem: Self.test1PrivatePEM) }
        #expect(publicError.reason.hasPrefix("could not read an Ed25519 public key from the PEM"), "\(publicError)")
    }

    /// `openssl pkey -aes-128-cbc -passout pass:secret` of the TEST 1 key.
    @Test func anEncryptedKeyIsRefusedWithoutAskingForAPassphrase() {
        let encrypted = Self.pem(
            "-----BEGIN ENCRYPTED PRIVATE KEY-----",
            "MIGbMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAiVKdiy6tIL/wICCAAw",
            "DAYIKoZIhvcNAgkFADAdBglghkgBZQMEAQIEELCbNJfq3kOsfGBDCkn8ez8EQNil",
            "xAsA7RLvhN7ZuVbLRSd5bTLhYVvQ62erpMVStS0Jad6axM0sv2s3PBU8Zz5B/kAE",
            "qoyhDUvwKFJ+LcxQSeM=",
            "-----END ENCRYPTED PRIVATE KEY-----")
        #expect(throws: CryptoError(reason: "the PEM holds an encrypted private key; store it unencrypted (`openssl pkey -in KEY -out PLAIN`)")) {
            try Ed25519PrivateKey(pem: encrypted)
        }
    }

    @Test func secureRandomGivesFreshBytes() throws {
        let first = try SecureRandom.bytes(32)
        let second = try SecureRandom.bytes(32)
        #expect(first.count == 32 && second.count == 32)
        #expect(first != second)
        #expect(try SecureRandom.bytes(0).isEmpty)
    }
}
