import AllowanceLedger
import AllowanceViews
import Logging
#if canImport(Glibc)
import Glibc
#endif

enum Terminal {
    /// The language messages are worded in: `ALLOWANCE_LANG=vi` for Vietnamese, English otherwise.
    static let wording: Wording = getenv("ALLOWANCE_LANG").map { String(cString: $0) }.flatMap(Wording.Language.init(rawValue:)).map(Wording.of) ?? .english

    static func error(_ message: String) {
        writeError("\(wording.language == .vietnamese ? "lỗi" : "error"): \(safe(message))\n")
    }

    static func warning(_ message: String) {
        writeError("warning: \(safe(message))\n")
    }

    /// A line on stderr as it is (`FILE:LINE: reason`), but for control characters.
    static func note(_ message: String) {
        writeError("\(safe(message))\n")
    }

    /// `peak memory: N kB` on stderr, from /proc/self/status; nothing where there is none.
    static func notePeakMemory() {
        guard let opened = try? Files.openRegular("/proc/self/status") else { return }
        defer { close(opened.fd) }
        guard let bytes = (try? readAll(from: opened.fd, path: "/proc/self/status", max: 1 << 16)) ?? nil,
              let line = String(decoding: bytes, as: UTF8.self).split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
        else { return }
        writeError("peak memory: \(String(line.dropFirst("VmHWM:".count)).trimmingSpaces)\n")
    }

    /// `text` with every control character but line feed and tab (C0, DEL, C1) replaced by U+FFFD: what a carrier's
    /// file, a register or a profile holds reaches a terminal that obeys escape sequences (recolouring, moving the
    /// cursor, rewriting the title, hiding what was printed), and none of it may act there.
    static func safe(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars { out.append(isControl(scalar) ? "\u{FFFD}" : scalar) }
        return String(out)
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        return (value < 0x20 && value != 0x0A && value != 0x09) || (value >= 0x7F && value <= 0x9F)
    }

    static func writeError(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(STDERR_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }

    /// Progress goes to a terminal only, never into a pipe or a file.
    static let showsProgress = isatty(STDERR_FILENO) == 1 && isatty(STDOUT_FILENO) == 1

    static func progress(_ message: String) {
        guard showsProgress else { return }
        writeError("\r\u{1B}[K\(message)")
    }

    static func endProgress() {
        guard showsProgress else { return }
        writeError("\r\u{1B}[K")
    }
}

/// Prints rows as aligned columns; numbers right-aligned.
struct Table {
    var headers: [String]
    var rows: [[String]] = []
    var rightAligned: Set<Int> = []

    init(_ headers: [String], rightAligned: Set<Int> = []) {
        self.headers = headers
        self.rightAligned = rightAligned
    }

    mutating func add(_ row: [String]) { rows.append(row) }

    func render() -> String {
        var widths = headers.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                let padding = String(repeating: " ", count: max(0, widths[index] - cell.count))
                return rightAligned.contains(index) ? padding + cell : cell + padding
            }.joined(separator: "  ").replacingTrailingSpaces()
        }
        var out = [line(headers), line(widths.map { String(repeating: "-", count: $0) })]
        out += rows.map(line)
        return out.joined(separator: "\n")
    }
}

extension String {
    func replacingTrailingSpaces() -> String {
        var text = self
        while text.hasSuffix(" ") { text.removeLast() }
        return text
    }
}

extension JSON {
    func print() { Swift.print(render()) }
}

extension Money {
    /// `1.234.567 ₫`.
    var shown: String { "\(grouped) ₫" }
}

/// Log messages on stderr, one a line, as they are: no time, label or level (profiling output, README: Profiling).
struct StderrLines: LogHandler {
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        Terminal.writeError("\(event.message)\n")
    }
}

/// Every line of text the CLI prints goes through here, not straight to `Swift.print`: control characters are made
/// harmless (`Terminal.safe`). JSON output escapes them itself.
func print(_ items: Any..., separator: String = " ", terminator: String = "\n") {
    Swift.print(Terminal.safe(items.map { String(describing: $0) }.joined(separator: separator)), terminator: terminator)
}
