import AllowanceLedger
import AllowanceOffice
@testable import AllowanceServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import ZIPFoundation

/// A browser's side of the pages over HTTP: a cookie, the page's CSRF token, urlencoded and multipart forms.
struct PageClient {
    let client: any TestClientProtocol
    let cookie: String

    static func logIn(_ client: any TestClientProtocol, _ user: String, _ office: Office) async throws -> PageClient {
        var fields = ["user": user, "password": Office.password]
        if office.secrets[user] != nil { fields["otp"] = office.code(for: user) }
        let response = try await client.execute(uri: "/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                                                 body: encode(fields))
        #expect(response.status == .seeOther, "\(String(buffer: response.body))")
        return PageClient(client: client, cookie: String(try #require(response.headers[.setCookie]).split(separator: ";")[0]))
    }

    static func encode(_ fields: [String: String]) -> ByteBuffer {
        var allowed = CharacterSet.alphanumerics
        allowed.remove(charactersIn: "+&=")
        return ByteBuffer(string: fields.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&"))
    }

    func get(_ uri: String) async throws -> TestResponse {
        try await client.execute(uri: uri, method: .get, headers: [.cookie: cookie])
    }

    func page(_ uri: String, status: HTTPResponse.Status = .ok, sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        let response = try await get(uri)
        #expect(response.status == status, "\(uri): \(String(buffer: response.body).prefix(600))", sourceLocation: sourceLocation)
        return String(buffer: response.body)
    }

    /// The CSRF token every page of the session carries (in the logout form).
    func token() async throws -> String {
        let html = try await page("/batches", status: .ok)
        return try #require(html.range(of: "name=\"csrf\" value=\"").map { String(html[$0.upperBound...].prefix(64)) })
    }

    func post(_ uri: String, _ fields: [String: String]) async throws -> TestResponse {
        try await client.execute(uri: uri, method: .post, headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"],
                                 body: Self.encode(fields))
    }

    func upload(_ uri: String, bytes: [UInt8], filename: String, fields: [String: String]) async throws -> TestResponse {
        let (body, type) = multipart(bytes: bytes, filename: filename, fields: fields)
        return try await client.execute(uri: uri, method: .post, headers: [.cookie: cookie, .contentType: type], body: body)
    }
}

/// Issue 20's pages, the month through them: register upload, batch creation, approval, the instruction file, the
/// carrier's result file, the exception queue, the retry, the audit, the activity log and the accounts.
@Suite(.timeLimit(.minutes(3)))
struct PageFlowTests {
    static let samples = UploadTests.samples

    @Test func theMonthRunsThroughThePages() async throws {
        let office = try Office()
        _ = try office.ledger.journal.fund(amount: Money(dong: 100_000_000), reference: "QD-11", by: try UserName(parsing: "head.minh"))
        try await office.app().test(.router) { client in
            let officer = try await PageClient.logIn(client, "officer.lan", office)
            let officerToken = try await officer.token()
            // The batches page offers the officer the form; creating redirects to the new batch.
            #expect(try await officer.page("/batches").contains("id=\"create\""))
            let created = try await officer.post("/batches", ["csrf": officerToken, "period": "2026-11", "communes": ""])
            #expect(created.status == .seeOther, "\(String(buffer: created.body))")
            #expect(created.headers[.location] == "/batches/1?created=1")
            let batch = try await officer.page("/batches/1?created=1")
            #expect(batch.contains("Đã lập danh sách chi trả."))
            #expect(!batch.contains("id=\"approve\""), "an officer is offered no approval")
            // The same month again is refused in Vietnamese, nothing created.
            let again = try await officer.post("/batches", ["csrf": officerToken, "period": "2026-11"])
            #expect(again.status == .unprocessableContent)
            #expect(String(buffer: again.body).contains("đã có trong danh sách 1"))
            // Forced through the approve form, the officer is refused by role.
            #expect(try await officer.post("/batches/1/approve", ["csrf": officerToken]).status == .forbidden)

            let approver = try await PageClient.logIn(client, "head.minh", office)
            let approverToken = try await approver.token()
            #expect(try await approver.post("/batches/1/approve", ["csrf": approverToken]).status == .seeOther)

            // The officer downloads the instruction file by the batch page's form: the CLI's bytes, posted once.
            #expect(try await officer.page("/batches/1").contains("id=\"download\""))
            let file = try await officer.post("/batches/1/instructions", ["csrf": officerToken])
            #expect(file.status == .ok)
            #expect(file.headers[.contentType] == "text/csv; charset=utf-8")
            let instructions = String(buffer: file.body)
            #expect(instructions.hasPrefix("reference,"), "\(instructions.prefix(200))")
            #expect(try await officer.post("/batches/1/instructions", ["csrf": officerToken]).body == file.body)

            // The auditor uploads the carrier's file; the reconciliation page shows outcomes and the exception queue.
            let auditor = try await PageClient.logIn(client, "auditor.ha", office)
            let auditorToken = try await auditor.token()
            var generator = ResultGenerator(seed: 7)
            generator.mix = try ResultMix(parsing: "paid=70,failed=20,amount_mismatch=10")
            let results = try office.ledger.writeResults(generator, batch: BatchID(1), to: office.folder + "/ket-qua.csv")
            #expect(results.lines > 0)
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: office.folder + "/ket-qua.csv")))
            #expect(try await auditor.upload("/batches/1/results", bytes: bytes, filename: "ket-qua.csv", fields: [:]).status == .forbidden,
                    "no CSRF token, no reconciliation")
            let uploaded = try await auditor.upload("/batches/1/results", bytes: bytes, filename: "ket-qua.csv", fields: ["csrf": auditorToken])
            #expect(uploaded.status == .seeOther, "\(String(buffer: uploaded.body))")
            let location = try #require(uploaded.headers[.location])
            #expect(location.hasPrefix("/batches/1/reconcile?done="))
            let reconciled = try await auditor.page(location)
            #expect(reconciled.contains("id=\"reconciled\""))
            #expect(reconciled.contains("ket-qua.csv"))
            #expect(reconciled.contains("Đã chi"))
            #expect(reconciled.contains("id=\"retry\""))
            let failedOnly = try await auditor.page("/batches/1/reconcile?outcome=failed")
            let status = try office.ledger.reconciliation.status(batch: BatchID(1))
            #expect(status.items.count(.failed) > 0, "the seed gives failures")
            #expect(failedOnly.contains("id=\"exceptions\""))
            #expect(failedOnly.components(separatedBy: "<td class=\"outcome\">Không thành công</td>").count - 1 == min(status.lines.count(.failed), PageRoutes.queueRows))
            for phone in try office.ledger.registry.beneficiaries(BeneficiaryFilter()).compactMap({ $0.details.account.map { String($0.msisdn.canonical.suffix(9)) } }) {
                #expect(!reconciled.contains(phone) && !failedOnly.contains(phone), "phone numbers are masked")
            }
            // The auditor retries what failed; the retry is a new batch awaiting approval.
            let retried = try await auditor.post("/batches/1/retry", ["csrf": auditorToken])
            #expect(retried.status == .seeOther, "\(String(buffer: retried.body))")
            #expect(retried.headers[.location] == "/batches/2?created=1")
            #expect(try office.ledger.payouts.batch(BatchID(2)).retryOf == BatchID(1))
            // An officer sees the reconciliation but gets no upload form and may not post one.
            #expect(!(try await officer.page("/batches/1/reconcile")).contains("id=\"upload\""))
            #expect(try await officer.upload("/batches/1/results", bytes: bytes, filename: "x.csv", fields: ["csrf": officerToken]).status == .forbidden)

            // The dashboard, for the official: the same month's share.
            let official = try await PageClient.logIn(client, "official.tu", office)
            #expect(try await official.page("/").contains("id=\"share\""))
        }
        let activity = try office.ledger.accounts.activity().map(\.what)
        #expect(activity.filter { $0 == "instructions_downloaded" }.count == 2)
        #expect(try office.ledger.payouts.batch(BatchID(1)).createdBy == "officer.lan")
        #expect(try office.ledger.payouts.batch(BatchID(1)).approvedBy == "head.minh")
    }

    @Test func aRegisterUploadListsEveryBadLineInVietnameseAndNamesAreEscapedOnEveryPage() async throws {
        let office = try Office()
        let hostile = "national_id,full_name,date_of_birth,gender,commune_code,category,payment_method,carrier,msisdn\n"
            + "001040000001,<script>alert(1)</script> Nguyễn,1940-01-02,M,26734,ELDERLY_80,mobile_money,VIETTEL,0987000001\n"
            + "001040000002,Bad Date,1940-13-45,M,26734,ELDERLY_80,mobile_money,VIETTEL,0987000002\n"
        try await office.app().test(.router) { client in
            let officer = try await PageClient.logIn(client, "officer.lan", office)
            let token = try await officer.token()
            let form = try await officer.page("/registers")
            #expect(form.contains("enctype=\"multipart/form-data\""))
            let refused = try await officer.upload("/registers", bytes: Array(hostile.utf8), filename: "danh-sach.csv", fields: ["csrf": token])
            #expect(refused.status == .unprocessableContent)
            let page = String(buffer: refused.body)
            #expect(page.contains("id=\"bad-lines\""))
            #expect(page.contains("<td class=\"n\">3</td>"), "the bad line by its number")
            #expect(page.contains("Chưa nhập dòng nào."))
            let kept = try await officer.upload("/registers", bytes: Array(hostile.utf8), filename: "danh-sach.csv",
                                                fields: ["csrf": token, "skip_invalid": "true"])
            #expect(kept.status == .ok, "\(String(buffer: kept.body).prefix(500))")
            #expect(String(buffer: kept.body).contains("id=\"imported\""))
            // Searched without diacritics, and escaped on the list, the detail, and the batch.
            // Searched by a form POST: a name never goes into a URL.
            #expect(try await officer.page("/beneficiaries").contains("method=\"post\" action=\"/beneficiaries\""))
            let searched = try await officer.post("/beneficiaries", ["csrf": token, "q": "NGUYEN"])
            #expect(searched.status == .ok)
            let found = String(buffer: searched.body)
            #expect(found.contains("&lt;script&gt;alert(1)&lt;/script&gt; Nguyễn"))
            #expect(found.contains("Nguyễn Văn Bình"), "the sample's Nguyễn Văn Bình, found as NGUYEN")
            #expect(!found.contains("Trần Thị Hạnh"))
            let id = try #require(try office.ledger.registry.beneficiaries(BeneficiaryFilter()).first { $0.details.fullName.hasPrefix("<script>") }?.id)
            let detail = try await officer.page("/beneficiaries/\(id)")
            #expect(detail.contains("id=\"history\""))
            #expect(!detail.contains("0987000001") && !detail.contains("001040000001"), "numbers masked")
            for html in [found, detail, try await officer.page("/")] {
                #expect(!html.contains("<script>"))
            }
        }
    }

    @Test func everyPageAnswersItsRolesAndRefusesTheOthers() async throws {
        let office = try Office()
        _ = try office.ledger.payouts.createBatch(BatchCreateOptions(period: try Period(parsing: "2026-11"), by: try UserName(parsing: "officer.lan")))
        let pages: [(String, Set<String>)] = [
            ("/batches", ["officer.lan", "head.minh", "auditor.ha"]), ("/batches/1", ["officer.lan", "head.minh", "auditor.ha"]),
            ("/batches/1/reconcile", ["officer.lan", "head.minh", "auditor.ha"]), ("/registers", ["officer.lan"]),
            ("/beneficiaries", ["officer.lan", "head.minh", "auditor.ha"]), ("/beneficiaries/1", ["officer.lan", "head.minh", "auditor.ha"]),
            ("/audit", ["auditor.ha"]), ("/activity", ["auditor.ha", "admin.an"]), ("/accounts", ["admin.an"]),
            ("/", ["officer.lan", "head.minh", "auditor.ha", "official.tu"]),
        ]
        try await office.app().test(.router) { client in
            for user in ["officer.lan", "head.minh", "auditor.ha", "official.tu", "admin.an"] {
                let browser = try await PageClient.logIn(client, user, office)
                for (uri, allowed) in pages {
                    let response = try await browser.get(uri)
                    if allowed.contains(user) {
                        #expect(response.status == .ok, "\(user) \(uri): \(response.status)")
                    } else if uri == "/" {
                        #expect(response.status == .seeOther, "the admin's home is the accounts page")
                    } else {
                        #expect(response.status == .forbidden, "\(user) \(uri): \(response.status)")
                        #expect(String(buffer: response.body).contains("Vai trò của bạn không được"))
                    }
                }
            }
            // Without a session every page sends the browser to log in.
            for (uri, _) in pages {
                let response = try await client.execute(uri: uri, method: .get)
                #expect(response.status == .seeOther && response.headers[.location] == "/login", "\(uri)")
            }
            // An officer of one commune sees only that commune's people and is refused another's.
            let local = try await PageClient.logIn(client, "officer.xa", office)
            let list = try await local.page("/beneficiaries")
            let others = try office.ledger.registry.beneficiaries(BeneficiaryFilter()).filter { $0.details.commune.value != "26737" }
            let other = try #require(others.first)
            #expect(!list.contains("href=\"/beneficiaries/\(other.id)\""))
            #expect(try await local.get("/beneficiaries/\(other.id)").status == .forbidden)
            #expect(try await local.get("/batches/1").status == .forbidden, "a batch of the whole office is not theirs")
        }
    }

    @Test func theAuditorVerifiesAndTakesTheSignedExportAsAZip() async throws {
        let office = try Office()
        let payouts = office.ledger.payouts
        _ = try payouts.createBatch(BatchCreateOptions(period: try Period(parsing: "2026-11"), by: try UserName(parsing: "officer.lan")))
        _ = try payouts.approveBatch(BatchID(1), by: try UserName(parsing: "head.minh"))
        try await office.app().test(.router) { client in
            let auditor = try await PageClient.logIn(client, "auditor.ha", office)
            let verified = try await auditor.page("/audit?verify=1")
            #expect(verified.contains("id=\"verdict\" class=\"notice ok\""))
            // The API: a zip of one folder that the verifier accepts.
            let login = try await client.session("auditor.ha", office)
            let response = try await client.execute(uri: "/api/v1/audit/exports", method: .post, headers: login.headers,
                                                    body: ByteBuffer(string: #"{"period":"2026-11"}"#))
            #expect(response.status == .ok, "\(String(buffer: response.body))")
            #expect(response.headers[.contentType] == "application/zip")
            let zip = office.folder + "/export.zip"
            try Data(response.body.readableBytesView).write(to: URL(fileURLWithPath: zip))
            let unzipped = office.folder + "/unzipped"
            try FileManager.default.unzipItem(at: URL(fileURLWithPath: zip), to: URL(fileURLWithPath: unzipped))
            let folders = try FileManager.default.contentsOfDirectory(atPath: unzipped)
            #expect(folders == ["audit-export-1"])
            let verification = try AuditVerifier.verify(directory: unzipped + "/audit-export-1", key: office.auditKey, publicKey: nil)
            #expect(verification.passed, "\(verification.findings)")
            // The page's form gives the next export, which names the first.
            let token = try await auditor.token()
            let second = try await auditor.post("/audit/exports", ["csrf": token, "period": "2026-11"])
            #expect(second.status == .ok)
            #expect(second.headers[.contentDisposition]?.contains("audit-export-2.zip") == true)
            // A bad period is 422; an officer is 403; without the token 403.
            #expect(try await client.execute(uri: "/api/v1/audit/exports", method: .post, headers: login.headers,
                                             body: ByteBuffer(string: #"{"period":"11-2026"}"#)).status == .unprocessableContent)
            #expect(try await client.execute(uri: "/api/v1/audit/exports", method: .post, headers: login.withoutToken,
                                             body: ByteBuffer(string: "{}")).status == .forbidden)
            let officer = try await client.session("officer.lan", office)
            #expect(try await client.execute(uri: "/api/v1/audit/exports", method: .post, headers: officer.headers,
                                             body: ByteBuffer(string: "{}")).status == .forbidden)
            let activity = try await auditor.page("/activity")
            #expect(activity.contains("Tải hồ sơ kiểm toán"))
        }
        #expect(try office.ledger.accounts.activity().filter { $0.what == "audit_exported" }.count == 2)
    }

    @Test func theAdminAddsAnApproverAndSeesTheOneTimeCodeOnce() async throws {
        let office = try Office()
        try await office.app().test(.router) { client in
            let admin = try await PageClient.logIn(client, "admin.an", office)
            let token = try await admin.pageToken("/accounts")
            let added = try await admin.post("/accounts", ["csrf": token, "name": "pho.truong", "role": "approver", "communes": "26734",
                                                          "password": "a long enough password"])
            #expect(added.status == .ok)
            let page = String(buffer: added.body)
            #expect(page.contains("otpauth://totp/"))
            #expect(!(try await admin.page("/accounts")).contains("otpauth://"), "shown once")
            let weak = try await admin.post("/accounts", ["csrf": token, "name": "short.pw", "role": "officer", "password": "short"])
            #expect(weak.status == .unprocessableContent)
            #expect(String(buffer: weak.body).contains("ít nhất 10 ký tự"))
            #expect(try await admin.post("/accounts/pho.truong/disable", ["csrf": token]).status == .seeOther)
            #expect(try await admin.post("/accounts/pho.truong/disable", [:]).status == .forbidden)
        }
        let account = try #require(try office.ledger.accounts.list().first { $0.name.value == "pho.truong" })
        #expect(account.role == .approver)
        #expect(account.communes.map(\.value) == ["26734"])
        #expect(account.disabled)
        #expect(account.createdBy == "admin.an")
    }
}

@Suite(.timeLimit(.minutes(2)))
struct CancelPageTests {
    @Test func theApproverCancelsWithAReasonAndNotWithout() async throws {
        let office = try Office()
        _ = try office.ledger.payouts.createBatch(BatchCreateOptions(period: try Period(parsing: "2026-11"), by: try UserName(parsing: "officer.lan")))
        try await office.app().test(.router) { client in
            let approver = try await PageClient.logIn(client, "head.minh", office)
            let page = try await approver.page("/batches/1")
            #expect(page.contains("id=\"cancel\""))
            let token = try await approver.token()
            let without = try await approver.post("/batches/1/cancel", ["csrf": token, "reason": "  "])
            #expect(without.status == .unprocessableContent)
            #expect(String(buffer: without.body).contains("Cần ghi lý do."))
            let officer = try await PageClient.logIn(client, "officer.lan", office)
            #expect(try await officer.post("/batches/1/cancel", ["csrf": try await officer.token(), "reason": "sai kỳ"]).status == .forbidden)
            let cancelled = try await approver.post("/batches/1/cancel", ["csrf": token, "reason": "lập nhầm kỳ"])
            #expect(cancelled.status == .seeOther)
            #expect(try await approver.page("/batches/1?cancelled=1").contains("Đã huỷ danh sách chi trả."))
        }
        #expect(try office.ledger.payouts.batch(BatchID(1)).status == .cancelled)
    }
}

@Suite(.timeLimit(.minutes(2)))
struct LanguageTests {
    @Test func theLanguageFollowsThePersonToTheirNextLogin() async throws {
        let office = try Office()
        try await office.app().test(.router) { client in
            let first = try await PageClient.logIn(client, "official.tu", office)
            let switched = try await first.get("/lang/en")
            #expect(switched.headers[.setCookie]?.contains("lang=en") == true)
            // Another browser, no cookie of the first: the login answers with the account's language.
            let response = try await client.execute(uri: "/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                                                    body: PageClient.encode(["user": "official.tu", "password": Office.password]))
            let cookies = response.headers[values: .setCookie]
            #expect(cookies.contains { $0.hasPrefix("lang=en") }, "\(cookies)")
            let session = try #require(cookies.first { $0.hasPrefix(OfficeServer.sessionCookie) }).split(separator: ";")[0]
            let page = try await client.execute(uri: "/", method: .get, headers: [.cookie: "\(session); lang=en"])
            #expect(String(buffer: page.body).contains("Share of recipients paid non-cash"))
        }
        #expect(try office.ledger.accounts.list().first { $0.name.value == "official.tu" }?.language == "en")
        #expect(try office.ledger.accounts.list().first { $0.name.value == "officer.lan" }?.language == "vi")
    }
}

extension PageClient {
    /// The CSRF token on a given page (for roles without the batches page).
    func pageToken(_ uri: String) async throws -> String {
        let html = try await page(uri)
        return try #require(html.range(of: "name=\"csrf\" value=\"").map { String(html[$0.upperBound...].prefix(64)) })
    }
}

/// Every API route × every role: 401 without a session, 403 `csrf` for a change without the token, 403 `forbidden`
/// for a role that may not, and for a role that may, anything but those (the route's own answer to the ledger's state).
@Suite(.timeLimit(.minutes(3)))
struct RouteRoleMatrixTests {
    struct Call {
        let method: HTTPRequest.Method
        let uri: String
        let allowed: Set<String>
        let upload: Bool

        init(method: HTTPRequest.Method, uri: String, allowed: Set<String>, body: Kind) {
            self.method = method
            self.uri = uri
            self.allowed = allowed
            upload = body == .upload
        }

        func body() -> (ByteBuffer, String) {
            upload ? multipart(file: "x\n", filename: "x.csv") : (ByteBuffer(string: #"{"period":"2026-11"}"#), "application/json")
        }
    }

    enum Kind { case json, upload }

    static let calls: [Call] = [
        Call(method: .get, uri: "/api/v1/session", allowed: ["officer", "approver", "auditor", "official", "admin"], body: .json),
        Call(method: .post, uri: "/api/v1/registers", allowed: ["officer"], body: .upload),
        Call(method: .post, uri: "/api/v1/batches", allowed: ["officer"], body: .json),
        Call(method: .get, uri: "/api/v1/batches/1", allowed: ["officer", "approver", "auditor"], body: .json),
        Call(method: .post, uri: "/api/v1/batches/1/approve", allowed: ["approver"], body: .json),
        Call(method: .post, uri: "/api/v1/batches/1/instructions", allowed: ["officer"], body: .json),
        Call(method: .post, uri: "/api/v1/batches/1/results", allowed: ["auditor"], body: .upload),
        Call(method: .get, uri: "/api/v1/reports/noncash?period=2026-11", allowed: ["officer", "approver", "auditor", "official"], body: .json),
        Call(method: .get, uri: "/api/v1/ledger/verify", allowed: ["auditor"], body: .json),
        Call(method: .post, uri: "/api/v1/audit/exports", allowed: ["auditor"], body: .json),
    ]

    @Test func everyRouteAnswersEveryRoleAsTheMatrixSays() async throws {
        let office = try Office()
        _ = try office.ledger.payouts.createBatch(BatchCreateOptions(period: try Period(parsing: "2026-12"), by: try UserName(parsing: "officer.lan")))
        #expect(Set(Self.calls.map { "\($0.method.rawValue) \($0.uri.split(separator: "?")[0].replacingOccurrences(of: "/1", with: "/{id}"))" })
                == Set(OfficeServer.routeList).subtracting(["POST /api/v1/session", "DELETE /api/v1/session"]), "the matrix covers every route")
        let users = ["officer": "officer.lan", "approver": "head.minh", "auditor": "auditor.ha", "official": "official.tu", "admin": "admin.an"]
        try await office.app().test(.router) { client in
            for call in Self.calls {
                let (body, type) = call.body()
                let anonymous = try await client.execute(uri: call.uri, method: call.method, headers: [.contentType: type], body: body)
                #expect(anonymous.status == .unauthorized, "\(call.uri) without a session")
            }
            for (role, user) in users.sorted(by: { $0.key < $1.key }) {
                let login = try await client.session(user, office)
                for call in Self.calls {
                    let (body, type) = call.body()
                    var headers = login.headers
                    headers[.contentType] = type
                    if call.method != .get {
                        var forged = login.withoutToken
                        forged[.contentType] = type
                        let refused = try await client.execute(uri: call.uri, method: call.method, headers: forged, body: body)
                        let code = try errorCode(refused)
                        #expect(refused.status == .forbidden && code == "csrf", "\(role) \(call.uri) without the token")
                    }
                    let answer = try await client.execute(uri: call.uri, method: call.method, headers: headers, body: body)
                    if call.allowed.contains(role) {
                        #expect(answer.status != .forbidden && answer.status != .unauthorized,
                                "\(role) may \(call.method) \(call.uri): \(answer.status) \(String(buffer: answer.body).prefix(200))")
                    } else {
                        #expect(answer.status == .forbidden, "\(role) may not \(call.method) \(call.uri): \(answer.status)")
                        #expect(try errorCode(answer) == "forbidden")
                    }
                }
            }
        }
        // What the allowed roles did, they did as themselves.
        #expect(try office.ledger.payouts.batch(BatchID(1)).approvedBy == "head.minh")
    }
}

/// Bad files through the API get the CLI's clear error in Vietnamese, never a crash or a silent success.
@Suite(.timeLimit(.minutes(2)))
struct BadUploadTests {
    @Test func aBinaryAnEmptyOrAWrongFormatFileIsRefusedInVietnamese() async throws {
        let office = try Office()
        try office.approvedMonth(exported: true)
        let binary: [UInt8] = [0x50, 0x4B, 0x03, 0x04, 0x00, 0xFF, 0xFE, 0x00, 0x01, 0x02] + Array(repeating: 0, count: 200)
        let files: [(String, [UInt8])] = [("binary.bin", binary), ("empty.csv", []), ("wrong.csv", Array("a,b,c\n1,2,3\n".utf8))]
        try await office.app().test(.router) { client in
            for (route, user) in [("/api/v1/registers", "officer.lan"), ("/api/v1/batches/1/results", "auditor.ha")] {
                let login = try await client.session(user, office)
                for (name, bytes) in files {
                    let (body, type) = multipart(bytes: bytes, filename: name)
                    var headers = login.headers
                    headers[.contentType] = type
                    let answer = try await client.execute(uri: route, method: .post, headers: headers, body: body)
                    #expect(answer.status == .unprocessableContent, "\(route) \(name): \(answer.status) \(String(buffer: answer.body).prefix(300))")
                    let error = try #require(try json(answer)["error"] as? [String: Any], "\(route) \(name)")
                    let message = try #require(error["message"] as? String)
                    #expect(message.contains(name), "\(route) \(name): the message names the file: \(message)")
                    #expect(message.unicodeScalars.contains { $0.value > 0x7F }, "\(route) \(name): in Vietnamese: \(message)")
                }
            }
        }
        #expect(try office.ledger.registry.beneficiaries(BeneficiaryFilter()).count == 30, "nothing imported beyond the sample")
        #expect(try office.ledger.reconciliation.resultFiles(batch: BatchID(1)).isEmpty, "nothing reconciled")
    }
}

/// The commune list's names on the pages (issue 22): the batch's totals by commune, the beneficiaries, the dashboard.
@Suite(.timeLimit(.minutes(2)))
struct CommuneNamePageTests {
    @Test func pagesNameTheCommunesOnceAListIsLoaded() async throws {
        let office = try Office()
        try office.approvedMonth()
        let list = office.folder + "/communes.csv"
        try """
            code,name,province_code,province_name,valid_from,replaces,source
            26743,Xã Đông <Thử> (invented),01,Hà Nội,2025-07-01,,invented for the tests
            26737,Phường Minh Phú (invented),01,Hà Nội,2025-07-01,,invented for the tests

            """.write(toFile: list, atomically: true, encoding: .utf8)
        _ = try office.ledger.registry.importCommunes(path: list, by: try UserName(parsing: "officer.lan"))
        try await office.app().test(.router) { client in
            let officer = try await PageClient.logIn(client, "officer.lan", office)
            let batch = try await officer.page("/batches/1")
            #expect(batch.contains("26737 Phường Minh Phú (invented)"))
            // A name is text on the page, never markup.
            #expect(batch.contains("26743 Xã Đông &lt;Thử&gt; (invented)"))
            #expect(!batch.contains("<Thử>"))
            let people = try await officer.page("/beneficiaries")
            #expect(people.contains("26737 Phường Minh Phú (invented)"))
            let official = try await PageClient.logIn(client, "official.tu", office)
            let dashboard = try await official.page("/")
            // November's month, approved and not yet paid: every commune is below the target and listed by name.
            #expect(dashboard.contains("26737 Phường Minh Phú (invented)"), "\(dashboard.prefix(3000))")
        }
    }
}
