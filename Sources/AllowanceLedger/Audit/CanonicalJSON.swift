/// A JSON value as RFC 8259 defines it; objects never hold a key twice.
///
/// Keys and strings are Swift `String`s, which compare by Unicode canonical equivalence: "é" written as one
/// scalar and as "e" plus a combining accent are equal here, though JSON counts them as different names.
/// `parse` therefore refuses an object holding both rather than dropping one. The scalars themselves are
/// kept as parsed, so `canonicalBytes` never normalizes; compare canonical bytes, not values, when the exact
/// text matters.
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// A number token without fraction or exponent that fits `Int64`.
    case integer(Int64)
    /// Any other number.
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])
}

/// Why `JSONValue.parse` refused its input, or why `canonicalBytes` cannot write a value.
public struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Byte offset in the input where it went wrong; 0 for serialization errors.
    public let offset: Int
    public let reason: String

    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }

    public var description: String { "byte \(offset): \(reason)" }
}

// MARK: - Accessors

extension JSONValue {
    /// The member named `key` of an object; nil for a missing member or a value that is not an object.
    public subscript(key: String) -> JSONValue? {
        objectValue?[key]
    }

    public var stringValue: String? {
        if case .string(let value) = self { value } else { nil }
    }

    /// An `.integer`, or a `.double` that is integral and exactly an `Int64` (a writer may have sent `5.0`).
    public var int64Value: Int64? {
        switch self {
        case .integer(let value): value
        case .double(let value): Int64(exactly: value)
        default: nil
        }
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let elements) = self { elements } else { nil }
    }

    public var objectValue: [String: JSONValue]? {
        if case .object(let members) = self { members } else { nil }
    }
}

// MARK: - Parsing

extension JSONValue {
    /// How deep arrays and objects may nest; the parser recurses once per level, so this bounds its stack.
    static let nestingDepthMax = 64

    /// Parses exactly one JSON text (whitespace around it allowed): strict RFC 8259, input must be valid UTF-8,
    /// duplicate keys, lone surrogates in \u escapes, leading zeros, trailing commas, NaN etc. are refused;
    /// nesting deeper than 64 is refused; numbers that overflow Double (e.g. 1e400) are refused.
    public static func parse(_ bytes: [UInt8]) throws(JSONError) -> JSONValue {
        // Checked up front so the parser can copy string bytes as they are and build each String without
        // any chance of a replacement character slipping in.
        if let offset = bytes.withUnsafeBufferPointer({ firstInvalidUTF8Offset($0) }) {
            throw JSONError(offset: offset, reason: "invalid UTF-8; the document must be saved as UTF-8")
        }
        var parser = Parser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.index == bytes.count else {
            throw JSONError(offset: parser.index, reason: "unexpected \(parser.describeNext()) after the JSON value")
        }
        return value
    }
}

/// A recursive-descent parser over bytes already known to be valid UTF-8.
private struct Parser {
    let bytes: [UInt8]
    var index = 0

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private var next: UInt8? { index < bytes.count ? bytes[index] : nil }

    mutating func skipWhitespace() {
        while let byte = next, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
            index += 1
        }
    }

    /// The next byte as a reader would name it in an error.
    func describeNext() -> String {
        guard let byte = next else { return "end of input" }
        if byte >= 0x21 && byte <= 0x7E { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x\(hex(byte))"
    }

    private func error(_ reason: String) -> JSONError {
        JSONError(offset: index, reason: reason)
    }

    /// Parses the value at `index`; `depth` counts the arrays and objects around it.
    mutating func parseValue(depth: Int) throws(JSONError) -> JSONValue {
        guard let byte = next else { throw error("expected a JSON value, found end of input") }
        switch byte {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default:
            throw error("expected a JSON value, found \(describeNext()) (NaN, Infinity and single quotes are not JSON)")
        }
    }

    private mutating func expectLiteral(_ literal: String) throws(JSONError) {
        let expected = Array(literal.utf8)
        guard bytes[index...].starts(with: expected) else {
            throw error("invalid literal; expected \(literal)")
        }
        index += expected.count
    }

    private mutating func checkDepth(_ depth: Int) throws(JSONError) {
        guard depth <= JSONValue.nestingDepthMax else {
            throw error("arrays and objects nest deeper than \(JSONValue.nestingDepthMax) levels")
        }
    }

    private mutating func parseArray(depth: Int) throws(JSONError) -> JSONValue {
        try checkDepth(depth)
        index += 1
        skipWhitespace()
        var elements: [JSONValue] = []
        if next == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            switch next {
            case UInt8(ascii: ","):
                index += 1
                skipWhitespace()
                if next == UInt8(ascii: "]") { throw error("trailing comma before ']'; remove it") }
            case UInt8(ascii: "]"):
                index += 1
                return .array(elements)
            default:
                throw error("expected ',' or ']', found \(describeNext())")
            }
        }
    }

    private mutating func parseObject(depth: Int) throws(JSONError) -> JSONValue {
        try checkDepth(depth)
        index += 1
        skipWhitespace()
        var members: [String: JSONValue] = [:]
        if next == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            guard next == UInt8(ascii: "\"") else {
                throw error("expected a member name in double quotes, found \(describeNext())")
            }
            let keyOffset = index
            let key = try parseString()
            if let existing = members.index(forKey: key) {
                let earlier = members.keys[existing]
                let reason = earlier.unicodeScalars.elementsEqual(key.unicodeScalars)
                    ? "duplicate key \"\(key)\""
                    : "duplicate key \"\(key)\": canonically equivalent to an earlier key written with other code points"
                throw JSONError(offset: keyOffset, reason: reason)
            }
            skipWhitespace()
            guard next == UInt8(ascii: ":") else { throw error("expected ':' after a member name, found \(describeNext())") }
            index += 1
            skipWhitespace()
            members[key] = try parseValue(depth: depth)
            skipWhitespace()
            switch next {
            case UInt8(ascii: ","):
                index += 1
                skipWhitespace()
                if next == UInt8(ascii: "}") { throw error("trailing comma before '}'; remove it") }
            case UInt8(ascii: "}"):
                index += 1
                return .object(members)
            default:
                throw error("expected ',' or '}', found \(describeNext())")
            }
        }
    }

    private mutating func parseString() throws(JSONError) -> String {
        let opening = index
        index += 1
        var utf8: [UInt8] = []
        while let byte = next {
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: utf8, as: UTF8.self)
            case UInt8(ascii: "\\"):
                try parseEscape(into: &utf8)
            case 0x00..<0x20:
                throw error("control character U+00\(hex(byte)) inside a string; write it as \\u00\(hex(byte))")
            default:
                utf8.append(byte)
                index += 1
            }
        }
        throw error("unterminated string opened at byte \(opening); add the closing '\"'")
    }

    private mutating func parseEscape(into utf8: inout [UInt8]) throws(JSONError) {
        let escapeOffset = index
        index += 1
        let simple: UInt8?
        switch next {
        case UInt8(ascii: "\""): simple = 0x22
        case UInt8(ascii: "\\"): simple = 0x5C
        case UInt8(ascii: "/"): simple = 0x2F
        case UInt8(ascii: "b"): simple = 0x08
        case UInt8(ascii: "f"): simple = 0x0C
        case UInt8(ascii: "n"): simple = 0x0A
        case UInt8(ascii: "r"): simple = 0x0D
        case UInt8(ascii: "t"): simple = 0x09
        case UInt8(ascii: "u"): simple = nil
        case nil: throw error("unterminated string: input ends inside an escape")
        default:
            throw JSONError(offset: escapeOffset, reason: "invalid escape before \(describeNext()); JSON allows \\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX")
        }
        index += 1
        if let simple {
            utf8.append(simple)
            return
        }
        let unit = try parseHex4()
        let value: UInt32
        switch unit {
        case 0xD800...0xDBFF:
            let loneHigh = JSONError(
                offset: escapeOffset,
                reason: "lone surrogate \\u\(hex(unit)); a high surrogate must be followed by a \\u escape of a low one (DC00-DFFF)"
            )
            guard bytes.count - index >= 2, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                throw loneHigh
            }
            index += 2
            let low = try parseHex4()
            guard (0xDC00...0xDFFF).contains(low) else { throw loneHigh }
            value = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
        case 0xDC00...0xDFFF:
            throw JSONError(offset: escapeOffset, reason: "lone surrogate \\u\(hex(unit)); a low surrogate must follow a high one")
        default:
            value = UInt32(unit)
        }
        guard let scalar = Unicode.Scalar(value) else { preconditionFailure("surrogates are handled above") }
        UTF8.encode(scalar) { utf8.append($0) }
    }

    private mutating func parseHex4() throws(JSONError) -> UInt16 {
        var unit: UInt16 = 0
        for _ in 0..<4 {
            let digit: UInt8
            switch next {
            case let byte? where (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte): digit = byte - UInt8(ascii: "0")
            case let byte? where (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte): digit = byte - UInt8(ascii: "a") + 10
            case let byte? where (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("\\u must be followed by four hex digits, found \(describeNext())")
            }
            unit = unit << 4 | UInt16(digit)
            index += 1
        }
        return unit
    }

    private var nextIsDigit: Bool {
        guard let byte = next else { return false }
        return (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private mutating func skipDigits() {
        while nextIsDigit { index += 1 }
    }

    private mutating func parseNumber() throws(JSONError) -> JSONValue {
        let start = index
        var isInteger = true
        if next == UInt8(ascii: "-") { index += 1 }
        guard nextIsDigit else { throw error("expected a digit after '-', found \(describeNext())") }
        if next == UInt8(ascii: "0") {
            index += 1
            if nextIsDigit { throw error("leading zero in a number; write 1, not 01") }
        } else {
            skipDigits()
        }
        if next == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard nextIsDigit else { throw error("expected a digit after '.', found \(describeNext())") }
            skipDigits()
        }
        if next == UInt8(ascii: "e") || next == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if next == UInt8(ascii: "+") || next == UInt8(ascii: "-") { index += 1 }
            guard nextIsDigit else { throw error("expected a digit in the exponent, found \(describeNext())") }
            skipDigits()
        }
        // The grammar above already refused everything Swift's parsers accept beyond JSON (hex, "inf", "nan").
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        if isInteger, let integer = Int64(text) {
            return .integer(integer)
        }
        guard let double = Double(text), double.isFinite else {
            throw JSONError(offset: start, reason: "number is beyond the range of an IEEE double (about ±1.8e308)")
        }
        return .double(double)
    }
}

// MARK: - Canonical serialization (RFC 8785)

extension JSONValue {
    /// RFC 8785 canonical UTF-8 bytes: no whitespace, object members sorted by their keys' UTF-16 code units,
    /// strings escaped as JCS says (only \" \\ \b \f \n \r \t and \u00XX lowercase hex for other controls < 0x20;
    /// everything else literal UTF-8, including / and non-ASCII), numbers per ECMAScript Number.prototype.toString.
    /// `.integer(v)` with |v| <= 2^53 is written as its decimal digits; beyond that it throws (not exactly representable
    /// as an IEEE double, which JCS requires). `.double` that is NaN or infinite throws. -0 is written "0".
    public func canonicalBytes() throws(JSONError) -> [UInt8] {
        var out: [UInt8] = []
        try appendCanonical(to: &out)
        return out
    }

    private func appendCanonical(to out: inout [UInt8]) throws(JSONError) {
        switch self {
        case .null:
            out.append(contentsOf: "null".utf8)
        case .bool(let value):
            out.append(contentsOf: (value ? "true" : "false").utf8)
        case .integer(let value):
            // A reader holding numbers as doubles (as JCS assumes) would silently change a larger integer.
            guard value.magnitude <= 1 << 53 else {
                throw JSONError(
                    offset: 0,
                    reason: "integer \(value) is beyond ±2^53, so no IEEE double holds it exactly; carry it as a string"
                )
            }
            out.append(contentsOf: String(value).utf8)
        case .double(let value):
            try appendECMAScriptNumber(value, to: &out)
        case .string(let value):
            Self.appendQuoted(value, to: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                try element.appendCanonical(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            // JCS orders names as ECMAScript compares strings, by UTF-16 code unit. Swift's `<` on String compares
            // normalized scalars instead: it puts U+1F600 (a surrogate pair, D83D DE00) after U+FB33, and U+FB33
            // (which decomposes to U+05D3 U+05BC) before U+20AC.
            let keys = members.keys.sorted { $0.utf16.lexicographicallyPrecedes($1.utf16) }
            out.append(UInt8(ascii: "{"))
            for (position, key) in keys.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                Self.appendQuoted(key, to: &out)
                out.append(UInt8(ascii: ":"))
                guard let member = members[key] else { preconditionFailure("key came from the same dictionary") }
                try member.appendCanonical(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }
}

extension JSONValue {
    /// Writes `string` quoted as ECMAScript's JSON.stringify does, which is what JCS requires: the one way this package
    /// writes a JSON string, the CLI's `--json` output included.
    package static func appendQuoted(_ string: String, to out: inout [UInt8]) {
        appendJSONString(string, to: &out)
    }
}

private func appendJSONString(_ string: String, to out: inout [UInt8]) {
    out.append(UInt8(ascii: "\""))
    // Every byte of a multi-byte UTF-8 sequence is >= 0x80, so looking at single bytes never splits a character.
    for byte in string.utf8 {
        switch byte {
        case 0x22: out.append(contentsOf: [0x5C, 0x22])
        case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
        case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
        case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
        case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
        case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
        case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
        case 0x00..<0x20: out.append(contentsOf: "\\u00\(hex(byte))".utf8)
        default: out.append(byte)
        }
    }
    out.append(UInt8(ascii: "\""))
}

/// Writes `value` as ECMAScript's Number::toString (ECMA-262 §6.1.6.1.20) does, as RFC 8785 §3.2.2.3 requires.
private func appendECMAScriptNumber(_ value: Double, to out: inout [UInt8]) throws(JSONError) {
    guard value.isFinite else {
        throw JSONError(offset: 0, reason: "\(value) is not a JSON number; JCS has no form for NaN or infinity")
    }
    if value == 0 {
        out.append(UInt8(ascii: "0"))  // -0 too: ECMAScript writes both zeros as "0"
        return
    }
    if value < 0 { out.append(UInt8(ascii: "-")) }
    let (digits, n) = shortestDecimal(value.magnitude)
    let k = digits.count
    let zero = UInt8(ascii: "0")
    if k <= n && n <= 21 {
        out.append(contentsOf: digits)
        out.append(contentsOf: repeatElement(zero, count: n - k))
    } else if 0 < n && n <= 21 {
        out.append(contentsOf: digits[..<n])
        out.append(UInt8(ascii: "."))
        out.append(contentsOf: digits[n...])
    } else if -6 < n && n <= 0 {
        out.append(contentsOf: [zero, UInt8(ascii: ".")])
        out.append(contentsOf: repeatElement(zero, count: -n))
        out.append(contentsOf: digits)
    } else {
        out.append(digits[0])
        if k > 1 {
            out.append(UInt8(ascii: "."))
            out.append(contentsOf: digits[1...])
        }
        out.append(UInt8(ascii: "e"))
        out.append(n - 1 >= 0 ? UInt8(ascii: "+") : UInt8(ascii: "-"))
        out.append(contentsOf: String((n - 1).magnitude).utf8)
    }
}

/// The shortest decimal digits d₁…dₖ that read back as `magnitude` (finite, > 0), and n with
/// magnitude ≈ 0.d₁…dₖ × 10ⁿ: the starting point of ECMAScript's Number::toString.
///
/// Swift's `description` already chooses those digits, and on a tie the ones nearest the exact value, then the
/// even one, as ECMAScript's Note 2 asks. Only its layout ("1e-05", "100.0") differs, so this reads the digits and
/// exponent back out of it instead of reimplementing shortest round-trip conversion.
private func shortestDecimal(_ magnitude: Double) -> (digits: [UInt8], n: Int) {
    let text = Array(magnitude.description.utf8)
    var digits: [UInt8] = []
    var digitsBeforePoint: Int?
    var exponent = 0
    var position = 0
    scan: while position < text.count {
        let byte = text[position]
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            digits.append(byte)
        case UInt8(ascii: "."):
            digitsBeforePoint = digits.count
        case UInt8(ascii: "e"):
            guard let parsed = Int(String(decoding: text[(position + 1)...], as: UTF8.self)) else {
                preconditionFailure("unexpected exponent in Double.description \"\(magnitude.description)\"")
            }
            exponent = parsed
            break scan
        default:
            preconditionFailure("unexpected character in Double.description \"\(magnitude.description)\"")
        }
        position += 1
    }
    var n = (digitsBeforePoint ?? digits.count) + exponent
    let leadingZeros = digits.prefix { $0 == UInt8(ascii: "0") }.count
    digits.removeFirst(leadingZeros)
    n -= leadingZeros
    while digits.last == UInt8(ascii: "0") { digits.removeLast() }
    precondition(!digits.isEmpty, "a non-zero double has a non-zero digit")
    return (digits, n)
}

/// Two lowercase hex digits, as JCS writes \u00XX escapes.
private func hex(_ byte: UInt8) -> String {
    let digits = Array("0123456789abcdef".utf8)
    return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]], as: UTF8.self)
}

/// Four lowercase hex digits, for naming a UTF-16 code unit in an error.
private func hex(_ unit: UInt16) -> String {
    hex(UInt8(unit >> 8)) + hex(UInt8(unit & 0xFF))
}
