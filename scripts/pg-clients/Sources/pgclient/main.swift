import CLibPQ
import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO

// Measures the two PostgreSQL clients on the work that decides: a 1M-row register into a table by COPY, and 1M rows
// read back. Same input bytes for both (the register CSV turned into COPY text once, before timing).
let args = CommandLine.arguments
let socketDir = args[1], csvPath = args[2], which = args[3]
let table = "beneficiary"
let ddl = """
    DROP TABLE IF EXISTS beneficiary;
    CREATE TABLE beneficiary(id BIGSERIAL PRIMARY KEY, national_id TEXT NOT NULL, full_name TEXT NOT NULL, date_of_birth TEXT NOT NULL,
        gender TEXT NOT NULL, commune_code TEXT NOT NULL, category TEXT NOT NULL, payment_method TEXT NOT NULL, carrier TEXT, msisdn TEXT);
    """
let columns = ["national_id", "full_name", "date_of_birth", "gender", "commune_code", "category", "payment_method", "carrier", "msisdn"]

// The CSV (no quoted commas in the generated register's fields but names; parse simply with quotes) into COPY text.
func copyText() -> [UInt8] {
    let data = try! Data(contentsOf: URL(fileURLWithPath: csvPath))
    var out: [UInt8] = []
    out.reserveCapacity(data.count)
    var first = true
    var inQuotes = false
    var field: [UInt8] = []
    var fields: [[UInt8]] = []
    func endRow() {
        fields.append(field); field = []
        if first { first = false; fields = []; return }
        for (i, f) in fields.prefix(9).enumerated() {
            if i > 0 { out.append(9) }
            if f.isEmpty && i >= 7 { out.append(contentsOf: Array("\\N".utf8)) } else { out.append(contentsOf: f) }
        }
        out.append(10)
        fields = []
    }
    for byte in data {
        if inQuotes {
            if byte == 34 { inQuotes = false } else { field.append(byte) }
        } else if byte == 34 { inQuotes = true
        } else if byte == 44 { fields.append(field); field = []
        } else if byte == 10 { endRow()
        } else if byte != 13 { field.append(byte) }
    }
    return out
}

let text = copyText()
let lines = text.reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

if which == "libpq" {
    let conn = PQconnectdb("host=\(socketDir) dbname=postgres user=postgres")!
    precondition(PQstatus(conn) == CONNECTION_OK, String(cString: PQerrorMessage(conn)))
    PQclear(PQexec(conn, ddl))
    let t0 = now()
    PQclear(PQexec(conn, "BEGIN"))
    let start = PQexec(conn, "COPY \(table)(\(columns.joined(separator: ","))) FROM STDIN")
    precondition(PQresultStatus(start) == PGRES_COPY_IN, String(cString: PQerrorMessage(conn)))
    PQclear(start)
    var offset = 0
    text.withUnsafeBufferPointer { buffer in
        while offset < buffer.count {
            let n = min(1 << 16, buffer.count - offset)
            buffer.baseAddress!.advanced(by: offset).withMemoryRebound(to: CChar.self, capacity: n) { precondition(PQputCopyData(conn, $0, Int32(n)) == 1) }
            offset += n
        }
    }
    precondition(PQputCopyEnd(conn, nil) == 1)
    while let result = PQgetResult(conn) { precondition(PQresultStatus(result) == PGRES_COMMAND_OK, String(cString: PQerrorMessage(conn))); PQclear(result) }
    PQclear(PQexec(conn, "COMMIT"))
    let t1 = now()
    // Read back every row in single-row mode, summing the bytes of two columns so nothing is skipped.
    precondition(PQsendQuery(conn, "SELECT id, national_id, full_name, msisdn FROM beneficiary ORDER BY id") == 1)
    precondition(PQsetSingleRowMode(conn) == 1)
    var rows = 0, bytes = 0
    while let result = PQgetResult(conn) {
        if PQresultStatus(result) == PGRES_SINGLE_TUPLE {
            rows += 1
            bytes += Int(PQgetlength(result, 0, 1)) + Int(PQgetlength(result, 0, 2))
        }
        PQclear(result)
    }
    let t2 = now()
    print("libpq: COPY \(lines) rows \(String(format: "%.2f", t1 - t0)) s; read \(rows) rows \(String(format: "%.2f", t2 - t1)) s (\(bytes) bytes)")
    PQfinish(conn)
} else {
    let config = PostgresConnection.Configuration(unixSocketPath: socketDir + "/.s.PGSQL.5432", username: "postgres", password: nil, database: "postgres")
    let logger = Logger(label: "bench")
    let connection = try await PostgresConnection.connect(configuration: config, id: 1, logger: logger)
    for statement in ddl.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) }).filter({ !$0.isEmpty }) {
        let _: PostgresRowSequence = try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
    }
    let t0 = now()
    let _: PostgresRowSequence = try await connection.query(PostgresQuery(unsafeSQL: "BEGIN"), logger: logger)
    try await connection.copyFrom(table: table, columns: columns, logger: logger) { writer in
        var offset = 0
        while offset < text.count {
            let n = min(1 << 16, text.count - offset)
            try await writer.write(ByteBuffer(bytes: text[offset..<(offset + n)]))
            offset += n
        }
    }
    let _: PostgresRowSequence = try await connection.query(PostgresQuery(unsafeSQL: "COMMIT"), logger: logger)
    let t1 = now()
    // Off the main actor: top-level code runs on it, and every row would hop back to it.
    let (rows, bytes) = try await Task.detached { () async throws -> (Int, Int) in
    var rows = 0, bytes = 0
    let sequence: PostgresRowSequence = try await connection.query(PostgresQuery(unsafeSQL: "SELECT id, national_id, full_name, msisdn FROM beneficiary ORDER BY id"), logger: logger)
    if which == "nio-raw" {
        for try await row in sequence {
            rows += 1
            var cells = row.makeIterator()
            _ = cells.next()
            bytes += (cells.next()?.bytes?.readableBytes ?? 0) + (cells.next()?.bytes?.readableBytes ?? 0)
        }
    } else {
        for try await (_, nationalID, name, _) in sequence.decode((Int64, String, String, String?).self) {
            rows += 1
            bytes += nationalID.utf8.count + name.utf8.count
        }
    }
    return (rows, bytes)
    }.value
    let t2 = now()
    print("postgres-nio: COPY \(lines) rows \(String(format: "%.2f", t1 - t0)) s; read \(rows) rows \(String(format: "%.2f", t2 - t1)) s (\(bytes) bytes)")
}
