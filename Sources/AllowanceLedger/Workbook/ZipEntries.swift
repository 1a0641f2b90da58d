#if canImport(Glibc)
import Glibc
#endif
import CZlib

/// Where each entry of a ZIP archive keeps its bytes, from the archive's central directory (ZIP64 too).
///
/// ZIPFoundation lists and checks a workbook's entries; the bytes are inflated here, bounded by the entry's compressed
/// size: ZIPFoundation's inflate reads on past a truncated deflate stream and then waits forever for more (found by
/// the `xlsx` fuzz target, `Tests/FuzzRegressions/xlsx`).
package struct ZipEntries {
    package struct Location: Sendable {
        let method: UInt16
        let crc: UInt32
        package let compressed: Int64
        package let uncompressed: Int64
        let headerOffset: Int64
    }

    package let locations: [String: Location]

    private static func le16(_ bytes: [UInt8], _ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
    private static func le32(_ bytes: [UInt8], _ at: Int) -> Int64 { Int64(le16(bytes, at)) | Int64(le16(bytes, at + 2)) << 16 }
    private static func le64(_ bytes: [UInt8], _ at: Int) -> Int64 { le32(bytes, at) | le32(bytes, at + 4) << 32 }

    static func read(fd: Int32, at offset: Int64, count: Int, path: String) throws(WorkbookError) -> [UInt8] {
        guard count >= 0, count <= 1 << 28, offset >= 0 else { throw .damaged(path, reason: "the archive's directory is out of bounds") }
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset) + off_t(done)) }
            if got < 0, errno == EINTR { continue }
            guard got > 0 else { throw .damaged(path, reason: "the archive ends early") }
            done += got
        }
        return bytes
    }

    package init(path: String) throws(WorkbookError) {
        guard let (fd, size) = try? Files.openRegular(path) else { throw .damaged(path, reason: "cannot be opened") }
        defer { close(fd) }
        // The end record is the last 22 bytes but for a comment of at most 65,535.
        let tailCount = Int(min(size, 22 + 65_535))
        let tail = try Self.read(fd: fd, at: size - Int64(tailCount), count: tailCount, path: path)
        var end = tailCount - 22
        while end >= 0, !(tail[end] == 0x50 && tail[end + 1] == 0x4B && tail[end + 2] == 0x05 && tail[end + 3] == 0x06) { end -= 1 }
        guard end >= 0 else { throw .damaged(path, reason: "no end of central directory") }
        var entries = Int64(Self.le16(tail, end + 10))
        var directorySize = Self.le32(tail, end + 12)
        var directoryOffset = Self.le32(tail, end + 16)
        if directoryOffset == 0xFFFF_FFFF || entries == 0xFFFF || directorySize == 0xFFFF_FFFF {
            // ZIP64: a locator just before the end record names the ZIP64 end record.
            let locatorAt = end - 20
            guard locatorAt >= 0, Self.le32(tail, locatorAt) == 0x0706_4B50 else { throw .damaged(path, reason: "no ZIP64 locator") }
            let record = try Self.read(fd: fd, at: Self.le64(tail, locatorAt + 8), count: 56, path: path)
            guard Self.le32(record, 0) == 0x0606_4B50 else { throw .damaged(path, reason: "no ZIP64 end record") }
            entries = Self.le64(record, 32)
            directorySize = Self.le64(record, 40)
            directoryOffset = Self.le64(record, 48)
        }
        guard entries <= Int64(Workbook.entriesMax), directorySize <= 1 << 26, directoryOffset + directorySize <= size else {
            throw .damaged(path, reason: "the central directory is out of bounds")
        }
        let directory = try Self.read(fd: fd, at: directoryOffset, count: Int(directorySize), path: path)
        var locations: [String: Location] = [:]
        var at = 0
        for _ in 0..<entries {
            guard at + 46 <= directory.count, Self.le32(directory, at) == 0x0201_4B50 else { throw .damaged(path, reason: "a central directory entry is broken") }
            let nameCount = Self.le16(directory, at + 28), extraCount = Self.le16(directory, at + 30), commentCount = Self.le16(directory, at + 32)
            guard at + 46 + nameCount + extraCount + commentCount <= directory.count else { throw .damaged(path, reason: "a central directory entry is cut off") }
            let name = String(decoding: directory[(at + 46)..<(at + 46 + nameCount)], as: UTF8.self)
            var compressed = Self.le32(directory, at + 20), uncompressed = Self.le32(directory, at + 24), offset = Self.le32(directory, at + 42)
            // ZIP64's extra field holds, in this order, each size or offset the fixed field could not.
            var extra = at + 46 + nameCount
            let extraEnd = extra + extraCount
            while extra + 4 <= extraEnd {
                let id = Self.le16(directory, extra), length = Self.le16(directory, extra + 2)
                if id == 1 {
                    var field = extra + 4
                    if uncompressed == 0xFFFF_FFFF, field + 8 <= extraEnd { uncompressed = Self.le64(directory, field); field += 8 }
                    if compressed == 0xFFFF_FFFF, field + 8 <= extraEnd { compressed = Self.le64(directory, field); field += 8 }
                    if offset == 0xFFFF_FFFF, field + 8 <= extraEnd { offset = Self.le64(directory, field); field += 8 }
                }
                extra += 4 + length
            }
            locations[name] = Location(method: UInt16(Self.le16(directory, at + 10)), crc: UInt32(Self.le32(directory, at + 16)),
                                       compressed: compressed, uncompressed: uncompressed, headerOffset: offset)
            at += 46 + nameCount + extraCount + commentCount
        }
        self.locations = locations
    }
}

/// Inflates one entry a chunk at a time, reading no further than its compressed size: a stream that ends early, holds
/// more, or fails its CRC is an error, never a wait.
package final class EntryInflater {
    private let fd: Int32
    private let path: String
    private let part: String
    private let location: ZipEntries.Location
    private var offset: Int64
    private var remaining: Int64
    private var stream = z_stream()
    private var started = false
    private var finished = false
    private var crc: UInt = 0
    private var input = [UInt8](repeating: 0, count: 1 << 16)
    private var inputStart = 0
    private var inputEnd = 0

    package init(path: String, part: String, location: ZipEntries.Location) throws(WorkbookError) {
        guard let (fd, _) = try? Files.openRegular(path) else { throw .damaged(path, reason: "cannot be opened") }
        self.fd = fd
        self.path = path
        self.part = part
        self.location = location
        let header: [UInt8]
        do {
            header = try ZipEntries.read(fd: fd, at: location.headerOffset, count: 30, path: path)
        } catch {
            close(fd)
            throw error
        }
        guard header[0] == 0x50, header[1] == 0x4B, header[2] == 0x03, header[3] == 0x04 else {
            close(fd)
            throw .damaged(path, reason: "\(part): no local header where the directory says")
        }
        let nameCount = Int64(header[26]) | Int64(header[27]) << 8, extraCount = Int64(header[28]) | Int64(header[29]) << 8
        offset = location.headerOffset + 30 + nameCount + extraCount
        remaining = location.compressed
        guard location.method == 0 || location.method == 8 else {
            close(fd)
            throw .damaged(path, reason: "\(part) is stored with compression method \(location.method), which workbooks do not use")
        }
        if location.method == 8 {
            let status = inflateInit2_(&stream, -MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
            guard status == Z_OK else {
                close(fd)
                throw .damaged(path, reason: "zlib could not start inflating")
            }
            started = true
        }
    }

    deinit {
        if started { inflateEnd(&stream) }
        close(fd)
    }

    /// Reads the next compressed bytes into `input`; false when the entry's bytes are all read.
    private func fill() throws(WorkbookError) -> Bool {
        guard remaining > 0 else { return false }
        let want = Int(min(remaining, Int64(input.count)))
        let bytes = try ZipEntries.read(fd: fd, at: offset, count: want, path: path)
        input.replaceSubrange(0..<want, with: bytes)
        inputStart = 0
        inputEnd = want
        offset += Int64(want)
        remaining -= Int64(want)
        return true
    }

    /// Up to 64 KiB of the entry's bytes; nil at its end.
    package func next() throws(WorkbookError) -> [UInt8]? {
        if finished { return nil }
        if location.method == 0 {
            guard try fill() else {
                finished = true
                return try checked(nil)
            }
            let chunk = Array(input[0..<inputEnd])
            crc = chunk.withUnsafeBufferPointer { crc32(crc, $0.baseAddress, UInt32($0.count)) }
            return chunk
        }
        var output = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            if inputStart == inputEnd, !(try fill()) {
                throw .damaged(path, reason: "\(part): the compressed data ends before its last block")
            }
            let (status, produced, consumed) = input.withUnsafeMutableBufferPointer { inBuffer in
                output.withUnsafeMutableBufferPointer { outBuffer -> (Int32, Int, Int) in
                    stream.next_in = inBuffer.baseAddress! + inputStart
                    stream.avail_in = UInt32(inputEnd - inputStart)
                    stream.next_out = outBuffer.baseAddress
                    stream.avail_out = UInt32(outBuffer.count)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    return (status, outBuffer.count - Int(stream.avail_out), inputEnd - inputStart - Int(stream.avail_in))
                }
            }
            inputStart += consumed
            guard status == Z_OK || status == Z_STREAM_END || (status == Z_BUF_ERROR && produced == 0 && consumed == 0 && inputStart == inputEnd) else {
                throw .damaged(path, reason: "\(part): the compressed data is corrupt")
            }
            if status == Z_STREAM_END {
                finished = true
                output.removeSubrange(produced...)
                crc = output.withUnsafeBufferPointer { crc32(crc, $0.baseAddress, UInt32($0.count)) }
                return try checked(output.isEmpty ? nil : output)
            }
            if produced > 0 {
                output.removeSubrange(produced...)
                crc = output.withUnsafeBufferPointer { crc32(crc, $0.baseAddress, UInt32($0.count)) }
                return output
            }
        }
    }

    /// At the end: the bytes must be the ones the archive's CRC names.
    private func checked(_ last: [UInt8]?) throws(WorkbookError) -> [UInt8]? {
        guard UInt32(truncatingIfNeeded: crc) == location.crc else { throw .damaged(path, reason: "\(part): its CRC does not match; the file is damaged") }
        return last
    }
}
