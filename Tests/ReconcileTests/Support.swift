import AllowanceLedger
import LedgerSQLite
import Foundation
import Testing
@testable import Reconcile

/// A fresh folder under the system's temporary directory, removed when the value is released.
final class Folder {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "reconcile-tests-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { path + "/" + name }

    @discardableResult
    func write(_ name: String, _ text: String) -> String {
        let target = file(name)
        try! Data(text.utf8).write(to: URL(fileURLWithPath: target))
        return target
    }

    func read(_ name: String) -> String { try! String(contentsOfFile: file(name), encoding: .utf8) }
}

func user(_ name: String) -> UserName { try! UserName(parsing: name) }

/// The golden files beside the tests, read from the source tree; `UPDATE_GOLDEN=1 swift test` rewrites them from
/// the actual output, for review in the diff.
enum Golden {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    static func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    static func expect(_ actual: String, matches name: String, sourceLocation: SourceLocation = #_sourceLocation) {
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try! Data(actual.utf8).write(to: URL(fileURLWithPath: path(name)))
            return
        }
        guard let expected = try? String(contentsOfFile: path(name), encoding: .utf8) else {
            Issue.record("golden file \(name) is missing; run UPDATE_GOLDEN=1 swift test and review it", sourceLocation: sourceLocation)
            return
        }
        #expect(actual == expected, sourceLocation: sourceLocation)
    }

    /// The package's samples/ folder, found from this source file.
    static func sample(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("samples").appendingPathComponent(name).path
    }
}

/// A ledger with a generated register of `count` (seed 42, invalid lines skipped) and November 2026's batch, approved.
struct GeneratedMonth {
    let folder = Folder()
    let store: Store
    let batch: BatchID

    init(count: Int) throws {
        store = try Store(path: folder.file("ledger.sqlite"), clock: .fixed(try Timestamp(parsing: "2026-11-30T08:00:00Z")))
        let register = folder.file("register.csv")
        _ = try RegisterGenerator(count: count, seed: 42).write(to: register)
        var options = RegisterImportOptions(by: user("officer"))
        options.skipInvalid = true
        _ = try store.registry.importRegister(path: register, options: options)
        batch = try store.payouts.createBatch(BatchCreateOptions(period: try Period(parsing: "2026-11"), by: user("maker"))).batch.id
        _ = try store.payouts.approveBatch(batch, by: user("checker"))
    }
}

/// A ledger with one exported batch for November 2026: twelve beneficiaries, eleven on mobile money.
///
/// Items (reference AL-202611-000001-SEQ): 1 Lan VIETTEL 0912345678 750,000; 2 Hùng cash 500,000; 3 Mai VNPT
/// 0987654321 750,000; 4 Bình MOBIFONE 0701234567 750,000; 5…12 VIETTEL 09120000NN 750,000.
struct PaidBatch {
    let folder = Folder()
    let store: Store
    let batch: BatchID
    let instructions: String

    static let header = "national_id,full_name,date_of_birth,gender,commune_code,category,payment_method,carrier,msisdn\n"
    static let lines = [
        "001150000001,Nguyễn Thị Lan,1950-03-04,F,26734,ELDERLY_POOR,mobile_money,VIETTEL,0912345678",
        "079040000002,Trần Văn Hùng,1940-07-01,M,26734,ELDERLY_80,cash,,",
        "001310000003,Lê Thị Mai,2010-01-15,F,26737,ORPHAN,mobile_money,VNPT,+84 987 654 321",
        "038060000004,Phạm Văn Bình,1960-12-31,M,26737,DISABLED_SEVERE,mobile_money,MOBIFONE,0701234567",
    ] + (5...12).map { n in
        "0011500000\(n < 10 ? "0" : "")\(n),Người Thứ \(n),1950-01-01,F,26734,ELDERLY_POOR,mobile_money,VIETTEL,09120000\(n < 10 ? "0" : "")\(n)"
    }

    init(clock: Clock = .fixed(try! Timestamp(parsing: "2026-11-30T08:00:00Z"))) throws {
        store = try Store(path: folder.file("ledger.sqlite"), clock: clock)
        let register = folder.write("register.csv", Self.header + Self.lines.joined(separator: "\n") + "\n")
        _ = try store.registry.importRegister(path: register, options: RegisterImportOptions(by: user("officer")))
        let created = try store.payouts.createBatch(BatchCreateOptions(period: try Period(parsing: "2026-11"), by: user("maker")))
        batch = created.batch.id
        _ = try store.payouts.approveBatch(batch, by: user("checker"))
        _ = try store.journal.fund(amount: Money(dong: 100_000_000), reference: "QD-2026-11", by: user("officer"))
        instructions = folder.file("instructions.csv")
        _ = try store.payouts.exportBatch(batch, to: instructions, by: user("officer"))
    }

    static func reference(_ seq: Int) -> String { "AL-202611-000001-\(String(repeating: "0", count: 7 - String(seq).count))\(seq)" }

    /// Reconciles a result file written from `text`.
    @discardableResult
    func reconcile(_ text: String, name: String = "result.csv", profile: CarrierProfile = .generic, batch: BatchID? = nil,
                   by: String = "auditor") throws -> ReconciliationResult {
        let path = folder.write(name, text)
        var options = ReconcileOptions(by: user(by))
        options.profile = profile
        options.displayName = name
        return try store.reconciliation.reconcileResultFile(path, batch: batch ?? self.batch, options: options)
    }

    /// What reopening the ledger throws, as text (an upgrade that stops); records an issue when it opens.
    func reopeningError(sourceLocation: SourceLocation = #_sourceLocation) -> String {
        let error = #expect(throws: (any Error).self, "the upgrade should have stopped", sourceLocation: sourceLocation) {
            try Store(path: folder.file("ledger.sqlite"))
        }
        return error.map { "\($0)" } ?? ""
    }

    /// The report of one file's lines and the missing items, as the CLI writes it (masked).
    func report(fileID: Int64?) throws -> String {
        let path = folder.file("report-\(UUID().uuidString).csv")
        try ReconcileReport.write(to: path, reconciliation: store.reconciliation, batch: batch, fileID: fileID, reveal: false)
        return try String(contentsOfFile: path, encoding: .utf8)
    }

    func verify() throws -> LedgerVerification { try store.journal.verify() }
}

extension ReconciliationResult {
    func count(_ outcome: ReconcileOutcome) -> Int { totals.count(outcome) }
}
