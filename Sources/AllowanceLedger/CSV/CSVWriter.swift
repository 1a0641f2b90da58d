#if canImport(Glibc)
import Glibc
#endif

/// Writes an RFC 4180 CSV file (UTF-8, LF line ends) through a temporary file renamed into place on
/// `commit()`, so a reader never sees half a file.
///
/// Text cells that a spreadsheet would run as a formula (starting `=`, `+`, `-`, `@`, tab or CR) are
/// neutralised with a leading apostrophe; numbers are written as they are. With `reversible`, a text cell that
/// already starts with an apostrophe gets one more, so a reader gets the exact text back by dropping one leading
/// apostrophe (the audit export, whose verifier rehashes what it reads).
public final class CSVWriter {
    public let path: String
    private let temporaryPath: String
    private let fd: Int32
    private var buffer: [UInt8] = []
    private var fieldsInRow = 0
    private var committed = false
    public private(set) var rows = 0
    /// False only for files that feed this tool back (generated test data), where `+84…` must stay as written.
    public let neutralisesFormulas: Bool
    private let lineEnd: [UInt8]
    private let reversible: Bool
    /// When set, every byte written is hashed.
    public var hasher: SHA256Hasher?
    public private(set) var bytesWritten: Int64 = 0

    /// `crlf` and `byteOrderMark` write files the way spreadsheets on Windows save them (generated test data).
    public init(path: String, neutralisesFormulas: Bool = true, crlf: Bool = false, byteOrderMark: Bool = false,
                reversible: Bool = false) throws(FileError) {
        self.path = path
        self.neutralisesFormulas = neutralisesFormulas
        self.reversible = reversible && neutralisesFormulas
        self.lineEnd = crlf ? [0x0D, 0x0A] : [0x0A]
        (self.fd, self.temporaryPath) = try Files.createTemporary(beside: path)
        buffer.reserveCapacity(1 << 16)
        if byteOrderMark { buffer.append(contentsOf: [0xEF, 0xBB, 0xBF]) }
    }

    deinit {
        close(fd)
        if !committed { unlink(temporaryPath) }
    }

    private func separator() {
        if fieldsInRow > 0 { buffer.append(UInt8(ascii: ",")) }
        fieldsInRow += 1
    }

    public func text(_ value: String) {
        separator()
        Self.appendText(value, to: &buffer, neutralise: neutralisesFormulas, reversible: reversible)
    }

    /// A text cell from UTF-8 bytes.
    public func text(bytes: UnsafeBufferPointer<UInt8>) {
        separator()
        Self.appendText(bytes, to: &buffer, neutralise: neutralisesFormulas, reversible: reversible)
    }

    /// An empty cell.
    public func empty() {
        separator()
    }

    public func int(_ value: Int64) {
        separator()
        Self.appendInt(value, to: &buffer)
    }

    public func endRow() throws(FileError) {
        buffer.append(contentsOf: lineEnd)
        fieldsInRow = 0
        rows += 1
        if buffer.count >= 1 << 16 { try flush() }
    }

    public func row(_ cells: [String]) throws(FileError) {
        for cell in cells { text(cell) }
        try endRow()
    }

    /// Appends rows the caller encoded itself (with `appendText` and `appendInt`, each row ending in a line feed):
    /// hot loops build rows in a local buffer instead of paying for an access to this object on every cell.
    package func append(encodedRows bytes: [UInt8], count: Int) throws(FileError) {
        precondition(fieldsInRow == 0, "encoded rows go between whole rows")
        buffer.append(contentsOf: bytes)
        rows += count
        if buffer.count >= 1 << 16 { try flush() }
    }

    /// A decimal integer appended at once, with no intermediate string (`withDecimalDigits`).
    package static func appendInt(_ value: Int64, to out: inout [UInt8]) {
        withDecimalDigits(of: value) { out.append(contentsOf: $0) }
    }

    private func flush() throws(FileError) {
        hasher?.update(buffer)
        bytesWritten += Int64(buffer.count)
        try writeAll(buffer, to: fd, path: path)
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes, syncs and renames the file into place.
    public func commit() throws(FileError) {
        try flush()
        guard fsync(fd) == 0 else { throw FileError(path: path, errno: errno) }
        guard rename(temporaryPath, path) == 0 else { throw FileError(path: path, errno: errno) }
        committed = true
    }

    package static func appendText(_ utf8: UnsafeBufferPointer<UInt8>, to out: inout [UInt8], neutralise: Bool = true, reversible: Bool = false) {
        let formula: Bool = {
            guard neutralise, let first = utf8.first else { return false }
            return first == UInt8(ascii: "=") || first == UInt8(ascii: "+") || first == UInt8(ascii: "-")
                || first == UInt8(ascii: "@") || first == 0x09 || first == 0x0D || (reversible && first == UInt8(ascii: "'"))
        }()
        let needsQuotes = formula || utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D })
        if !needsQuotes {
            out.append(contentsOf: utf8)
            return
        }
        out.append(UInt8(ascii: "\""))
        if formula { out.append(UInt8(ascii: "'")) }
        for byte in utf8 {
            if byte == UInt8(ascii: "\"") { out.append(byte) }
            out.append(byte)
        }
        out.append(UInt8(ascii: "\""))
    }

    package static func appendText(_ value: String, to out: inout [UInt8], neutralise: Bool = true, reversible: Bool = false) {
        var value = value
        value.withUTF8 { appendText($0, to: &out, neutralise: neutralise, reversible: reversible) }
    }

    /// One cell as it would be written, for tests and one-off lines.
    public static func encode(_ value: String) -> String {
        var out: [UInt8] = []
        appendText(value, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}

/// Writes a whole file through a temporary name, synced and renamed into place: a reader never sees half of it.
public func writeTextFile(_ text: String, to path: String) throws(FileError) {
    try writeFile(Array(text.utf8), to: path)
}

public func writeFile(_ bytes: [UInt8], to path: String) throws(FileError) {
    let (fd, temporaryPath) = try Files.createTemporary(beside: path)
    var done = false
    defer {
        close(fd)
        if !done { unlink(temporaryPath) }
    }
    try writeAll(bytes, to: fd, path: path)
    guard fsync(fd) == 0 else { throw FileError(path: path, errno: errno) }
    guard rename(temporaryPath, path) == 0 else { throw FileError(path: path, errno: errno) }
    done = true
}

/// Writes every byte to `fd`, through short writes and interrupted calls; `path` names the file in errors.
func writeAll(_ bytes: [UInt8], to fd: Int32, path: String) throws(FileError) {
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
        if written < 0 {
            if errno == EINTR { continue }
            throw FileError(path: path, errno: errno)
        }
        offset += written
    }
}

/// The names in a folder, without `.` and `..`; nil when it cannot be opened (errno says why).
package func directoryEntries(_ path: String) -> [String]? {
    guard let dir = opendir(path) else { return nil }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        if name != "." && name != ".." { names.append(name) }
    }
    return names
}

/// Everything left to read from `fd`; nil when it runs past `max` bytes (a file that size is not the one expected).
package func readAll(from fd: Int32, path: String, max: Int) throws(FileError) -> [UInt8]? {
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count < 0 {
            if errno == EINTR { continue }
            throw FileError(path: path, errno: errno)
        }
        if count == 0 { return out }
        out += chunk.prefix(count)
        if out.count > max { return nil }
    }
}

/// A decimal integer as `String(value)` spells it, its digits written backwards into a small stack buffer and handed to
/// `body` at once: the CSV writer, the chain hash and the item seal write their numbers so, several per row.
package func withDecimalDigits<Result>(of value: Int64, _ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
    var magnitude = value.magnitude
    // "-9223372036854775808" is the longest: 20 bytes.
    return try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
        var index = 20
        repeat {
            index -= 1
            digits[index] = UInt8(truncatingIfNeeded: 0x30 &+ magnitude % 10)
            magnitude /= 10
        } while magnitude > 0
        if value < 0 {
            index -= 1
            digits[index] = UInt8(ascii: "-")
        }
        return try body(UnsafeBufferPointer(rebasing: digits[index..<20]))
    }
}
