#if canImport(Glibc)
import Glibc
#endif

/// A day in the proleptic Gregorian calendar, written `YYYY-MM-DD`.
public struct CalendarDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
              (1...CalendarDate.daysIn(month: month, year: year)).contains(day) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// `YYYY-MM-DD`, or `DD/MM/YYYY` (also `D/M/YYYY`), the day first as Vietnamese offices write it.
    public init(parsing raw: String, field: String = "date") throws(FieldError) {
        var text = raw.trimmingSpaces
        let parsed: (Int, Int, Int)? = text.withUTF8 { bytes in
            if bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
               let year = asciiNumber(bytes, 0..<4), let month = asciiNumber(bytes, 5..<7), let day = asciiNumber(bytes, 8..<10) {
                return (year, month, day)
            }
            guard (8...10).contains(bytes.count), let first = bytes.firstIndex(of: UInt8(ascii: "/")),
                  let second = bytes[(first + 1)...].firstIndex(of: UInt8(ascii: "/")),
                  (1...2).contains(first), (1...2).contains(second - first - 1), bytes.count - second - 1 == 4,
                  let day = asciiNumber(bytes, 0..<first), let month = asciiNumber(bytes, (first + 1)..<second),
                  let year = asciiNumber(bytes, (second + 1)..<bytes.count)
            else { return nil }
            return (year, month, day)
        }
        guard let (year, month, day) = parsed else { throw FieldError(Problem("field.date_format", ["field": field, "value": redactIdentifiers(raw)])) }
        guard let date = CalendarDate(year: year, month: month, day: day) else {
            throw FieldError(Problem("field.date_not_a_day", ["field": field, "value": redactIdentifiers(raw)]))
        }
        self = date
    }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 (Howard Hinnant's days_from_civil).
    public var daysSinceEpoch: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public init(daysSinceEpoch days: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        self.year = yoe + era * 400 + (m <= 2 ? 1 : 0)
        self.month = m
        self.day = d
    }

    public static func < (lhs: CalendarDate, rhs: CalendarDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    public var description: String {
        // Built from bytes: imports and exports write millions of dates.
        guard year <= 9999 else { return "\(year)-\(pad(month, 2))-\(pad(day, 2))" }
        return String(unsafeUninitializedCapacity: 10) { out in
            out[0] = UInt8(0x30 + year / 1000)
            out[1] = UInt8(0x30 + year / 100 % 10)
            out[2] = UInt8(0x30 + year / 10 % 10)
            out[3] = UInt8(0x30 + year % 10)
            out[4] = 0x2D
            out[5] = UInt8(0x30 + month / 10)
            out[6] = UInt8(0x30 + month % 10)
            out[7] = 0x2D
            out[8] = UInt8(0x30 + day / 10)
            out[9] = UInt8(0x30 + day % 10)
            return 10
        }
    }

    /// Whole years from this birth date to `date`.
    public func age(on date: CalendarDate) -> Int {
        var years = date.year - year
        if (date.month, date.day) < (month, day) { years -= 1 }
        return years
    }
}

/// A calendar month, written `2026-11`: the unit of one payout.
public struct Period: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let year: Int
    public let month: Int

    public init?(year: Int, month: Int) {
        guard (2000...2999).contains(year), (1...12).contains(month) else { return nil }
        self.year = year
        self.month = month
    }

    public init(parsing raw: String) throws(FieldError) {
        let text = raw.trimmingSpaces
        let bytes = Array(text.utf8)
        guard bytes.count == 7, bytes[4] == UInt8(ascii: "-"),
              bytes.enumerated().allSatisfy({ $0.offset == 4 || ($0.element >= 48 && $0.element <= 57) }),
              let year = Int(text.prefix(4)), let month = Int(text.suffix(2))
        else { throw FieldError("period \"\(redactIdentifiers(raw))\" must be a month written YYYY-MM, like 2026-11") }
        guard let period = Period(year: year, month: month) else {
            throw FieldError("period \"\(raw)\" is not a month between 2000-01 and 2999-12")
        }
        self = period
    }

    public var firstDay: CalendarDate { CalendarDate(year: year, month: month, day: 1)! }
    /// The month before (December 2000's before is itself: the calendar starts there).
    public var previous: Period { (month == 1 ? Period(year: year - 1, month: 12) : Period(year: year, month: month - 1)) ?? self }
    public var lastDay: CalendarDate { CalendarDate(year: year, month: month, day: CalendarDate.daysIn(month: month, year: year))! }
    public static func < (lhs: Period, rhs: Period) -> Bool { (lhs.year, lhs.month) < (rhs.year, rhs.month) }
    public var description: String { "\(pad(year, 4))-\(pad(month, 2))" }
    /// `202611`, for references.
    public var compact: String { "\(pad(year, 4))\(pad(month, 2))" }
    /// `11/2026`, as Vietnamese narratives write it.
    public var vietnamese: String { "\(pad(month, 2))/\(pad(year, 4))" }
}

/// A moment in UTC with one-second resolution, written `2026-11-30T04:17:07Z`.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let secondsSinceEpoch: Int64

    public init(secondsSinceEpoch: Int64) { self.secondsSinceEpoch = secondsSinceEpoch }

    public static func now() -> Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(secondsSinceEpoch: Int64(spec.tv_sec))
    }

    /// Parses `2026-11-30T04:17:07Z`, `2026-11-30 04:17:07` (taken as UTC) or a day `2026-11-30` (its start).
    public init(parsing raw: String) throws(FieldError) {
        let text = raw.trimmingSpaces
        if text.count == 10 {
            let date = try CalendarDate(parsing: text)
            self.init(secondsSinceEpoch: Int64(date.daysSinceEpoch) * 86_400)
            return
        }
        var body = text
        if body.hasSuffix("Z") { body.removeLast() }
        let parts = body.split(whereSeparator: { $0 == "T" || $0 == " " })
        guard parts.count == 2 else { throw FieldError("time \"\(redactIdentifiers(raw))\" must be written YYYY-MM-DDTHH:MM:SSZ") }
        let date = try CalendarDate(parsing: String(parts[0]))
        let clock = parts[1].split(separator: ":")
        guard clock.count == 3, let h = Int(clock[0]), let m = Int(clock[1]), let s = Int(clock[2]),
              (0...23).contains(h), (0...59).contains(m), (0...59).contains(s)
        else { throw FieldError("time \"\(redactIdentifiers(raw))\" must be written YYYY-MM-DDTHH:MM:SSZ") }
        self.init(secondsSinceEpoch: Int64(date.daysSinceEpoch) * 86_400 + Int64(h * 3600 + m * 60 + s))
    }

    public var date: CalendarDate {
        CalendarDate(daysSinceEpoch: Int((secondsSinceEpoch - (secondsSinceEpoch % 86_400 + 86_400) % 86_400) / 86_400))
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.secondsSinceEpoch < rhs.secondsSinceEpoch }

    /// Vietnam's offset from UTC: seven hours, no daylight saving. The journal keeps UTC.
    public static let vietnamOffsetSeconds: Int64 = 7 * 3600

    /// The month this moment falls in, in Vietnam time.
    public var vietnamPeriod: Period {
        let date = Timestamp(secondsSinceEpoch: secondsSinceEpoch + Self.vietnamOffsetSeconds).date
        return Period(year: date.year, month: date.month)!
    }

    /// The moment a day begins in Vietnam.
    public static func vietnamMidnight(_ date: CalendarDate) -> Timestamp {
        Timestamp(secondsSinceEpoch: Int64(date.daysSinceEpoch) * 86_400 - vietnamOffsetSeconds)
    }

    /// The moments a month spans in Vietnam: from its first midnight up to, not including, the next month's.
    public static func vietnamRange(of period: Period) -> Range<Timestamp> {
        vietnamMidnight(period.firstDay)..<vietnamMidnight(CalendarDate(daysSinceEpoch: period.lastDay.daysSinceEpoch + 1))
    }

    public func adding(days: Int) -> Timestamp { Timestamp(secondsSinceEpoch: secondsSinceEpoch + Int64(days) * 86_400) }

    public var description: String {
        let seconds = Int((secondsSinceEpoch % 86_400 + 86_400) % 86_400)
        return "\(date)T\(pad(seconds / 3600, 2)):\(pad(seconds / 60 % 60, 2)):\(pad(seconds % 60, 2))Z"
    }
}

package func pad(_ value: Int, _ width: Int) -> String {
    let digits = String(value)
    return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
}

/// Where the current time comes from; tests and back-dated runs pass a fixed one.
public struct Clock: Sendable {
    private let read: @Sendable () -> Timestamp
    public init(_ read: @escaping @Sendable () -> Timestamp) { self.read = read }
    public static let system = Clock { Timestamp.now() }
    public static func fixed(_ timestamp: Timestamp) -> Clock { Clock { timestamp } }
    public func now() -> Timestamp { read() }
}
