import AllowanceLedger
import AllowanceOffice
import AllowanceViews
import HTTPTypes
import Foundation
import Hummingbird
import Reconcile
import ZIPFoundation

/// The JSON API's handlers. Each resolves the session from its cookie, checks the CSRF token on a change, checks the
/// account's role and communes, and calls the same service the CLI calls, with the session's account as the actor.
struct API: Sendable {
    let ledger: Ledger
    let options: ServerOptions

    // MARK: Sessions

    func logIn(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let body = try await jsonBody(request, context)
        guard case .string(let user)? = body["user"], case .string(let password)? = body["password"] else {
            throw APIError(status: .unprocessableContent, code: "invalid", message: Words.vi("login_fields"))
        }
        var typed: String?
        if case .string(let text)? = body["otp"] { typed = text }
        let code = typed
        let accounts = ledger.accounts
        let session: Session
        do {
            session = try await blocking { try accounts.logIn(name: user, password: password, oneTimeCode: code) }
        } catch let error as AccessError {
            throw Self.apiError(error)
        }
        var response = JSONResponse.make(Self.sessionJSON(session))
        response.setCookie(Cookie(name: OfficeServer.sessionCookie, value: session.token ?? "", path: "/", secure: options.secureCookies,
                                  httpOnly: true, sameSite: .strict))
        return response
    }

    func currentSession(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        JSONResponse.make(Self.sessionJSON(try await session(request, change: false)))
    }

    func logOut(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        _ = try await session(request, change: true)
        let token = request.cookies[OfficeServer.sessionCookie]?.value ?? ""
        let accounts = ledger.accounts
        try await blocking { try accounts.logOut(token: token) }
        var response = Response(status: .noContent)
        response.setCookie(Cookie(name: OfficeServer.sessionCookie, value: "", maxAge: 0, path: "/", secure: options.secureCookies,
                                  httpOnly: true, sameSite: .strict))
        return response
    }

    // MARK: Batches

    func createBatch(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let session = try await session(request, change: true)
        try allow(session, .createBatch)
        let body = try await jsonBody(request, context)
        guard case .string(let periodText)? = body["period"], let period = try? Period(parsing: periodText) else {
            throw APIError(status: .unprocessableContent, code: "invalid", message: Words.vi("period"))
        }
        var communes: [Code] = []
        if case .array(let values)? = body["communes"] {
            for value in values {
                guard case .string(let text) = value, let code = try? Code(parsing: text, field: "commune", uppercase: false) else {
                    throw APIError(status: .unprocessableContent, code: "invalid", message: Words.vi("communes"))
                }
                communes.append(code)
            }
        }
        // A one-off payment: `"one_off": {"name": "Quà Tết 2027", "amount": 400000}`, narrowed by `"categories"`.
        var oneOff: OneOffPayment?
        if let value = body["one_off"], value != .null {
            guard case .object(let fields) = value, case .string(let name)? = fields["name"], case .integer(let amount)? = fields["amount"],
                  let payment = try? OneOffPayment(name: name, amount: Money(dong: amount)) else {
                throw APIError(status: .unprocessableContent, code: "invalid", message: Words.vi("one_off"))
            }
            oneOff = payment
        }
        var categories: [Code] = []
        if case .array(let values)? = body["categories"] {
            for value in values {
                guard oneOff != nil, case .string(let text) = value, let code = try? Code(parsing: text, field: "category", uppercase: true) else {
                    throw APIError(status: .unprocessableContent, code: "invalid", message: Words.vi("categories"))
                }
                categories.append(code)
            }
        }
        return JSONResponse.make(BatchView.created(try await createBatch(period: period, communes: communes, oneOff: oneOff, categories: categories,
                                                                         as: session)), status: .created)
    }

    /// Creates the month's batch (or a one-off's) as the session's account: an account of some communes makes batches
    /// of those communes only. What the API's route and the batches page's form both do.
    func createBatch(period: Period, communes: [Code], oneOff: OneOffPayment? = nil, categories: [Code] = [],
                     as session: Session) async throws -> BatchCreateResult {
        let desk = desk(session)
        return try await serviceCall { try desk.createBatch(period: period, communes: communes, oneOff: oneOff, categories: categories) }
    }

    func showBatch(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let desk = desk(try await session(request, change: false))
        let id = try batchID(context)
        let (summary, changes) = try await serviceCall { try desk.batchSummary(id) }
        return JSONResponse.make(BatchView.show(summary, numberChanges: changes))
    }

    func approveBatch(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let session = try await session(request, change: true)
        let (result, changes) = try await approve(try batchID(context), as: session)
        return JSONResponse.make(BatchView.approved(result.batch, entry: result.entry, total: result.total, numberChanges: changes))
    }

    /// The carrier's instruction file, the bytes `batch export` writes; the transfer is posted once, and a repeat
    /// answers the same bytes and posts nothing. A POST because the first one changes the ledger.
    func instructions(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let session = try await session(request, change: true)
        return try await instructionFile(try batchID(context), as: session, format: try Self.tableFormat(request.uri.queryParameters["format"]))
    }

    /// `csv` (or none) or `xlsx`; anything else is refused.
    static func tableFormat(_ text: Substring?) throws -> TableFormat {
        guard let text else { return .csv }
        guard let format = TableFormat(rawValue: String(text)) else {
            throw APIError(status: .unprocessableContent, code: "invalid", message: Words.vi("format"))
        }
        return format
    }

    /// The instruction file as a download, for the API's route and the batch page's button alike: CSV, or the same rows
    /// as an xlsx workbook.
    func instructionFile(_ id: BatchID, as session: Session, format: TableFormat = .csv) async throws -> Response {
        let desk = desk(session), location = ledger.location
        let name = "instructions." + format.rawValue
        let (bytes, period) = try await serviceCall { () throws -> ([UInt8], String) in
            // Written where the ledger is, in a folder of its own that goes once the bytes are read.
            let folder = try Files.createTemporaryFolder(beside: location, mode: 0o700)
            defer { Files.removeCreatedFolder(folder) }
            let result = try desk.exportBatch(id, to: folder + "/" + name)
            return (try readFileBytes(folder + "/" + name), result.batch.period.description)
        }
        let type = format == .xlsx ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" : "text/csv; charset=utf-8"
        return Response(status: .ok, headers: [.contentType: type,
                                               .contentDisposition: "attachment; filename=\"instructions-\(period)-batch-\(id).\(format.rawValue)\""],
                        body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    // MARK: Uploads

    /// A carrier's result file (multipart field `file`, optional `profile`: `generic` or the name of a profile in the
    /// ledger's `profiles/` folder or `ALLOWANCE_PROFILES`) reconciled as `reconcile` does; the object `reconcile --json`
    /// prints, exceptions in the body. One transaction: a failure leaves nothing.
    func reconcile(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let session = try await session(request, change: true)
        let id = try batchID(context)
        try await checkBatch(id, session, may: .reconcile)
        let upload = try await Upload.receive(request, limit: options.maxUploadBytes, beside: ledger.location)
        defer { upload.remove() }
        return JSONResponse.make(ReconcileJSON.result(try await reconcile(upload, batch: id, as: session)))
    }

    /// Reconciles an uploaded result file (fields `file` and `profile`) for a batch the session may reconcile: what the
    /// API's route and the reconciliation page's form both do.
    func reconcile(_ upload: Upload, batch id: BatchID, as session: Session) async throws -> ReconciliationResult {
        guard let file = upload.files["file"] else { throw APIError(status: .unprocessableContent, code: "invalid", message: Words.vi("file_field")) }
        let name = upload.fields["profile"]?.trimmingCharacters(in: .whitespaces) ?? "generic"
        // A name, never a path: the server reads profiles from the office's own folders only.
        guard name == "generic" || (!name.isEmpty && name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw APIError(status: .unprocessableContent, code: "invalid", message: Words.vi("profile"))
        }
        let profile: CarrierProfile
        do {
            profile = try CarrierProfile.load(name.isEmpty ? "generic" : name, searching: CarrierProfile.searchDirectories(
                listed: ProcessInfo.processInfo.environment["ALLOWANCE_PROFILES"], ledger: ledger.location))
        } catch {
            throw APIError(status: .unprocessableContent, code: "profile", message: redactIdentifiers(error.description))
        }
        let desk = desk(session)
        return try await serviceCall { try desk.reconcile(file.path, batch: id, profile: profile, displayName: file.name) }
    }

    /// A register (multipart field `file`, optional `skip_invalid=true`) imported as `beneficiary import` does. With any
    /// bad line and no `skip_invalid`, nothing is imported and 422 lists every bad line: `{"line", "code", "message"}`.
    func importRegister(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let session = try await session(request, change: true)
        try allow(session, .importRegister)
        let upload = try await Upload.receive(request, limit: options.maxUploadBytes, beside: ledger.location)
        defer { upload.remove() }
        let outcome = try await importRegister(upload, as: session)
        switch outcome.result {
        case .success(let result):
            return JSONResponse.make(.object([
                ("file", .string(result.file)), ("lines", .int(result.lines)), ("new", .int(result.created)), ("updated", .int(result.updated)),
                ("unchanged", .int(result.unchanged)), ("rejected", .int(result.rejected)), ("already_imported", .bool(result.alreadyImported)),
                ("flags_raised", .int(result.flagsRaised)),
                ("rejected_lines", .array(outcome.lines.map(Self.lineJSON))),
            ]))
        case .failure(let error):
            var body: [(String, JSON)] = [("error", .object([("code", .string(error.problem.code)),
                                                             ("message", .string(Wording.vietnamese.words(for: error.problem)))]))]
            body.append(("lines", .array(outcome.lines.map(Self.lineJSON))))
            return JSONResponse.make(.object(body), status: .unprocessableContent)
        }
    }

    /// Imports an uploaded register (fields `file` and `skip_invalid`) as the session's account: the import's result or
    /// its refusal, with the bad lines either way. What the API's route and the upload page both do.
    func importRegister(_ upload: Upload, as session: Session) async throws
        -> (result: Result<RegisterImportResult, RegisterImportError>, lines: [LineProblem]) {
        guard let file = upload.files["file"] else { throw APIError(status: .unprocessableContent, code: "invalid", message: Words.vi("file_field")) }
        let desk = desk(session), skipInvalid = upload.fields["skip_invalid"] == "true", rejects = upload.folder + "/rejected.csv"
        let collected = LineProblems()
        do {
            // Not through serviceCall: the import's own refusal is an answer with every bad line, below.
            let result = try await blocking {
                try desk.importRegister(file.path, displayName: file.name, skipInvalid: skipInvalid, rejectsPath: rejects, onProblem: { collected.add($0) })
            }
            return (.success(result), collected.all)
        } catch let error as RegisterImportError {
            return (.failure(error), collected.all)
        } catch let error as AccessError {
            throw Self.apiError(error)
        } catch let error as WorkbookError {
            // An .xls, a password, a hostile archive: refused whole, with the fix, as any refusal.
            throw APIError(status: .unprocessableContent, code: error.problem.code, message: Wording.vietnamese.words(for: error.problem),
                           problem: error.problem)
        }
    }

    static func lineJSON(_ problem: LineProblem) -> JSON {
        .object([("line", .int(problem.line)), ("code", .string(problem.problems.first?.code ?? "invalid")),
                 ("message", .string(redactIdentifiers(problem.problems.map { Wording.vietnamese.words(for: $0) }.joined(separator: "; "))))])
    }

    // MARK: Reports

    /// The object `report noncash --json` prints: `period` (default this month in Vietnam) or `from` and `to`, `by`,
    /// `target` (a percentage). Counts and shares only, never personal data: every role but admin.
    func nonCashReport(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let desk = desk(try await session(request, change: false))
        try allow(desk, .viewReports)
        let query = request.uri.queryParameters
        func period(_ name: Substring) throws -> Period? {
            guard let text = query[name].map(String.init) else { return nil }
            guard let period = try? Period(parsing: text) else { throw APIError(status: .unprocessableContent, code: "invalid", message: Words.vi("period")) }
            return period
        }
        let month = ledger.clock.now().vietnamPeriod
        let first = try period("period") ?? period("from") ?? month
        let last = try period("period") ?? period("to") ?? first
        guard first <= last else { throw APIError(status: .unprocessableContent, code: "invalid", message: Words.vi("period")) }
        let grouping = try query["by"].map { text in
            guard let grouping = NonCashGrouping(rawValue: String(text)) else {
                throw APIError(status: .unprocessableContent, code: "invalid", message: Words.vi("grouping"))
            }
            return grouping
        } ?? .commune
        let target: Int64 = try query["target"].map { text -> Int64 in
            guard let value = Int64(String(text)), (0...100).contains(value) else {
                throw APIError(status: .unprocessableContent, code: "invalid", message: Words.vi("target"))
            }
            return value
        } ?? 80
        let report = try await serviceCall { try desk.nonCash(from: first, to: last, grouping: grouping, target: Share(basisPoints: target * 100)) }
        return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: report.json)))
    }

    // MARK: The ledger

    func verifyLedger(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let desk = desk(try await session(request, change: false))
        let result = try await serviceCall { try desk.verifyLedger() }
        return JSONResponse.make(.object(LedgerView.verification(result, verdict: "ok")))
    }

    // MARK: Audit

    /// `{"period": "2026-11"}` (or `{}` for the whole ledger) → the signed audit export as a zip, personal data masked,
    /// recorded as `audit export` records it. Unzipped, `allowance audit verify FOLDER --key KEY` accepts it.
    func auditExport(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let session = try await session(request, change: true)
        let desk = desk(session)
        try allow(desk, .exportAudit)
        let body = try await jsonBody(request, context)
        var scope = AuditScope.all
        if let value = body["period"] {
            guard case .string(let text) = value, let period = try? Period(parsing: text) else {
                throw APIError(status: .unprocessableContent, code: "invalid", message: Words.vi("period"))
            }
            scope = .period(period)
        }
        let (bytes, name) = try await auditZip(scope, as: session)
        return Response(status: .ok, headers: [.contentType: "application/zip", .contentDisposition: "attachment; filename=\"\(name).zip\""],
                        body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// Writes the export in a private folder beside the ledger, zips it under one top folder (`audit-export-N/`), and
    /// answers the zip's bytes; the folder goes either way. The download is in the activity log.
    func auditZip(_ scope: AuditScope, as session: Session) async throws -> (bytes: [UInt8], name: String) {
        guard let key = options.auditKey else { throw APIError(status: .conflict, code: "no_audit_key", message: Words.vi("no_audit_key")) }
        let desk = desk(session), location = ledger.location
        return try await serviceCall { () throws -> ([UInt8], String) in
            let folder = try Files.createTemporaryFolder(beside: location, mode: 0o700)
            defer { Files.removeCreatedFolder(folder) }
            let staging = folder + "/export"
            let result: AuditExportResult
            do {
                result = try desk.auditExport(to: staging, scope: scope, key: key)
            } catch let error as AuditExportError {
                throw APIError(status: .unprocessableContent, code: "refused", message: redactIdentifiers(error.description))
            }
            let name = "audit-export-\(result.exportID)"
            try FileManager.default.moveItem(atPath: staging, toPath: folder + "/" + name)
            try FileManager.default.zipItem(at: URL(fileURLWithPath: folder + "/" + name), to: URL(fileURLWithPath: folder + "/export.zip"),
                                            shouldKeepParent: true)
            return (try readFileBytes(folder + "/export.zip"), name)
        }
    }

    // MARK: Helpers

    /// The request's session: 401 without one; for a change, 403 unless `X-CSRF-Token` is the session's.
    func session(_ request: Request, change: Bool) async throws -> Session {
        guard let session = try await openSession(request) else {
            throw APIError(status: .unauthorized, code: "not_logged_in", message: Words.vi("not_logged_in"))
        }
        if change, !session.accepts(csrfToken: request.headers[HTTPField.Name("X-CSRF-Token")!]) {
            throw APIError(status: .forbidden, code: "csrf", message: Words.vi("csrf"))
        }
        return session
    }

    /// The open session the request's cookie names, if any: the pages' and the API's one way to who is logged in.
    func openSession(_ request: Request) async throws -> Session? {
        guard let token = request.cookies[OfficeServer.sessionCookie]?.value, !token.isEmpty else { return nil }
        let accounts = ledger.accounts
        return try await blocking { try accounts.session(token: token) }
    }

    /// Approves a batch as the session's account, after the role and the communes: what the API's route and the
    /// batch page's form both do.
    func approve(_ id: BatchID, as session: Session) async throws -> (result: (batch: Batch, entry: JournalEntryID, total: Money), changes: [NumberChange]) {
        let desk = desk(session)
        return try await serviceCall { try desk.approveBatch(id) }
    }

    func jsonBody(_ request: Request, _ context: BasicRequestContext) async throws -> [String: JSONValue] {
        if let type = request.headers[.contentType], !type.lowercased().hasPrefix("application/json") {
            throw APIError(status: .unsupportedMediaType, code: "unsupported_type", message: Words.vi("json_expected"))
        }
        let buffer = try await request.body.collect(upTo: 1 << 20)
        guard case .object(let members)? = try? JSONValue.parse(Array(buffer.readableBytesView)) else {
            throw APIError(status: .unprocessableContent, code: "invalid", message: Words.vi("json_expected"))
        }
        return members
    }

    func batchID(_ context: BasicRequestContext) throws -> BatchID {
        guard let text = context.parameters.get("id"), let value = Int64(text), value > 0 else {
            throw APIError(status: .notFound, code: "not_found", message: Words.vi("not_found"))
        }
        return BatchID(value)
    }

    /// Runs a service, its refusals turned into answers: maker-checker is 403 `maker_checker`, a missing batch 404, any
    /// other refusal 422 with the service's own words.
    func serviceCall<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        do {
            return try await blocking(body)
        } catch let error as BatchError {
            switch error {
            case .makerIsChecker: throw APIError(status: .forbidden, code: "maker_checker", message: Words.vi("maker_checker"))
            case .notFound: throw APIError(status: .notFound, code: "not_found", message: Words.vi("not_found"))
            default: throw APIError(status: .unprocessableContent, code: "refused", message: redactIdentifiers(Words.vietnamese(error)),
                                    english: redactIdentifiers(error.description))
            }
        } catch let error as AccessError {
            throw Self.apiError(error)
        } catch let error as any ProblemConvertible {
            throw APIError(status: .unprocessableContent, code: error.problem.code, message: Wording.vietnamese.words(for: error.problem),
                           problem: error.problem)
        }
    }

    /// The session's desk: every action below goes through it, which checks the role and the communes.
    func desk(_ session: Session) -> Desk { ledger.desk(for: session.account) }

    /// The desk's role check, before a body is read or an upload stored.
    func allow(_ session: Session, _ action: Action) throws { try allow(desk(session), action) }

    func allow(_ desk: Desk, _ action: Action) throws {
        do { try desk.check(action) } catch { throw Self.apiError(error) }
    }

    /// The role may take `action`, and the batch exists and is of the account's communes (checked before an upload is
    /// stored; the desk checks again when it acts).
    func checkBatch(_ id: BatchID, _ session: Session, may action: Action) async throws {
        let desk = desk(session)
        _ = try await serviceCall { try desk.batch(id, for: action) }
    }

    static func apiError(_ error: AccessError) -> APIError {
        switch error {
        case .locked: APIError(status: .tooManyRequests, code: error.code, message: Words.vi("locked"))
        case .badCredentials, .oneTimeCodeRequired: APIError(status: .unauthorized, code: error.code, message: Words.vi(error.code))
        case .forbidden: APIError(status: .forbidden, code: "forbidden", message: Words.vi("forbidden"))
        case .outsideCommunes: APIError(status: .forbidden, code: "commune", message: Words.vi("commune"))
        default: APIError(status: .unprocessableContent, code: error.code, message: error.description)
        }
    }

    static func sessionJSON(_ session: Session) -> JSON {
        .object([("user", .string(session.account.name.value)), ("role", .string(session.account.role.rawValue)),
                 ("communes", .array(session.account.communes.map { .string($0.value) })), ("csrf_token", .string(session.csrfToken))])
    }
}

/// The API's own messages, in Vietnamese (the application's first language).
enum Words {
    static let vietnamese: [String: String] = [
        "not_logged_in": "Vui lòng đăng nhập.",
        "bad_credentials": "Tên đăng nhập, mật khẩu hoặc mã xác thực không đúng.",
        "otp_required": "Tài khoản này cần thêm mã xác thực một lần từ ứng dụng xác thực.",
        "locked": "Đăng nhập sai quá 5 lần: tài khoản tạm khoá 15 phút.",
        "forbidden": "Vai trò của bạn không được thực hiện thao tác này.",
        "commune": "Bạn chỉ được thao tác trên các xã được giao.",
        "csrf": "Thiếu hoặc sai mã chống giả mạo (X-CSRF-Token); hãy tải lại trang.",
        "maker_checker": "Người lập danh sách chi trả không được tự phê duyệt; cần một người khác phê duyệt.",
        "not_found": "Không tìm thấy.",
        "too_large": "Tệp quá lớn.",
        "bad_request": "Yêu cầu không hợp lệ.",
        "internal": "Lỗi hệ thống; thao tác không được ghi. Hãy thử lại hoặc báo quản trị viên.",
        "json_expected": "Nội dung phải là JSON.",
        "login_fields": "Cần có \"user\" và \"password\".",
        "period": "\"period\" phải có dạng YYYY-MM, ví dụ 2026-11.",
        "communes": "\"communes\" phải là danh sách mã xã.",
        "one_off": "\"one_off\" là {\"name\": tên khoản chi (1 đến 80 ký tự), \"amount\": số tiền mỗi người, đồng, lớn hơn 0}.",
        "categories": "\"categories\" là danh sách mã nhóm đối tượng, chỉ dùng cùng \"one_off\".",
        "grouping": "\"by\" là commune, category hoặc carrier.",
        "target": "\"target\" là phần trăm, từ 0 đến 100.",
        "format": "\"format\" là csv hoặc xlsx.",
        "multipart_expected": "Hãy gửi tệp dạng multipart/form-data.",
        "multipart_broken": "Nội dung tải lên bị hỏng hoặc không đầy đủ; hãy gửi lại.",
        "file_field": "Thiếu tệp (trường \"file\").",
        "reason_needed": "Cần ghi lý do.",
        "no_audit_key": "Máy chủ chưa có khoá kiểm toán: khởi động lại với --audit-key TỆP (tạo bằng allowance audit keygen).",
        "profile": "\"profile\" là generic hoặc tên một hồ sơ nhà mạng (chữ, số, - và _).",
    ]

    static func vi(_ code: String) -> String { vietnamese[code] ?? code }

    /// A batch's refusal in Vietnamese; `BatchError.description` is the English.
    static func vietnamese(_ error: BatchError) -> String {
        switch error {
        case .notFound(let key): "Không có danh sách chi trả \(key)."
        case .alreadyInBatch(let period, let batches, _):
            batches.map { "\($0.1) người trong phạm vi đã có trong danh sách \($0.0) kỳ \(period.vietnamese)" }.joined(separator: "; ")
                + ". Hãy thu hẹp phạm vi theo xã."
        case .noEligible(let period, let heldOut):
            "Không còn người hưởng nào đang hoạt động, không bị gắn cờ và chưa có trong danh sách kỳ \(period.vietnamese)"
                + (heldOut > 0 ? " (\(heldOut) người bị giữ lại do cờ cảnh báo)." : ".")
        case .makerIsChecker: vi("maker_checker")
        case .wrongStatus(let batch, let status, _):
            "Danh sách \(batch) đang ở trạng thái \(statusWords[status] ?? status.rawValue); không thực hiện được thao tác này."
        case .noMobileMoneyItems(let batch, _): "Danh sách \(batch) không có khoản chi qua tài khoản di động nào để gửi nhà mạng."
        case .noCashItems(let batch): "Danh sách \(batch) không có khoản chi tiền mặt nào."
        case .staleItems(let batch, let count, _):
            "Danh sách \(batch): \(count) khoản không còn khớp với sổ đăng ký; hãy huỷ danh sách và lập lại."
        case .nothingToRetry(let batch, _): "Danh sách \(batch) không có khoản nào cần chi lại."
        case .rate(let error): error.description
        case .oneOffPaid(let name, let period, _):
            "Khoản chi một lần \"\(name)\" đã lập cho kỳ \(period.vietnamese); mỗi người chỉ nhận một lần: hãy đặt tên mới cho khoản chi mới."
        case .categoriesWithoutOneOff: vi("categories")
        case .movedOnLater(let period, let through, let beneficiary, let from, let to):
            "Đã chuyển mức hưởng theo tuổi cho kỳ \(through.vietnamese): người hưởng \(beneficiary) từ \(from) sang \(to), "
                + "chưa đủ tuổi trong kỳ \(period.vietnamese). Hãy lập danh sách theo thứ tự các tháng, hoặc thu hẹp phạm vi theo xã."
        }
    }

    static let statusWords: [BatchStatus: String] = [.created: "chờ phê duyệt", .approved: "đã phê duyệt", .exported: "đã gửi nhà mạng",
                                                    .closed: "đã đóng", .cancelled: "đã huỷ"]
}

/// The bad lines an import reports, kept for the answer (the first thousand: enough to fix a file by).
final class LineProblems: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [LineProblem] = []
    static let kept = 1000

    func add(_ problem: LineProblem) { lock.withLock { if lines.count < Self.kept { lines.append(problem) } } }
    var all: [LineProblem] { lock.withLock { lines } }
}
