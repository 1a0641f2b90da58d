import AllowanceLedger
import AllowanceOffice
import AllowanceViews
import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import HTTPTypes
import Hummingbird
import Logging

/// How `allowance serve` listens and what it accepts.
public struct ServerOptions: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var maxUploadBytes = 200 << 20
    /// Cookies marked `Secure`: set when the server sits behind TLS.
    public var secureCookies = false

    public init() {}
}

/// The office's web application over one ledger: the JSON API under `/api/v1` (sessions, batches, the ledger's check),
/// every answer with the security headers, every change behind a session and its CSRF token, every action checked
/// against the logged-in account's role before a service runs it. The actor of every write is the session's account.
public enum OfficeServer {
    public static let sessionCookie = "allowance_session"

    public static func application(ledger: Ledger, options: ServerOptions, logger: Logger? = nil) -> some ApplicationProtocol {
        Application(router: router(ledger: ledger, options: options),
                    configuration: .init(address: .hostname(options.host, port: options.port), serverName: nil),
                    logger: logger ?? Logger(label: "allowance.server"))
    }

    public static func router(ledger: Ledger, options: ServerOptions) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: SecurityHeaders())
        router.add(middleware: ErrorsAsJSON())
        let api = API(ledger: ledger, options: options)
        let v1 = router.group("api/v1")
        v1.post("session") { request, context in try await api.logIn(request, context) }
        v1.get("session") { request, context in try await api.currentSession(request, context) }
        v1.delete("session") { request, context in try await api.logOut(request, context) }
        v1.post("batches") { request, context in try await api.createBatch(request, context) }
        v1.get("batches/:id") { request, context in try await api.showBatch(request, context) }
        v1.post("batches/:id/approve") { request, context in try await api.approveBatch(request, context) }
        v1.post("batches/:id/instructions") { request, context in try await api.instructions(request, context) }
        v1.get("ledger/verify") { request, context in try await api.verifyLedger(request, context) }
        v1.get("reports/noncash") { request, context in try await api.nonCashReport(request, context) }
        return router
    }
}

/// An answer that is not a success: its status, its code, and a message in the user's language.
struct APIError: Error {
    let status: HTTPResponse.Status
    let code: String
    let message: String
}

/// Runs the ledger's blocking work off the server's event loops.
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
}

/// The headers every response carries (issue 20): no framing, no sniffing, nothing loaded from elsewhere.
struct SecurityHeaders: RouterMiddleware {
    typealias Context = BasicRequestContext
    static let frameOptions = HTTPField.Name("X-Frame-Options")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.contentSecurityPolicy] = "default-src 'self'"
        response.headers[Self.frameOptions] = "DENY"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[Self.referrerPolicy] = "no-referrer"
        response.headers[.cacheControl] = "no-store"
        return response
    }
}

/// Every error as `{"error": {"code", "message"}}`, never a stack trace or a value from the request.
struct ErrorsAsJSON: RouterMiddleware {
    typealias Context = BasicRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return JSONResponse.error(error)
        } catch let error as HTTPError {
            let code = error.status == .notFound ? "not_found" : error.status == .contentTooLarge ? "too_large" : "bad_request"
            return JSONResponse.error(APIError(status: error.status, code: code, message: Words.vi(code)))
        } catch {
            context.logger.error("request failed: \(redactIdentifiers(String(describing: error)))")
            return JSONResponse.error(APIError(status: .internalServerError, code: "internal", message: Words.vi("internal")))
        }
    }
}

enum JSONResponse {
    static func make(_ json: JSON, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(string: json.render())))
    }

    static func error(_ error: APIError) -> Response {
        make(.object([("error", .object([("code", .string(error.code)), ("message", .string(error.message))]))]), status: error.status)
    }
}

/// A file this server just wrote, whole (an instruction file: one line per payment, a few MB for a national month).
func readFileBytes(_ path: String) throws -> [UInt8] {
    let opened = try Files.openRegular(path)
    defer { close(opened.fd) }
    return try readAll(from: opened.fd, path: path, max: Int.max) ?? []
}
