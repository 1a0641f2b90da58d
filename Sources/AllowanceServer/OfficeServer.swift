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
    /// The key `audit export` signs with (`--audit-key`); without it the server offers no export.
    public var auditKey: AuditKey?

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
        PageRoutes(api: api).register(on: router)
        let v1 = router.group("api/v1")
        for route in routes {
            v1.on(RouterPath(stringLiteral: route.path), method: route.method) { request, context in try await route.handle(api, request, context) }
        }
        return router
    }
}

/// One route of the API: what `docs/openapi.yaml` must describe (`RouteContractTests` holds the two alike).
struct Route: Sendable {
    let method: HTTPRequest.Method
    let path: String
    let handle: @Sendable (API, Request, BasicRequestContext) async throws -> Response
}

extension OfficeServer {
    static let routes: [Route] = [
        Route(method: .post, path: "session") { try await $0.logIn($1, $2) },
        Route(method: .get, path: "session") { try await $0.currentSession($1, $2) },
        Route(method: .delete, path: "session") { try await $0.logOut($1, $2) },
        Route(method: .post, path: "registers") { try await $0.importRegister($1, $2) },
        Route(method: .post, path: "batches") { try await $0.createBatch($1, $2) },
        Route(method: .get, path: "batches/:id") { try await $0.showBatch($1, $2) },
        Route(method: .post, path: "batches/:id/approve") { try await $0.approveBatch($1, $2) },
        Route(method: .post, path: "batches/:id/instructions") { try await $0.instructions($1, $2) },
        Route(method: .post, path: "batches/:id/results") { try await $0.reconcile($1, $2) },
        Route(method: .get, path: "reports/noncash") { try await $0.nonCashReport($1, $2) },
        Route(method: .get, path: "ledger/verify") { try await $0.verifyLedger($1, $2) },
        Route(method: .post, path: "audit/exports") { try await $0.auditExport($1, $2) },
    ]

    /// Every route as OpenAPI spells it: `POST /api/v1/batches/{id}/approve`.
    public static var routeList: [String] {
        routes.map { route in
            let path = route.path.split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
            return "\(route.method.rawValue) /api/v1/\(path)"
        }
    }
}

/// An answer that is not a success: its status, its code, and a message in the user's language.
struct APIError: Error {
    let status: HTTPResponse.Status
    let code: String
    let message: String
    /// The service's refusal, when it was one: a page words it in the user's language.
    var problem: Problem? = nil
    /// The same message in English, when the refusal has its own words there.
    var english: String? = nil
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
