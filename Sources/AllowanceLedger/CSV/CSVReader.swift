#if canImport(Glibc)
import Glibc
#endif

/// Why one record of a CSV file cannot be read; the reader goes on with the next record.
public enum CSVRecordError: Error, Sendable, Equatable, CustomStringConvertible {
    case tooLong(bytesMax: Int)
    case unclosedQuote(openedOnLine: Int)
    case textAfterClosingQuote
    case notUTF8
    case nulByte

    public var description: String {
        switch self {
        case .tooLong(let max): "line is longer than \(max) bytes; is this the right file?"
        case .unclosedQuote(let line): "quoted field opened on line \(line) is never closed; add the closing \""
        case .textAfterClosingQuote: "text after a closing quote; a quoted field must end at a comma or line end (write \"\" for a quote inside)"
        case .notUTF8: "not valid UTF-8; save the file as CSV UTF-8"
        case .nulByte: "contains a NUL byte; this looks like a binary file, not CSV"
        }
    }
}

/// A file that cannot be opened or read.
public struct FileError: Error, Sendable, Equatable, CustomStringConvertible {
    public let path: String
    public let reason: String
    public init(path: String, reason: String) { self.path = path; self.reason = reason }
    public init(path: String, errno code: Int32) { self.init(path: path, reason: String(cString: strerror(code))) }
    public var description: String { "\(path): \(reason)" }
}

/// Streams an RFC 4180 CSV file record by record over a fixed-size buffer; memory stays flat however long
/// the file is.
///
/// Accepts a UTF-8 BOM, CRLF, LF or CR line ends, quoted fields with commas, doubled quotes and line breaks.
/// `recordLine` is the physical line a record starts on, the number people see in an editor.
public final class CSVReader {
    public static let bufferBytes = 1 << 16
    public let path: String
    public let recordBytesMax: Int

    private let fd: Int32
    private let buffer: UnsafeMutableBufferPointer<UInt8>
    private var position = 0
    private var filled = 0
    private var atEOF = false
    private var startOfFile = true
    private var line = 1
    private var skipLF = false

    private var bytes: [UInt8] = []
    private var ends: [Int] = []
    private var overflowed = false

    /// The physical line the current record starts on.
    public private(set) var recordLine = 0
    /// Set when the current record cannot be read; its fields are then incomplete.
    public private(set) var recordError: CSVRecordError?
    /// Bytes consumed so far, for progress.
    public private(set) var bytesConsumed: Int64 = 0

    public init(path: String, recordBytesMax: Int = 1 << 16) throws(FileError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError(path: path, errno: errno) }
        var info = stat()
        if fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw FileError(path: path, reason: "is a directory, not a CSV file")
        }
        self.fd = fd
        self.path = path
        self.recordBytesMax = recordBytesMax
        self.buffer = .allocate(capacity: Self.bufferBytes)
        bytes.reserveCapacity(1024)
        ends.reserveCapacity(32)
    }

    deinit {
        buffer.deallocate()
        close(fd)
    }

    public var fieldCount: Int { ends.count }

    /// The raw bytes of field `index` of the current record.
    public func withField<R>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let start = index == 0 ? 0 : ends[index - 1]
        return try bytes.withUnsafeBufferPointer { all in
            try body(UnsafeBufferPointer(rebasing: all[start..<ends[index]]))
        }
    }

    /// Field `index` as text, or nil when it is not valid UTF-8.
    public func string(_ index: Int) -> String? {
        withField(index) { String(validating: $0, as: UTF8.self) }
    }

    /// True when every field is empty or only spaces: a blank line, or `,,,,` left by a spreadsheet.
    public var isBlank: Bool {
        bytes.allSatisfy { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
    }

    private func fill() throws(FileError) -> Bool {
        if atEOF { return false }
        while true {
            let count = read(fd, buffer.baseAddress, Self.bufferBytes)
            if count < 0 {
                if errno == EINTR { continue }
                throw FileError(path: path, errno: errno)
            }
            if count == 0 { atEOF = true; return false }
            position = 0
            filled = count
            bytesConsumed += Int64(count)
            return true
        }
    }

    private func append(_ byte: UInt8) {
        if bytes.count < recordBytesMax {
            bytes.append(byte)
        } else if !overflowed {
            overflowed = true
            if recordError == nil { recordError = .tooLong(bytesMax: recordBytesMax) }
        }
    }

    private enum State { case fieldStart, unquoted, quoted, quoteInQuoted }

    /// Moves to the next record; false at the end of the file.
    public func next() throws(FileError) -> Bool {
        bytes.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
        recordError = nil
        overflowed = false
        var state = State.fieldStart
        var started = false
        var quoteLine = 0

        while true {
            if position == filled {
                guard try fill() else { break }
            }
            if startOfFile {
                startOfFile = false
                if filled - position >= 3, buffer[position] == 0xEF, buffer[position + 1] == 0xBB, buffer[position + 2] == 0xBF {
                    position += 3
                    continue
                }
            }
            let byte = buffer[position]
            position += 1
            if skipLF {
                skipLF = false
                if byte == UInt8(ascii: "\n") { continue }
            }
            if !started {
                started = true
                recordLine = line
            }
            if byte == 0, recordError == nil { recordError = .nulByte }
            switch state {
            case .fieldStart, .unquoted:
                switch byte {
                case UInt8(ascii: ","):
                    ends.append(bytes.count)
                    state = .fieldStart
                case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                    line += 1
                    if byte == UInt8(ascii: "\r") { skipLF = true }
                    ends.append(bytes.count)
                    return finishRecord()
                case UInt8(ascii: "\"") where state == .fieldStart:
                    state = .quoted
                    quoteLine = line
                default:
                    append(byte)
                    state = .unquoted
                }
            case .quoted:
                if byte == UInt8(ascii: "\"") {
                    state = .quoteInQuoted
                } else {
                    if byte == UInt8(ascii: "\n") {
                        line += 1
                    } else if byte == UInt8(ascii: "\r") {
                        line += 1
                        skipLF = true
                        append(byte)
                        // A CRLF inside quotes keeps both bytes.
                        if position == filled { _ = try fill() }
                        if position < filled, buffer[position] == UInt8(ascii: "\n") {
                            skipLF = false
                            position += 1
                            append(UInt8(ascii: "\n"))
                        }
                        continue
                    }
                    append(byte)
                }
            case .quoteInQuoted:
                switch byte {
                case UInt8(ascii: "\""):
                    append(byte)
                    state = .quoted
                case UInt8(ascii: ","):
                    ends.append(bytes.count)
                    state = .fieldStart
                case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                    line += 1
                    if byte == UInt8(ascii: "\r") { skipLF = true }
                    ends.append(bytes.count)
                    return finishRecord()
                case UInt8(ascii: " "), UInt8(ascii: "\t"):
                    // Trailing spaces after a closing quote are harmless.
                    break
                default:
                    if recordError == nil { recordError = .textAfterClosingQuote }
                    append(byte)
                    state = .unquoted
                }
            }
        }
        // End of file.
        guard started else { return false }
        if state == .quoted, recordError == nil { recordError = .unclosedQuote(openedOnLine: quoteLine) }
        ends.append(bytes.count)
        return finishRecord()
    }

    private func finishRecord() -> Bool {
        if recordError == nil, String(validating: bytes, as: UTF8.self) == nil {
            recordError = .notUTF8
        }
        return true
    }
}

/// Finds named columns in a header row, case-insensitively and in any order.
public struct CSVHeader: Sendable {
    public let names: [String]

    public init(reader: CSVReader) {
        var names: [String] = []
        for index in 0..<reader.fieldCount {
            names.append((reader.string(index) ?? "").trimmingSpaces.lowercased())
        }
        self.names = names
    }

    public func index(of name: String) -> Int? { names.firstIndex(of: name.lowercased()) }
}
