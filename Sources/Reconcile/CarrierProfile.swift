import AllowanceLedger
import Foundation

/// Folds text for comparing status words and column names: case, Vietnamese diacritics (đ included) and runs of
/// spaces do not matter. `Thành công` and `THANH  CONG` fold alike.
public func foldForMatching(_ text: String) -> String {
    var out = ""
    var pendingSpace = false
    for scalar in text.decomposedStringWithCanonicalMapping.unicodeScalars {
        switch scalar.value {
        case 0x0300...0x036F: continue
        case 0x0111, 0x0110: out.append(pendingSpace && !out.isEmpty ? " d" : "d")
        case 0x20, 0x09, 0xA0, 0x0A, 0x0D, 0x5F:
            pendingSpace = true
            continue
        default:
            if pendingSpace && !out.isEmpty { out.append(" ") }
            out.unicodeScalars.append(contentsOf: String(scalar).lowercased().unicodeScalars)
        }
        pendingSpace = false
    }
    return out
}

/// The fields of the common result-file form. The first four are required.
public enum ResultField: String, Sendable, CaseIterable {
    case reference, msisdn, amount, status
    case carrierTxnID = "carrier_txn_id"
    case completedAt = "completed_at"
    case reasonCode = "reason_code"
    case reasonText = "reason_text"

    public static let required: [ResultField] = [.reference, .msisdn, .amount, .status]
}

/// How a carrier's result file maps onto the common form: its column names, field separator, date format and
/// status words. `generic` is built in; others are small text files (README, "Carrier profiles").
public struct CarrierProfile: Sendable, Equatable {
    public var name: String
    public var description = ""
    public var delimiter: UInt8 = UInt8(ascii: ",")
    /// For each field, the column names that carry it (folded); the field's own name always works too.
    public var columns: [ResultField: [String]] = [:]
    public var dateFormat: DateFormat = .iso8601
    /// Status words (folded) on top of the built-in ones; a profile's word wins over a built-in one.
    public var statusWords: [String: CarrierStatus] = [:]

    public init(name: String) { self.name = name }

    /// The common form: columns named after the fields, ISO 8601 times, the built-in status words.
    public static let generic = CarrierProfile(name: "generic")

    /// Status words every profile knows: English and Vietnamese, compared folded.
    public static let builtInStatusWords: [String: CarrierStatus] = {
        var words: [String: CarrierStatus] = [:]
        for word in ["SUCCESS", "SUCCEEDED", "OK", "PAID", "COMPLETED", "Thành công"] { words[foldForMatching(word)] = .paid }
        for word in ["FAILED", "FAIL", "ERROR", "REJECTED", "Thất bại"] { words[foldForMatching(word)] = .failed }
        for word in ["PENDING", "PROCESSING", "Đang xử lý"] { words[foldForMatching(word)] = .pending }
        for word in ["REVERSED", "REFUNDED", "Hoàn tiền"] { words[foldForMatching(word)] = .reversed }
        return words
    }()

    /// The carrier status a word means under this profile, or nil.
    public func status(of word: String) -> CarrierStatus? {
        let folded = foldForMatching(word)
        return statusWords[folded] ?? Self.builtInStatusWords[folded]
    }

    /// Every rule of the profile in a fixed order, one per line: what its SHA-256 identifies.
    public var canonicalRules: String {
        var lines = ["allowance-profile/v1", "name \(name)", "delimiter \(delimiter)", "date_format \(dateFormat)"]
        for field in ResultField.allCases { lines.append("column \(field.rawValue) \(columnNames(for: field).joined(separator: "|"))") }
        for (word, status) in statusWords.sorted(by: { $0.key < $1.key }) { lines.append("status \(status.rawValue) \(word)") }
        return lines.joined(separator: "\n") + "\n"
    }

    public var rulesSHA256: Digest32 { SHA256Hasher.hash(canonicalRules) }

    /// The column names (folded) that can carry `field`.
    public func columnNames(for field: ResultField) -> [String] {
        var names = columns[field] ?? []
        let own = foldForMatching(field.rawValue)
        if !names.contains(own) { names.append(own) }
        return names
    }
}

/// A problem in a profile file, at a line.
public struct ProfileError: Error, Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let reason: String

    public var description: String { line > 0 ? "\(file):\(line): \(reason)" : "\(file): \(reason)" }
}

extension CarrierProfile {
    public static let fileExtension = "profile"

    /// Reads a profile file:
    ///
    ///     # comment
    ///     name = carrier-a
    ///     delimiter = ;                 , ; tab or |
    ///     date_format = dd/MM/yyyy HH:mm:ss
    ///     column.reference = Mã tham chiếu | Partner ref
    ///     status.paid = 00 | Thành công
    public init(contentsOf path: String) throws(ProfileError) {
        // The size is checked before anything is read, and only a regular file is opened.
        let opened: (fd: Int32, size: Int64)
        do { opened = try Files.openRegular(path) } catch {
            throw ProfileError(file: path, line: 0, reason: "cannot be read; give the path of a .profile file or a profile name such as generic")
        }
        defer { close(opened.fd) }
        let bytesMax = 1 << 20
        guard opened.size <= bytesMax else { throw ProfileError(file: path, line: 0, reason: "is over 1 MiB; a profile is a few lines of text") }
        let bytes: [UInt8]?
        do { bytes = try readAll(from: opened.fd, path: path, max: bytesMax) } catch {
            throw ProfileError(file: path, line: 0, reason: "cannot be read; give the path of a .profile file or a profile name such as generic")
        }
        guard let bytes else { throw ProfileError(file: path, line: 0, reason: "is over 1 MiB; a profile is a few lines of text") }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw ProfileError(file: path, line: 0, reason: "is not UTF-8 text") }
        try self.init(parsing: text, file: path)
    }

    public init(parsing text: String, file: String) throws(ProfileError) {
        self.init(name: "")
        var seenKeys: [String: Int] = [:]
        var lineNumber = 0
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
            lineNumber += 1
            var line = String(rawLine)
            if lineNumber == 1, line.hasPrefix("\u{FEFF}") { line.removeFirst() }
            line = line.trimmingSpaces
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw ProfileError(file: file, line: lineNumber, reason: "expected `key = value`")
            }
            let key = String(line[..<equals]).trimmingSpaces.lowercased()
            let value = String(line[line.index(after: equals)...]).trimmingSpaces
            if let earlier = seenKeys[key] {
                throw ProfileError(file: file, line: lineNumber, reason: "\(key) is already set on line \(earlier)")
            }
            seenKeys[key] = lineNumber
            let alternatives = value.split(separator: "|").map { String($0).trimmingSpaces }.filter { !$0.isEmpty }
            switch key {
            case "name":
                guard !value.isEmpty, value.count <= 40 else { throw ProfileError(file: file, line: lineNumber, reason: "name must be 1 to 40 characters") }
                name = value
            case "description":
                description = value
            case "delimiter":
                switch value.lowercased() {
                case ",", "comma": delimiter = UInt8(ascii: ",")
                case ";", "semicolon": delimiter = UInt8(ascii: ";")
                case "tab", "\\t": delimiter = 0x09
                case "|", "pipe": delimiter = UInt8(ascii: "|")
                default: throw ProfileError(file: file, line: lineNumber, reason: "delimiter \"\(value)\" is not one of , ; tab |")
                }
            case "date_format":
                do { dateFormat = try DateFormat(parsing: value) } catch {
                    throw ProfileError(file: file, line: lineNumber, reason: error.description)
                }
            default:
                if key.hasPrefix("column.") {
                    guard let field = ResultField(rawValue: String(key.dropFirst("column.".count))) else {
                        throw ProfileError(file: file, line: lineNumber,
                                           reason: "\(key) names no field; fields are \(ResultField.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    guard !alternatives.isEmpty else { throw ProfileError(file: file, line: lineNumber, reason: "\(key) needs a column name") }
                    columns[field] = alternatives.map(foldForMatching)
                } else if key.hasPrefix("status.") {
                    guard let status = CarrierStatus(rawValue: String(key.dropFirst("status.".count))) else {
                        throw ProfileError(file: file, line: lineNumber,
                                           reason: "\(key) names no status; statuses are \(CarrierStatus.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    guard !alternatives.isEmpty else { throw ProfileError(file: file, line: lineNumber, reason: "\(key) needs at least one word") }
                    for word in alternatives {
                        let folded = foldForMatching(word)
                        // A profile adds words; moving a built-in one (FAILED to paid) would settle failures as payments.
                        if let builtIn = Self.builtInStatusWords[folded], builtIn != status {
                            throw ProfileError(file: file, line: lineNumber,
                                               reason: "status word \"\(word)\" is built in as \(builtIn.rawValue); a profile may add words, never move a built-in one")
                        }
                        if let other = statusWords[folded], other != status {
                            throw ProfileError(file: file, line: lineNumber, reason: "status word \"\(word)\" is already \(other.rawValue)")
                        }
                        statusWords[folded] = status
                    }
                } else {
                    throw ProfileError(file: file, line: lineNumber,
                                       reason: "unknown key \(key); keys are name, description, delimiter, date_format, column.<field>, status.<status>")
                }
            }
        }
        guard !name.isEmpty else { throw ProfileError(file: file, line: 0, reason: "has no `name = …` line") }
        // The ledger records a file by its profile's name: only the built-in rules may go by the built-in name.
        if foldForMatching(name) == foldForMatching(Self.generic.name), canonicalRules != Self.generic.canonicalRules {
            throw ProfileError(file: file, line: seenKeys["name"] ?? 0,
                               reason: "name generic is the built-in profile's and these rules differ from it; name the carrier")
        }
        var claimed: [String: ResultField] = [:]
        for field in ResultField.allCases {
            for column in columns[field] ?? [] {
                if let other = claimed[column], other != field {
                    throw ProfileError(file: file, line: 0, reason: "column \"\(column)\" is mapped to both \(other.rawValue) and \(field.rawValue)")
                }
                claimed[column] = field
            }
        }
    }

    /// Finds a profile by name: `generic`, a path to a `.profile` file, or `NAME.profile` in one of `directories`.
    /// Where a profile named without a path is looked for, in order: the folders `listed` names (colon-separated, as
    /// `ALLOWANCE_PROFILES` holds them), then `profiles/` beside the ledger; each once. Never the working folder.
    public static func searchDirectories(listed: String?, ledger: String) -> [String] {
        var directories: [String] = []
        if let listed {
            directories += listed.split(separator: ":").map(String.init).filter { !$0.isEmpty }
        }
        // Beside the ledger, never the current folder: whoever can write where a command happens to run must not
        // choose how its result file is read.
        directories.append(((ledger as NSString).deletingLastPathComponent as NSString).appendingPathComponent("profiles"))
        var seen = Set<String>()
        return directories.filter { seen.insert(($0 as NSString).standardizingPath).inserted }
    }

    public static func load(_ nameOrPath: String, searching directories: [String]) throws(ProfileError) -> CarrierProfile {
        if nameOrPath == "generic" { return .generic }
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".\(fileExtension)") {
            return try CarrierProfile(contentsOf: nameOrPath)
        }
        for directory in directories {
            let path = (directory as NSString).appendingPathComponent("\(nameOrPath).\(fileExtension)")
            if FileManager.default.fileExists(atPath: path) { return try CarrierProfile(contentsOf: path) }
        }
        let searched = directories.isEmpty ? "" : " (looked in \(directories.joined(separator: ", ")))"
        throw ProfileError(file: nameOrPath, line: 0,
                           reason: "no such profile\(searched); pass generic, a path to a .\(fileExtension) file, or put NAME.\(fileExtension) in one of those folders")
    }
}

/// How a profile writes completion times. Times are stored as written, in `yyyy-MM-ddTHH:mm:ss` with the zone
/// when the file gives one.
public enum DateFormat: Sendable, Equatable, CustomStringConvertible {
    /// `2026-11-28`, `2026-11-28T10:15:00`, `2026-11-28 10:15:00`, with optional fractions and `Z` or `+07:00`.
    case iso8601
    /// A pattern of `yyyy`, `MM`, `dd`, `HH`, `mm`, `ss` and literal characters, such as `dd/MM/yyyy HH:mm:ss`.
    case pattern(String)

    public init(parsing text: String) throws(FieldError) {
        if text.lowercased() == "iso8601" || text.lowercased() == "iso 8601" {
            self = .iso8601
            return
        }
        guard text.contains("yyyy"), text.contains("MM"), text.contains("dd") else {
            throw FieldError("date_format \"\(text)\" needs yyyy, MM and dd (and may have HH, mm, ss), or iso8601")
        }
        self = .pattern(text)
    }

    public var description: String {
        switch self {
        case .iso8601: "iso8601"
        case .pattern(let pattern): pattern
        }
    }

    /// The time in the stored form, or nil when `text` does not follow the format.
    public func normalize(_ text: String) -> String? {
        var text = text
        return text.withUTF8 { normalize($0) }
    }

    /// The same, straight from a field's bytes.
    public func normalize(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        switch self {
        case .iso8601: Self.normalizeISO(bytes)
        case .pattern(let pattern):
            pattern.utf8.withContiguousStorageIfAvailable { Self.normalize(bytes, pattern: $0) }
                ?? Array(pattern.utf8).withUnsafeBufferPointer { Self.normalize(bytes, pattern: $0) }
        }
    }

    private static func digits(_ bytes: UnsafeBufferPointer<UInt8>, _ at: Int, _ count: Int) -> Int? {
        guard at + count <= bytes.count else { return nil }
        var value = 0
        for index in at..<(at + count) {
            let byte = bytes[index]
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        return value
    }

    /// `yyyy-MM-dd`, or `yyyy-MM-ddTHH:mm:ss` and the zone, written without intermediate strings.
    private static func format(year: Int, month: Int, day: Int, hour: Int?, minute: Int?, second: Int?,
                               zone: (sign: UInt8, hours: Int, minutes: Int)?, utc: Bool) -> String? {
        guard CalendarDate(year: year, month: month, day: day) != nil else { return nil }
        let minute = minute ?? 0
        let second = second ?? 0
        if let hour { guard hour < 24, minute < 60, second < 61 else { return nil } }
        let length = 10 + (hour == nil ? 0 : 9) + (utc ? 1 : 0) + (zone == nil ? 0 : 6)
        return String(unsafeUninitializedCapacity: length) { out in
            var at = 0
            func put(_ value: Int, _ width: Int) {
                var divisor = 1
                for _ in 1..<width { divisor *= 10 }
                for _ in 0..<width {
                    out[at] = UInt8(0x30 + (value / divisor) % 10)
                    at += 1
                    divisor /= 10
                }
            }
            func put(_ byte: UInt8) {
                out[at] = byte
                at += 1
            }
            put(year, 4); put(0x2D); put(month, 2); put(0x2D); put(day, 2)
            if let hour {
                put(UInt8(ascii: "T")); put(hour, 2); put(0x3A); put(minute, 2); put(0x3A); put(second, 2)
            }
            if utc { put(UInt8(ascii: "Z")) }
            if let zone { put(zone.sign); put(zone.hours, 2); put(0x3A); put(zone.minutes, 2) }
            return at
        }
    }

    private static func normalizeISO(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        guard let year = digits(bytes, 0, 4), bytes.count >= 10, bytes[4] == 0x2D, let month = digits(bytes, 5, 2), bytes[7] == 0x2D,
              let day = digits(bytes, 8, 2) else { return nil }
        if bytes.count == 10 { return format(year: year, month: month, day: day, hour: nil, minute: nil, second: nil, zone: nil, utc: false) }
        guard bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: " "), let hour = digits(bytes, 11, 2), bytes.count >= 16,
              bytes[13] == 0x3A, let minute = digits(bytes, 14, 2) else { return nil }
        var index = 16
        var second = 0
        if index < bytes.count, bytes[index] == 0x3A {
            guard let value = digits(bytes, index + 1, 2) else { return nil }
            second = value
            index += 3
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                let start = index
                while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 { index += 1 }
                guard index > start else { return nil }
            }
        }
        var zone: (sign: UInt8, hours: Int, minutes: Int)?
        var utc = false
        if index < bytes.count {
            if bytes[index] == UInt8(ascii: "Z") && index + 1 == bytes.count {
                utc = true
            } else if bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-"), let hours = digits(bytes, index + 1, 2) {
                var rest = index + 3
                if rest < bytes.count, bytes[rest] == 0x3A { rest += 1 }
                guard let minutes = digits(bytes, rest, 2), rest + 2 == bytes.count, hours < 15, minutes < 60 else { return nil }
                zone = (bytes[index], hours, minutes)
            } else {
                return nil
            }
        }
        return format(year: year, month: month, day: day, hour: hour, minute: minute, second: second, zone: zone, utc: utc)
    }

    private static func normalize(_ bytes: UnsafeBufferPointer<UInt8>, pattern: UnsafeBufferPointer<UInt8>) -> String? {
        var year: Int?, month: Int?, day: Int?, hour: Int?, minute: Int?, second: Int?
        var at = 0
        var index = 0
        func token(_ a: UInt8, _ b: UInt8) -> Bool { index + 1 < pattern.count && pattern[index] == a && pattern[index + 1] == b }
        while index < pattern.count {
            var width = 0
            var slot = 0
            if index + 3 < pattern.count, pattern[index] == UInt8(ascii: "y"), pattern[index + 1] == UInt8(ascii: "y"),
               pattern[index + 2] == UInt8(ascii: "y"), pattern[index + 3] == UInt8(ascii: "y") { width = 4; slot = 1 }
            else if token(UInt8(ascii: "M"), UInt8(ascii: "M")) { width = 2; slot = 2 }
            else if token(UInt8(ascii: "d"), UInt8(ascii: "d")) { width = 2; slot = 3 }
            else if token(UInt8(ascii: "H"), UInt8(ascii: "H")) { width = 2; slot = 4 }
            else if token(UInt8(ascii: "m"), UInt8(ascii: "m")) { width = 2; slot = 5 }
            else if token(UInt8(ascii: "s"), UInt8(ascii: "s")) { width = 2; slot = 6 }
            if width > 0 {
                guard let value = digits(bytes, at, width) else { return nil }
                switch slot {
                case 1: year = value
                case 2: month = value
                case 3: day = value
                case 4: hour = value
                case 5: minute = value
                default: second = value
                }
                at += width
                index += width
            } else {
                guard at < bytes.count, bytes[at] == pattern[index] else { return nil }
                at += 1
                index += 1
            }
        }
        guard at == bytes.count, let year, let month, let day else { return nil }
        return format(year: year, month: month, day: day, hour: hour, minute: minute, second: second, zone: nil, utc: false)
    }
}
