import AllowanceLedger
import AllowanceOffice
import Foundation
import HTTPTypes
import Hummingbird
import Mustache

/// The pages: rendered on the server from the templates in `Pages/`, in Vietnamese unless the user switched to English
/// (cookie `lang`), plain HTML and one stylesheet, no script. They call the same services as the API, through the same
/// checks; a form's change carries the session's CSRF token in a hidden field.
enum Pages {
    static let languages = ["vi", "en"]
    static let words: [String: [String: String]] = [
        "vi": try! StringsTable.parse(PackageResources.vi_strings),
        "en": try! StringsTable.parse(PackageResources.en_strings),
    ]

    /// Every value a template prints is escaped per Unicode scalar (`htmlEscaped`), not per Character as Mustache's
    /// own HTML escaping is: `"` followed by a combining mark must not close an attribute. Each template opens with
    /// `{{% CONTENT_TYPE: HTML }}`, which takes the escaper registered here under that name (the pragma is read when
    /// the template is parsed, after the registration).
    static let library: MustacheLibrary = {
        MustacheContentTypes.register(ScalarHTML(), named: "HTML")
        var library = MustacheLibrary()
        for (name, bytes) in [("layout", PackageResources.layout_mustache), ("login", PackageResources.login_mustache),
                              ("dashboard", PackageResources.dashboard_mustache), ("batch", PackageResources.batch_mustache),
                              ("problem", PackageResources.problem_mustache), ("batches", PackageResources.batches_mustache),
                              ("registers", PackageResources.registers_mustache), ("reconcile", PackageResources.reconcile_mustache),
                              ("audit", PackageResources.audit_mustache), ("activity", PackageResources.activity_mustache),
                              ("accounts", PackageResources.accounts_mustache), ("beneficiaries", PackageResources.beneficiaries_mustache),
                              ("beneficiary", PackageResources.beneficiary_mustache)] {
            library.register(try! MustacheTemplate(string: String(decoding: bytes, as: UTF8.self)), named: name)
        }
        return library
    }()

    struct ScalarHTML: MustacheContentType {
        func escapeText(_ text: String) -> String { htmlEscaped(text) }
    }

    static func language(_ request: Request) -> String {
        let chosen = request.cookies["lang"]?.value ?? "vi"
        return languages.contains(chosen) ? chosen : "vi"
    }

    static func page(_ template: String, title: String, _ data: [String: Any], request: Request, session: Session?,
                     status: HTTPResponse.Status = .ok) -> Response {
        let lang = language(request)
        let t = words[lang]!
        var values = flagged(data)
        values["t"] = t
        let body = library.render(values, withTemplate: template) ?? ""
        var layout: [String: Any] = ["t": t, "lang": lang, "title": t[title] ?? title, "body": body]
        if let session {
            let role = session.account.role
            layout["user"] = ["name": session.account.name.value, "role": t["r_" + role.rawValue] ?? role.rawValue, "csrf": session.csrfToken]
            // The menu holds what the role may open, nothing else.
            layout["menu"] = [("/", "dashboard", Action.viewReports), ("/beneficiaries", "beneficiaries", .viewBeneficiaries),
                              ("/registers", "register_upload", .importRegister), ("/batches", "batches", .viewBatches),
                              ("/audit", "audit", .verifyLedger), ("/activity", "activity", .viewActivity),
                              ("/accounts", "accounts", .manageAccounts)]
                .filter { role.may($0.2) }.map { ["href": $0.0, "label": t[$0.1] ?? $0.1] }
        }
        let html = library.render(layout, withTemplate: "layout") ?? ""
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// Beside every list, `has_NAME`: whether it holds anything (Mustache's sections cannot ask an empty list that);
    /// and no empty text, which a Mustache section takes for true (`{{#notice}}` must not show an empty notice).
    static func flagged(_ data: [String: Any]) -> [String: Any] {
        var out = data
        for (key, value) in data {
            if let text = value as? String, text.isEmpty {
                out[key] = nil
            } else if let list = value as? [Any] {
                out["has_" + key] = !list.isEmpty
                out[key] = list.map { ($0 as? [String: Any]).map(flagged) ?? $0 }
            } else if let nested = value as? [String: Any] {
                out[key] = flagged(nested)
            }
        }
        return out
    }

    static func languageCookie(_ code: String) -> Cookie {
        Cookie(name: "lang", value: code, path: "/", httpOnly: true, sameSite: .strict)
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    /// `1.234.567 ₫`.
    static func money(_ dong: Int64) -> String { "\(Money(dong: dong).grouped) ₫" }
    /// `26734 Xã Minh Phú` when the commune list names the code, else the code.
    static func commune(_ code: String, _ names: [String: String]) -> String { names[code].map { "\(code) \($0)" } ?? code }

    static func count(_ value: Int64) -> String { Money(dong: value).grouped }

    /// `30/11/2026 15:04` in Vietnam's time, from the ledger's UTC timestamps.
    static func date(_ text: String?) -> String {
        guard let text, let time = try? Timestamp(parsing: text) else { return text ?? "" }
        let local = time.secondsSinceEpoch + Timestamp.vietnamOffsetSeconds
        let day = CalendarDate(daysSinceEpoch: Int(local.floorDiv(86_400)))
        let seconds = Int(local - local.floorDiv(86_400) * 86_400)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(two(day.day))/\(two(day.month))/\(day.year) \(two(seconds / 3600)):\(two(seconds % 3600 / 60))"
    }

    /// The fields of an `application/x-www-form-urlencoded` body.
    static func form(_ request: Request) async throws -> [String: String] {
        let buffer = try await request.body.collect(upTo: 64 << 10)
        var fields: [String: String] = [:]
        for pair in String(buffer: buffer).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            if let key = parts.first { fields[key] = parts.count > 1 ? parts[1] : "" }
        }
        return fields
    }
}

extension Int64 {
    fileprivate func floorDiv(_ divisor: Int64) -> Int64 { (self >= 0 ? self : self - divisor + 1) / divisor }
}

/// The pages' handlers, beside the API's.
struct PageRoutes: Sendable {
    let api: API
    var ledger: Ledger { api.ledger }

    func register(on router: Router<BasicRequestContext>) {
        router.get("static/app.css") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(bytes: PackageResources.app_css)))
        }
        router.get("static/favicon.svg") { _, _ in
            Response(status: .ok, headers: [.contentType: "image/svg+xml"], body: .init(byteBuffer: ByteBuffer(bytes: PackageResources.favicon_svg)))
        }
        // Browsers ask for it whatever the page links.
        router.get("favicon.ico") { _, _ in Pages.redirect("/static/favicon.svg") }
        router.get("login") { request, _ in Pages.page("login", title: "login_title", [:], request: request, session: nil) }
        router.post("login") { request, _ in try await logIn(request) }
        router.post("logout") { request, _ in try await logOut(request) }
        // The switch is kept in a cookie and, for a logged-in person, on their account, which sets the cookie at each login.
        router.get("lang/:code") { request, context in
            let text = context.parameters.get("code") ?? "vi"
            let code = Pages.languages.contains(text) ? text : "vi"
            if let session = await session(request) {
                let accounts = ledger.accounts
                try await blocking { try accounts.setLanguage(of: session.account.name, to: code) }
            }
            var response = Pages.redirect("/")
            response.setCookie(Pages.languageCookie(code))
            return response
        }
        router.get("/") { request, _ in try await dashboard(request) }
        router.get("batches/:id") { request, context in try await batch(request, context) }
        router.post("batches/:id/approve") { request, context in try await approve(request, context) }
        registerWorkPages(on: router)
    }

    /// The session, or nil (the page then sends the user to log in).
    func session(_ request: Request) async -> Session? {
        try? await api.openSession(request)
    }

    func problem(_ request: Request, _ session: Session?, _ key: String, status: HTTPResponse.Status) -> Response {
        let words = Pages.words[Pages.language(request)]!
        return Pages.page("problem", title: "error_title", ["message": words[key] ?? key], request: request, session: session, status: status)
    }

    func logIn(_ request: Request) async throws -> Response {
        let form = try await Pages.form(request)
        let user = form["user"] ?? "", password = form["password"] ?? "", code = form["otp"].flatMap { $0.isEmpty ? nil : $0 }
        let accounts = ledger.accounts
        do {
            let session = try await blocking { try accounts.logIn(name: user, password: password, oneTimeCode: code) }
            var response = Pages.redirect("/")
            response.setCookie(Cookie(name: OfficeServer.sessionCookie, value: session.token ?? "", path: "/", secure: api.options.secureCookies,
                                      httpOnly: true, sameSite: .strict))
            response.setCookie(Pages.languageCookie(session.account.language))
            return response
        } catch let error as AccessError {
            let words = Pages.words[Pages.language(request)]!
            let key = switch error { case .locked: "locked"; case .oneTimeCodeRequired: "otp_needed"; default: "bad_login" }
            return Pages.page("login", title: "login_title", ["message": words[key]!, "user": user], request: request, session: nil,
                              status: error == .oneTimeCodeRequired || key == "bad_login" ? .unauthorized : .tooManyRequests)
        }
    }

    func logOut(_ request: Request) async throws -> Response {
        let form = try await Pages.form(request)
        guard let session = await session(request), session.accepts(csrfToken: form["csrf"]),
              let token = request.cookies[OfficeServer.sessionCookie]?.value else { return Pages.redirect("/login") }
        let accounts = ledger.accounts
        try await blocking { try accounts.logOut(token: token) }
        var response = Pages.redirect("/login")
        response.setCookie(Cookie(name: OfficeServer.sessionCookie, value: "", maxAge: 0, path: "/", httpOnly: true, sameSite: .strict))
        return response
    }

    func dashboard(_ request: Request) async throws -> Response {
        guard let session = await session(request) else { return Pages.redirect("/login") }
        if session.account.role == .admin { return Pages.redirect("/accounts") }
        guard session.account.role.may(.viewReports) else { return problem(request, session, "forbidden", status: .forbidden) }
        let month = ledger.clock.now().vietnamPeriod
        let desk = api.desk(session)
        let target = Share(basisPoints: 8_000)
        // The month's figures and the last twelve months' trend: both kept by the reports service until the ledger changes.
        let first = Period(year: month.month == 12 ? month.year : month.year - 1, month: month.month == 12 ? 1 : month.month + 1)!
        let (report, trend) = try await api.serviceCall {
            (try desk.nonCash(from: month, to: month, grouping: .commune, target: target),
             try desk.nonCash(from: first, to: month, grouping: .commune, target: target))
        }
        var data: [String: Any] = [
            "month": month.vietnamese, "target": target.vietnamese,
            "share": report.total.noncashShare?.vietnamese ?? "—", "lagging": report.isBelowTarget(report.total),
            "recipients": Pages.count(report.total.recipients), "noncash": Pages.count(report.total.noncashRecipients),
            "amount": Pages.money(report.total.amountTotal),
            "trend": trend.months.map { row -> [String: Any] in
                ["month": row.period.vietnamese, "share": row.figures.noncashShare?.vietnamese ?? "—",
                 "recipients": Pages.count(row.figures.recipients), "noncash": Pages.count(row.figures.noncashRecipients),
                 // A bar per month, the month's share as a <meter>: no script, no inline style.
                 "basisPoints": row.figures.noncashShare?.basisPoints ?? 0, "seen": row.figures.recipients > 0]
            },
            "below": report.rows.filter { report.isBelowTarget($0.figures) }.map { row -> [String: Any] in
                ["name": row.label, "recipients": Pages.count(row.figures.recipients), "noncash": Pages.count(row.figures.noncashRecipients),
                 "share": row.figures.noncashShare?.vietnamese ?? "—"]
            },
        ]
        if session.account.role.may(.viewBatches) {
            let words = Pages.words[Pages.language(request)]!
            let batches = try await api.serviceCall { try desk.batches() }
            data["showBatches"] = true
            data["batches"] = batches.reversed().map { batch -> [String: Any] in
                ["id": batch.id.rawValue, "period": batch.period.vietnamese, "status": words["st_" + batch.status.rawValue] ?? batch.status.rawValue,
                 "createdBy": batch.createdBy, "approvedBy": batch.approvedBy ?? ""]
            }
        }
        return Pages.page("dashboard", title: "dashboard", data, request: request, session: session)
    }

    func batch(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        guard let session = await session(request) else { return Pages.redirect("/login") }
        guard session.account.role.may(.viewBatches) else { return problem(request, session, "forbidden", status: .forbidden) }
        guard let text = context.parameters.get("id"), let value = Int64(text), value > 0 else { return problem(request, session, "not_found", status: .notFound) }
        let id = BatchID(value)
        let desk = api.desk(session)
        let summary: BatchSummary, changes: [NumberChange], names: [String: String]
        do {
            (summary, changes) = try await api.serviceCall { try desk.batchSummary(id) }
            names = try await api.serviceCall { try desk.communeNames() }
        } catch let error as APIError {
            return problem(request, session, error.code == "not_found" ? "not_found" : "forbidden", status: error.status)
        }
        let words = Pages.words[Pages.language(request)]!
        let batch = summary.batch
        func lines(_ title: String, _ lines: [BatchSummary.Line], named: Bool = false) -> [String: Any] {
            ["title": words[title] ?? title, "lines": lines.map { line in
                ["key": named ? Pages.commune(line.key, names) : line.key, "items": Pages.count(Int64(line.items)), "amount": Pages.money(line.amount.dong)]
            }]
        }
        let data: [String: Any] = [
            "id": batch.id.rawValue, "period": batch.period.vietnamese, "status": words["st_" + batch.status.rawValue] ?? batch.status.rawValue,
            "items": Pages.count(Int64(summary.items)), "total": Pages.money(summary.total.dong),
            "createdBy": batch.createdBy, "createdAt": Pages.date(batch.createdAt),
            "approvedBy": batch.approvedBy.map { "\($0) · \(Pages.date(batch.approvedAt))" } ?? "",
            "notice": ["approved", "created", "cancelled"].first { request.uri.queryParameters[Substring($0)] != nil }.map { words[$0 + "_done"]! } ?? "",
            "communes": batch.communes.isEmpty ? words["all_communes"]! : batch.communes.map { Pages.commune($0.value, names) }.joined(separator: ", "),
            "retryOf": batch.retryOf.map { "\($0)" } ?? "",
            "oneOff": batch.oneOff.map { "\($0.name) · \(Pages.money($0.amount.dong))" } ?? "",
            "canCancel": session.account.role.may(.cancelBatch) && batch.status == .created,
            "canDownload": session.account.role.may(.downloadInstructions) && (batch.status == .approved || batch.status == .exported),
            "changes": changes.map { ["beneficiary": $0.beneficiary.rawValue, "now": maskTail($0.msisdn), "last": maskTail($0.lastPaidMSISDN),
                                      "period": $0.lastPaidPeriod] },
            "canApprove": session.account.role.may(.approveBatch) && batch.status == .created,
            "ownBatch": (try? UserName(parsing: batch.createdBy)).map { $0.isSamePerson(as: session.account.name) } ?? false,
            "csrf": session.csrfToken,
            "groups": [lines("by_commune", summary.byCommune, named: true), lines("by_carrier", summary.byCarrier), lines("by_state", summary.byState)],
        ]
        return Pages.page("batch", title: "batch", data, request: request, session: session)
    }

    func approve(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        guard let session = await session(request) else { return Pages.redirect("/login") }
        let form = try await Pages.form(request)
        guard session.accepts(csrfToken: form["csrf"]) else { return problem(request, session, "forbidden", status: .forbidden) }
        guard let text = context.parameters.get("id"), let value = Int64(text), value > 0 else { return problem(request, session, "not_found", status: .notFound) }
        let id = BatchID(value)
        do {
            _ = try await api.approve(id, as: session)
        } catch let error as APIError {
            let key = error.code == "maker_checker" || error.code == "forbidden" || error.code == "not_found" ? error.code : nil
            if let key { return problem(request, session, key, status: error.status) }
            return Pages.page("problem", title: "error_title", ["message": error.message], request: request, session: session, status: error.status)
        }
        return Pages.redirect("/batches/\(id)?approved=1")
    }
}
