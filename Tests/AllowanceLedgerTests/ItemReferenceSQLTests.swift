import Foundation
import GRDB
import Testing
@testable import AllowanceLedger
@testable import LedgerSQLite

/// `allowance_item_reference` (C, Sources/CSQLiteTuning) is how `batch create` makes an item's reference and how the v7
/// upgrade checks the stored ones; it must give the bytes of Migrations.itemReferenceSQL's `printf` for any row, not only
/// the ones the tool writes.
@Suite struct ItemReferenceSQLTests {
    static let rows: [String] = [
        "'2026-11', 1, 1", "'2026-11', 999999, 9999999", "'2026-11', 1000000, 10000000", "'2026-11', 123456789012, 123456789012",
        "'2026-11', 0, 0", "'2026-11', -5, -7", "'2026-11', -123456, -1234567", "'2026-11', 9223372036854775807, -9223372036854775808",
        "'2026-11', '12abc', 1.9", "'2026-11', NULL, NULL", "'2026-11', 'x', -0.5", "NULL, 1, 1", "'', 1, 1", "'2026-1', 1, 1",
        "'2026', 1, 1", "'2026-11-30', 4, 5", "'Tháng-11', 1, 1", "'ễễễễ-ễễ', 3, 3", "'ễễễễ-ễễ-ễ', 3, 3", "x'80C3A5ff2d3131', 1, 1", "x'3230003236', 1, 1", "x'32303236002D3100', 1, 1", "x'', 1, 1",
        "CAST(x'C3' AS TEXT), 1, 1", "CAST(x'32303236C32D3131' AS TEXT), 2, 2", "CAST(x'F09F9880F09F9880F09F9880F09F98802DF09F9880' AS TEXT), 1, 1",
        "202611, 1, 1", "2026.5, 1, 1", "'" + String(repeating: "ư", count: 40) + "', 7, 8",
        // One character of 61 bytes: a reference longer than the function's stack buffer.
        "CAST(x'C3" + String(repeating: "80", count: 60) + "3032362D3131' AS TEXT), 5, 6",
        "x'" + String(repeating: "41", count: 70) + "', 5, 6",
    ]

    @Test func givesThePrintfsBytesForAnyRow() throws {
        let fixture = try Fixture()
        let store = fixture.store
        try store.read { db in
            for row in Self.rows {
                let pair = try Row.fetchOne(db, sql: """
                    SELECT CAST(allowance_item_reference(period, batch_id, seq) AS BLOB), CAST(\(Migrations.itemReferenceSQL) AS BLOB),
                           typeof(allowance_item_reference(period, batch_id, seq)), typeof(\(Migrations.itemReferenceSQL))
                    FROM (SELECT column1 AS period, column2 AS batch_id, column3 AS seq FROM (VALUES (\(row))))
                    """)!
                let ours: Data? = pair[0]
                let column: Data? = pair[1]
                #expect(ours != nil && ours == column, "\(row): \(String(decoding: ours ?? Data(), as: UTF8.self)) against \(String(decoding: column ?? Data(), as: UTF8.self))")
                #expect(pair[2] as String == pair[3] as String, "\(row)")
            }
        }
    }

    /// Random periods of up to 12 bytes from a small alphabet of ASCII, two- to four-byte characters and stray
    /// continuation bytes, with random numbers.
    @Test func givesThePrintfsBytesForRandomRows() throws {
        let fixture = try Fixture()
        let store = fixture.store
        let pieces: [[UInt8]] = [[0x32], [0x30], [0x2D], [0x41], [0xC3, 0xA1], [0xE1, 0xBB, 0x85], [0xF0, 0x9F, 0x98, 0x80], [0x80], [0xBF],
                                 [0xC3], [0xFF], [0x00]]
        var generator = SeededRandom(seed: 20261130)
        try store.read { db in
            for _ in 0..<2000 {
                var period: [UInt8] = []
                let length = Int.random(in: 0...12, using: &generator)
                while period.count < length { period += pieces.randomElement(using: &generator)! }
                let hex = period.map { String(format: "%02X", $0) }.joined()
                let batch = Int64.random(in: -2_000_000...2_000_000, using: &generator)
                let seq = Bool.random(using: &generator) ? Int64.random(in: .min ... .max, using: &generator) : Int64.random(in: -20...20_000_000, using: &generator)
                let pair = try Row.fetchOne(db, sql: """
                    SELECT CAST(allowance_item_reference(period, batch_id, seq) AS BLOB), CAST(\(Migrations.itemReferenceSQL) AS BLOB),
                           typeof(allowance_item_reference(period, batch_id, seq)), typeof(\(Migrations.itemReferenceSQL))
                    FROM (SELECT CAST(x'\(hex)' AS TEXT) AS period, \(batch) AS batch_id, \(seq) AS seq)
                    """)!
                let ours: Data? = pair[0]
                let column: Data? = pair[1]
                #expect(ours != nil && ours == column, "x'\(hex)' \(batch) \(seq)")
                #expect(pair[2] as String == pair[3] as String, "x'\(hex)'")
            }
        }
    }

    /// What `batch create` writes reads back the same through both.
    @Test func matchesItemReferenceCanonical() throws {
        let period = try Period(parsing: "2026-11")
        let fixture = try Fixture()
        let store = fixture.store
        for (batch, seq) in [(1, 1), (42, 9_999_999), (1_234_567, 12_345_678)] as [(Int64, Int64)] {
            let text = try store.read { db in
                try String.fetchOne(db, sql: "SELECT allowance_item_reference('2026-11', ?, ?)", arguments: [batch, seq])
            }
            #expect(text == ItemReference(period: period, batch: BatchID(batch), seq: seq).canonical)
        }
    }
}

/// The staged hasher behind the chain hash and the item seal gives SHA-256 of exactly the bytes written, whatever their
/// sizes around its 64 KiB buffer.
@Suite struct StagedSHA256Tests {
    @Test func hashesExactlyTheBytesWrittenAcrossItsBuffer() {
        var generator = SeededRandom(seed: 20261201)
        for sizes in [[0], [1], [65535], [65536], [65537], [200_000], [65535, 1, 1], [65536, 65536, 3], [10, 65530, 100_000, 0, 7]] {
            let staged = StagedSHA256()
            var expected: [UInt8] = []
            for size in sizes {
                let chunk = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
                chunk.withUnsafeBufferPointer { staged.bytes($0) }
                expected += chunk
                staged.byte(0x7C)
                expected.append(0x7C)
                let number = Int64.random(in: .min ... .max, using: &generator)
                staged.int(number)
                expected += Array(String(number).utf8)
                staged.lengthPrefixed(Int64(size) - 3)
                expected += Array("\(String(Int64(size) - 3).utf8.count):\(Int64(size) - 3)".utf8)
                chunk.prefix(9).withUnsafeBufferPointer { staged.lengthPrefixed($0) }
                expected += Array("\(min(9, size)):".utf8) + chunk.prefix(9)
            }
            #expect(staged.finalize() == SHA256Hasher.hash(expected), "\(sizes)")
        }
        let staged = StagedSHA256()
        for value in [Int64.min, -1, 0, 9, 10, 99, 100, Int64.max] { staged.int(value) }
        #expect(staged.finalize() == SHA256Hasher.hash("-9223372036854775808-10910991009223372036854775807"))
    }
}
