#if canImport(Glibc)
import Glibc
#endif

/// Where an XML part's bytes come from, a chunk at a time; nil at the end.
package protocol ByteChunks: AnyObject {
    func nextChunk() throws(WorkbookError) -> [UInt8]?
}

/// A pull reader of the XML inside a workbook, over chunks, that never builds a tree: a million-row sheet is read in
/// the memory of one tag and one text.
///
/// It knows what spreadsheet parts use: elements (names read without their prefix, `x:row` as `row`), attributes,
/// text with the five predefined entities and character references, CDATA, comments and processing instructions. A
/// document type declaration is refused, so no entity is ever declared, expanded or fetched.
package final class XMLPull {
    package enum Event: Equatable { case start, end, text, endOfDocument }

    /// The longest tag or text run kept: a sheet's cell holds at most 32,767 characters.
    package static let tokenBytesMax = 1 << 20

    // A reader belongs to one thread, and nothing reads these while `next()` runs: unchecked, since a dynamic
    // exclusivity check on each access cost a tenth of reading a sheet.
    private let source: ByteChunks
    @exclusivity(unchecked) private var buffer: [UInt8] = []
    @exclusivity(unchecked) private var position = 0
    @exclusivity(unchecked) private var sourceDone = false

    /// The current element's name without its prefix (for `.start` and `.end`).
    @exclusivity(unchecked) package private(set) var name: [UInt8] = []
    /// `<c/>`: the start is followed by an `.end` of the same name.
    @exclusivity(unchecked) package private(set) var isEmptyElement = false
    @exclusivity(unchecked) private var pendingEnd = false
    /// The current start tag's attribute text, between the name and `>`.
    @exclusivity(unchecked) private var attributes: [UInt8] = []
    /// The current text, entities decoded.
    @exclusivity(unchecked) package private(set) var text: [UInt8] = []

    package init(source: ByteChunks) {
        self.source = source
        buffer.reserveCapacity(1 << 17)
        name.reserveCapacity(32)
        attributes.reserveCapacity(256)
        text.reserveCapacity(256)
    }

    /// Appends the next chunk to what is left of the buffer; false at the end of the part.
    private func refill() throws(WorkbookError) -> Bool {
        if sourceDone { return false }
        guard let chunk = try source.nextChunk() else {
            sourceDone = true
            return false
        }
        if position > 0 {
            buffer.removeSubrange(0..<position)
            position = 0
        }
        buffer.append(contentsOf: chunk)
        return true
    }

    package func next() throws(WorkbookError) -> Event {
        if pendingEnd {
            pendingEnd = false
            isEmptyElement = false
            return .end
        }
        while true {
            if position >= buffer.count {
                guard try refill() else { return .endOfDocument }
                continue
            }
            if buffer[position] != UInt8(ascii: "<") { return try readText() }
            // Markup: its second byte says which kind.
            if position + 1 >= buffer.count {
                guard try refill() else { throw .xml("a tag is cut off at the end of the part") }
                continue
            }
            switch buffer[position + 1] {
            case UInt8(ascii: "?"):
                try skip(past: Array("?>".utf8))
            case UInt8(ascii: "!"):
                if try startsWith("<!--") {
                    try skip(past: Array("-->".utf8))
                } else if try startsWith("<![CDATA[") {
                    position += 9
                    text.removeAll(keepingCapacity: true)
                    let end = try find(Array("]]>".utf8))
                    text.append(contentsOf: buffer[position..<end])
                    position = end + 3
                    return .text
                } else {
                    throw .xml("declares a document type (<!DOCTYPE or <!ENTITY); a workbook's XML has none and it is refused")
                }
            case UInt8(ascii: "/"):
                let end = try tagEnd()
                readName(from: position + 2, to: end)
                position = end + 1
                return .end
            default:
                let end = try tagEnd()
                var last = end - 1
                isEmptyElement = buffer[last] == UInt8(ascii: "/")
                if isEmptyElement { last -= 1 }
                let nameEnd = readName(from: position + 1, to: last + 1)
                attributes.removeAll(keepingCapacity: true)
                if nameEnd <= last { attributes.append(contentsOf: buffer[nameEnd...last]) }
                position = end + 1
                pendingEnd = isEmptyElement
                return .start
            }
        }
    }

    /// Reads a name ending at a space, `/`, `>` or `end`, keeping the part after its prefix; returns where it ended.
    @discardableResult
    private func readName(from start: Int, to end: Int) -> Int {
        var index = start
        var local = start
        while index < end {
            let byte = buffer[index]
            if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == UInt8(ascii: "/") || byte == UInt8(ascii: ">") { break }
            if byte == UInt8(ascii: ":") { local = index + 1 }
            index += 1
        }
        name.removeAll(keepingCapacity: true)
        name.append(contentsOf: buffer[local..<index])
        return index
    }

    /// The index of the `>` that ends the tag at `position`, outside quoted attribute values (`formatCode="[>=100]"`).
    private func tagEnd() throws(WorkbookError) -> Int {
        var index = position + 1
        var quote: UInt8 = 0
        while true {
            while index < buffer.count {
                let byte = buffer[index]
                if quote != 0 {
                    if byte == quote { quote = 0 }
                } else if byte == UInt8(ascii: ">") {
                    return index
                } else if byte == 0x22 || byte == 0x27 {
                    quote = byte
                } else if byte == UInt8(ascii: "<") {
                    throw .xml("a tag holds a '<'")
                }
                index += 1
            }
            guard index - position <= Self.tokenBytesMax else { throw .xml("a tag is longer than \(Self.tokenBytesMax) bytes") }
            let offset = index - position
            guard try refill() else { throw .xml("a tag is cut off at the end of the part") }
            index = position + offset
        }
    }

    private func startsWith(_ prefix: StaticString) throws(WorkbookError) -> Bool {
        let count = prefix.utf8CodeUnitCount
        while buffer.count - position < count {
            guard try refill() else { return false }
        }
        let bytes = UnsafeBufferPointer(start: prefix.utf8Start, count: count)
        for offset in 0..<count where buffer[position + offset] != bytes[offset] { return false }
        return true
    }

    /// The index where `marker` starts, at or after `position`, reading on as needed.
    private func find(_ marker: [UInt8]) throws(WorkbookError) -> Int {
        var from = position
        while true {
            if buffer.count - from >= marker.count {
                if let found = firstIndex(of: marker, in: buffer, from: from) { return found }
                from = buffer.count - marker.count + 1
            }
            guard from - position <= Self.tokenBytesMax else { throw .xml("a comment or CDATA section is longer than \(Self.tokenBytesMax) bytes") }
            let offset = from - position
            guard try refill() else { throw .xml("a comment or CDATA section is never closed") }
            from = position + offset
        }
    }

    private func skip(past marker: [UInt8]) throws(WorkbookError) {
        position = try find(marker) + marker.count
    }

    /// Text up to the next `<` (or the end of the part), entities decoded.
    private func readText() throws(WorkbookError) -> Event {
        text.removeAll(keepingCapacity: true)
        while true {
            let end = buffer.withUnsafeBufferPointer { all -> Int in
                guard let hit = memchr(all.baseAddress! + position, 0x3C, all.count - position) else { return all.count }
                return all.baseAddress!.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            }
            let runEnd: Int
            if end == buffer.count, let ampersand = buffer[position..<end].lastIndex(of: UInt8(ascii: "&")),
               !buffer[ampersand..<end].contains(UInt8(ascii: ";")) {
                // An entity cut by the chunk's end waits for the rest of it.
                runEnd = ampersand
            } else {
                runEnd = end
            }
            try decode(position, runEnd)
            position = runEnd
            guard text.count <= Self.tokenBytesMax else { throw .xml("a text is longer than \(Self.tokenBytesMax) bytes") }
            if end < buffer.count { return .text }
            guard try refill() else {
                if position < buffer.count { throw .xml("an entity is cut off at the end of the part") }
                return .text
            }
        }
    }

    private func decode(_ start: Int, _ end: Int) throws(WorkbookError) {
        var index = start
        while index < end {
            let ampersand = buffer[index..<end].firstIndex(of: UInt8(ascii: "&")) ?? end
            text.append(contentsOf: buffer[index..<ampersand])
            if ampersand == end { return }
            guard let semicolon = buffer[ampersand..<min(end, ampersand + 12)].firstIndex(of: UInt8(ascii: ";")) else {
                throw .xml("an '&' starts no entity; write &amp;")
            }
            try Self.appendEntity(buffer[(ampersand + 1)..<semicolon], to: &text)
            index = semicolon + 1
        }
    }

    /// `amp`, `lt`, `gt`, `quot`, `apos`, `#NNN`, `#xHH`; any other name is refused (nothing declares one).
    static func appendEntity(_ entity: ArraySlice<UInt8>, to out: inout [UInt8]) throws(WorkbookError) {
        switch Array(entity) {
        case Array("amp".utf8): out.append(UInt8(ascii: "&"))
        case Array("lt".utf8): out.append(UInt8(ascii: "<"))
        case Array("gt".utf8): out.append(UInt8(ascii: ">"))
        case Array("quot".utf8): out.append(0x22)
        case Array("apos".utf8): out.append(0x27)
        default:
            guard entity.first == UInt8(ascii: "#") else {
                throw .xml("uses the entity &\(String(decoding: entity, as: UTF8.self)); which is not one of XML's five")
            }
            var digits = entity.dropFirst()
            var radix: UInt32 = 10
            if digits.first == UInt8(ascii: "x") || digits.first == UInt8(ascii: "X") {
                radix = 16
                digits = digits.dropFirst()
            }
            guard !digits.isEmpty, let value = UInt32(String(decoding: digits, as: UTF8.self), radix: Int(radix)),
                  let scalar = Unicode.Scalar(value), value != 0 else {
                throw .xml("has a character reference &\(String(decoding: entity, as: UTF8.self)); that names no character")
            }
            out.append(contentsOf: Array(String(Character(scalar)).utf8))
        }
    }

    /// The current start tag's attribute `local` (its prefix ignored), entities decoded; nil when absent.
    package func attribute(_ local: StaticString) -> [UInt8]? {
        let want = UnsafeBufferPointer(start: local.utf8Start, count: local.utf8CodeUnitCount)
        var index = 0
        let count = attributes.count
        while index < count {
            while index < count, attributes[index] == 0x20 || attributes[index] == 0x09 || attributes[index] == 0x0A || attributes[index] == 0x0D {
                index += 1
            }
            let nameStart = index
            var localStart = index
            while index < count, attributes[index] != UInt8(ascii: "="), attributes[index] != 0x20 {
                if attributes[index] == UInt8(ascii: ":") { localStart = index + 1 }
                index += 1
            }
            let nameEnd = index
            while index < count, attributes[index] != 0x22, attributes[index] != 0x27 { index += 1 }
            guard index < count else { return nil }
            let quote = attributes[index]
            let valueStart = index + 1
            index = valueStart
            while index < count, attributes[index] != quote { index += 1 }
            let valueEnd = min(index, count)
            index += 1
            guard nameEnd > nameStart, nameEnd - localStart == want.count else { continue }
            var same = true
            for offset in 0..<want.count where attributes[localStart + offset] != want[offset] {
                same = false
                break
            }
            guard same else { continue }
            let raw = attributes[valueStart..<valueEnd]
            guard raw.contains(UInt8(ascii: "&")) else { return Array(raw) }
            var decoded: [UInt8] = []
            var at = valueStart
            while at < valueEnd {
                if attributes[at] == UInt8(ascii: "&"), let semicolon = attributes[at..<valueEnd].firstIndex(of: UInt8(ascii: ";")),
                   (try? Self.appendEntity(attributes[(at + 1)..<semicolon], to: &decoded)) != nil {
                    at = semicolon + 1
                } else {
                    decoded.append(attributes[at])
                    at += 1
                }
            }
            return decoded
        }
        return nil
    }

    package func attributeString(_ local: StaticString) -> String? {
        attribute(local).map { String(decoding: $0, as: UTF8.self) }
    }

    /// True when the current element's name (without prefix) is `local`.
    package func named(_ local: StaticString) -> Bool {
        let count = local.utf8CodeUnitCount
        guard name.count == count else { return false }
        let want = local.utf8Start
        for offset in 0..<count where name[offset] != want[offset] { return false }
        return true
    }
}

/// Where `needle` first occurs in `haystack` at or after `from`.
func firstIndex(of needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
    guard let head = needle.first, haystack.count - from >= needle.count else { return nil }
    var index = from
    let last = haystack.count - needle.count
    while index <= last {
        guard let hit = haystack[index...last].firstIndex(of: head) else { return nil }
        if haystack[hit..<(hit + needle.count)].elementsEqual(needle) { return hit }
        index = hit + 1
    }
    return nil
}

/// A whole small part in memory, as chunks (tests, and parts read whole).
package final class BytesChunks: ByteChunks {
    private var bytes: [UInt8]?
    package init(_ bytes: [UInt8]) { self.bytes = bytes }
    package func nextChunk() throws(WorkbookError) -> [UInt8]? {
        defer { bytes = nil }
        return bytes
    }
}
