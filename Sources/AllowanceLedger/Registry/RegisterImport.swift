import Foundation

/// One bad line of an input file, written `FILE:LINE: reason; reason`.
public struct LineProblem: Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let line: Int
    /// Everything wrong with the line, in the order it was found.
    public let problems: [Problem]

    public init(file: String, line: Int, problems: [Problem]) {
        self.file = file
        self.line = line
        self.problems = problems
    }

    /// The reasons in `wording`'s language, one after another.
    public func reason(in wording: Wording) -> String { problems.map(wording.words(for:)).joined(separator: "; ") }
    public func description(in wording: Wording) -> String { "\(file):\(line): \(reason(in: wording))" }

    /// In English, as the rejects file and the CLI print it by default.
    public var reason: String { reason(in: .english) }
    public var description: String { description(in: .english) }
}

public struct RegisterImportOptions: Sendable {
    /// Import the good lines and write the rejected ones, with their reasons, to `rejectsPath`.
    public var skipInvalid = false
    /// Where rejected lines go; `FILE.rejected.csv` when nil.
    public var rejectsPath: String?
    /// Write whole national IDs and numbers into the rejects file.
    public var reveal = false
    public var by: UserName

    public init(by: UserName) { self.by = by }
}

public struct RegisterImportResult: Sendable, Equatable {
    public var file: String
    public var sha256: String
    /// The same bytes were imported before; nothing changed.
    public var alreadyImported = false
    public var previousImportAt: String?
    public var previousImportBy: String?
    /// Non-blank data lines.
    public var lines = 0
    public var created = 0
    public var updated = 0
    public var unchanged = 0
    public var rejected = 0
    public var rejectsPath: String?

    package init(file: String, sha256: String, previousImportAt: String? = nil, previousImportBy: String? = nil,
                 rejectsPath: String? = nil) {
        self.file = file
        self.sha256 = sha256
        self.previousImportAt = previousImportAt
        self.previousImportBy = previousImportBy
        self.rejectsPath = rejectsPath
    }
    public var flagsRaised = 0
}

public enum RegisterImportError: ProblemConvertible, Sendable, Equatable {
    case emptyFile(String)
    /// The header line itself cannot be read: not UTF-8, a NUL byte, an unclosed quote, too long.
    case unreadableHeader(String, Problem)
    case missingColumns(String, [String])
    case duplicateColumn(String, String)
    case invalidLines(String, count: Int)
    case fileChanged(String)

    public var problem: Problem {
        let header = RawRegisterFields.columns.joined(separator: ",")
        return switch self {
        case .emptyFile(let file): Problem("register.empty_file", ["file": file, "header": header])
        case .unreadableHeader(let file, let problem): Problem("register.unreadable_header", ["file": file, "header": header], parts: ["problem": problem])
        case .missingColumns(let file, let columns): Problem("register.missing_columns", ["file": file, "columns": listed(columns), "header": header])
        case .duplicateColumn(let file, let column): Problem("register.duplicate_column", ["file": file, "column": column])
        case .fileChanged(let file): Problem("register.file_changed", ["file": file])
        case .invalidLines(let file, let count): Problem(count == 1 ? "register.invalid_line" : "register.invalid_lines", ["file": file, "count": String(count)])
        }
    }
}

/// One checked line, handed from the reading thread to the writing one.
package enum RegisterLine: Sendable {
    case good(line: Int, details: BeneficiaryDetails)
    case bad(line: Int, reasons: [Problem], fields: [String])
}

/// What the reading thread sends.
package enum RegisterMessage: Sendable {
    case header([String])
    case lines([RegisterLine], bytesRead: Int64)
    case failed(RegisterReadFailure)
    case end
}

package enum RegisterReadFailure: Error, Sendable {
    case file(FileError)
    case format(RegisterImportError)
}

/// The line each national ID was first seen on, for a million IDs: open addressing over one flat array, several times
/// faster than a `Dictionary` (whose hashing and inserts were a tenth of the reading thread's time). A slot holds the
/// ID's 12 digits read as a number (below 2^40) in its high bits and the line in its low 24; 0 is an empty slot, since
/// no ID reads as 0 (province codes start at 001). Lines from 2^24 - 1 on are kept aside.
package struct LineByNumber {
    private var slots: [UInt64]
    private var mask: Int
    private var count = 0
    private var farLines: [UInt64: Int32] = [:]
    private static let lineBits: UInt64 = 24
    private static let lineMask: UInt64 = (1 << lineBits) - 1

    package init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [UInt64](repeating: 0, count: size)
        mask = size - 1
    }

    /// Records `key` on `line` and returns nil, or returns the line it was already recorded on.
    package mutating func insert(_ key: UInt64, line: Int32) -> Int32? {
        precondition(key != 0 && key < 1 << (64 - Self.lineBits), "a national ID's 12 digits, not 0")
        if count * 2 >= slots.count { grow() }
        var slot = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 20) & mask
        while slots[slot] != 0 {
            if slots[slot] >> Self.lineBits == key {
                let line = slots[slot] & Self.lineMask
                return line == Self.lineMask ? farLines[key]! : Int32(line)
            }
            slot = (slot + 1) & mask
        }
        let stored = min(UInt64(max(line, 0)), Self.lineMask)
        if stored == Self.lineMask { farLines[key] = line }
        slots[slot] = key << Self.lineBits | stored
        count += 1
        return nil
    }

    private mutating func grow() {
        let old = slots.filter { $0 != 0 }
        let far = farLines
        self = LineByNumber(capacity: slots.count)
        for slot in old {
            let key = slot >> Self.lineBits
            _ = insert(key, line: slot & Self.lineMask == Self.lineMask ? far[key]! : Int32(slot & Self.lineMask))
        }
    }
}
