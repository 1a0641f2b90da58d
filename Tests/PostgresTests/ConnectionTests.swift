import AllowanceLedger
import AllowanceOffice
import Foundation
import LedgerPostgres
import Testing

/// The server `.ci/run` starts for the run (ALLOWANCE_TEST_POSTGRES, a `postgresql://` URI); nil elsewhere, when the
/// cases say they were skipped and why, unless ALLOWANCE_POSTGRES_REQUIRED is set, when they fail instead.
enum TestServer {
    static var location: PostgresLocation? {
        ProcessInfo.processInfo.environment["ALLOWANCE_TEST_POSTGRES"].flatMap(PostgresLocation.init)
    }
    static var required: Bool { ProcessInfo.processInfo.environment["ALLOWANCE_POSTGRES_REQUIRED"] == "1" }

    /// A connection to the test server, or nil (after saying why) when there is none and none is required.
    static func connect(sourceLocation: SourceLocation = #_sourceLocation) throws -> PGConnection? {
        guard let location else {
            if required {
                Issue.record("ALLOWANCE_POSTGRES_REQUIRED is set but ALLOWANCE_TEST_POSTGRES names no server", sourceLocation: sourceLocation)
            } else {
                print("skipped: no PostgreSQL server (set ALLOWANCE_TEST_POSTGRES=postgresql://…; `.ci/run` starts one)")
            }
            return nil
        }
        return try PGConnection(location)
    }
}

@Suite(.serialized) struct ConnectionTests {
    @Test func aURIIsRecognisedAndItsPasswordNeverShown() {
        #expect(PostgresLocation("/var/lib/allowance/ledger.sqlite") == nil)
        #expect(PostgresLocation("ledger.sqlite") == nil)
        let socket = PostgresLocation("postgres://allowance@/ledger?host=/run/postgresql")
        #expect(socket?.description == "postgres://allowance@/ledger?host=/run/postgresql")
        let secret = PostgresLocation("postgresql://allowance:s3cret@db.example:5432/ledger")
        #expect(secret?.description == "postgresql://allowance:***@db.example:5432/ledger")
    }

    @Test func aServerLedgerIsRefusedWithTheFixAndNoFileIsMade() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pg-refusal-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let cwd = FileManager.default.currentDirectoryPath
        FileManager.default.changeCurrentDirectoryPath(folder)
        defer { FileManager.default.changeCurrentDirectoryPath(cwd) }
        #expect(throws: LedgerOpenError.postgresNotYet("postgresql://office:***@/ledger?host=/tmp")) {
            try AllowanceOffice.Ledger.open("postgresql://office:pw@/ledger?host=/tmp")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
        #expect(LedgerOpenError.postgresNotYet("x").description.contains("give --db a file path"))
    }

    @Test func parametersCarryVietnameseTextAndNullsBothWays() throws {
        guard let db = try TestServer.connect() else { return }
        let rows = try db.query("SELECT $1::text, $2::text IS NULL, length($1::text)", ["Nguyễn Thị Ánh; DROP TABLE x", nil])
        #expect(rows == [["Nguyễn Thị Ánh; DROP TABLE x", "t", "28"]])
    }

    @Test func copyStreamsRowsInAndATransactionThatThrowsLeavesNothing() throws {
        guard let db = try TestServer.connect() else { return }
        try db.execute("DROP TABLE IF EXISTS pg_test_rows; CREATE TABLE pg_test_rows(id BIGINT PRIMARY KEY, name TEXT NOT NULL, msisdn TEXT)")
        defer { try? db.execute("DROP TABLE IF EXISTS pg_test_rows") }
        var next = 0
        try db.transaction {
            try db.copyIn("COPY pg_test_rows(id, name, msisdn) FROM STDIN") {
                guard next < 10 else { return nil }
                var chunk: [UInt8] = []
                for id in (next * 1_000)..<((next + 1) * 1_000) {
                    chunk += Array("\(id)\tTrần Văn \(id)\t\(id % 3 == 0 ? "\\N" : "8491\(id)")\n".utf8)
                }
                next += 1
                return chunk
            }
        }
        #expect(try db.query("SELECT count(*), count(msisdn) FROM pg_test_rows") == [["10000", "6666"]])

        struct Stop: Error {}
        #expect(throws: Stop.self) {
            try db.transaction {
                try db.execute("DELETE FROM pg_test_rows")
                throw Stop()
            }
        }
        #expect(try db.query("SELECT count(*) FROM pg_test_rows") == [["10000"]])
    }

    @Test func aBadCopyLineIsTheServersRefusalAndTheTableIsUnchanged() throws {
        guard let db = try TestServer.connect() else { return }
        try db.execute("DROP TABLE IF EXISTS pg_test_copy; CREATE TABLE pg_test_copy(id BIGINT PRIMARY KEY)")
        defer { try? db.execute("DROP TABLE IF EXISTS pg_test_copy") }
        var sent = false
        #expect(throws: PGError.self) {
            try db.copyIn("COPY pg_test_copy(id) FROM STDIN") {
                defer { sent = true }
                return sent ? nil : Array("1\n2\nnot a number\n".utf8)
            }
        }
        #expect(try db.query("SELECT count(*) FROM pg_test_copy") == [["0"]])
        // The connection is usable afterwards.
        #expect(try db.query("SELECT 1") == [["1"]])
    }

    @Test func aDuplicateKeyIsNamedBySQLState() throws {
        guard let db = try TestServer.connect() else { return }
        try db.execute("DROP TABLE IF EXISTS pg_test_keys; CREATE TABLE pg_test_keys(id BIGINT PRIMARY KEY)")
        defer { try? db.execute("DROP TABLE IF EXISTS pg_test_keys") }
        try db.query("INSERT INTO pg_test_keys VALUES ($1)", ["7"])
        do {
            try db.query("INSERT INTO pg_test_keys VALUES ($1)", ["7"])
            Issue.record("a second row with the same key was taken")
        } catch let error as PGError {
            #expect(error.isUniqueViolation && error.description.contains("duplicate key"))
        }
    }

    @Test func aServerThatIsNotThereIsAClearError() {
        #expect(throws: PGError.self) {
            try PGConnection(PostgresLocation("postgresql://nobody@/nothing?host=/nonexistent-socket-dir")!)
        }
        do {
            _ = try PGConnection(PostgresLocation("postgresql://nobody:pw@/nothing?host=/nonexistent-socket-dir")!)
        } catch {
            #expect("\(error)".contains("cannot connect to postgresql://nobody:***@/nothing") && !"\(error)".contains(":pw@"))
        }
    }
}
