import Foundation
import ZIPFoundation

/// What a file's first bytes say it is.
public enum TableFileKind: Sendable, Equatable {
    case text
    /// A ZIP archive holding `xl/workbook.xml`.
    case workbook
    /// Another ZIP archive (a Word or OpenDocument file, a damaged workbook).
    case zip
    case oldWorkbook
    case encryptedWorkbook

    /// Sniffs `path` by content, whatever its name.
    public static func of(path: String) -> TableFileKind {
        guard let (fd, size) = try? Files.openRegular(path) else { return .text }
        defer { close(fd) }
        var head = [UInt8](repeating: 0, count: 8)
        let count = head.withUnsafeMutableBytes { read(fd, $0.baseAddress, 8) }
        guard count >= 4 else { return .text }
        if head[0] == 0x50, head[1] == 0x4B, head[2] == 0x03 || head[2] == 0x05, head[3] == 0x04 || head[3] == 0x06 {
            guard let archive = try? Archive(url: URL(fileURLWithPath: path), accessMode: .read, pathEncoding: nil) else { return .zip }
            return archive["xl/workbook.xml"] != nil ? .workbook : .zip
        }
        if head[0] == 0xD0, head[1] == 0xCF, head[2] == 0x11, head[3] == 0xE0 {
            // Office keeps a password-protected xlsx as an OLE file holding the stream `EncryptedPackage`, whose name
            // is in the file's directory (UTF-16LE); an xls has none.
            let marker = Array("EncryptedPackage".utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
            let limit = Int(min(size, 64 << 20))
            var bytes = [UInt8](repeating: 0, count: limit)
            let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, limit, 0) }
            guard got > 0 else { return .oldWorkbook }
            bytes.removeSubrange(got...)
            return firstIndex(of: marker, in: bytes, from: 0) != nil ? .encryptedWorkbook : .oldWorkbook
        }
        return .text
    }
}

/// An xlsx workbook opened for reading: its sheets, the 1900 or 1904 date system, which styles are dates, and the
/// shared strings. ZIPFoundation lists the entries and they are checked with limits a hostile file cannot pass (entry
/// count, sizes, expansion ratio, entry names); `EntryInflater` reads each part's bytes.
package final class Workbook {
    package struct Sheet: Sendable, Equatable {
        package let name: String
        package let part: String
    }

    package static let entriesMax = 10_000
    /// The most bytes one part may expand to: a 1,000,000-row register's sheet is about 200 MB.
    package static let partBytesMax: Int64 = 4 << 30
    /// Parts over `ratioCheckBytesMin` may expand at most this many times: XML compresses 5 to 30 times, a zip bomb a
    /// thousand.
    package static let ratioMax = 250
    package static let ratioCheckBytesMin: Int64 = 16 << 20
    /// Parts read whole (the workbook, its relationships, the styles) are small.
    package static let smallPartBytesMax = 64 << 20

    package let path: String
    package let sheets: [Sheet]
    package let date1904: Bool
    /// Per cell style (`s`), whether it shows a date (1), a date and time (2) or neither (0).
    package let dateStyles: [UInt8]
    private let sharedStringsPart: String?
    private var sharedStrings: SharedStrings?
    /// Where each part's bytes are, for `EntryInflater`.
    package let entries: ZipEntries

    package init(path: String) throws(WorkbookError) {
        self.path = path
        let archive: Archive
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw .damaged(path, reason: "\(error)")
        }
        var count = 0
        for entry in archive {
            count += 1
            guard count <= Self.entriesMax else { throw .tooManyEntries(path, entriesMax: Self.entriesMax) }
            let name = entry.path
            let components = name.split(separator: "/", omittingEmptySubsequences: false)
            if name.hasPrefix("/") || name.hasPrefix("\\") || name.contains("\\") || components.contains("..")
                || (name.count >= 2 && name.dropFirst().first == ":") {
                throw .unsafeEntryName(path, entry: redactIdentifiers(name))
            }
            try Self.checkSize(path, part: name, uncompressed: Int64(clamping: entry.uncompressedSize),
                               compressed: Int64(clamping: entry.compressedSize))
        }
        guard archive["xl/workbook.xml"] != nil else { throw .notAWorkbook(path) }
        let entries = try ZipEntries(path: path)
        self.entries = entries

        let relationships = try Self.relationships(path, entries, "xl/_rels/workbook.xml.rels")
        var sheets: [Sheet] = []
        var date1904 = false
        let workbook = XMLPull(source: BytesChunks(try Self.readPart(path, entries, "xl/workbook.xml")))
        do {
            while true {
                let event = try workbook.next()
                if event == .endOfDocument { break }
                guard event == .start else { continue }
                if workbook.named("workbookPr") {
                    let value = workbook.attributeString("date1904")?.lowercased()
                    date1904 = value == "1" || value == "true"
                } else if workbook.named("sheet") {
                    let name = workbook.attributeString("name") ?? "Sheet\(sheets.count + 1)"
                    guard let id = workbook.attributeString("id"), let target = relationships[id]?.target else { continue }
                    sheets.append(Sheet(name: name, part: target))
                }
            }
        } catch {
            throw .badXML(path, part: "xl/workbook.xml", reason: Self.reason(error))
        }
        guard !sheets.isEmpty else { throw .noSheets(path) }
        self.sheets = sheets
        self.date1904 = date1904

        let styles = relationships.values.first { $0.type.hasSuffix("/styles") }?.target ?? "xl/styles.xml"
        dateStyles = entries.locations[styles] == nil ? [] : try Self.dateStyles(path, part: styles, try Self.readPart(path, entries, styles))
        let shared = relationships.values.first { $0.type.hasSuffix("/sharedStrings") }?.target ?? "xl/sharedStrings.xml"
        sharedStringsPart = entries.locations[shared] == nil ? nil : shared
    }

    private static func checkSize(_ path: String, part: String, uncompressed: Int64, compressed: Int64) throws(WorkbookError) {
        guard uncompressed <= partBytesMax else { throw .partTooLarge(path, part: part, bytesMax: partBytesMax) }
        if uncompressed > ratioCheckBytesMin, uncompressed / max(compressed, 1) > Int64(ratioMax) {
            throw .compressionRatio(path, part: part, ratioMax: ratioMax)
        }
    }

    static func reason(_ error: WorkbookError) -> String {
        if case .xml(let reason) = error { return reason }
        return error.description
    }

    /// A small part, whole.
    private static func readPart(_ path: String, _ entries: ZipEntries, _ part: String) throws(WorkbookError) -> [UInt8] {
        guard let location = entries.locations[part] else { throw .damaged(path, reason: "the part \(part) is missing") }
        guard location.uncompressed <= Int64(smallPartBytesMax) else { throw .partTooLarge(path, part: part, bytesMax: Int64(smallPartBytesMax)) }
        let inflater = try EntryInflater(path: path, part: part, location: location)
        var bytes: [UInt8] = []
        while let chunk = try inflater.next() {
            bytes.append(contentsOf: chunk)
            if bytes.count > smallPartBytesMax { throw .partTooLarge(path, part: part, bytesMax: Int64(smallPartBytesMax)) }
        }
        return bytes
    }

    /// `rId` → the part it names, from a relationships part; targets are relative to `xl/` unless they start at `/`.
    private static func relationships(_ path: String, _ entries: ZipEntries, _ part: String) throws(WorkbookError)
        -> [String: (target: String, type: String)] {
        guard entries.locations[part] != nil else { return [:] }
        let xml = XMLPull(source: BytesChunks(try readPart(path, entries, part)))
        var found: [String: (target: String, type: String)] = [:]
        do {
            while true {
                let event = try xml.next()
                if event == .endOfDocument { break }
                guard event == .start, xml.named("Relationship"), let id = xml.attributeString("Id"),
                      let target = xml.attributeString("Target") else { continue }
                found[id] = (resolve(target), xml.attributeString("Type") ?? "")
            }
        } catch {
            throw .badXML(path, part: part, reason: reason(error))
        }
        return found
    }

    /// A relationship's target as an entry name: `worksheets/sheet1.xml` → `xl/worksheets/sheet1.xml`.
    private static func resolve(_ target: String) -> String {
        var parts: [Substring] = target.hasPrefix("/") ? [] : ["xl"]
        for component in target.split(separator: "/") {
            if component == ".." {
                _ = parts.popLast()
            } else if component != "." {
                parts.append(component)
            }
        }
        return parts.joined(separator: "/")
    }

    /// Which cell styles show dates: the built-in date formats and any custom format with day, month, year, hour or
    /// second letters outside quotes, escapes and brackets.
    private static func dateStyles(_ path: String, part: String, _ bytes: [UInt8]) throws(WorkbookError) -> [UInt8] {
        let xml = XMLPull(source: BytesChunks(bytes))
        var custom: [Int: UInt8] = [:]
        var styles: [UInt8] = []
        var inCellXfs = false
        do {
            while true {
                let event = try xml.next()
                if event == .endOfDocument { break }
                if event == .end, xml.named("cellXfs") { inCellXfs = false }
                guard event == .start else { continue }
                if xml.named("numFmt"), let id = xml.attributeString("numFmtId").flatMap({ Int($0) }) {
                    custom[id] = dateKind(ofFormat: xml.attributeString("formatCode") ?? "")
                } else if xml.named("cellXfs") {
                    inCellXfs = !xml.isEmptyElement
                } else if inCellXfs, xml.named("xf") {
                    let id = xml.attributeString("numFmtId").flatMap { Int($0) } ?? 0
                    styles.append(custom[id] ?? builtInDateKind(id))
                }
            }
        } catch {
            throw .badXML(path, part: part, reason: reason(error))
        }
        return styles
    }

    private static func builtInDateKind(_ id: Int) -> UInt8 {
        switch id {
        case 14...17, 27...31, 34...36, 50...58: 1
        case 18...21, 32, 33, 45...47: 2
        case 22: 2
        default: 0
        }
    }

    /// 1 for a date format, 2 for one with a time, 0 otherwise.
    static func dateKind(ofFormat code: String) -> UInt8 {
        var date = false
        var time = false
        var inQuote = false
        var inBracket = false
        var escaped = false
        // Only the first section (positive numbers) decides.
        for character in code.lowercased() {
            if escaped { escaped = false; continue }
            if inQuote { if character == "\"" { inQuote = false }; continue }
            if inBracket { if character == "]" { inBracket = false }; continue }
            switch character {
            case "\\", "_", "*": escaped = true
            case "\"": inQuote = true
            case "[": inBracket = true
            case ";": return time ? 2 : (date ? 1 : 0)
            case "d", "y": date = true
            case "m": date = true
            case "h", "s": time = true
            default: break
            }
        }
        return time ? 2 : (date ? 1 : 0)
    }

    package func sheet(named name: String?) throws(WorkbookError) -> Sheet {
        guard let name else { return sheets[0] }
        if let exact = sheets.first(where: { $0.name == name }) { return exact }
        if let loose = sheets.first(where: { $0.name.lowercased() == name.lowercased() }) { return loose }
        throw .sheetNotFound(path, sheet: name, sheets: sheets.map(\.name))
    }

    /// The rows of `sheet`, streamed.
    package func rows(of sheet: Sheet) throws(WorkbookError) -> SheetRows {
        if sharedStrings == nil, let part = sharedStringsPart {
            sharedStrings = try SharedStrings(path: path, part: part, location: entries.locations[part]!)
        }
        return try SheetRows(workbook: self, sheet: sheet, sharedStrings: sharedStrings ?? SharedStrings())
    }
}

/// One part of the archive, inflated on a thread of its own and handed over 64 KiB at a time, so that a sheet never
/// sits whole in memory and its inflating overlaps its parsing.
package final class PartStream: ByteChunks {
    private enum Chunk: Sendable {
        case bytes([UInt8])
        case end
        case failed(WorkbookError)
    }

    private let channel = Channel<Chunk>(capacity: 8)
    private var finished = false
    package let part: String
    package private(set) var bytesRead: Int64 = 0

    package init(path: String, part: String, location: ZipEntries.Location) throws(WorkbookError) {
        self.part = part
        let channel = self.channel
        let inflater = Handoff(inflater: try EntryInflater(path: path, part: part, location: location))
        _ = Beside {
            do throws(WorkbookError) {
                var produced: Int64 = 0
                while let bytes = try inflater.inflater.next() {
                    produced += Int64(bytes.count)
                    // The sizes the archive declares can lie; the bytes that come out cannot.
                    if produced > Workbook.partBytesMax {
                        throw .partTooLarge(path, part: part, bytesMax: Workbook.partBytesMax)
                    }
                    if produced > Workbook.ratioCheckBytesMin, produced / max(location.compressed, 1) > Int64(Workbook.ratioMax) {
                        throw .compressionRatio(path, part: part, ratioMax: Workbook.ratioMax)
                    }
                    guard channel.put(.bytes(bytes)) else { return }
                }
                _ = channel.put(.end)
            } catch {
                _ = channel.put(.failed(error))
            }
        }
    }

    /// The inflater, handed to the thread that runs it: nothing else touches it afterwards.
    private struct Handoff: @unchecked Sendable {
        let inflater: EntryInflater
    }

    deinit { channel.cancel() }

    package func nextChunk() throws(WorkbookError) -> [UInt8]? {
        if finished { return nil }
        switch channel.take() {
        case .bytes(let bytes):
            bytesRead += Int64(bytes.count)
            return bytes
        case .end:
            finished = true
            return nil
        case .failed(let error):
            finished = true
            throw error
        }
    }
}

/// The workbook's shared strings, kept as one byte array and the end of each string: a million names cost their
/// bytes and eight more each, not a million `String`s.
package struct SharedStrings {
    package static let countMax = 16_000_000
    private var bytes: [UInt8] = []
    private var ends: [Int] = []

    init() {}

    init(path: String, part: String, location: ZipEntries.Location) throws(WorkbookError) {
        let xml = XMLPull(source: try PartStream(path: path, part: part, location: location))
        var depth = 0
        var inText = false
        var inPhonetic = false
        do throws(WorkbookError) {
            while true {
                switch try xml.next() {
                case .endOfDocument:
                    return
                case .start:
                    if xml.named("si") {
                        depth += 1
                    } else if xml.named("rPh") {
                        inPhonetic = true
                    } else if xml.named("t") {
                        inText = depth > 0 && !inPhonetic
                    }
                case .end:
                    if xml.named("si") {
                        depth -= 1
                        ends.append(bytes.count)
                        guard ends.count <= Self.countMax else { throw WorkbookError.xml("holds more than \(Self.countMax) shared strings") }
                    } else if xml.named("rPh") {
                        inPhonetic = false
                    } else if xml.named("t") {
                        inText = false
                    }
                case .text:
                    if inText { bytes.append(contentsOf: xml.text) }
                }
            }
        } catch {
            throw .badXML(path, part: part, reason: Workbook.reason(error))
        }
    }

    var count: Int { ends.count }

    func append(_ index: Int, to out: inout [UInt8]) {
        let start = index == 0 ? 0 : ends[index - 1]
        out.append(contentsOf: bytes[start..<ends[index]])
    }
}
