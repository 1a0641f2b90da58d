import AllowanceLedger
import AllowanceOffice
@testable import AllowanceServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// A clock the tests move.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var seconds: Int64

    init(_ text: String = "2026-11-20T08:00:00Z") { seconds = try! Timestamp(parsing: text).secondsSinceEpoch }

    var now: Timestamp { lock.withLock { Timestamp(secondsSinceEpoch: seconds) } }
    func advance(minutes: Int64) { lock.withLock { seconds += minutes * 60 } }
    var clock: Clock { Clock { self.now } }
}

/// A ledger in a temporary folder with the sample register and one account of each role (password `correct horse`).
struct Office {
    let folder: String
    let ledger: Ledger
    let time = TestClock()
    /// The approver's and admin's one-time-code secrets, by name.
    var secrets: [String: OneTimeCode] = [:]
    static let password = "correct horse"

    init() throws {
        folder = NSTemporaryDirectory() + "allowance-server-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        ledger = try Ledger.open(folder + "/ledger.sqlite", clock: time.clock)
        let samples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("samples/register.csv").path
        _ = try ledger.registry.importRegister(path: samples, options: RegisterImportOptions(by: try UserName(parsing: "officer.lan")))
        let admin = try UserName(parsing: "setup")
        for (name, role, communes) in [("officer.lan", Role.officer, [String]()), ("head.minh", .approver, []), ("auditor.ha", .auditor, []),
                                       ("official.tu", .official, []), ("admin.an", .admin, []), ("officer.xa", .officer, ["26737"])] {
            let (_, uri) = try ledger.accounts.add(try UserName(parsing: name), role: role, communes: communes.map { Code(trusted: $0) },
                                                   password: Self.password, by: admin)
            if let uri, let secret = URLComponents(string: uri)?.queryItems?.first(where: { $0.name == "secret" })?.value {
                secrets[name] = OneTimeCode(base32: secret)
            }
        }
    }

    func code(for name: String) -> String { secrets[name]!.code(at: time.now.secondsSinceEpoch) }

    /// November's batch made by the officer, approved by the head and funded; exported too when asked (the file goes
    /// to the office's folder).
    func approvedMonth(exported: Bool = false) throws {
        let payouts = ledger.payouts
        _ = try payouts.createBatch(BatchCreateOptions(period: try Period(parsing: "2026-11"), by: try UserName(parsing: "officer.lan")))
        _ = try payouts.approveBatch(BatchID(1), by: try UserName(parsing: "head.minh"))
        _ = try ledger.journal.fund(amount: Money(dong: 100_000_000), reference: "QD-11", by: try UserName(parsing: "head.minh"))
        if exported { _ = try payouts.exportBatch(BatchID(1), to: folder + "/instructions.csv", by: try UserName(parsing: "officer.lan")) }
    }

    /// The key the server signs audit exports with.
    let auditKey = AuditKey(bytes: (0..<AuditKey.byteCount).map { _ in UInt8.random(in: 0...255) })

    func app() -> some ApplicationProtocol {
        var options = ServerOptions()
        options.auditKey = auditKey
        return OfficeServer.application(ledger: ledger, options: options)
    }
}

/// What a logged-in client sends back: its cookie and CSRF token.
struct Login {
    let cookie: String
    let csrf: String

    var headers: HTTPFields {
        var fields: HTTPFields = [.cookie: cookie, .contentType: "application/json"]
        fields[HTTPField.Name("X-CSRF-Token")!] = csrf
        return fields
    }
    var withoutToken: HTTPFields { [.cookie: cookie, .contentType: "application/json"] }
}

func json(_ response: TestResponse) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
}

func errorCode(_ response: TestResponse) throws -> String? {
    (try json(response)["error"] as? [String: Any])?["code"] as? String
}

extension TestClientProtocol {
    func logIn(_ user: String, password: String = Office.password, otp: String? = nil) async throws -> TestResponse {
        var body = "{\"user\":\"\(user)\",\"password\":\"\(password)\""
        if let otp { body += ",\"otp\":\"\(otp)\"" }
        body += "}"
        return try await execute(uri: "/api/v1/session", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: body))
    }

    func session(_ user: String, _ office: Office) async throws -> Login {
        let response = try await logIn(user, otp: office.secrets[user] != nil ? office.code(for: user) : nil)
        #expect(response.status == .ok, "\(String(buffer: response.body))")
        let setCookie = try #require(response.headers[.setCookie])
        #expect(setCookie.contains("HttpOnly"))
        #expect(setCookie.contains("SameSite=Strict"))
        let cookie = String(setCookie.split(separator: ";")[0])
        return Login(cookie: cookie, csrf: try #require(try json(response)["csrf_token"] as? String))
    }
}

@Suite(.timeLimit(.minutes(2)))
struct SessionTests {
    @Test func aLoginOpensASessionThatTheCookieCarries() async throws {
        let office = try Office()
        try await office.app().test(.router) { client in
            let login = try await client.session("officer.lan", office)
            let me = try await client.execute(uri: "/api/v1/session", method: .get, headers: login.withoutToken)
            #expect(me.status == .ok)
            let body = try json(me)
            #expect(body["user"] as? String == "officer.lan")
            #expect(body["role"] as? String == "officer")
            // Logging out needs the token too, and ends the session.
            #expect(try await client.execute(uri: "/api/v1/session", method: .delete, headers: login.withoutToken).status == .forbidden)
            #expect(try await client.execute(uri: "/api/v1/session", method: .delete, headers: login.headers).status == .noContent)
            #expect(try await client.execute(uri: "/api/v1/session", method: .get, headers: login.withoutToken).status == .unauthorized)
        }
    }

    @Test func fiveFailuresLockTheAccountForFifteenMinutes() async throws {
        let office = try Office()
        try await office.app().test(.router) { client in
            for _ in 1...5 {
                let wrong = try await client.logIn("officer.lan", password: "wrong password")
                #expect(wrong.status == .unauthorized)
                #expect(try errorCode(wrong) == "bad_credentials")
            }
            let locked = try await client.logIn("officer.lan")
            #expect(locked.status == .tooManyRequests)
            #expect(try errorCode(locked) == "locked")
            office.time.advance(minutes: 16)
            #expect(try await client.logIn("officer.lan").status == .ok)
            // An unknown name is answered as a wrong password.
            let unknown = try await client.logIn("nobody")
            #expect(unknown.status == .unauthorized)
            #expect(try errorCode(unknown) == "bad_credentials")
        }
        let failures = try office.ledger.accounts.activity().filter { $0.what == "login_failed" }
        #expect(failures.count == 6)
    }

    @Test func approversNeedAOneTimeCode() async throws {
        let office = try Office()
        try await office.app().test(.router) { client in
            let without = try await client.logIn("head.minh")
            #expect(without.status == .unauthorized)
            #expect(try errorCode(without) == "otp_required")
            let wrongCode = try await client.logIn("head.minh", otp: "000000" == office.code(for: "head.minh") ? "111111" : "000000")
            #expect(wrongCode.status == .unauthorized)
            #expect(try await client.logIn("head.minh", otp: office.code(for: "head.minh")).status == .ok)
        }
    }

    @Test func aSessionEndsAfterThirtyIdleMinutesOrEightHours() async throws {
        let office = try Office()
        try await office.app().test(.router) { client in
            let idle = try await client.session("auditor.ha", office)
            office.time.advance(minutes: 31)
            #expect(try await client.execute(uri: "/api/v1/session", method: .get, headers: idle.withoutToken).status == .unauthorized)
            let busy = try await client.session("auditor.ha", office)
            for _ in 0..<16 {
                office.time.advance(minutes: 29)
                #expect(try await client.execute(uri: "/api/v1/session", method: .get, headers: busy.withoutToken).status == .ok)
            }
            office.time.advance(minutes: 29)
            #expect(try await client.execute(uri: "/api/v1/session", method: .get, headers: busy.withoutToken).status == .unauthorized)
        }
    }
}

@Suite(.timeLimit(.minutes(2)))
struct BatchRouteTests {
    static let create = ByteBuffer(string: #"{"period":"2026-11","by":"someone.else"}"#)

    @Test func theOfficerCreatesTheApproverApprovesAndTheActorIsTheSession() async throws {
        let office = try Office()
        try await office.app().test(.router) { client in
            let officer = try await client.session("officer.lan", office)
            // Without the CSRF token nothing changes.
            let forged = try await client.execute(uri: "/api/v1/batches", method: .post, headers: officer.withoutToken, body: Self.create)
            #expect(forged.status == .forbidden)
            #expect(try errorCode(forged) == "csrf")
            let created = try await client.execute(uri: "/api/v1/batches", method: .post, headers: officer.headers, body: Self.create)
            #expect(created.status == .created, "\(String(buffer: created.body))")
            let batch = try json(created)
            #expect(batch["batch"] as? Int == 1)
            #expect(batch["period"] as? String == "2026-11")

            // The officer may not approve; the approver may, and the batch names who acted.
            let byOfficer = try await client.execute(uri: "/api/v1/batches/1/approve", method: .post, headers: officer.headers)
            #expect(byOfficer.status == .forbidden)
            #expect(try errorCode(byOfficer) == "forbidden")
            let approver = try await client.session("head.minh", office)
            let approved = try await client.execute(uri: "/api/v1/batches/1/approve", method: .post, headers: approver.headers)
            #expect(approved.status == .ok, "\(String(buffer: approved.body))")
            let shown = try json(try await client.execute(uri: "/api/v1/batches/1", method: .get, headers: approver.withoutToken))
            #expect(shown["created_by"] as? String == "officer.lan")
            #expect(shown["approved_by"] as? String == "head.minh")
            #expect(shown["status"] as? String == "approved")
            #expect(shown["number_changes"] is [Any])
        }
    }

    @Test func aOneOffIsMadeThroughTheAPIOnceAndApprovedLikeAMonth() async throws {
        let office = try Office()
        try await office.app().test(.router) { client in
            let officer = try await client.session("officer.lan", office)
            let gift = ByteBuffer(string: #"{"period":"2026-12","one_off":{"name":"Quà Tết 2027","amount":400000},"categories":["elderly_poor"],"by":"x"}"#)
            let created = try await client.execute(uri: "/api/v1/batches", method: .post, headers: officer.headers, body: gift)
            #expect(created.status == .created, "\(String(buffer: created.body))")
            let batch = try json(created)
            #expect((batch["one_off"] as? [String: Any])?["name"] as? String == "Quà Tết 2027")
            #expect(batch["total"] as? Int == (batch["items"] as? Int ?? -1) * 400_000)
            // Paid once: the same name again is refused in Vietnamese.
            let again = try await client.execute(uri: "/api/v1/batches", method: .post, headers: officer.headers, body: gift)
            #expect(again.status == .unprocessableContent)
            #expect(try errorCode(again) == "refused")
            #expect(String(buffer: again.body).contains("mỗi người chỉ nhận một lần"))
            // A one-off without its amount, or categories without a one-off, are the request's fault.
            for body in [#"{"period":"2026-12","one_off":{"name":"Quà"}}"#, #"{"period":"2026-12","categories":["ORPHAN"]}"#,
                         #"{"period":"2026-12","one_off":{"name":"=cmd()","amount":1}}"#] {
                let bad = try await client.execute(uri: "/api/v1/batches", method: .post, headers: officer.headers, body: ByteBuffer(string: body))
                #expect(bad.status == .unprocessableContent, "\(body)")
                #expect(try errorCode(bad) == "invalid", "\(body)")
            }
            let approver = try await client.session("head.minh", office)
            let id = try #require(batch["batch"] as? Int)
            let approved = try await client.execute(uri: "/api/v1/batches/\(id)/approve", method: .post, headers: approver.headers)
            #expect(approved.status == .ok, "\(String(buffer: approved.body))")
            let shown = try json(try await client.execute(uri: "/api/v1/batches/\(id)", method: .get, headers: approver.withoutToken))
            #expect((shown["one_off"] as? [String: Any])?["amount"] as? Int == 400_000 && shown["created_by"] as? String == "officer.lan")
        }
    }

    @Test func theCreatorCannotApproveEvenAsAnApprover() async throws {
        let office = try Office()
        _ = try office.ledger.payouts.createBatch(BatchCreateOptions(period: try Period(parsing: "2026-11"), by: try UserName(parsing: "head.minh")))
        try await office.app().test(.router) { client in
            let approver = try await client.session("head.minh", office)
            let own = try await client.execute(uri: "/api/v1/batches/1/approve", method: .post, headers: approver.headers)
            #expect(own.status == .forbidden)
            #expect(try errorCode(own) == "maker_checker")
            #expect(try json(own)["error"].map { ($0 as? [String: Any])?["message"] as? String ?? "" }?.contains("phê duyệt") == true)
        }
    }

    @Test func rolesAndCommunesLimitWhatIsSeen() async throws {
        let office = try Office()
        try await office.app().test(.router) { client in
            let official = try await client.session("official.tu", office)
            #expect(try await client.execute(uri: "/api/v1/batches", method: .post, headers: official.headers, body: Self.create).status == .forbidden)
            let officer = try await client.session("officer.lan", office)
            #expect(try await client.execute(uri: "/api/v1/batches", method: .post, headers: officer.headers, body: Self.create).status == .created)
            #expect(try await client.execute(uri: "/api/v1/batches/1", method: .get, headers: official.withoutToken).status == .forbidden)
            // An officer of one commune does not see the whole office's batch, and makes batches of that commune only.
            let local = try await client.session("officer.xa", office)
            let whole = try await client.execute(uri: "/api/v1/batches/1", method: .get, headers: local.withoutToken)
            #expect(whole.status == .forbidden)
            #expect(try errorCode(whole) == "commune")
            let other = ByteBuffer(string: #"{"period":"2026-12","communes":["99999"]}"#)
            #expect(try await client.execute(uri: "/api/v1/batches", method: .post, headers: local.headers, body: other).status == .forbidden)
            // Only the auditor verifies the ledger.
            #expect(try await client.execute(uri: "/api/v1/ledger/verify", method: .get, headers: officer.withoutToken).status == .forbidden)
            let auditor = try await client.session("auditor.ha", office)
            let verified = try await client.execute(uri: "/api/v1/ledger/verify", method: .get, headers: auditor.withoutToken)
            #expect(verified.status == .ok)
            #expect(try json(verified)["ok"] as? Bool == true)
        }
    }

    @Test func everyAnswerCarriesTheSecurityHeadersAndErrorsAreJSON() async throws {
        let office = try Office()
        try await office.app().test(.router) { client in
            for (uri, method, status) in [("/api/v1/batches/1", HTTPRequest.Method.get, HTTPResponse.Status.unauthorized),
                                          ("/api/v1/nothing", .get, .notFound), ("/api/v1/session", .post, .unprocessableContent)] {
                let response = try await client.execute(uri: uri, method: method, headers: [.contentType: "application/json"],
                                                        body: ByteBuffer(string: "{}"))
                #expect(response.status == status, "\(uri)")
                #expect(response.headers[.contentSecurityPolicy] == "default-src 'self'")
                #expect(response.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
                #expect(response.headers[.xContentTypeOptions] == "nosniff")
                #expect(try errorCode(response) != nil, "\(uri): \(String(buffer: response.body))")
            }
            let text = try await client.execute(uri: "/api/v1/session", method: .post, headers: [.contentType: "text/plain"], body: ByteBuffer(string: "x"))
            #expect(text.status == .unsupportedMediaType)
        }
    }
}

@Suite(.timeLimit(.minutes(2)))
struct InstructionAndReportTests {
    @Test func theInstructionFileIsTheCLIsBytesAndPostsOnce() async throws {
        let office = try Office()
        try office.approvedMonth()
        let payouts = office.ledger.payouts
        try await office.app().test(.router) { client in
            let officer = try await client.session("officer.lan", office)
            let first = try await client.execute(uri: "/api/v1/batches/1/instructions", method: .post, headers: officer.headers)
            #expect(first.status == .ok, "\(String(buffer: first.body))")
            #expect(first.headers[.contentType] == "text/csv; charset=utf-8")
            #expect(first.headers[.contentDisposition]?.contains("instructions-2026-11-batch-1.csv") == true)
            let posted = try payouts.batchSummary(BatchID(1)).entries.filter { $0.kind == "carrier_transfer" }.count
            #expect(posted > 0)
            let second = try await client.execute(uri: "/api/v1/batches/1/instructions", method: .post, headers: officer.headers)
            #expect(try payouts.batchSummary(BatchID(1)).entries.filter { $0.kind == "carrier_transfer" }.count == posted)
            #expect(String(buffer: second.body) == String(buffer: first.body))
            // The same bytes the CLI writes for the same batch.
            let path = office.folder + "/cli.csv"
            _ = try payouts.exportBatch(BatchID(1), to: path, by: try UserName(parsing: "officer.lan"))
            #expect(try String(contentsOfFile: path, encoding: .utf8) == String(buffer: first.body))
            // An auditor may not download it; without the token nobody may.
            let auditor = try await client.session("auditor.ha", office)
            #expect(try await client.execute(uri: "/api/v1/batches/1/instructions", method: .post, headers: auditor.headers).status == .forbidden)
            #expect(try await client.execute(uri: "/api/v1/batches/1/instructions", method: .post, headers: officer.withoutToken).status == .forbidden)
        }
        #expect(try office.ledger.accounts.activity().filter { $0.what == "instructions_downloaded" }.count == 2)
    }

    @Test func theInstructionWorkbookIsTheCLIsBytesToo() async throws {
        let office = try Office()
        try office.approvedMonth()
        try await office.app().test(.router) { client in
            let officer = try await client.session("officer.lan", office)
            let workbook = try await client.execute(uri: "/api/v1/batches/1/instructions?format=xlsx", method: .post, headers: officer.headers)
            #expect(workbook.status == .ok, "\(String(buffer: workbook.body))")
            #expect(workbook.headers[.contentType] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
            #expect(workbook.headers[.contentDisposition]?.contains("instructions-2026-11-batch-1.xlsx") == true)
            let path = office.folder + "/cli.xlsx"
            _ = try office.ledger.payouts.exportBatch(BatchID(1), to: path, by: try UserName(parsing: "officer.lan"))
            #expect(Array(try Data(contentsOf: URL(fileURLWithPath: path))) == Array(workbook.body.readableBytesView))
            let refused = try await client.execute(uri: "/api/v1/batches/1/instructions?format=xls", method: .post, headers: officer.headers)
            #expect(refused.status == .unprocessableContent)
        }
    }

    @Test func theOfficialReadsTheNonCashReportAndTheAdminDoesNot() async throws {
        let office = try Office()
        try await office.app().test(.router) { client in
            let official = try await client.session("official.tu", office)
            let report = try await client.execute(uri: "/api/v1/reports/noncash?period=2026-11&by=commune", method: .get, headers: official.withoutToken)
            #expect(report.status == .ok, "\(String(buffer: report.body))")
            let body = try json(report)
            #expect(body["rows"] is [Any])
            #expect(!String(buffer: report.body).contains("msisdn") && !String(buffer: report.body).contains("national_id"))
            #expect(try await client.execute(uri: "/api/v1/reports/noncash?period=26-11", method: .get, headers: official.withoutToken).status == .unprocessableContent)
            let admin = try await client.session("admin.an", office)
            #expect(try await client.execute(uri: "/api/v1/reports/noncash", method: .get, headers: admin.withoutToken).status == .forbidden)
        }
    }
}

/// A multipart body with a file field and text fields.
func multipart(file: String, name: String = "file", filename: String, fields: [String: String] = [:]) -> (ByteBuffer, String) {
    multipart(bytes: Array(file.utf8), name: name, filename: filename, fields: fields)
}

func multipart(bytes: [UInt8], name: String = "file", filename: String, fields: [String: String] = [:]) -> (ByteBuffer, String) {
    let boundary = "----allowance-test-\(UUID().uuidString)"
    var body = ""
    for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
        body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(key)\"\r\n\r\n\(value)\r\n"
    }
    body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"; filename=\"\(filename)\"\r\nContent-Type: text/csv\r\n\r\n"
    var buffer = ByteBuffer(string: body)
    buffer.writeBytes(bytes)
    buffer.writeString("\r\n--\(boundary)--\r\n")
    return (buffer, "multipart/form-data; boundary=\(boundary)")
}

@Suite(.timeLimit(.minutes(2)))
struct UploadTests {
    static let samples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("samples").path

    func headers(_ login: Login, type: String) -> HTTPFields {
        var fields = login.headers
        fields[.contentType] = type
        return fields
    }

    @Test func aRegisterWithBadLinesIsRefusedWholeWithEveryLineInVietnamese() async throws {
        let office = try Office()
        let text = Array(try Data(contentsOf: URL(fileURLWithPath: Self.samples + "/register-with-errors.csv")))
        try await office.app().test(.router) { client in
            let officer = try await client.session("officer.lan", office)
            let (body, type) = multipart(bytes: text, filename: "../../danh-sach.csv")
            let refused = try await client.execute(uri: "/api/v1/registers", method: .post, headers: headers(officer, type: type), body: body)
            #expect(refused.status == .unprocessableContent, "\(String(buffer: refused.body))")
            let lines = try #require(try json(refused)["lines"] as? [[String: Any]])
            #expect(!lines.isEmpty)
            #expect(lines.allSatisfy { ($0["line"] as? Int ?? 0) > 1 && !($0["message"] as? String ?? "").isEmpty })
            #expect(!String(buffer: refused.body).contains("../"), "the browser's path is not echoed")
            // With skip_invalid the good lines go in and the bad are listed.
            let (again, againType) = multipart(bytes: text, filename: "danh-sach.csv", fields: ["skip_invalid": "true"])
            let imported = try await client.execute(uri: "/api/v1/registers", method: .post, headers: headers(officer, type: againType), body: again)
            #expect(imported.status == .ok, "\(String(buffer: imported.body))")
            let result = try json(imported)
            #expect(result["rejected"] as? Int == lines.count)
            #expect((result["new"] as? Int ?? 0) + (result["updated"] as? Int ?? 0) + (result["unchanged"] as? Int ?? 0) > 0)
            // An auditor may not import; a body that is not multipart is refused.
            let auditor = try await client.session("auditor.ha", office)
            #expect(try await client.execute(uri: "/api/v1/registers", method: .post, headers: headers(auditor, type: againType), body: again).status == .forbidden)
            #expect(try await client.execute(uri: "/api/v1/registers", method: .post, headers: officer.headers, body: ByteBuffer(string: "{}")).status == .unsupportedMediaType)
        }
    }

    @Test func workbooksUploadLikeTheirCSV() async throws {
        let office = try Office()
        let register = Array(try Data(contentsOf: URL(fileURLWithPath: Self.samples + "/register.xlsx")))
        try await office.app().test(.router) { client in
            let officer = try await client.session("officer.lan", office)
            let (body, type) = multipart(bytes: register, filename: "danh-sach.xlsx")
            let imported = try await client.execute(uri: "/api/v1/registers", method: .post, headers: headers(officer, type: type), body: body)
            #expect(imported.status == .ok, "\(String(buffer: imported.body))")
            // The office holds the sample register already: its workbook form changes none of the 30.
            let result = try json(imported)
            #expect(result["unchanged"] as? Int == 30 && result["rejected"] as? Int == 0, "\(String(buffer: imported.body))")
            // An .xls is refused whole, with how to convert it, in Vietnamese.
            let old = Array(try Data(contentsOf: URL(fileURLWithPath: Self.samples + "/../Tests/AllowanceLedgerTests/Golden/xlsx/register-old.xls")))
            let (oldBody, oldType) = multipart(bytes: old, filename: "cu.xls")
            let refused = try await client.execute(uri: "/api/v1/registers", method: .post, headers: headers(officer, type: oldType), body: oldBody)
            #expect(refused.status == .unprocessableContent)
            #expect(String(buffer: refused.body).contains("libreoffice --headless --convert-to xlsx"), "\(String(buffer: refused.body))")
        }
    }

    @Test func anUploadOverTheLimitIs413AndLeavesNothing() async throws {
        let office = try Office()
        var options = ServerOptions()
        options.maxUploadBytes = 10_000
        let app = OfficeServer.application(ledger: office.ledger, options: options)
        try await app.test(.router) { client in
            let officer = try await client.session("officer.lan", office)
            let (body, type) = multipart(file: String(repeating: "x,", count: 20_000), filename: "big.csv")
            let refused = try await client.execute(uri: "/api/v1/registers", method: .post, headers: headers(officer, type: type), body: body)
            #expect(refused.status == .contentTooLarge)
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: office.folder).filter { $0.contains(".tmp-") }
        #expect(left.isEmpty, "\(left)")
    }

    @Test func theAuditorReconcilesAResultFileThroughTheAPI() async throws {
        let office = try Office()
        try office.approvedMonth(exported: true)
        let text = try String(contentsOfFile: Self.samples + "/results-generic.csv", encoding: .utf8)
        try await office.app().test(.router) { client in
            let auditor = try await client.session("auditor.ha", office)
            let (body, type) = multipart(file: text, filename: "ket-qua.csv", fields: ["profile": "generic"])
            let done = try await client.execute(uri: "/api/v1/batches/1/results", method: .post, headers: headers(auditor, type: type), body: body)
            #expect(done.status == .ok, "\(String(buffer: done.body))")
            let result = try json(done)
            #expect(result["batch"] as? Int == 1)
            #expect(result["file"] as? String == "ket-qua.csv")
            #expect(result["imported_by"] as? String == "auditor.ha")
            #expect((result["lines"] as? Int ?? 0) > 0)
            #expect(result["outcomes"] is [String: Any])
            // A path as the profile is refused; an officer may not reconcile.
            let (pathBody, pathType) = multipart(file: text, filename: "x.csv", fields: ["profile": "../../etc/passwd"])
            #expect(try await client.execute(uri: "/api/v1/batches/1/results", method: .post, headers: headers(auditor, type: pathType), body: pathBody).status == .unprocessableContent)
            let officer = try await client.session("officer.lan", office)
            #expect(try await client.execute(uri: "/api/v1/batches/1/results", method: .post, headers: headers(officer, type: type), body: body).status == .forbidden)
        }
    }
}

/// `docs/openapi.yaml` describes exactly the routes the server answers, method for method.
@Suite struct RouteContractTests {
    @Test func theOpenAPIFileListsEveryRouteAndNoOther() throws {
        let spec = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/openapi.yaml").path
        var described: [String] = []
        var path: String?
        var inPaths = false
        for line in try String(contentsOfFile: spec, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "paths:" { inPaths = true; continue }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), line.hasSuffix(":"), !line.hasPrefix("   ") { path = String(line.dropFirst(2).dropLast()); continue }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("    "), !line.hasPrefix("     "), ["get:", "post:", "put:", "delete:", "patch:"].contains(trimmed), let path {
                described.append("\(trimmed.dropLast().uppercased()) \(path)")
            }
        }
        #expect(Set(described) == Set(OfficeServer.routeList), "described only: \(Set(described).subtracting(OfficeServer.routeList)); served only: \(Set(OfficeServer.routeList).subtracting(described))")
        #expect(described.count == OfficeServer.routeList.count)
    }
}

/// The pages, over HTTP: Vietnamese first, English on a switch, forms with the CSRF token, maker-checker shown.
@Suite(.timeLimit(.minutes(2)))
struct PageTests {
    func form(_ fields: [String: String]) -> ByteBuffer {
        ByteBuffer(string: fields.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&"))
    }

    func logIn(_ client: any TestClientProtocol, _ user: String, _ office: Office) async throws -> String {
        var fields = ["user": user, "password": Office.password]
        if office.secrets[user] != nil { fields["otp"] = office.code(for: user) }
        let response = try await client.execute(uri: "/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"], body: form(fields))
        #expect(response.status == .seeOther, "\(String(buffer: response.body))")
        return String(try #require(response.headers[.setCookie]).split(separator: ";")[0])
    }

    @Test func theLoginAndTheDashboardAreInVietnameseAndSwitchToEnglish() async throws {
        let office = try Office()
        try await office.app().test(.router) { client in
            let anonymous = try await client.execute(uri: "/", method: .get)
            #expect(anonymous.status == .seeOther)
            #expect(anonymous.headers[.location] == "/login")
            let login = try await client.execute(uri: "/login", method: .get)
            #expect(login.status == .ok)
            #expect(String(buffer: login.body).contains("Đăng nhập"))
            #expect(login.headers[.contentSecurityPolicy] == "default-src 'self'")
            #expect(!String(buffer: login.body).contains("<script"), "no script, no inline style: the CSP allows neither")
            let wrong = try await client.execute(uri: "/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                                                 body: form(["user": "officer.lan", "password": "nope"]))
            #expect(wrong.status == .unauthorized)
            #expect(String(buffer: wrong.body).contains("không đúng"))

            let cookie = try await logIn(client, "official.tu", office)
            let dashboard = try await client.execute(uri: "/", method: .get, headers: [.cookie: cookie])
            #expect(dashboard.status == .ok)
            let page = String(buffer: dashboard.body)
            #expect(page.contains("Tỷ lệ người nhận được chi trả không dùng tiền mặt"))
            #expect(!page.contains("id=\"batches\""), "an official sees the report, not the batches")
            let english = try await client.execute(uri: "/lang/en", method: .get, headers: [.cookie: cookie])
            let lang = String(try #require(english.headers[.setCookie]).split(separator: ";")[0])
            let switched = try await client.execute(uri: "/", method: .get, headers: [.cookie: cookie + "; " + lang])
            #expect(String(buffer: switched.body).contains("Share of recipients paid non-cash"))
        }
    }

    @Test func theApproverSeesMakerCheckerAndApprovesWithTheFormsToken() async throws {
        let office = try Office()
        let payouts = office.ledger.payouts
        _ = try payouts.createBatch(BatchCreateOptions(period: try Period(parsing: "2026-11"), by: try UserName(parsing: "officer.lan")))
        _ = try payouts.createBatch(BatchCreateOptions(period: try Period(parsing: "2026-12"), by: try UserName(parsing: "head.minh")))
        try await office.app().test(.router) { client in
            let cookie = try await logIn(client, "head.minh", office)
            let own = String(buffer: try await client.execute(uri: "/batches/2", method: .get, headers: [.cookie: cookie]).body)
            #expect(own.contains("id=\"maker-checker\""))
            #expect(own.contains("disabled"))
            let other = String(buffer: try await client.execute(uri: "/batches/1", method: .get, headers: [.cookie: cookie]).body)
            #expect(!other.contains("id=\"maker-checker\""))
            let token = try #require(other.range(of: "name=\"csrf\" value=\"").map { other[$0.upperBound...].prefix(64) }).description
            // Without the token the form changes nothing.
            let forged = try await client.execute(uri: "/batches/1/approve", method: .post,
                                                  headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"], body: form([:]))
            #expect(forged.status == .forbidden)
            let approved = try await client.execute(uri: "/batches/1/approve", method: .post,
                                                    headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"], body: form(["csrf": token]))
            #expect(approved.status == .seeOther)
            let after = String(buffer: try await client.execute(uri: "/batches/1?approved=1", method: .get, headers: [.cookie: cookie]).body)
            #expect(after.contains("Đã phê duyệt"))
            #expect(after.contains("head.minh"))
            // Their own batch, forced through the form, is refused as maker-checker.
            let forcedOwn = try await client.execute(uri: "/batches/2/approve", method: .post,
                                                     headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"], body: form(["csrf": token]))
            #expect(forcedOwn.status == .forbidden)
            #expect(String(buffer: forcedOwn.body).contains("không được tự phê duyệt"))
        }
        #expect(try payouts.batchSummary(BatchID(1)).batch.approvedBy == "head.minh")
        #expect(try payouts.batchSummary(BatchID(2)).batch.approvedBy == nil)
    }

    @Test func pageValuesAreEscapedPerScalar() throws {
        _ = Pages.library
        let hostile = "\"\u{301} onmouseover=alert(1) <script>alert(2)</script>"
        let html = try #require(Pages.library.render(["t": [:] as [String: String], "message": hostile], withTemplate: "problem"))
        #expect(!html.contains("<script>"))
        let rawQuote = "\"\u{301}"
        #expect(!html.contains(rawQuote))
        // Compared by scalars: the combining mark joins the `;` before it into one Character.
        #expect(html.unicodeScalars.map(String.init).joined().contains("&quot;") || String(html.unicodeScalars.filter { $0 != "\u{301}" }).contains("&quot;"))
    }

    @Test func theTwoLanguagesHaveTheSameWords() {
        #expect(Set(Pages.words["vi"]!.keys) == Set(Pages.words["en"]!.keys))
    }
}
