/// The register's own hash chain, beside the journal's.
///
/// The journal chains money; the register (names, numbers, categories, statuses) is what money is paid to, and a
/// direct `UPDATE beneficiary SET msisdn = …` redirects a payment without a journal entry. So every command that changes
/// the register appends one link: it seals the current content of each row it wrote (a SHA-256 of the row, kept per
/// beneficiary and link) and covers the history events it added, chained to the link before. `ledger verify` recomputes
/// every link and every row's digest: a row changed outside the ledger no longer matches its last seal, and an event
/// or seal altered, removed or inserted breaks the link that covers it. As with the journal, someone who rewrites the
/// whole chain is caught only by an anchor kept elsewhere (`ledger anchor`).
public enum RegisterChain {
    /// Where a register chain starts: the hash before the first link.
    public static let genesis = ChainEncoding.genesis

    /// The text a link's hash is taken over: its place in the chain, who and when, how far it sealed the register, and
    /// the digests of what it covered (`sealSum`: the hex of the `SealSum` of its row seals).
    package static func linkText(prevHash: String, id: Int64, at: String, by: String, beneficiariesThrough: Int64, eventsThrough: Int64,
                                 sealed: Int64, sealSum: String, eventsDigest: Digest32) -> String {
        "allowance-register/v1\n\(prevHash)\nL \(id) \(ChainEncoding.field(at)) \(ChainEncoding.field(by)) \(beneficiariesThrough) "
            + "\(eventsThrough) \(sealed) \(sealSum) \(eventsDigest.hex)\n"
    }

    package static func linkHash(prevHash: String, id: Int64, at: String, by: String, beneficiariesThrough: Int64, eventsThrough: Int64,
                                 sealed: Int64, sealSum: String, eventsDigest: Digest32) -> String {
        SHA256Hasher.hash(linkText(prevHash: prevHash, id: id, at: at, by: by, beneficiariesThrough: beneficiariesThrough,
                                   eventsThrough: eventsThrough, sealed: sealed, sealSum: sealSum, eventsDigest: eventsDigest)).hex
    }

    /// One history event as a link covers it.
    package static func eventText(id: Int64, beneficiary: Int64, at: String, by: String, kind: String, field: String?, old: String?,
                                  new: String?, reason: String?, importID: Int64?) -> String {
        func optional(_ text: String?) -> String { text.map(ChainEncoding.field) ?? "-" }
        return "V \(id) \(beneficiary) \(ChainEncoding.field(at)) \(ChainEncoding.field(by)) \(ChainEncoding.field(kind)) "
            + "\(optional(field)) \(optional(old)) \(optional(new)) \(optional(reason)) \(importID.map(String.init) ?? "-")\n"
    }

    /// A row's seal: SHA-256 over its values in column order, each tagged by type (`n`; `i` and 8 bytes big-endian;
    /// `t`, a 4-byte length and UTF-8). The SQLite backend computes the same in SQL (`allowance_row_digest`).
    package static func rowDigest(_ values: [SealValue]) -> Digest32 {
        var bytes: [UInt8] = []
        func bigEndian(_ value: UInt64, _ count: Int) {
            for shift in stride(from: (count - 1) * 8, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
        }
        for value in values {
            switch value {
            case .null:
                bytes.append(UInt8(ascii: "n"))
            case .integer(let number):
                bytes.append(UInt8(ascii: "i"))
                bigEndian(UInt64(bitPattern: number), 8)
            case .text(let text):
                bytes.append(UInt8(ascii: "t"))
                bigEndian(UInt64(text.utf8.count), 4)
                bytes.append(contentsOf: text.utf8)
            }
        }
        return SHA256Hasher.hash(bytes)
    }
}

package enum SealValue: Sendable {
    case null
    case integer(Int64)
    case text(String)
}

/// The sum of a link's row seals, each read as a 256-bit big-endian number, modulo 2^256: the same whatever order the
/// rows are read in, so a link is checked in one pass over the seals in their key order.
package struct SealSum: Sendable, Equatable {
    /// Most significant word first.
    private var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    package init() {}

    package mutating func add(_ digest: UnsafeRawBufferPointer) {
        precondition(digest.count == 32, "a row seal has 32 bytes")
        func word(_ index: Int) -> UInt64 {
            var value: UInt64 = 0
            for byte in digest[(index * 8)..<(index * 8 + 8)] { value = value << 8 | UInt64(byte) }
            return value
        }
        var carry: UInt64 = 0
        func addWord(_ a: UInt64, _ b: UInt64) -> UInt64 {
            let (partial, overflow1) = a.addingReportingOverflow(b)
            let (sum, overflow2) = partial.addingReportingOverflow(carry)
            carry = (overflow1 ? 1 : 0) + (overflow2 ? 1 : 0)
            return sum
        }
        words.3 = addWord(words.3, word(3))
        words.2 = addWord(words.2, word(2))
        words.1 = addWord(words.1, word(1))
        words.0 = addWord(words.0, word(0))
    }

    package mutating func add(_ digest: Digest32) {
        digest.bytes.withUnsafeBytes { add($0) }
    }

    package static func == (a: SealSum, b: SealSum) -> Bool {
        a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2 && a.words.3 == b.words.3
    }

    package var hex: String {
        [words.0, words.1, words.2, words.3].map { word in
            let digits = String(word, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }.joined()
    }
}
