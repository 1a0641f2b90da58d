/// PostgreSQL's COPY text format: fields split by tabs, rows by newlines, NULL as `\N`, a backslash, tab, newline or
/// carriage return inside a field escaped, a byte string as `\\x` and hexadecimal. The journal's postings and `store
/// copy` send rows to a server in it; written here, beside the other file formats, so that the SQLite side can produce
/// it without knowing the server.
package enum CopyText {
    package static func appendRow(_ fields: [String?], to buffer: inout [UInt8]) {
        for (index, field) in fields.enumerated() {
            if index > 0 { buffer.append(0x09) }
            if var field {
                field.withUTF8 { appendField($0, to: &buffer) }
            } else {
                appendNull(to: &buffer)
            }
        }
        buffer.append(0x0A)
    }

    package static func appendField(_ bytes: UnsafeBufferPointer<UInt8>, to buffer: inout [UInt8]) {
        for byte in bytes {
            switch byte {
            case 0x5C: buffer.append(0x5C); buffer.append(0x5C)
            case 0x09: buffer.append(0x5C); buffer.append(0x74)
            case 0x0A: buffer.append(0x5C); buffer.append(0x6E)
            case 0x0D: buffer.append(0x5C); buffer.append(0x72)
            default: buffer.append(byte)
            }
        }
    }

    package static func appendNull(to buffer: inout [UInt8]) {
        buffer.append(0x5C)
        buffer.append(0x4E)
    }

    /// A bytea value: `\x` and the bytes in hexadecimal, its backslash escaped for COPY.
    package static func appendBytes(_ bytes: UnsafeRawBufferPointer, to buffer: inout [UInt8]) {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        buffer.append(0x5C)
        buffer.append(0x5C)
        buffer.append(0x78)
        for byte in bytes {
            buffer.append(digits[Int(byte >> 4)])
            buffer.append(digits[Int(byte & 0x0F)])
        }
    }

    package static func appendInteger(_ value: Int64, to buffer: inout [UInt8]) {
        var text = String(value)
        text.withUTF8 { buffer.append(contentsOf: $0) }
    }
}
