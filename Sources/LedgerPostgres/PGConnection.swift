import AllowanceLedger
import CLibPQ
#if canImport(Glibc)
import Glibc
#endif

/// Where a PostgreSQL ledger is: `postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE`, `postgres://…` too, and
/// `?host=/path/to/socket` for a Unix socket. libpq reads the URI itself; this only recognises one and keeps the password
/// out of what is shown.
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    public let uri: String

    /// Nil when `text` is not a PostgreSQL URI (a file path: SQLite's).
    public init?(_ text: String) {
        let lower = text.lowercased()
        guard lower.hasPrefix("postgresql://") || lower.hasPrefix("postgres://") else { return nil }
        uri = text
    }

    /// The URI with any password replaced by `***`: what messages and logs show.
    public var description: String {
        guard let scheme = uri.range(of: "://"), let at = uri[scheme.upperBound...].firstIndex(of: "@") else { return uri }
        let credentials = uri[scheme.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return uri }
        return String(uri[..<colon]) + ":***" + String(uri[at...])
    }
}

/// A refusal from the server or the client library: the SQLSTATE (`23505` a unique key, `40001` a serialisation
/// failure to retry) and the server's words.
public struct PGError: Error, Sendable, Equatable, CustomStringConvertible {
    public let sqlState: String
    public let message: String

    public var description: String { sqlState.isEmpty ? message : "\(message) (SQLSTATE \(sqlState))" }
    public var isUniqueViolation: Bool { sqlState == "23505" }
    public var isSerializationFailure: Bool { sqlState == "40001" || sqlState == "40P01" }
}

/// Rows read through a server-side cursor, a chunk at a time.
public final class PGRowCursor {
    private let connection: PGConnection
    private let name: String
    private let chunk: Int
    private var rows: [[String?]] = []
    private var index = 0
    private var exhausted = false

    init(connection: PGConnection, name: String, chunk: Int) {
        self.connection = connection
        self.name = name
        self.chunk = chunk
    }

    /// The next row, or nil after the last.
    public func next() throws -> [String?]? {
        if index == rows.count {
            guard !exhausted else { return nil }
            rows = try connection.query("FETCH \(chunk) FROM \(name)")
            index = 0
            exhausted = rows.count < chunk
            guard !rows.isEmpty else { return nil }
        }
        defer { index += 1 }
        return rows[index]
    }

    public func close() { try? connection.execute("CLOSE \(name)") }
}

/// One connection through libpq. Synchronous like the ledger's storage seam (`read`/`write` closures), and one
/// command's transaction at a time; not shared between threads.
public final class PGConnection {
    private let handle: OpaquePointer
    public let location: PostgresLocation

    public init(_ location: PostgresLocation) throws {
        guard let handle = PQconnectdb(location.uri) else { throw PGError(sqlState: "", message: "out of memory connecting to \(location)") }
        guard PQstatus(handle) == CONNECTION_OK else {
            let reason = Self.trimmed(String(cString: PQerrorMessage(handle)))
            PQfinish(handle)
            throw PGError(sqlState: "08001", message: "cannot connect to \(location): \(reason)")
        }
        self.handle = handle
        self.location = location
        // Errors and notices in one language and dates in one style, whatever the server's defaults.
        // Notices (a table that already exists) are not the user's business: only warnings and errors come back.
        try execute("SET lc_messages TO 'C'; SET DateStyle TO 'ISO'; SET client_encoding TO 'UTF8'; SET client_min_messages TO warning")
    }

    deinit { PQfinish(handle) }

    /// Runs statements that return no rows (several, separated by `;`, when there are no parameters).
    public func execute(_ sql: String) throws {
        let result = PQexec(handle, sql)
        defer { PQclear(result) }
        try check(result, sql: sql)
    }

    /// Runs one statement with text parameters (`$1`, `$2`, …; nil is NULL) and returns its rows as text (nil is NULL).
    @discardableResult
    public func query(_ sql: String, _ parameters: [String?] = []) throws -> [[String?]] {
        let result = try withParameters(parameters) { values in
            PQexecParams(handle, sql, Int32(parameters.count), nil, values, nil, nil, 0)
        }
        defer { PQclear(result) }
        try check(result, sql: sql)
        let rows = Int(PQntuples(result)), columns = Int(PQnfields(result))
        return (0..<rows).map { row in
            (0..<columns).map { column in
                PQgetisnull(result, Int32(row), Int32(column)) == 1 ? nil : String(cString: PQgetvalue(result, Int32(row), Int32(column)))
            }
        }
    }

    /// Reads a query's rows a chunk at a time through a cursor, inside the caller's transaction, so that millions of rows
    /// never sit in memory at once. `body` gets each row (text; nil is NULL) in order.
    public func forEachRow(_ sql: String, _ parameters: [String?] = [], chunk: Int = 20_000, _ body: ([String?]) throws -> Void) throws {
        let rows = try cursor(sql, parameters, chunk: chunk)
        defer { rows.close() }
        while let row = try rows.next() { try body(row) }
    }

    /// A cursor over a query's rows inside the caller's transaction, fetched `chunk` at a time: several may be open at
    /// once, to merge ordered streams.
    public func cursor(_ sql: String, _ parameters: [String?] = [], chunk: Int = 20_000) throws -> PGRowCursor {
        cursors += 1
        let name = "allowance_rows_\(cursors)"
        try query("DECLARE \(name) NO SCROLL CURSOR FOR \(sql)", parameters)
        return PGRowCursor(connection: self, name: name, chunk: chunk)
    }

    private var cursors = 0

    /// Streams rows into `COPY … FROM STDIN` (text format): `produce` is called until it returns nil, each chunk sent
    /// as it comes, so memory stays flat however many rows go in.
    public func copyIn(_ sql: String, _ produce: () throws -> [UInt8]?) throws {
        let start = PQexec(handle, sql)
        defer { PQclear(start) }
        guard PQresultStatus(start) == PGRES_COPY_IN else {
            try check(start, sql: sql)
            throw PGError(sqlState: "", message: "\(sql) did not start a COPY")
        }
        var failure: (any Error)?
        do {
            while let chunk = try produce() {
                if chunk.isEmpty { continue }
                let sent = chunk.withUnsafeBufferPointer { bytes in
                    bytes.baseAddress!.withMemoryRebound(to: CChar.self, capacity: bytes.count) { PQputCopyData(handle, $0, Int32(bytes.count)) }
                }
                guard sent == 1 else { throw PGError(sqlState: "", message: Self.trimmed(String(cString: PQerrorMessage(handle)))) }
            }
        } catch {
            failure = error
        }
        // The server answers the end (or the abandonment) of the copy with the statement's result.
        if let failure {
            _ = PQputCopyEnd(handle, "\(failure)")
        } else {
            _ = PQputCopyEnd(handle, nil)
        }
        var serverError: PGError?
        while let result = PQgetResult(handle) {
            if PQresultStatus(result) != PGRES_COMMAND_OK, serverError == nil { serverError = Self.error(result) }
            PQclear(result)
        }
        if let failure { throw failure }
        if let serverError { throw serverError }
    }

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    public func transaction<T>(isolation: String = "READ COMMITTED", _ body: () throws -> T) throws -> T {
        try execute("BEGIN ISOLATION LEVEL \(isolation)")
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    private func withParameters<R>(_ parameters: [String?], _ body: ([UnsafePointer<CChar>?]) -> R) throws -> R {
        // Each parameter's bytes, NUL-terminated, live until the call returns.
        let copies: [UnsafeMutablePointer<CChar>?] = parameters.map { text in text.flatMap { strdup($0) } }
        defer { for copy in copies { free(copy) } }
        return body(copies.map { copy in copy.map { UnsafePointer($0) } })
    }

    private func check(_ result: OpaquePointer?, sql: String) throws {
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY, PGRES_COPY_IN: return
        default: throw result.map(Self.error) ?? PGError(sqlState: "", message: Self.trimmed(String(cString: PQerrorMessage(handle))))
        }
    }

    private static func error(_ result: OpaquePointer) -> PGError {
        let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) } ?? ""
        let message = PQresultErrorField(result, Int32(UInt8(ascii: "M"))).map { String(cString: $0) }
            ?? trimmed(String(cString: PQresultErrorMessage(result)))
        return PGError(sqlState: state, message: message)
    }

    private static func trimmed(_ text: String) -> String { text.trimmingSpaces }
}
