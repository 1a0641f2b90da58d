#if canImport(Glibc)
import Glibc
#endif
import CZlib

/// Writes a ZIP archive entry by entry, each deflated as it streams in, to a file descriptor: a sheet of a million
/// rows is never held whole. Every entry carries the same fixed time (1980-01-01) and the same deflate level, so the
/// same content gives the same bytes. Each local header is written first and its sizes and CRC patched in once the
/// entry ends (no data descriptors, which some readers handle badly). Entries stay under 4 GiB (no ZIP64).
package final class ZipWriter {
    package static let entryBytesMax: Int64 = 0xFFFF_FFFE
    /// zlib's level 1: XML compresses about tenfold at it, several times faster than the default level.
    package static let level: Int32 = 1

    private struct Written {
        let name: [UInt8]
        let offset: Int64
        var crc: UInt32 = 0
        var compressed: Int64 = 0
        var uncompressed: Int64 = 0
    }

    private let fd: Int32
    private let path: String
    private var offset: Int64 = 0
    private var entries: [Written] = []
    private var stream = z_stream()
    private var inEntry = false
    private var output: [UInt8] = []
    private let chunk = 1 << 16

    package init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
        output.reserveCapacity(chunk * 2)
    }

    deinit {
        if inEntry { deflateEnd(&stream) }
    }

    private func put(_ bytes: [UInt8]) throws(FileError) {
        try writeAll(bytes, to: fd, path: path)
        offset += Int64(bytes.count)
    }

    private static func le16(_ value: Int, _ out: inout [UInt8]) {
        out.append(UInt8(value & 0xFF)); out.append(UInt8((value >> 8) & 0xFF))
    }

    private static func le32(_ value: UInt32, _ out: inout [UInt8]) {
        for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8((value >> UInt32(shift)) & 0xFF)) }
    }

    /// Version 2.0, no flags, deflate, 1980-01-01 00:00, then CRC and sizes.
    private static func common(_ entry: Written, _ out: inout [UInt8]) {
        le16(20, &out); le16(0, &out); le16(8, &out); le16(0, &out); le16(0x21, &out)
        le32(entry.crc, &out); le32(UInt32(entry.compressed), &out); le32(UInt32(entry.uncompressed), &out)
        le16(entry.name.count, &out)
    }

    package func begin(_ name: String) throws(FileError) {
        precondition(!inEntry, "end one entry before the next")
        let entry = Written(name: Array(name.utf8), offset: offset)
        var header: [UInt8] = []
        Self.le32(0x0403_4B50, &header)
        Self.common(entry, &header)
        Self.le16(0, &header)
        header.append(contentsOf: entry.name)
        try put(header)
        entries.append(entry)
        stream = z_stream()
        let status = deflateInit2_(&stream, Self.level, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        precondition(status == Z_OK, "zlib could not start deflating")
        inEntry = true
    }

    package func write(_ bytes: UnsafeBufferPointer<UInt8>) throws(FileError) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        var entry = entries[entries.count - 1]
        entry.crc = UInt32(crc32(UInt(entry.crc), base, UInt32(bytes.count)))
        entry.uncompressed += Int64(bytes.count)
        guard entry.uncompressed <= Self.entryBytesMax else { throw FileError(path: path, reason: "a part of the workbook would pass 4 GiB") }
        entries[entries.count - 1] = entry
        try deflate(base, bytes.count, flush: Z_NO_FLUSH)
    }

    package func write(_ bytes: [UInt8]) throws(FileError) {
        try bytes.withUnsafeBufferPointer { (buffer) throws(FileError) in try write(buffer) }
    }

    private func deflate(_ base: UnsafePointer<UInt8>?, _ count: Int, flush: Int32) throws(FileError) {
        stream.next_in = UnsafeMutablePointer(mutating: base)
        stream.avail_in = UInt32(count)
        var out = [UInt8](repeating: 0, count: chunk)
        while true {
            let (status, produced) = out.withUnsafeMutableBufferPointer { buffer -> (Int32, Int) in
                stream.next_out = buffer.baseAddress
                stream.avail_out = UInt32(buffer.count)
                let status = CZlib.deflate(&stream, flush)
                return (status, buffer.count - Int(stream.avail_out))
            }
            precondition(status != Z_STREAM_ERROR, "zlib's stream broke")
            if produced > 0 {
                entries[entries.count - 1].compressed += Int64(produced)
                try put(Array(out[0..<produced]))
            }
            if flush == Z_FINISH ? status == Z_STREAM_END : (stream.avail_in == 0 && stream.avail_out != 0) { break }
        }
    }

    package func end() throws(FileError) {
        precondition(inEntry, "no entry to end")
        try deflate(nil, 0, flush: Z_FINISH)
        deflateEnd(&stream)
        inEntry = false
        let entry = entries[entries.count - 1]
        var sizes: [UInt8] = []
        Self.le32(entry.crc, &sizes); Self.le32(UInt32(entry.compressed), &sizes); Self.le32(UInt32(entry.uncompressed), &sizes)
        // CRC and sizes sit 14 bytes into the local header.
        let written = sizes.withUnsafeBytes { pwrite(fd, $0.baseAddress, 12, off_t(entry.offset + 14)) }
        guard written == 12 else { throw FileError(path: path, errno: errno) }
    }

    /// Writes the central directory; the archive is complete.
    package func finish() throws(FileError) {
        precondition(!inEntry, "end the last entry first")
        let start = offset
        var directory: [UInt8] = []
        for entry in entries {
            Self.le32(0x0201_4B50, &directory)
            Self.le16(20, &directory)
            Self.common(entry, &directory)
            Self.le16(0, &directory); Self.le16(0, &directory); Self.le16(0, &directory); Self.le16(0, &directory)
            Self.le32(0, &directory)
            Self.le32(UInt32(entry.offset), &directory)
            directory.append(contentsOf: entry.name)
        }
        var end: [UInt8] = []
        Self.le32(0x0605_4B50, &end)
        Self.le16(0, &end); Self.le16(0, &end)
        Self.le16(entries.count, &end); Self.le16(entries.count, &end)
        Self.le32(UInt32(directory.count), &end)
        Self.le32(UInt32(start), &end)
        Self.le16(0, &end)
        try put(directory + end)
    }

    /// A small archive of whole parts, written in place (tests and fixtures).
    package static func write(_ parts: [(String, [UInt8])], to path: String) throws(FileError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, Files.mode)
        guard fd >= 0 else { throw FileError(path: path, errno: errno) }
        defer { close(fd) }
        let zip = ZipWriter(fd: fd, path: path)
        for (name, bytes) in parts {
            try zip.begin(name)
            try zip.write(bytes)
            try zip.end()
        }
        try zip.finish()
    }
}
