import AllowanceOffice
import Foundation
import LedgerPostgres
import Testing

/// `allowance store copy` as an office would run it: the demo's month (every table filled) moved to an empty database,
/// verified there with the file's head hash; a second copy, a file that does not verify, and wrong arguments refused
/// with nothing copied.
@Suite(.serialized) struct StoreCopyTests {
    /// Runs the built `allowance` with `arguments` in `folder`; returns its exit code, stdout and stderr.
    static func allowance(_ arguments: [String], in folder: String) throws -> (status: Int32, out: String, err: String) {
        let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let binary = URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("allowance").path
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build the package first: \(binary) is missing")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("ALLOWANCE_") }
            .merging(["ALLOWANCE_NOW": "2026-11-25T08:00:00Z", "ALLOWANCE_USER": "officer.test"]) { _, new in new }
        let outPath = folder + "/.out", errPath = folder + "/.err"
        FileManager.default.createFile(atPath: outPath, contents: nil)
        FileManager.default.createFile(atPath: errPath, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, try String(contentsOfFile: outPath, encoding: .utf8), try String(contentsOfFile: errPath, encoding: .utf8))
    }

    static func folder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("store-copy-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Rows as the sqlite3 tool prints them (`|` between fields, NULL empty).
    static func sqlite(_ file: String, _ sql: String) throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [file, sql]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    /// The same rows from the server, printed alike.
    static func server(_ db: PGConnection, _ sql: String) throws -> [String] {
        try db.query(sql).map { $0.map { $0 ?? "" }.joined(separator: "|") }
    }

    /// Every copied table holds nothing, or exactly as many rows as the file.
    static func nothingOrEverything(_ db: PGConnection, file: String) throws -> Bool {
        var empty = true, whole = true
        for table in PostgresLoad.order where PostgresLoad.seeded[table] == nil {
            // Killed while the schema went in (each migration its own transaction): a table not made yet holds nothing.
            let exists = try db.query("SELECT to_regclass($1) IS NOT NULL", [table]) == [["t"]]
            let rows = exists ? try db.query("SELECT COUNT(*) FROM \"\(table)\"")[0][0]! : "0"
            if rows != "0" { empty = false }
            if [rows] != (try sqlite(file, "SELECT COUNT(*) FROM \"\(table)\"")) { whole = false }
        }
        return empty || whole
    }

    static func object(_ text: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func theDemosLedgerMovesWholeAndVerifiesWithTheSameHeadHash() throws {
        guard let scratch = try ScratchDatabase() else { return }
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(try Self.allowance(["demo", "--dir", "demo"], in: folder).status == 0)
        let file = folder + "/demo/allowance.sqlite"
        let verified = try Self.object(try Self.allowance(["ledger", "verify", "--db", file, "--json"], in: folder).out)

        let copy = try Self.allowance(["store", "copy", "--from", file, "--to", scratch.location.uri, "--json"], in: folder)
        #expect(copy.status == 0, "\(copy.err)")
        let result = try Self.object(copy.out)
        #expect(result["verified"] as? Bool == true)
        #expect(result["journal_head"] as? String == verified["head_hash"] as? String, "\(verified)")
        #expect(result["entries"] as? Int == verified["entries"] as? Int)
        let tables = try #require(result["tables"] as? [String: Int])
        // Every table the month fills came across, row for row.
        for table in ["beneficiary", "beneficiary_seal", "batch_item", "item_state", "posting", "result_line", "flag", "audit_export"] {
            #expect((tables[table] ?? 0) > 0, "\(table)")
        }
        let server = try PGConnection(scratch.location)
        for (table, rows) in tables {
            #expect(try Self.sqlite(file, "SELECT COUNT(*) FROM \"\(table)\"") == [String(rows)], "\(table)")
            #expect(try server.query("SELECT COUNT(*) FROM \"\(table)\"") == [[String(rows)]], "\(table)")
        }
        // What the rows say stays what the file held, byte for byte: names, numbers and IDs, the register's seals, the
        // outcome lines with their empty and missing fields, the settings.
        for (sqlite, postgres) in [
            ("SELECT id, full_name, national_id, msisdn, carrier, household_status FROM beneficiary ORDER BY id",
             "SELECT id, full_name, national_id, msisdn, carrier, household_status FROM beneficiary ORDER BY id"),
            ("SELECT beneficiary_id, link_id, hex(digest) FROM beneficiary_seal ORDER BY 1, 2",
             "SELECT beneficiary_id, link_id, upper(encode(digest, 'hex')) FROM beneficiary_seal ORDER BY 1, 2"),
            ("SELECT file_id, line, outcome, effect, item_id, reference, msisdn, amount, carrier_txn_id, note, leg, carrier_status FROM result_line ORDER BY 1, 2",
             "SELECT file_id, line, outcome, effect, item_id, reference, msisdn, amount, carrier_txn_id, note, leg, carrier_status FROM result_line ORDER BY 1, 2"),
            ("SELECT key, value FROM setting ORDER BY key", "SELECT key, value FROM setting ORDER BY key"),
        ] {
            let inFile = try Self.sqlite(file, sqlite)
            #expect(inFile.count > 0, "\(sqlite)")
            #expect(try Self.server(server, postgres) == inFile, "\(postgres)")
        }
        // The server numbers the next row after the copied ones.
        for table in PostgresSchema.autoNumbered where (tables[table] ?? 0) > 0 {
            let last = try server.query("SELECT MAX(id) FROM \"\(table)\"")[0][0]!
            #expect(try server.query("SELECT nextval(pg_get_serial_sequence($1, 'id'))", [table]) == [[String(Int64(last)! + 1)]], "\(table)")
        }

        // The database now holds a ledger: a second copy is refused and changes nothing.
        let again = try Self.allowance(["store", "copy", "--from", file, "--to", scratch.location.uri], in: folder)
        #expect(again.status == 1)
        #expect(again.err.contains("already holds a ledger") && again.err.contains("copy into a new, empty database"), "\(again.err)")
        #expect(try server.query("SELECT COUNT(*) FROM journal_entry") == [[String(verified["entries"] as? Int ?? -1)]])
    }

    /// A copy killed part way leaves the database as it was (empty) or as after (the whole ledger, verified), never
    /// between; a rerun then completes or is refused as the database holds a ledger.
    @Test(arguments: [150, 400, 900, 4_000]) func aKilledCopyLeavesNothingOrEverything(afterMilliseconds: Int) throws {
        guard let scratch = try ScratchDatabase() else { return }
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(try Self.allowance(["demo", "--dir", "demo"], in: folder).status == 0)
        let file = folder + "/demo/allowance.sqlite"
        let head = try Self.object(try Self.allowance(["ledger", "verify", "--db", file, "--json"], in: folder).out)["head_hash"] as? String

        let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("allowance")
        process.arguments = ["store", "copy", "--from", file, "--to", scratch.location.uri]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        usleep(UInt32(afterMilliseconds) * 1_000)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()

        let server = try PGConnection(scratch.location)
        // The server notices the dropped connection and rolls its transaction back; wait for that before looking.
        for _ in 0..<100 where try server.query("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()") != [["0"]] {
            usleep(20_000)
        }
        #expect(try Self.nothingOrEverything(server, file: file))
        // Killed while the schema went in, a table may not be there yet: it holds nothing.
        func count(_ table: String) throws -> String {
            try server.query("SELECT to_regclass($1) IS NOT NULL", [table]) == [["t"]] ? try server.query("SELECT COUNT(*) FROM \(table)")[0][0]! : "0"
        }
        let entries = try count("journal_entry")
        let people = try count("beneficiary")
        print("store copy killed after \(afterMilliseconds) ms: \(entries == "0" ? "nothing" : "everything") on the server")
        if entries == "0" {
            #expect(people == "0", "a killed copy left \(people) beneficiaries and no journal")
            let rerun = try Self.allowance(["store", "copy", "--from", file, "--to", scratch.location.uri, "--json"], in: folder)
            #expect(rerun.status == 0, "\(rerun.err)")
            #expect(try Self.object(rerun.out)["journal_head"] as? String == head)
        } else {
            #expect(try server.query("SELECT hash FROM journal_head") == [[head]])
            let rerun = try Self.allowance(["store", "copy", "--from", file, "--to", scratch.location.uri], in: folder)
            #expect(rerun.status == 1 && rerun.err.contains("already holds a ledger"))
        }
    }

    @Test func aFileThatDoesNotVerifyIsNotCopied() throws {
        guard let scratch = try ScratchDatabase() else { return }
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(try Self.allowance(["demo", "--dir", "demo", "--count", "200"], in: folder).status == 0)
        let file = folder + "/demo/allowance.sqlite"
        let tamper = Process()
        tamper.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        tamper.arguments = [file, "DROP TRIGGER posting_no_update; UPDATE posting SET amount = amount + 1 WHERE entry_id = 1 AND leg = 1;"]
        try tamper.run()
        tamper.waitUntilExit()
        #expect(tamper.terminationStatus == 0)

        let copy = try Self.allowance(["store", "copy", "--from", file, "--to", scratch.location.uri], in: folder)
        #expect(copy.status == 1)
        #expect(copy.err.contains("does not verify") && copy.err.contains("nothing was copied"), "\(copy.err)")
        #expect(copy.err.contains("allowance ledger verify"), "\(copy.err)")
        // Refused before anything was written: the database does not even hold the schema.
        let server = try PGConnection(scratch.location)
        #expect(try server.query("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()") == [["0"]])
    }

    @Test func anotherApplicationsDatabaseIsLeftAlone() throws {
        guard let scratch = try ScratchDatabase() else { return }
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(try Self.allowance(["init", "--db", "office.sqlite"], in: folder).status == 0)
        let server = try PGConnection(scratch.location)
        try server.execute("CREATE TABLE invoices(id INTEGER PRIMARY KEY)")
        let copy = try Self.allowance(["store", "copy", "--from", "office.sqlite", "--to", scratch.location.uri], in: folder)
        #expect(copy.status == 1 && copy.err.contains("holds other tables (invoices) and no ledger"), "\(copy.err)")
        #expect(try Self.server(server, "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()") == ["invoices"])
    }

    @Test func wrongArgumentsAreRefusedWithTheFix() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let notAServer = try Self.allowance(["store", "copy", "--from", "a.sqlite", "--to", "b.sqlite"], in: folder)
        #expect(notAServer.status == 1 && notAServer.err.contains("is not a PostgreSQL URI"), "\(notAServer.err)")
        let noFile = try Self.allowance(["store", "copy", "--from", "missing.sqlite", "--to", "postgresql://office:secret@/ledger?host=/nowhere"],
                                        in: folder)
        #expect(noFile.status == 1 && noFile.err.contains("no ledger at missing.sqlite"), "\(noFile.err)")
        #expect(!FileManager.default.fileExists(atPath: folder + "/missing.sqlite"))
        // A file that is no SQLite database is not made one.
        FileManager.default.createFile(atPath: folder + "/notes.txt", contents: Data("not a ledger".utf8))
        let notLedger = try Self.allowance(["store", "copy", "--from", "notes.txt", "--to", "postgresql://office:secret@/ledger?host=/nowhere"],
                                           in: folder)
        #expect(notLedger.status == 1 && notLedger.err.contains("no ledger at notes.txt"), "\(notLedger.err)")
        #expect(try String(contentsOfFile: folder + "/notes.txt", encoding: .utf8) == "not a ledger")
        // An unreachable server: its password never shown, and the file left as it was.
        #expect(try Self.allowance(["init", "--db", "office.sqlite"], in: folder).status == 0)
        let noServer = try Self.allowance(["store", "copy", "--from", "office.sqlite", "--to", "postgresql://office:secret@/ledger?host=/nowhere"],
                                          in: folder)
        #expect(noServer.status == 1 && noServer.err.contains("office:***@") && !noServer.err.contains("secret"), "\(noServer.err)")
    }
}
