import Foundation
import Testing
@testable import AllowanceLedger
@testable import LedgerSQLite

/// A fresh folder under the system's temporary directory, removed when the value is released.
final class TemporaryDirectory {
    let path: String

    init() {
        let base = NSTemporaryDirectory() + "allowance-tests-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        path = base
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { path + "/" + name }

    @discardableResult
    func write(_ name: String, _ text: String) -> String {
        let target = file(name)
        try! Data(text.utf8).write(to: URL(fileURLWithPath: target))
        return target
    }

    @discardableResult
    func write(_ name: String, bytes: [UInt8]) -> String {
        let target = file(name)
        try! Data(bytes).write(to: URL(fileURLWithPath: target))
        return target
    }

    func read(_ name: String) -> String { try! String(contentsOfFile: file(name), encoding: .utf8) }
}

/// A clock the test moves by hand.
final class ManualClock: @unchecked Sendable {
    // Tests drive it from one task at a time; the lock makes reads from GRDB's queue safe anyway.
    private let lock = NSLock()
    private var current: Timestamp

    init(_ start: String = "2026-11-20T08:00:00Z") { current = try! Timestamp(parsing: start) }

    var clock: Clock { Clock { [self] in lock.withLock { current } } }

    func set(_ text: String) { lock.withLock { current = try! Timestamp(parsing: text) } }
    func advance(days: Int) { lock.withLock { current = current.adding(days: days) } }
}

/// A ledger in a temporary folder with its own clock.
struct Fixture {
    let directory = TemporaryDirectory()
    let time = ManualClock()
    let store: Store

    init() throws {
        store = try Store(path: directory.file("ledger.sqlite"), clock: time.clock)
    }

    static let header = "national_id,full_name,date_of_birth,gender,commune_code,category,payment_method,carrier,msisdn\n"

    /// Imports register lines (without header) and returns the result.
    @discardableResult
    func importLines(_ lines: [String], name: String = "register.csv", by: String = "officer", skipInvalid: Bool = false) throws -> RegisterImportResult {
        let path = directory.write(name, Fixture.header + lines.joined(separator: "\n") + "\n")
        var options = RegisterImportOptions(by: try UserName(parsing: by))
        options.skipInvalid = skipInvalid
        return try store.registry.importRegister(path: path, displayName: name, options: options)
    }
}

func user(_ name: String) -> UserName { try! UserName(parsing: name) }

/// Register lines that pass validation: (national ID, line).
enum Sample {
    /// Woman born 1950 (century digit 1, year 50), elderly poor, mobile money.
    static let lan = "001150000001,Nguyễn Thị Lan,1950-03-04,F,26734,ELDERLY_POOR,mobile_money,VIETTEL,0912345678"
    /// Man born 1940, 80+, cash.
    static let hung = "079040000002,Trần Văn Hùng,1940-07-01,M,26734,ELDERLY_80,cash,,"
    /// Woman born 2010 (century digit 3, year 10), orphan, mobile money.
    static let mai = "001310000003,Lê Thị Mai,2010-01-15,F,26737,ORPHAN,mobile_money,VNPT,+84 987 654 321"
    /// Man born 1960, disabled, mobile money.
    static let binh = "038060000004,Phạm Văn Bình,1960-12-31,M,26737,DISABLED_SEVERE,mobile_money,MOBIFONE,0701234567"
    static let all = [lan, hung, mai, binh]
}
