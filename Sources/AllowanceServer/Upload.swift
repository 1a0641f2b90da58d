import AllowanceLedger
import Foundation
import Hummingbird
#if canImport(Glibc)
import Glibc
#endif

/// A `multipart/form-data` body, parsed as it arrives: each file field streams into a file of its own in a private
/// folder beside the ledger (0700, files 0600), small fields are kept as text. Past the limit the upload stops with 413
/// and the folder goes; memory holds one chunk and a boundary's length, whatever the file's size.
struct Upload {
    let folder: String
    private(set) var fields: [String: String] = [:]
    /// Field name → (path on disk, the name the browser gave, made safe to show).
    private(set) var files: [String: (path: String, name: String)] = [:]

    static let fieldBytesMax = 4096

    static func receive(_ request: Request, limit: Int, beside ledger: String) async throws -> Upload {
        guard let type = request.headers[.contentType], type.lowercased().hasPrefix("multipart/form-data"),
              let boundary = parameter("boundary", of: type), !boundary.isEmpty, boundary.utf8.count <= 70 else {
            throw APIError(status: .unsupportedMediaType, code: "unsupported_type", message: Words.vi("multipart_expected"))
        }
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw APIError(status: .contentTooLarge, code: "too_large", message: Words.vi("too_large"))
        }
        var upload = Upload(folder: try Files.createTemporaryFolder(beside: ledger, mode: 0o700))
        do {
            try await upload.parse(request.body, boundary: Array(boundary.utf8), limit: limit)
            return upload
        } catch {
            upload.remove()
            throw error
        }
    }

    func remove() { Files.removeCreatedFolder(folder) }

    private enum State { case preamble, headers, body, done }

    private mutating func parse(_ body: RequestBody, boundary: [UInt8], limit: Int) async throws {
        let delimiter = Array("\r\n--".utf8) + boundary
        // The first delimiter has no line break before it: parse as if the body began with one.
        var pending: [UInt8] = Array("\r\n".utf8)
        var total = 0
        var state = State.preamble
        var part: (name: String, fd: Int32?, text: [UInt8]) = ("", nil, [])
        func bad() -> APIError { APIError(status: .unprocessableContent, code: "invalid", message: Words.vi("multipart_broken")) }
        func write(_ bytes: ArraySlice<UInt8>) throws {
            if let fd = part.fd {
                try bytes.withUnsafeBytes { raw in
                    var offset = 0
                    while offset < raw.count {
                        let written = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                        if written < 0 { if errno == EINTR { continue }; throw APIError(status: .internalServerError, code: "internal", message: Words.vi("internal")) }
                        offset += written
                    }
                }
            } else {
                part.text += bytes
                if part.text.count > Self.fieldBytesMax { throw bad() }
            }
        }
        func endPart() {
            if let fd = part.fd { close(fd) } else if !part.name.isEmpty { fields[part.name] = String(decoding: part.text, as: UTF8.self) }
            part = ("", nil, [])
        }
        for try await chunk in body {
            total += chunk.readableBytes
            if total > limit { endPart(); throw APIError(status: .contentTooLarge, code: "too_large", message: Words.vi("too_large")) }
            pending += chunk.readableBytesView
            var progressed = true
            while progressed && state != .done {
                progressed = false
                switch state {
                case .preamble:
                    guard let at = find(delimiter, in: pending) else {
                        if pending.count > delimiter.count { pending.removeFirst(pending.count - delimiter.count) }
                        break
                    }
                    pending.removeFirst(at + delimiter.count)
                    state = .headers
                    progressed = true
                case .headers:
                    guard pending.count >= 2 else { break }
                    if pending.starts(with: Array("--".utf8)) { state = .done; break }
                    guard let end = find(Array("\r\n\r\n".utf8), in: pending) else {
                        if pending.count > 8192 { throw bad() }
                        break
                    }
                    let head = String(decoding: pending[..<end], as: UTF8.self)
                    pending.removeFirst(end + 4)
                    guard let disposition = head.split(separator: "\r\n").first(where: { $0.lowercased().hasPrefix("content-disposition:") }),
                          let name = Self.parameter("name", of: String(disposition)) else { throw bad() }
                    part.name = name
                    if let filename = Self.parameter("filename", of: String(disposition)) {
                        guard files[name] == nil else { throw bad() }
                        let path = folder + "/part-\(files.count + 1)"
                        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
                        guard fd >= 0 else { throw APIError(status: .internalServerError, code: "internal", message: Words.vi("internal")) }
                        part.fd = fd
                        files[name] = (path, Self.shownName(filename))
                    }
                    state = .body
                    progressed = true
                case .body:
                    if let at = find(delimiter, in: pending) {
                        try write(pending[..<at])
                        endPart()
                        pending.removeFirst(at + delimiter.count)
                        state = .headers
                        progressed = true
                    } else if pending.count > delimiter.count {
                        let keep = delimiter.count
                        try write(pending[..<(pending.count - keep)])
                        pending.removeFirst(pending.count - keep)
                    }
                case .done:
                    break
                }
            }
        }
        endPart()
        guard state == .done else { throw bad() }
    }

    /// Where `needle` first starts in `haystack`: memchr to each candidate first byte, then a compare (a result file
    /// has a `\r` on every line, so the jump between candidates is what keeps a large upload cheap).
    private func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard let first = needle.first, haystack.count >= needle.count else { return nil }
        let last = haystack.count - needle.count
        return haystack.withUnsafeBufferPointer { hay in
            needle.withUnsafeBufferPointer { pin in
                guard let base = hay.baseAddress, let pattern = pin.baseAddress else { return nil }
                var index = 0
                while index <= last {
                    guard let hit = memchr(base + index, Int32(first), last - index + 1) else { return nil }
                    let at = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                    if memcmp(base + at, pattern, pin.count) == 0 { return at }
                    index = at + 1
                }
                return nil
            }
        }
    }

    /// `name="value"` (or unquoted) from a header value such as `form-data; name="file"; filename="a.csv"`.
    static func parameter(_ key: String, of header: String) -> String? {
        for piece in header.split(separator: ";").dropFirst() {
            let pair = piece.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, pair[0].lowercased() == key else { continue }
            var value = pair[1]
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return value
        }
        return nil
    }

    /// A browser's file name as messages may show it: its last path part, printable, at most 100 characters.
    static func shownName(_ name: String) -> String {
        let last = name.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? "upload"
        let clean = String(last.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F && $0 != "\"" }.prefix(100).map(Character.init))
        return clean.isEmpty ? "upload" : clean
    }
}
