/// An amount of money in whole đồng. VND has no minor unit, so an `Int64` holds every amount exactly.
public struct Money: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let dong: Int64

    public init(dong: Int64) { self.dong = dong }

    public static let zero = Money(dong: 0)

    public static func < (lhs: Money, rhs: Money) -> Bool { lhs.dong < rhs.dong }

    public func adding(_ other: Money) throws(MoneyError) -> Money {
        let (sum, overflow) = dong.addingReportingOverflow(other.dong)
        if overflow { throw .overflow }
        return Money(dong: sum)
    }

    public func subtracting(_ other: Money) throws(MoneyError) -> Money {
        let (difference, overflow) = dong.subtractingReportingOverflow(other.dong)
        if overflow { throw .overflow }
        return Money(dong: difference)
    }

    public var negated: Money {
        precondition(dong != .min, "Int64.min has no negation")
        return Money(dong: -dong)
    }

    /// This amount times `coefficient`, rounded half up to whole đồng.
    public func multiplied(by coefficient: Coefficient) throws(MoneyError) -> Money {
        let (product, overflow) = dong.multipliedReportingOverflow(by: coefficient.milli)
        if overflow { throw .overflow }
        let (rounded, overflowRounding) = product.addingReportingOverflow(product >= 0 ? 500 : -500)
        if overflowRounding { throw .overflow }
        return Money(dong: rounded / 1000)
    }

    /// Parses a whole number of đồng as people and carriers write it: `500000`, `500.000`, `500,000`, `500 000`.
    ///
    /// Digit grouping must be in threes with one kind of separator; anything else (`1.5`, `1.500,5`) is refused
    /// because it could be a fraction. A trailing `đ`, `₫` or `VND` is allowed.
    public init(parsing raw: String) throws(MoneyError) {
        var text = Substring(raw.trimmingSpaces)
        for suffix in ["VND", "vnd", "đ", "₫", "Đ"] where text.hasSuffix(suffix) {
            text = text.dropLast(suffix.count)
            text = Substring(String(text).trimmingSpaces)
        }
        guard !text.isEmpty else { throw .empty }
        var negative = false
        if text.first == "-" {
            negative = true
            text = text.dropFirst()
        }
        var separator: Character?
        var groups: [Substring] = []
        var current = Substring()
        var start = text.startIndex
        for index in text.indices {
            let c = text[index]
            if c.isASCII, c.isNumber { continue }
            if c == "." || c == "," || c == " " || c == "\u{00A0}" || c == "\u{202F}" {
                if let known = separator, known != c { throw .notWholeNumber(raw) }
                separator = c
                current = text[start..<index]
                groups.append(current)
                start = text.index(after: index)
                continue
            }
            throw .notANumber(raw)
        }
        groups.append(text[start...])
        if groups.count > 1 {
            guard let first = groups.first, (1...3).contains(first.count), first.first != "0",
                  groups.dropFirst().allSatisfy({ $0.count == 3 })
            else { throw .notWholeNumber(raw) }
        }
        let digits = groups.joined()
        guard !digits.isEmpty else { throw .notANumber(raw) }
        guard digits.count <= 18, let value = Int64(digits) else { throw .overflow }
        self.dong = negative ? -value : value
    }

    /// The common spellings read straight from bytes (`500000`, `500.000`, `500,000`, `500 000`, spaces around):
    /// the value, or nil for anything else, which `init(parsing:)` then reads or explains. Result files call this
    /// once a line, so it builds no string.
    public static func wholeDong(_ field: UnsafeBufferPointer<UInt8>) -> Int64? {
        let bytes = field.trimmingSpaces
        guard !bytes.isEmpty, bytes.count <= 24 else { return nil }
        var value: Int64 = 0
        var digits = 0
        var separator: UInt8 = 0
        var groupDigits = 0
        var firstGroup = -1
        for index in bytes.indices {
            let byte = bytes[index]
            if byte >= 0x30 && byte <= 0x39 {
                digits += 1
                guard digits <= 18 else { return nil }
                value = value * 10 + Int64(byte - 0x30)
                groupDigits += 1
            } else if byte == UInt8(ascii: ".") || byte == UInt8(ascii: ",") || byte == UInt8(ascii: " ") {
                guard separator == 0 || separator == byte else { return nil }
                separator = byte
                if firstGroup < 0 {
                    // `0.750` is not a grouping of 750.
                    guard (1...3).contains(groupDigits), bytes[index - groupDigits] != UInt8(ascii: "0") else { return nil }
                    firstGroup = groupDigits
                } else {
                    guard groupDigits == 3 else { return nil }
                }
                groupDigits = 0
            } else {
                return nil
            }
        }
        guard digits > 0, separator == 0 || groupDigits == 3 else { return nil }
        return value
    }

    /// Digits only, as files carry it: `1234567`.
    public var description: String { String(dong) }

    /// Vietnamese style with dot grouping: `1.234.567`.
    public var grouped: String {
        let digits = String(dong.magnitude)
        var out = ""
        for (offset, c) in digits.enumerated() {
            if offset > 0, (digits.count - offset) % 3 == 0 { out.append(".") }
            out.append(c)
        }
        return dong < 0 ? "-" + out : out
    }
}

public enum MoneyError: Error, Sendable, Equatable, CustomStringConvertible {
    case overflow
    case empty
    case notANumber(String)
    case notWholeNumber(String)

    public var description: String {
        switch self {
        case .overflow: "amount is too large (over 9,223,372,036,854,775,807 đồng)"
        case .empty: "amount is empty"
        case .notANumber(let text): "amount \"\(redactIdentifiers(text))\" is not a number"
        case .notWholeNumber(let text): "amount \"\(redactIdentifiers(text))\" is not a whole number of đồng"
        }
    }
}

/// A category's coefficient, held in thousandths so that `1.5` is exact.
public struct Coefficient: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let milli: Int64

    public init(milli: Int64) {
        precondition(milli > 0, "a coefficient is positive")
        self.milli = milli
    }

    /// Parses `1.5`, `2`, `0.75` (at most three decimals, greater than zero, at most 100).
    public init(parsing raw: String) throws(CoefficientError) {
        let text = raw.trimmingSpaces
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = parts.first, !whole.isEmpty, whole.count <= 3,
              whole.allSatisfy({ $0.isASCII && $0.isNumber }), let wholeValue = Int64(whole)
        else { throw .invalid(raw) }
        var fraction: Int64 = 0
        if parts.count == 2 {
            let digits = parts[1]
            guard !digits.isEmpty, digits.count <= 3, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let value = Int64(digits)
            else { throw .invalid(raw) }
            fraction = value * [1, 100, 10, 1][digits.count]
        }
        let milli = wholeValue * 1000 + fraction
        guard milli > 0, milli <= 100_000 else { throw .outOfRange(raw) }
        self.milli = milli
    }

    public static func < (lhs: Coefficient, rhs: Coefficient) -> Bool { lhs.milli < rhs.milli }

    /// `1.5`, `2`, `0.75`.
    public var description: String {
        let whole = milli / 1000
        var fraction = milli % 1000
        if fraction == 0 { return String(whole) }
        var digits = 3
        while fraction % 10 == 0 { fraction /= 10; digits -= 1 }
        let padded = String(repeating: "0", count: digits - String(fraction).count) + String(fraction)
        return "\(whole).\(padded)"
    }
}

public enum CoefficientError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalid(String)
    case outOfRange(String)

    public var description: String {
        switch self {
        case .invalid(let text): "coefficient \"\(text)\" is not a decimal like 1.5 (at most three decimals)"
        case .outOfRange(let text): "coefficient \"\(text)\" must be greater than 0 and at most 100"
        }
    }
}

private func isSpaceByte(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }

extension UnsafeBufferPointer<UInt8> {
    /// The bytes without leading and trailing spaces, tabs, line breaks and no-break spaces: the rule of
    /// `String.trimmingSpaces`, for fields read straight from a file's buffer.
    public var trimmingSpaces: UnsafeBufferPointer<UInt8> {
        var start = 0
        var end = count
        while start < end {
            if isSpaceByte(self[start]) {
                start += 1
            } else if self[start] == 0xC2, start + 1 < end, self[start + 1] == 0xA0 {
                start += 2
            } else {
                break
            }
        }
        while end > start {
            if isSpaceByte(self[end - 1]) {
                end -= 1
            } else if self[end - 1] == 0xA0, end - 2 >= start, self[end - 2] == 0xC2 {
                end -= 2
            } else {
                break
            }
        }
        return UnsafeBufferPointer(rebasing: self[start..<end])
    }
}

extension String {
    /// Without leading and trailing spaces, tabs, line breaks and no-break spaces (no Foundation needed).
    ///
    /// Works on UTF-8 bytes: register and result files run it on every field, millions of times.
    public var trimmingSpaces: String {
        let utf8 = self.utf8
        guard let first = utf8.first, let last = utf8.last else { return self }
        if !isSpaceByte(first) && !isSpaceByte(last) && first != 0xC2 && last != 0xA0 { return self }
        var copy = self
        return copy.withUTF8 { String(decoding: $0.trimmingSpaces, as: UTF8.self) }
    }

    /// True when every byte is an ASCII digit (and there is at least one).
    var isASCIIDigits: Bool {
        !utf8.isEmpty && utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }
}

/// The value of ASCII digits `bytes[range]`, or nil.
func asciiNumber(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int? {
    var value = 0
    for index in range {
        let byte = bytes[index]
        guard byte >= 0x30 && byte <= 0x39 else { return nil }
        value = value * 10 + Int(byte - 0x30)
    }
    return value
}
