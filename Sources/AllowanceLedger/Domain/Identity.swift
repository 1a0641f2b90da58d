/// Masks every run of 9 to 13 digits (the lengths of phone numbers and national IDs; spaces, dots, dashes and
/// parentheses between them allowed, up to two in a row) down to its last three: what a user typed into the wrong column may be a phone number or national ID,
/// and errors echo it. In a longer run (two numbers side by side, or an item reference such as
/// `AL-202611-000001-0000001`), each unbroken group of 9 or more digits is masked and the rest kept.
public func redactIdentifiers(_ text: String) -> String {
    // Most text holds fewer digits than the shortest identifier: nothing to mask, no scalars to copy.
    var digits = 0
    for byte in text.utf8 where byte >= 0x30 && byte <= 0x39 { digits += 1 }
    if digits < 9 { return text }
    let scalars = Array(text.unicodeScalars)
    var out = String.UnicodeScalarView()
    var index = 0
    func isDigit(_ s: Unicode.Scalar) -> Bool { s.value >= 0x30 && s.value <= 0x39 }
    func isSeparator(_ s: Unicode.Scalar) -> Bool { s == " " || s == "." || s == "-" || s == "(" || s == ")" }
    while index < scalars.count {
        guard isDigit(scalars[index]) else {
            out.append(scalars[index])
            index += 1
            continue
        }
        var end = index
        var digits = ""
        var last = index
        while end < scalars.count {
            if isDigit(scalars[end]) {
                digits.unicodeScalars.append(scalars[end])
                last = end
                end += 1
            } else if isSeparator(scalars[end]), end + 1 < scalars.count, isDigit(scalars[end + 1]) {
                end += 1
            } else if isSeparator(scalars[end]), end + 2 < scalars.count, isSeparator(scalars[end + 1]), isDigit(scalars[end + 2]) {
                // `(091) 234-5678`: a closing parenthesis and a space.
                end += 2
            } else {
                break
            }
        }
        if (9...13).contains(digits.count) {
            out.append(contentsOf: maskTail(digits).unicodeScalars)
        } else if digits.count > 13 {
            var group = index
            while group <= last {
                guard isDigit(scalars[group]) else {
                    out.append(scalars[group])
                    group += 1
                    continue
                }
                var groupEnd = group
                while groupEnd <= last, isDigit(scalars[groupEnd]) { groupEnd += 1 }
                let run = scalars[group..<groupEnd]
                if run.count >= 9 {
                    out.append(contentsOf: String(repeating: "*", count: run.count - 3).unicodeScalars)
                    out.append(contentsOf: run.suffix(3))
                } else {
                    out.append(contentsOf: run)
                }
                group = groupEnd
            }
        } else {
            out.append(contentsOf: scalars[index...last])
        }
        index = last + 1
    }
    return String(out)
}

/// True when a code written by someone else is itself a phone number (in any spelling) or a 12-digit national ID,
/// and so must be masked like one.
///
/// See `redactIdentifierRuns` for codes that hold one among other characters.
public func looksLikeIdentifier(_ text: String) -> Bool {
    var text = text
    let isNumber = text.withUTF8 { bytes in
        if case .success = Result(catching: { () throws(MSISDNError) in try MSISDN.number(bytes) }) { return true }
        return false
    }
    return isNumber || (text.utf8.count == 12 && text.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 })
}

/// Masks, inside a code written by someone else (a carrier's transaction id or reason code), each run of digits that is
/// itself a phone number or a 12-digit national ID (`TX-84320758950` → `TX-********950`), keeping the code's other
/// digits: `VI202611000100000001` stays traceable.
public func redactIdentifierRuns(_ text: String) -> String {
    let utf8 = Array(text.utf8)
    var runs: [Range<Int>] = []
    var index = 0
    while index < utf8.count {
        guard utf8[index] &- 0x30 <= 9 else {
            index += 1
            continue
        }
        var end = index
        while end < utf8.count, utf8[end] &- 0x30 <= 9 { end += 1 }
        // Phone numbers are 9 to 13 digits in any spelling, national IDs 12: a longer or shorter run is something else.
        if (9...13).contains(end - index) {
            // A `+` before the run belongs to an international number (`+84…`).
            let plus = index > 0 && utf8[index - 1] == UInt8(ascii: "+")
            if looksLikeIdentifier((plus ? "+" : "") + String(decoding: utf8[index..<end], as: UTF8.self)) { runs.append(index..<end) }
        }
        index = end
    }
    guard !runs.isEmpty else { return text }
    var out = utf8
    for run in runs {
        for position in run.lowerBound..<(run.upperBound - 3) { out[position] = UInt8(ascii: "*") }
    }
    return String(decoding: out, as: UTF8.self)
}

/// True when a text holds a phone number or a national ID, written whole or with spaces, dots or dashes in it.
public func containsIdentifier(_ text: String) -> Bool {
    if redactIdentifierRuns(text) != text { return true }
    // Joined runs (`0912 345 678`), as `redactIdentifiers` reads them.
    guard redactIdentifiers(text) != text else { return false }
    var run = ""
    for character in text + "x" {
        if character.isASCII, character.isNumber {
            run.append(character)
        } else if character == " " || character == "." || character == "-" {
            continue
        } else {
            if (9...13).contains(run.count), looksLikeIdentifier(run) { return true }
            run = ""
        }
    }
    return false
}

/// A code a carrier wrote (transaction id, reason code) as it may be shown: masked whole when it is a phone number or
/// an ID, else with each such number inside it masked, other digits kept so the carrier can still trace it.
public func maskedCode(_ code: String) -> String {
    looksLikeIdentifier(code) ? maskTail(code) : redactIdentifierRuns(code)
}

/// How many ASCII digits a text holds.
func digitCount(_ text: String) -> Int { text.utf8.reduce(0) { $0 + ($1 >= 0x30 && $1 <= 0x39 ? 1 : 0) } }

/// Masks all but the last three characters: `********678`.
public func maskTail(_ text: String, keep: Int = 3) -> String {
    guard text.count > keep else { return String(repeating: "*", count: text.count) }
    return String(repeating: "*", count: text.count - keep) + text.suffix(keep)
}

/// A Vietnamese 12-digit citizen identity number (CCCD).
///
/// Digits 1–3 are the province of birth registration, digit 4 encodes century and gender, digits 5–6 are the
/// last two digits of the birth year. `description` is masked so that interpolating one never leaks it.
public struct NationalID: Sendable, Hashable, CustomStringConvertible {
    /// The 12 digits.
    public let digits: String

    public init(parsing raw: String) throws(NationalIDError) {
        let text = raw.trimmingSpaces
        guard !text.isEmpty else { throw .empty }
        if Self.isScientific(text) { throw .storedAsNumber }
        guard text.isASCIIDigits else { throw .notDigits }
        guard text.utf8.count == 12 else { throw .wrongLength(text.utf8.count) }
        var digits = text
        let province = digits.withUTF8 { asciiNumber($0, 0..<3)! }
        guard (1...96).contains(province) else { throw .unknownProvince(String(text.prefix(3))) }
        self.digits = text
    }

    /// `5.11612E+10`, `5,11612E+10`, `5E+11`: how a spreadsheet shows a long number it holds as a number.
    static func isScientific(_ text: String) -> Bool {
        var sawExponent = false
        var sawDigit = false
        for (index, byte) in text.utf8.enumerated() {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): sawDigit = true
            case UInt8(ascii: "."), UInt8(ascii: ","): if sawExponent || index == 0 { return false }
            case UInt8(ascii: "E"), UInt8(ascii: "e"): if sawExponent || !sawDigit { return false }; sawExponent = true
            case UInt8(ascii: "+"): if !sawExponent { return false }
            default: return false
            }
        }
        return sawExponent && sawDigit
    }

    /// The century/gender digit and birth-year digits must agree with a known birth date and gender.
    public func check(birthDate: CalendarDate, gender: Gender) throws(NationalIDError) {
        var text = digits
        let (centuryDigit, yearDigits) = text.withUTF8 { bytes in
            (Int(bytes[3] - UInt8(ascii: "0")), Int(bytes[4] - UInt8(ascii: "0")) * 10 + Int(bytes[5] - UInt8(ascii: "0")))
        }
        let expected = Self.centuryGenderDigit(year: birthDate.year, gender: gender)
        if centuryDigit != expected {
            throw .centuryGenderMismatch(found: centuryDigit, expected: expected, year: birthDate.year, gender: gender)
        }
        if yearDigits != birthDate.year % 100 {
            throw .birthYearMismatch(found: yearDigits, year: birthDate.year)
        }
    }

    /// 0/1 for men/women born 1900–1999, 2/3 for 2000–2099, and so on.
    public static func centuryGenderDigit(year: Int, gender: Gender) -> Int {
        let century = max(0, (year / 100) - 19)
        return century * 2 + (gender == .female ? 1 : 0)
    }

    public var masked: String { maskTail(digits) }
    public var description: String { masked }
    public func shown(reveal: Bool) -> String { reveal ? digits : masked }
}

public enum NationalIDError: ProblemConvertible, Sendable, Equatable {
    case empty
    case notDigits
    case wrongLength(Int)
    case unknownProvince(String)
    case centuryGenderMismatch(found: Int, expected: Int, year: Int, gender: Gender)
    case birthYearMismatch(found: Int, year: Int)
    /// Kept by a spreadsheet as a number: `5.11612E+10`, or a cell that dropped the leading 0.
    case storedAsNumber

    public var problem: Problem {
        switch self {
        case .storedAsNumber: Problem("national_id.stored_as_number")
        case .empty: Problem("national_id.empty")
        case .notDigits: Problem("national_id.not_digits")
        case .wrongLength(let count): Problem("national_id.wrong_length", ["count": String(count)])
        case .unknownProvince(let code): Problem("national_id.unknown_province", ["code": code])
        case .centuryGenderMismatch(let found, let expected, let year, let gender):
            Problem(gender == .female ? "national_id.century_mismatch_woman" : "national_id.century_mismatch_man",
                    ["found": String(found), "expected": String(expected), "year": String(year)])
        case .birthYearMismatch(let found, let year):
            Problem("national_id.birth_year_mismatch", ["found": pad(found, 2), "year": String(year)])
        }
    }
}

/// A Vietnamese mobile number, stored as `84` followed by the 9-digit subscriber number.
///
/// Accepts `0912345678`, `84912345678`, `+84912345678`, `0084912345678`, with spaces, dots, dashes or
/// parentheses, and `912345678` (a spreadsheet that dropped the leading zero). Mobile numbers are
/// 0 + 9 digits starting 03, 05, 07, 08 or 09. The prefix does not say the carrier: numbers port.
public struct MSISDN: Sendable, Hashable, CustomStringConvertible {
    /// `84912345678`.
    public let canonical: String

    public init(parsing raw: String) throws(MSISDNError) {
        var text = raw
        let result = text.withUTF8 { bytes in Result { () throws(MSISDNError) in try Self.number(bytes) } }
        self.canonical = String(try result.get())
    }

    /// Reads a number in any accepted spelling straight from bytes: `84xxxxxxxxx` as an integer, or why not.
    /// Result files call this once a line, so it builds no string.
    public static func number(_ field: UnsafeBufferPointer<UInt8>) throws(MSISDNError) -> UInt64 {
        var count = 0
        var plus = false
        let bytes = field.trimmingSpaces
        var start = 0
        let end = bytes.count
        // A leading apostrophe is how a spreadsheet marks a number kept as text.
        if start < end, bytes[start] == UInt8(ascii: "'") { start += 1 }
        var prefix: UInt64 = 0      // the first four digits, to recognise 0084, 84 and 0
        var value: UInt64 = 0       // every digit, while they fit
        var index = start
        while index < end {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                let digit = UInt64(byte - 0x30)
                if count < 4 { prefix = prefix * 10 + digit }
                if count < 19 { value = value * 10 + digit }
                count += 1
            case UInt8(ascii: " "), UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "\t"):
                continue
            case UInt8(ascii: "+") where count == 0 && !plus:
                plus = true
            default:
                throw .invalidCharacters
            }
        }
        guard count > 0 else { throw .empty }
        // The national part: the digits after +84, 0084, 84 (11 digits) or 0.
        let nationalCount: Int
        let firstDigit = prefix / pow10(min(count, 4) - 1)
        if plus {
            guard count >= 2, prefix / pow10(min(count, 4) - 2) == 84 else { throw .notVietnamese }
            nationalCount = count - 2
        } else if count >= 4, prefix == 84 {
            nationalCount = count - 4
        } else if count == 11, prefix / 100 == 84 {
            nationalCount = count - 2
        } else if firstDigit == 0 {
            nationalCount = count - 1
        } else {
            nationalCount = count
        }
        guard count <= 19 else { throw .wrongLength(nationalCount + 1) }
        let national = value % pow10(nationalCount)
        let nationalFirst = nationalCount > 0 ? national / pow10(nationalCount - 1) : 0
        if nationalCount > 0, nationalFirst == 2 { throw .landline }
        guard nationalCount == 9 else { throw .wrongLength(nationalCount + 1) }
        switch nationalFirst {
        case 3, 5, 7, 8, 9: break
        default:
            let two = national / 10_000_000
            throw .unknownPrefix((two < 10 ? "00" : "0") + String(two))
        }
        return 84_000_000_000 + national
    }

    private static func pow10(_ exponent: Int) -> UInt64 {
        var result: UInt64 = 1
        for _ in 0..<max(0, exponent) { result *= 10 }
        return result
    }

    /// `0912345678`.
    public var national: String { "0" + canonical.dropFirst(2) }
    public var masked: String { maskTail(canonical) }
    public var description: String { masked }
    public func shown(reveal: Bool) -> String { reveal ? canonical : masked }
}

public enum MSISDNError: ProblemConvertible, Sendable, Equatable {
    case empty
    case invalidCharacters
    case notVietnamese
    case landline
    case wrongLength(Int)
    case unknownPrefix(String)

    public var problem: Problem {
        switch self {
        case .empty: Problem("msisdn.empty")
        case .invalidCharacters: Problem("msisdn.invalid_characters")
        case .notVietnamese: Problem("msisdn.not_vietnamese")
        case .landline: Problem("msisdn.landline")
        case .wrongLength(let count): Problem("msisdn.wrong_length", ["count": String(count)])
        case .unknownPrefix(let prefix): Problem("msisdn.unknown_prefix", ["prefix": prefix])
        }
    }
}

public enum Gender: String, Sendable, Hashable, CaseIterable {
    case male = "M"
    case female = "F"

    public init(parsing raw: String) throws(FieldError) {
        switch raw.trimmingSpaces.uppercased() {
        case "M", "NAM": self = .male
        case "F", "NỮ", "NU": self = .female
        default: throw FieldError(Problem("field.gender", ["value": redactIdentifiers(raw)]))
        }
    }
}

public enum PaymentMethod: String, Sendable, Hashable, CaseIterable {
    case mobileMoney = "mobile_money"
    case cash = "cash"

    public init(parsing raw: String) throws(FieldError) {
        guard let value = PaymentMethod(rawValue: raw.trimmingSpaces.lowercased()) else {
            throw FieldError(Problem("field.payment_method", ["value": redactIdentifiers(raw)]))
        }
        self = value
    }
}

public enum BeneficiaryStatus: String, Sendable, Hashable, CaseIterable {
    case active, suspended, deceased
}

/// A message about one bad field, ready to follow `FILE:LINE: `.
public struct FieldError: ProblemConvertible, Sendable, Equatable {
    public let problem: Problem
    /// A message without a code of its own yet (`Problem(text:)`).
    public init(_ description: String) { problem = Problem(text: description) }
    public init(_ problem: Problem) { self.problem = problem }
}

/// A short code made of ASCII letters, digits, `_` and `-`: a commune, a category, a carrier.
public struct Code: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let value: String

    /// - Parameter uppercase: categories and carriers are compared upper-cased; commune codes as given.
    public init(parsing raw: String, field: String, uppercase: Bool, lengthMax: Int = 40) throws(FieldError) {
        var text = raw.trimmingSpaces
        guard !text.isEmpty else { throw FieldError(Problem("field.empty", ["field": field])) }
        var hasLowercase = false
        guard text.utf8.count <= lengthMax,
              text.utf8.allSatisfy({ byte in
                  if byte >= 97 && byte <= 122 { hasLowercase = true; return true }
                  return (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || byte == 95 || byte == 45
              })
        else { throw FieldError(Problem("field.code", ["field": field, "value": redactIdentifiers(raw), "length_max": String(lengthMax)])) }
        if uppercase && hasLowercase { text = text.uppercased() }
        self.value = text
    }

    public init(trusted value: String) { self.value = value }
    public static func < (lhs: Code, rhs: Code) -> Bool { lhs.value < rhs.value }
    public var description: String { value }
}

/// Who did something: an officer's user name, kept in every history row.
public struct UserName: Sendable, Hashable, CustomStringConvertible {
    public let value: String

    public init(parsing raw: String) throws(FieldError) {
        let text = raw.trimmingSpaces
        guard !text.isEmpty else { throw FieldError("user name is empty; pass --by NAME or set ALLOWANCE_USER") }
        guard text.count <= 64, !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw FieldError("user name must be at most 64 printable characters")
        }
        self.value = text
    }

    /// Two user names are the same person when they match ignoring case.
    public func isSamePerson(as other: UserName) -> Bool { value.lowercased() == other.value.lowercased() }
    public var description: String { value }
}

extension Gender: StaticText {
    package var staticText: StaticString {
        switch self {
        case .male: "M"
        case .female: "F"
        }
    }
}

extension PaymentMethod: StaticText {
    package var staticText: StaticString {
        switch self {
        case .mobileMoney: "mobile_money"
        case .cash: "cash"
        }
    }
}
