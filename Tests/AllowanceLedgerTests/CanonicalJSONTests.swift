import Testing
@testable import AllowanceLedger
@testable import LedgerSQLite

/// Canonical bytes of a JSON text. Tests compare bytes, not Strings: String equality is canonical equivalence
/// and would hide a normalization the canonicalizer must not do.
private func canonical(_ text: String) throws(JSONError) -> [UInt8] {
    try JSONValue.parse(Array(text.utf8)).canonicalBytes()
}

private func bytes(fromHex hex: String) -> [UInt8] {
    let digits = hex.split(whereSeparator: { $0 == " " || $0 == "\n" })
    return digits.map { UInt8($0, radix: 16)! }
}

extension CanonicalJSONTests {
    /// An input document and the RFC 8785 output published for it.
    struct Vector: Sendable, CustomTestStringConvertible {
        let name: String
        let input: String
        let output: String
        var testDescription: String { name }
    }

    /// An IEEE double and the string ECMAScript writes for it.
    struct NumberSample: Sendable, CustomTestStringConvertible {
        let bits: UInt64
        let expected: String
        var testDescription: String { "0x\(String(bits, radix: 16)) → \(expected)" }
    }

    /// Input the parser must refuse, where, and a fragment of the reason it gives.
    struct Refusal: Sendable, CustomTestStringConvertible {
        let name: String
        let input: [UInt8]
        let offset: Int
        let reason: String
        var testDescription: String { name }

        init(_ name: String, _ text: String, offset: Int, reason: String) {
            self.init(name, Array(text.utf8), offset: offset, reason: reason)
        }

        init(_ name: String, _ input: [UInt8], offset: Int, reason: String) {
            self.name = name
            self.input = input
            self.offset = offset
            self.reason = reason
        }
    }
}

private typealias Vector = CanonicalJSONTests.Vector
private typealias NumberSample = CanonicalJSONTests.NumberSample
private typealias Refusal = CanonicalJSONTests.Refusal

/// Non-ASCII characters are written as `\u{…}` escapes so no editor or pipeline can normalize them.
private let canonicalVectors: [Vector] = [
    // RFC 8785 §3.2.2 input and §3.2.3/§3.2.4 output.
    Vector(
        name: "RFC 8785 §3.2.2 sample",
        input: #"""
            {
              "numbers": [333333333.33333329, 1E30, 4.50,
                          2e-3, 0.000000000000000000000000001],
              "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
              "literals": [null, true, false]
            }
            """#,
        output: #"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"\#u{20AC}$\u000f\nA'B\"\\\\\"/"}"#
    ),
    // cyberphone/json-canonicalization testdata/input and testdata/output, as stored.
    Vector(
        name: "cyberphone arrays.json",
        input: "[\n  56,\n  {\n    \"d\": true,\n    \"10\": null,\n    \"1\": [ ]\n  }\n]",
        output: #"[56,{"1":[],"10":null,"d":true}]"#
    ),
    Vector(
        name: "cyberphone french.json",
        input: """
            {
              "peach": "This sorting order",
              "p\u{E9}ch\u{E9}": "is wrong according to French",
              "p\u{EA}che": "but canonicalization MUST",
              "sin":   "ingnore locale"
            }

            """,
        output: "{\"peach\":\"This sorting order\",\"p\u{E9}ch\u{E9}\":\"is wrong according to French\","
            + "\"p\u{EA}che\":\"but canonicalization MUST\",\"sin\":\"ingnore locale\"}"
    ),
    Vector(
        name: "cyberphone structures.json",
        input: #"""
            {
              "1": {"f": {"f": "hi","F": 5} ,"\n": 56.0},
              "10": { },
              "": "empty",
              "a": { },
              "111": [ { } ],
              "A": { }
            }
            """#,
        output: #"{"":"empty","1":{"\n":56,"f":{"F":5,"f":"hi"}},"10":{},"111":[{}],"A":{},"a":{}}"#
    ),
    Vector(
        name: "cyberphone unicode.json",
        input: #"""
            {
              "Unnormalized Unicode":"\u1e0d\u0307"
            }

            """#,
        output: "{\"Unnormalized Unicode\":\"\u{1E0D}\u{307}\"}"
    ),
    Vector(
        name: "cyberphone values.json",
        input: #"""
            {
              "numbers": [1E30, 4.50, 333333333.33333329, 2e-3, 0.000000000000000000000000001],
              "escaping": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
              "literals": [null, true, false]
            }
            """#,
        output: #"{"escaping":"\#u{20AC}$\u000f\nA'B\"\\\\\"/","literals":[null,true,false],"numbers":[1e+30,4.5,333333333.3333333,0.002,1e-27]}"#
    ),
    Vector(
        name: "cyberphone weird.json",
        input: #"""
            {
              "\u20ac": "Euro Sign",
              "1": "One",
              "\u0080": "Control\u007f",
              "\ud83d\ude02": "Smiley",
              "\u00f6": "Latin Small Letter O With Diaeresis",
              "\ufb33": "Hebrew Letter Dalet With Dagesh",
              "</script>": "Browser Challenge"
            }

            """#,
        output: "{\"1\":\"One\",\"</script>\":\"Browser Challenge\",\"\u{80}\":\"Control\u{7F}\","
            + "\"\u{F6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20AC}\":\"Euro Sign\",\"\u{1F602}\":\"Smiley\","
            + "\"\u{FB33}\":\"Hebrew Letter Dalet With Dagesh\"}"
    ),
    // Later revisions of two cyberphone files, known only from copies in other projects' tests.
    Vector(
        name: "cyberphone weird.json, later revision with \\r and \\n names",
        input: #"""
            {
              "\u20ac": "Euro Sign",
              "\r": "Carriage Return",
              "\u000a": "Newline",
              "1": "One",
              "\u0080": "Control\u007f",
              "\ud83d\ude02": "Smiley",
              "\u00f6": "Latin Small Letter O With Diaeresis",
              "\ufb33": "Hebrew Letter Dalet With Dagesh",
              "</script>": "Browser Challenge"
            }
            """#,
        output: #"{"\n":"Newline","\r":"Carriage Return","1":"One","</script>":"Browser Challenge","#
            + "\"\u{80}\":\"Control\u{7F}\",\"\u{F6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20AC}\":\"Euro Sign\","
            + "\"\u{1F602}\":\"Smiley\",\"\u{FB33}\":\"Hebrew Letter Dalet With Dagesh\"}"
    ),
    Vector(
        name: "cyberphone structures.json, later revision",
        input: #"""
            {
              "1": {"f": {"f": "hi","F": 5} ,"\n": 56.0},
              "10": { },
              "": "empty",
              "a": { },
              "111": [ {"e": "yes","E": "no" } ],
              "A": { }
            }
            """#,
        output: #"{"":"empty","1":{"\n":56,"f":{"F":5,"f":"hi"}},"10":{},"111":[{"E":"no","e":"yes"}],"A":{},"a":{}}"#
    ),
]

/// RFC 8785 §3.2.3: names whose UTF-16 order differs from their scalar order.
private let sortingSampleInput = #"""
    {
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis"
    }
    """#

/// RFC 8785 Appendix B, every finite row.
private let appendixBSamples: [NumberSample] = [
    NumberSample(bits: 0x0000_0000_0000_0000, expected: "0"),
    NumberSample(bits: 0x8000_0000_0000_0000, expected: "0"),
    NumberSample(bits: 0x0000_0000_0000_0001, expected: "5e-324"),
    NumberSample(bits: 0x8000_0000_0000_0001, expected: "-5e-324"),
    NumberSample(bits: 0x7fef_ffff_ffff_ffff, expected: "1.7976931348623157e+308"),
    NumberSample(bits: 0xffef_ffff_ffff_ffff, expected: "-1.7976931348623157e+308"),
    NumberSample(bits: 0x4340_0000_0000_0000, expected: "9007199254740992"),
    NumberSample(bits: 0xc340_0000_0000_0000, expected: "-9007199254740992"),
    NumberSample(bits: 0x4430_0000_0000_0000, expected: "295147905179352830000"),
    NumberSample(bits: 0x44b5_2d02_c7e1_4af5, expected: "9.999999999999997e+22"),
    NumberSample(bits: 0x44b5_2d02_c7e1_4af6, expected: "1e+23"),
    NumberSample(bits: 0x44b5_2d02_c7e1_4af7, expected: "1.0000000000000001e+23"),
    NumberSample(bits: 0x444b_1ae4_d6e2_ef4e, expected: "999999999999999700000"),
    NumberSample(bits: 0x444b_1ae4_d6e2_ef4f, expected: "999999999999999900000"),
    NumberSample(bits: 0x444b_1ae4_d6e2_ef50, expected: "1e+21"),
    NumberSample(bits: 0x3eb0_c6f7_a0b5_ed8c, expected: "9.999999999999997e-7"),
    NumberSample(bits: 0x3eb0_c6f7_a0b5_ed8d, expected: "0.000001"),
    NumberSample(bits: 0x41b3_de43_5555_5553, expected: "333333333.3333332"),
    NumberSample(bits: 0x41b3_de43_5555_5554, expected: "333333333.33333325"),
    NumberSample(bits: 0x41b3_de43_5555_5555, expected: "333333333.3333333"),
    NumberSample(bits: 0x41b3_de43_5555_5556, expected: "333333333.3333334"),
    NumberSample(bits: 0x41b3_de43_5555_5557, expected: "333333333.33333343"),
    NumberSample(bits: 0xbecb_f647_612f_3696, expected: "-0.0000033333333333333333"),
    NumberSample(bits: 0x4314_3ff3_c1cb_0959, expected: "1424953923781206.2"),
    // From draft-rundgren-json-canonicalization-scheme-00, dropped from the RFC's table.
    NumberSample(bits: 0x444b_1ae4_d6e2_ef51, expected: "1.0000000000000001e+21"),
]

private let refusals: [Refusal] = [
    Refusal("invalid UTF-8 byte 0xFF", [0x22, 0x61, 0xFF, 0x22], offset: 2, reason: "invalid UTF-8"),
    Refusal("overlong UTF-8 for '/'", [0x22, 0xC0, 0xAF, 0x22], offset: 1, reason: "invalid UTF-8"),
    Refusal("UTF-8 encoded surrogate", [0x22, 0xED, 0xA0, 0x80, 0x22], offset: 1, reason: "invalid UTF-8"),
    Refusal("UTF-8 beyond U+10FFFF", [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], offset: 1, reason: "invalid UTF-8"),
    Refusal("truncated UTF-8 sequence", [0x22, 0xE2, 0x82], offset: 1, reason: "invalid UTF-8"),
    Refusal("invalid UTF-8 outside a string", [0x5B, 0x80, 0x5D], offset: 1, reason: "invalid UTF-8"),
    Refusal("duplicate key", #"{"a":1,"a":2}"#, offset: 7, reason: #"duplicate key "a""#),
    Refusal("duplicate key after unescaping", #"{"a":1,"\u0061":2}"#, offset: 7, reason: #"duplicate key "a""#),
    Refusal("duplicate key in a nested object", #"{"a":{"b":1,"b":1}}"#, offset: 12, reason: #"duplicate key "b""#),
    Refusal("canonically equivalent keys", #"{"\u00e9":1,"e\u0301":2}"#, offset: 12, reason: "canonically equivalent"),
    Refusal("lone high surrogate", #""\ud800""#, offset: 1, reason: "lone surrogate \\ud800"),
    Refusal("high surrogate then a letter", #""\ud800A""#, offset: 1, reason: "lone surrogate"),
    Refusal("high surrogate then a non-surrogate escape", #""\ud800\u0041""#, offset: 1, reason: "lone surrogate"),
    Refusal("lone low surrogate", #""\udc00""#, offset: 1, reason: "lone surrogate \\udc00"),
    Refusal("leading zero", "01", offset: 1, reason: "leading zero"),
    Refusal("negative leading zero", "[-007]", offset: 3, reason: "leading zero"),
    Refusal("trailing comma in an array", "[1,2,]", offset: 5, reason: "trailing comma"),
    Refusal("trailing comma in an object", #"{"a":1,}"#, offset: 7, reason: "trailing comma"),
    Refusal("unterminated string", #"["abc"#, offset: 5, reason: "unterminated string opened at byte 1"),
    Refusal("input ends inside an escape", #""ab\"#, offset: 4, reason: "unterminated string"),
    Refusal("raw tab inside a string", [0x22, 0x61, 0x09, 0x62, 0x22], offset: 2, reason: "control character U+0009"),
    Refusal("raw NUL inside a string", [0x22, 0x00, 0x22], offset: 1, reason: "control character U+0000"),
    Refusal("NaN", "NaN", offset: 0, reason: "expected a JSON value, found 'N'"),
    Refusal("Infinity", "[Infinity]", offset: 1, reason: "expected a JSON value"),
    Refusal("-Infinity", "-Infinity", offset: 1, reason: "expected a digit after '-'"),
    Refusal("number overflowing a double", "1e400", offset: 0, reason: "beyond the range of an IEEE double"),
    Refusal("negative number overflowing a double", "[0, -1e400]", offset: 4, reason: "beyond the range of an IEEE double"),
    Refusal("long integer overflowing a double", String(repeating: "9", count: 400), offset: 0, reason: "beyond the range"),
    Refusal(
        "arrays nested 65 deep", String(repeating: "[", count: 65) + String(repeating: "]", count: 65),
        offset: 64, reason: "nest deeper than 64"
    ),
    Refusal(
        "objects nested 65 deep", String(repeating: #"{"a":"#, count: 65) + "1" + String(repeating: "}", count: 65),
        offset: 320, reason: "nest deeper than 64"
    ),
    Refusal("trailing garbage", "{} x", offset: 3, reason: "unexpected 'x' after the JSON value"),
    Refusal("two values", "1 2", offset: 2, reason: "after the JSON value"),
    Refusal("empty input", "", offset: 0, reason: "found end of input"),
    Refusal("whitespace only", " \n\t", offset: 3, reason: "found end of input"),
    Refusal("byte order mark", [0xEF, 0xBB, 0xBF, 0x7B, 0x7D], offset: 0, reason: "expected a JSON value"),
    Refusal("invalid escape", #""\x""#, offset: 1, reason: "invalid escape"),
    Refusal("short \\u escape", #""\u12G4""#, offset: 5, reason: "four hex digits"),
    Refusal("single quotes", "'a'", offset: 0, reason: "expected a JSON value"),
    Refusal("plus sign", "+1", offset: 0, reason: "expected a JSON value"),
    Refusal("bare leading point", ".5", offset: 0, reason: "expected a JSON value"),
    Refusal("bare trailing point", "1.", offset: 2, reason: "expected a digit after '.'"),
    Refusal("empty exponent", "1e+", offset: 3, reason: "expected a digit in the exponent"),
    Refusal("truncated literal", "tru", offset: 0, reason: "expected true"),
    Refusal("capitalised literal", "True", offset: 0, reason: "expected a JSON value"),
    Refusal("missing colon", #"{"a" 1}"#, offset: 5, reason: "expected ':'"),
    Refusal("missing comma", "[1 2]", offset: 3, reason: "expected ',' or ']'"),
    Refusal("missing comma between members", #"{"a":1 "b":2}"#, offset: 7, reason: "expected ',' or '}'"),
    Refusal("unquoted key", "{a:1}", offset: 1, reason: "expected a member name"),
    Refusal("unclosed array", "[1", offset: 2, reason: "expected ',' or ']', found end of input"),
]

@Suite struct CanonicalJSONTests {
    // MARK: Published vectors

    @Test(arguments: canonicalVectors)
    func publishedVectorCanonicalizes(_ vector: Vector) throws {
        #expect(try canonical(vector.input) == Array(vector.output.utf8))
    }

    @Test(arguments: canonicalVectors)
    func canonicalFormRoundTrips(_ vector: Vector) throws {
        let once = try canonical(vector.input)
        #expect(try JSONValue.parse(once).canonicalBytes() == once)
    }

    @Test func rfcSampleMatchesTheUTF8BytesOfSection324() throws {
        let expected = bytes(fromHex: """
            7b 22 6c 69 74 65 72 61 6c 73 22 3a 5b 6e 75 6c 6c 2c 74 72
            75 65 2c 66 61 6c 73 65 5d 2c 22 6e 75 6d 62 65 72 73 22 3a
            5b 33 33 33 33 33 33 33 33 33 2e 33 33 33 33 33 33 33 2c 31
            65 2b 33 30 2c 34 2e 35 2c 30 2e 30 30 32 2c 31 65 2d 32 37
            5d 2c 22 73 74 72 69 6e 67 22 3a 22 e2 82 ac 24 5c 75 30 30
            30 66 5c 6e 41 27 42 5c 22 5c 5c 5c 5c 5c 22 2f 22 7d
            """)
        #expect(try canonical(canonicalVectors[0].input) == expected)
    }

    @Test func namesSortByUTF16CodeUnitsAsInRFCSection323() throws {
        let output = try canonical(sortingSampleInput)
        let sorted = try #require(try JSONValue.parse(output).objectValue)
        // Parsing forgets order, so read it back from the bytes: each value's position in the output.
        let order = [
            "Carriage Return", "One", "Control", "Latin Small Letter O With Diaeresis", "Euro Sign",
            "Emoji: Grinning Face", "Hebrew Letter Dalet With Dagesh",
        ]
        let positions = order.map { value in output.firstRange(of: Array("\"\(value)\"".utf8))?.lowerBound }
        #expect(positions.allSatisfy { $0 != nil })
        #expect(positions.compactMap { $0 } == positions.compactMap { $0 }.sorted())
        #expect(sorted.count == 7)
        let expected = #"{"\r":"Carriage Return","1":"One","#
            + "\"\u{80}\":\"Control\",\"\u{F6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20AC}\":\"Euro Sign\","
            + "\"\u{1F600}\":\"Emoji: Grinning Face\",\"\u{FB33}\":\"Hebrew Letter Dalet With Dagesh\"}"
        #expect(output == Array(expected.utf8))
        #expect(try JSONValue.parse(output).canonicalBytes() == output)
    }

    @Test func surrogatePairNameSortsBeforeAHigherBMPName() throws {
        // U+1F600 is D83D DE00 in UTF-16, below U+FFFD; by scalar or UTF-8 it would sort after.
        let value = JSONValue.object(["\u{FFFD}": .integer(1), "\u{1F600}": .integer(2)])
        #expect(try value.canonicalBytes() == Array("{\"\u{1F600}\":2,\"\u{FFFD}\":1}".utf8))
    }

    // MARK: Numbers

    @Test(arguments: appendixBSamples)
    func appendixBNumberSerializes(_ sample: NumberSample) throws {
        #expect(try JSONValue.double(Double(bitPattern: sample.bits)).canonicalBytes() == Array(sample.expected.utf8))
    }

    @Test(arguments: appendixBSamples)
    func appendixBNumberRoundTrips(_ sample: NumberSample) throws {
        let once = try JSONValue.array([.double(Double(bitPattern: sample.bits))]).canonicalBytes()
        #expect(try JSONValue.parse(once).canonicalBytes() == once)
        let reparsed = try #require(try JSONValue.parse(once).arrayValue?.first)
        switch reparsed {
        case .integer(let value): #expect(Double(value) == Double(bitPattern: sample.bits))
        case .double(let value): #expect(value == Double(bitPattern: sample.bits))
        default: Issue.record("a number came back as \(reparsed)")
        }
    }

    @Test(arguments: [0x7fff_ffff_ffff_ffff, 0x7ff8_0000_0000_0000, 0x7ff0_0000_0000_0000, 0xfff0_0000_0000_0000] as [UInt64])
    func nonFiniteDoubleIsRefused(_ bits: UInt64) {
        let error = #expect(throws: JSONError.self) {
            try JSONValue.array([.double(Double(bitPattern: bits))]).canonicalBytes()
        }
        #expect(error?.offset == 0)
        #expect(error?.reason.contains("not a JSON number") == true)
    }

    @Test(arguments: [
        (1e21, "1e+21"), (1e20, "100000000000000000000"), (1.2345678901234568e20, "123456789012345680000"),
        (1e-6, "0.000001"), (1e-7, "1e-7"), (1.5e-7, "1.5e-7"), (1.25e21, "1.25e+21"), (100, "100"),
        (123.456, "123.456"), (0.1 + 0.2, "0.30000000000000004"), (-1.5, "-1.5"), (0.5, "0.5"),
        (2.5e-5, "0.000025"), (-0.0, "0"), (1e300, "1e+300"), (2.2250738585072014e-308, "2.2250738585072014e-308"),
    ] as [(Double, String)])
    func doubleFollowsECMAScriptLayout(_ value: Double, _ expected: String) throws {
        #expect(try JSONValue.double(value).canonicalBytes() == Array(expected.utf8))
    }

    @Test(arguments: [
        ("1E2", "100"), ("-0", "0"), ("-0.0", "0"), ("0e10", "0"), ("1e-400", "0"), ("-1e-400", "0"), ("0.1e1", "1"),
        ("10.0e-1", "1"), ("56.0", "56"), ("4.50", "4.5"), ("9223372036854775808", "9223372036854776000"),
        ("-9223372036854775809", "-9223372036854776000"), ("9007199254740992", "9007199254740992"),
        ("1e23", "1e+23"), ("0.0000001", "1e-7"),
    ])
    func numberTokenCanonicalizes(_ input: String, _ expected: String) throws {
        #expect(try canonical(input) == Array(expected.utf8))
    }

    @Test(arguments: [
        ("0", JSONValue.integer(0)), ("-0", .integer(0)), ("42", .integer(42)), ("1.0", .double(1)), ("1e2", .double(100)),
        ("9223372036854775807", .integer(.max)), ("-9223372036854775808", .integer(.min)),
        ("9223372036854775808", .double(9_223_372_036_854_775_808)), ("-1.5E-3", .double(-0.0015)),
    ])
    func numberTokenParsesToTheRightCase(_ input: String, _ expected: JSONValue) throws {
        #expect(try JSONValue.parse(Array(input.utf8)) == expected)
    }

    @Test(arguments: [0, 1, -1, 1 << 53, -(1 << 53), 1 << 53 - 1] as [Int64])
    func integerWithinTwoToThe53IsWrittenAsDigits(_ value: Int64) throws {
        #expect(try JSONValue.integer(value).canonicalBytes() == Array(String(value).utf8))
    }

    @Test(arguments: [1 << 53 + 1, -(1 << 53) - 1, .max, .min] as [Int64])
    func integerBeyondTwoToThe53IsRefused(_ value: Int64) {
        let error = #expect(throws: JSONError.self) { try JSONValue.object(["n": .integer(value)]).canonicalBytes() }
        #expect(error?.offset == 0)
        #expect(error?.reason.contains("beyond ±2^53") == true)
    }

    @Test func parsedIntegerBeyondTwoToThe53IsRefusedWhenCanonicalized() throws {
        let value = try JSONValue.parse(Array("[9007199254740993]".utf8))
        #expect(value == .array([.integer(9_007_199_254_740_993)]))
        #expect(throws: JSONError.self) { try value.canonicalBytes() }
    }

    // MARK: Strings

    @Test func stringsEscapeOnlyWhatJCSEscapes() throws {
        var raw = ""
        for code in 0..<0x20 { raw.unicodeScalars.append(Unicode.Scalar(UInt8(code))) }
        raw += "\u{7F}\u{80}/<>&'\u{2028}\u{2029}\u{FEFF}\u{1F600}\"\\"
        let expected = #"\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f"#
            + #"\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f"#
            + "\u{7F}\u{80}/<>&'\u{2028}\u{2029}\u{FEFF}\u{1F600}" + #"\"\\"#
        #expect(try JSONValue.string(raw).canonicalBytes() == Array("\"\(expected)\"".utf8))
    }

    @Test(arguments: [
        (#""\ud83d\ude00""#, "\u{1F600}"), (#""\uD83D\uDE00""#, "\u{1F600}"), (#""\u0000""#, "\u{0}"),
        (#""\/\b\f\n\r\t\"\\""#, "/\u{8}\u{C}\n\r\t\"\\"), (#""\u00e9""#, "\u{E9}"), ("\"\u{E9}\"", "\u{E9}"),
    ])
    func escapesDecode(_ input: String, _ expected: String) throws {
        let value = try JSONValue.parse(Array(input.utf8))
        let decoded = try #require(value.stringValue)
        #expect(Array(decoded.unicodeScalars) == Array(expected.unicodeScalars))
    }

    @Test func stringKeepsItsScalarsUnnormalized() throws {
        // NFC would turn "e" + U+0301 into U+00E9; JCS forbids any normalization.
        #expect(try canonical(#"["e\u0301"]"#) == Array("[\"e\u{301}\"]".utf8))
        #expect(try canonical(#"["\u00e9"]"#) == Array("[\"\u{E9}\"]".utf8))
    }

    // MARK: Refusals

    @Test(arguments: refusals)
    func malformedInputIsRefused(_ refusal: Refusal) {
        let error = #expect(throws: JSONError.self) { try JSONValue.parse(refusal.input) }
        #expect(error?.offset == refusal.offset)
        #expect(error?.reason.contains(refusal.reason) == true, "reason: \(error?.reason ?? "none")")
    }

    @Test func nestingOf64IsAccepted() throws {
        let arrays = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(try canonical(arrays) == Array(arrays.utf8))
        let objects = String(repeating: #"{"a":"#, count: 64) + "1" + String(repeating: "}", count: 64)
        #expect(try canonical(objects) == Array(objects.utf8))
    }

    @Test func errorDescriptionNamesTheByte() {
        #expect(JSONError(offset: 7, reason: #"duplicate key "a""#).description == #"byte 7: duplicate key "a""#)
    }

    // MARK: Accessors

    @Test func accessorsReadTheMatchingCase() throws {
        let value = try JSONValue.parse(Array(#"{"s":"x","i":7,"d":7.0,"f":7.5,"big":1e19,"a":[1],"o":{"k":null}}"#.utf8))
        #expect(value["s"]?.stringValue == "x")
        #expect(value["i"]?.int64Value == 7)
        #expect(value["d"]?.int64Value == 7)
        #expect(value["f"]?.int64Value == nil)
        #expect(value["big"]?.int64Value == nil)
        #expect(value["a"]?.arrayValue == [.integer(1)])
        #expect(value["o"]?.objectValue == ["k": .null])
        #expect(value["o"]?["k"] == .null)
        #expect(value["missing"] == nil)
        #expect(value["s"]?["k"] == nil)
        #expect(value["s"]?.int64Value == nil)
        #expect(value["i"]?.stringValue == nil)
        #expect(value.arrayValue == nil)
        #expect(JSONValue.double(-0.0).int64Value == 0)
        #expect(JSONValue.double(9_223_372_036_854_775_808).int64Value == nil)
        #expect(JSONValue.double(.nan).int64Value == nil)
    }

    @Test func whitespaceAroundTheValueIsAllowed() throws {
        #expect(try JSONValue.parse(Array(" \t\r\n true \n".utf8)) == .bool(true))
        #expect(try canonical("[ 1 , { \"b\" : false , \"a\" : null } ]") == Array(#"[1,{"a":null,"b":false}]"#.utf8))
    }
}
