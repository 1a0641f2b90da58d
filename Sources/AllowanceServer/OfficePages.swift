import AllowanceLedger
import AllowanceOffice
import Foundation
import HTTPTypes
import Hummingbird
import Reconcile

/// The office's working pages beside the dashboard and the batch: batches (list, create, cancel, instruction file),
/// register upload, beneficiaries, reconciliation with its exception queue and retry, audit, the activity log and the
/// accounts. Each goes through `guarded`: a session, the role's permission, the account's communes, a CSRF token on
/// a change; then the same calls the API makes.
extension PageRoutes {
    func registerWorkPages(on router: Router<BasicRequestContext>) {
        router.get("batches") { request, _ in try await guarded(request, .viewBatches) { try await batches(request, $0) } }
        router.post("batches") { request, _ in try await guarded(request, .createBatch) { try await createBatch(request, $0) } }
        router.post("batches/:id/cancel") { request, context in
            try await guarded(request, .cancelBatch) { try await cancelBatch(request, context, $0) }
        }
        router.post("batches/:id/instructions") { request, context in
            try await guarded(request, .downloadInstructions) { try await instructions(request, context, $0) }
        }
        router.get("batches/:id/reconcile") { request, context in
            try await guarded(request, .viewBatches) { try await reconciliation(request, context, $0) }
        }
        router.post("batches/:id/results") { request, context in
            try await guarded(request, .reconcile) { try await uploadResults(request, context, $0) }
        }
        router.post("batches/:id/retry") { request, context in
            try await guarded(request, .retryBatch) { try await retry(request, context, $0) }
        }
        router.get("registers") { request, _ in
            try await guarded(request, .importRegister) { Pages.page("registers", title: "register_upload", ["csrf": $0.csrfToken], request: request, session: $0) }
        }
        router.post("registers") { request, _ in try await guarded(request, .importRegister) { try await uploadRegister(request, $0) } }
        router.get("beneficiaries") { request, _ in
            try await guarded(request, .viewBeneficiaries) { try await beneficiaries(request, $0, name: "", commune: "") }
        }
        // A search by name is a POST: a name is personal data, and a URL ends up in histories and access logs.
        router.post("beneficiaries") { request, _ in
            try await guarded(request, .viewBeneficiaries) { session in
                let form = try await Pages.form(request)
                try checkForm(session, form["csrf"])
                return try await beneficiaries(request, session, name: form["q"]?.trimmingSpaces ?? "", commune: form["commune"]?.trimmingSpaces ?? "")
            }
        }
        router.get("beneficiaries/:id") { request, context in
            try await guarded(request, .viewBeneficiaries) { try await beneficiary(request, context, $0) }
        }
        router.post("flags/:id/clear") { request, context in try await guarded(request, .clearFlag) { try await clearFlag(request, context, $0) } }
        router.get("audit") { request, _ in try await guarded(request, .verifyLedger) { try await audit(request, $0) } }
        router.post("audit/exports") { request, _ in try await guarded(request, .exportAudit) { try await auditExport(request, $0) } }
        router.get("activity") { request, _ in try await guarded(request, .viewActivity) { try await activity(request, $0) } }
        router.get("accounts") { request, _ in try await guarded(request, .manageAccounts) { try await accounts(request, $0, shown: [:]) } }
        router.post("accounts") { request, _ in try await guarded(request, .manageAccounts) { try await addAccount(request, $0) } }
        router.post("accounts/:name/disable") { request, context in
            try await guarded(request, .manageAccounts) { try await disableAccount(request, context, $0) }
        }
    }

    /// Runs a page for a logged-in account whose role may take `action`; a refusal becomes a page in the user's
    /// language with its status, never a stack trace.
    func guarded(_ request: Request, _ action: Action, _ body: (Session) async throws -> Response) async throws -> Response {
        guard let session = await session(request) else { return Pages.redirect("/login") }
        guard session.account.role.may(action) else { return problem(request, session, "forbidden", status: .forbidden) }
        do {
            return try await body(session)
        } catch let error as APIError {
            let lang = Pages.language(request)
            let words = Pages.words[lang]!
            var message = words["err_" + error.code] ?? error.message
            if lang == "en" {
                if let english = error.english { message = english } else if let problem = error.problem { message = Wording.english.words(for: problem) }
            }
            return Pages.page("problem", title: "error_title", ["message": message], request: request, session: session, status: error.status)
        }
    }

    func words(_ request: Request) -> [String: String] { Pages.words[Pages.language(request)]! }

    func checkForm(_ session: Session, _ token: String?) throws {
        guard session.accepts(csrfToken: token) else { throw APIError(status: .forbidden, code: "csrf", message: Words.vi("csrf")) }
    }

    func pageBatchID(_ context: BasicRequestContext) throws -> BatchID { try api.batchID(context) }

    // MARK: Batches

    func batches(_ request: Request, _ session: Session) async throws -> Response {
        let desk = api.desk(session)
        let all = try await api.serviceCall { try desk.batches() }
        let t = words(request)
        let rows = all.reversed().map { batch -> [String: Any] in
            ["id": batch.id.rawValue, "status": t["st_" + batch.status.rawValue] ?? batch.status.rawValue,
             "communes": batch.communes.isEmpty ? t["all_communes"]! : batch.communes.map(\.value).joined(separator: ", "),
             "createdBy": batch.createdBy, "approvedBy": batch.approvedBy ?? "", "retryOf": batch.retryOf.map { "\($0)" } ?? "",
             "period": batch.oneOff.map { "\(batch.period.vietnamese) · \($0.name)" } ?? batch.period.vietnamese]
        }
        let data: [String: Any] = ["batches": rows, "canCreate": session.account.role.may(.createBatch), "csrf": session.csrfToken,
                                   "period": ledger.clock.now().vietnamPeriod.description,
                                   "communes": session.account.communes.map(\.value).joined(separator: " ")]
        return Pages.page("batches", title: "batches", data, request: request, session: session)
    }

    func createBatch(_ request: Request, _ session: Session) async throws -> Response {
        let form = try await Pages.form(request)
        try checkForm(session, form["csrf"])
        guard let period = try? Period(parsing: form["period"]?.trimmingSpaces ?? "") else {
            throw APIError(status: .unprocessableContent, code: "bad_period", message: Words.vi("period"))
        }
        var communes: [Code] = []
        for text in (form["communes"] ?? "").split(whereSeparator: { $0 == " " || $0 == "," }) {
            guard let code = try? Code(parsing: String(text), field: "commune", uppercase: false) else {
                throw APIError(status: .unprocessableContent, code: "bad_communes", message: Words.vi("communes"))
            }
            communes.append(code)
        }
        let result = try await api.createBatch(period: period, communes: communes, as: session)
        return Pages.redirect("/batches/\(result.batch.id)?created=1")
    }

    func cancelBatch(_ request: Request, _ context: BasicRequestContext, _ session: Session) async throws -> Response {
        let form = try await Pages.form(request)
        try checkForm(session, form["csrf"])
        let id = try pageBatchID(context)
        let reason = form["reason"]?.trimmingSpaces ?? ""
        guard !reason.isEmpty else { throw APIError(status: .unprocessableContent, code: "reason_needed", message: Words.vi("reason_needed")) }
        let desk = api.desk(session)
        _ = try await api.serviceCall { try desk.cancelBatch(id, reason: reason) }
        return Pages.redirect("/batches/\(id)?cancelled=1")
    }

    func instructions(_ request: Request, _ context: BasicRequestContext, _ session: Session) async throws -> Response {
        let form = try await Pages.form(request)
        try checkForm(session, form["csrf"])
        return try await api.instructionFile(try pageBatchID(context), as: session, format: try API.tableFormat(form["format"].map { Substring($0) }))
    }

    func retry(_ request: Request, _ context: BasicRequestContext, _ session: Session) async throws -> Response {
        let form = try await Pages.form(request)
        try checkForm(session, form["csrf"])
        let id = try pageBatchID(context)
        let desk = api.desk(session)
        let result = try await api.serviceCall { try desk.retryBatch(id) }
        return Pages.redirect("/batches/\(result.batch.id)?created=1")
    }

    // MARK: Reconciliation

    /// The batch's reconciliation: items and lines by outcome, the files imported, the upload form, and the exception
    /// queue (`?outcome=` filters it; `missing` lists the items no file has named).
    func reconciliation(_ request: Request, _ context: BasicRequestContext, _ session: Session) async throws -> Response {
        let id = try pageBatchID(context)
        let t = words(request)
        let chosen = request.uri.queryParameters["outcome"].flatMap { ReconcileOutcome(rawValue: String($0)) }
        let desk = api.desk(session)
        let shown = Self.queueRows
        let (status, rows) = try await api.serviceCall { () throws -> (ReconcileStatus, [ReconcileReportRow]) in
            let status = try desk.reconcileStatus(id)
            var rows: [ReconcileReportRow] = []
            try desk.reconcileRows(id, includeMissing: chosen == nil || chosen == .missing, exceptionsOnly: chosen == nil) { row in
                guard rows.count < shown, chosen == nil || row.outcome == chosen else { return }
                if chosen == nil && !(row.outcome.isException || row.conflicting || row.outcome == .missing) { return }
                rows.append(row)
            }
            return (status, rows)
        }
        let outcomes = ReconcileOutcome.allCases.map { outcome -> [String: Any] in
            ["name": t["o_" + outcome.rawValue] ?? outcome.rawValue, "code": outcome.rawValue,
             "items": Pages.count(Int64(status.items.count(outcome))), "amount": Pages.money(status.items.amount(outcome).dong),
             "lines": Pages.count(Int64(status.lines.count(outcome))), "chosen": outcome == chosen]
        }
        var notice = ""
        if let done = request.uri.queryParameters["done"], let file = status.files.first(where: { "\($0.id)" == String(done) }) {
            notice = "\(t["reconciled_file"]!) \(file.name) · \(Pages.count(Int64(file.lines))) \(t["lines"]!)"
        }
        let data: [String: Any] = [
            "id": id.rawValue, "period": status.batch.period.vietnamese, "notice": notice,
            "status": t["st_" + status.batch.status.rawValue] ?? status.batch.status.rawValue,
            "settled": status.isSettled, "notSent": Pages.count(Int64(status.notSent)),
            "outcomes": outcomes, "filters": outcomes.filter { ($0["code"] as? String).map { $0 != "paid" } ?? false },
            "files": status.files.map { ["name": $0.name, "lines": Pages.count(Int64($0.lines)), "profile": $0.profile,
                                         "at": Pages.date($0.importedAt), "by": $0.importedBy, "sha": String($0.sha256.prefix(16))] },
            "rows": rows.map { row -> [String: Any] in
                ["file": row.file, "line": row.line.map { "\($0)" } ?? "", "reference": row.reference,
                 "outcome": t["o_" + row.outcome.rawValue] ?? row.outcome.rawValue, "note": redactIdentifiers(row.note),
                 "expected": row.expectedAmount.map(Pages.money) ?? "", "reported": row.reportedAmount.map(Pages.money) ?? "",
                 "msisdn": row.msisdn.map { maskTail($0) } ?? "", "reason": redactIdentifiers([row.reasonCode, row.reasonText].filter { !$0.isEmpty }.joined(separator: " "))]
            },
            "truncated": rows.count >= shown, "shown": shown, "all": chosen == nil,
            "canUpload": session.account.role.may(.reconcile), "canRetry": session.account.role.may(.retryBatch), "csrf": session.csrfToken,
        ]
        return Pages.page("reconcile", title: "reconciliation", data, request: request, session: session)
    }

    static let queueRows = 500

    func uploadResults(_ request: Request, _ context: BasicRequestContext, _ session: Session) async throws -> Response {
        let id = try pageBatchID(context)
        try await api.checkBatch(id, session, may: .reconcile)
        let upload = try await Upload.receive(request, limit: api.options.maxUploadBytes, beside: ledger.location)
        defer { upload.remove() }
        try checkForm(session, upload.fields["csrf"])
        let result = try await api.reconcile(upload, batch: id, as: session)
        return Pages.redirect("/batches/\(id)/reconcile?done=\(result.fileID)")
    }

    // MARK: Registers and beneficiaries

    func uploadRegister(_ request: Request, _ session: Session) async throws -> Response {
        let upload = try await Upload.receive(request, limit: api.options.maxUploadBytes, beside: ledger.location)
        defer { upload.remove() }
        try checkForm(session, upload.fields["csrf"])
        let lang = Pages.language(request)
        let wording = lang == "en" ? Wording.english : Wording.vietnamese
        let t = words(request)
        let outcome = try await api.importRegister(upload, as: session)
        var data: [String: Any] = ["csrf": session.csrfToken]
        data["lines"] = outcome.lines.map { problem -> [String: Any] in
            ["line": problem.line, "message": redactIdentifiers(problem.problems.map { wording.words(for: $0) }.joined(separator: "; "))]
        }
        var status = HTTPResponse.Status.ok
        switch outcome.result {
        case .success(let result):
            data["result"] = ["file": result.file, "lines": Pages.count(Int64(result.lines)), "new": Pages.count(Int64(result.created)),
                              "updated": Pages.count(Int64(result.updated)), "unchanged": Pages.count(Int64(result.unchanged)),
                              "rejected": Pages.count(Int64(result.rejected)), "flags": Pages.count(Int64(result.flagsRaised)),
                              "already": result.alreadyImported]
        case .failure(let error):
            data["refused"] = wording.words(for: error.problem) + " " + t["nothing_imported"]!
            status = .unprocessableContent
        }
        return Pages.page("registers", title: "register_upload", data, request: request, session: session, status: status)
    }

    func beneficiaries(_ request: Request, _ session: Session, name text: String, commune communeText: String) async throws -> Response {
        var filter = BeneficiaryFilter(limit: Self.searchRows)
        if !communeText.isEmpty {
            guard let code = try? Code(parsing: communeText, field: "commune", uppercase: false) else {
                throw APIError(status: .unprocessableContent, code: "bad_communes", message: Words.vi("communes"))
            }
            filter.commune = code
        }
        filter.name = text.isEmpty ? nil : text
        let searched = filter, desk = api.desk(session)
        let found = try await api.serviceCall { try desk.beneficiaries(searched) }
        let names = try await api.serviceCall { try desk.communeNames() }
        let t = words(request)
        let data: [String: Any] = [
            "q": text, "commune": communeText, "searched": !text.isEmpty || !communeText.isEmpty,
            "rows": found.map(Self.row(t, names)), "truncated": found.count >= Self.searchRows, "shown": Self.searchRows, "csrf": session.csrfToken,
        ]
        return Pages.page("beneficiaries", title: "beneficiaries", data, request: request, session: session)
    }

    static let searchRows = 100

    static func row(_ t: [String: String], _ names: [String: String] = [:]) -> (Beneficiary) -> [String: Any] {
        { person in
            ["id": person.id.rawValue, "name": person.details.fullName, "nationalID": maskTail(person.details.nationalID.digits),
             "born": "\(person.details.dateOfBirth.day < 10 ? "0" : "")\(person.details.dateOfBirth.day)/\(person.details.dateOfBirth.month < 10 ? "0" : "")\(person.details.dateOfBirth.month)/\(person.details.dateOfBirth.year)",
             "commune": Pages.commune(person.details.commune.value, names), "category": person.details.category.value,
             "method": t["m_" + person.details.paymentMethod.rawValue] ?? person.details.paymentMethod.rawValue,
             "account": person.details.account.map { "\($0.carrier.value) \($0.msisdn.masked)" } ?? "",
             "status": t["b_" + person.status.rawValue] ?? person.status.rawValue]
        }
    }

    func beneficiary(_ request: Request, _ context: BasicRequestContext, _ session: Session) async throws -> Response {
        guard let key = context.parameters.get("id"), let number = Int64(key), number > 0 else {
            throw APIError(status: .notFound, code: "not_found", message: Words.vi("not_found"))
        }
        let desk = api.desk(session)
        let found: (person: Beneficiary, events: [BeneficiaryEvent], flags: [FraudFlag])
        do {
            found = try await blocking { try desk.beneficiary(BeneficiaryID(number)) }
        } catch let error as AccessError {
            throw API.apiError(error)
        } catch {
            throw APIError(status: .notFound, code: "not_found", message: Words.vi("not_found"))
        }
        let (person, events, flags) = found
        let names = try await api.serviceCall { try desk.communeNames() }
        let t = words(request)
        var data = Self.row(t, names)(person)
        data["events"] = events.reversed().map { event -> [String: Any] in
            ["at": Pages.date(event.at), "by": event.by, "kind": t["e_" + event.kind.rawValue] ?? event.kind.rawValue, "field": event.field ?? "",
             "old": redactIdentifiers(event.oldValue ?? ""), "new": redactIdentifiers(event.newValue ?? ""), "reason": redactIdentifiers(event.reason ?? "")]
        }
        data["flags"] = flags.map { flag -> [String: Any] in
            ["id": flag.id, "kind": t["f_" + flag.kind.rawValue] ?? flag.kind.rawValue, "evidence": flag.shownEvidence(reveal: false),
             "raised": Pages.date(flag.raisedAt), "open": flag.clearedAt == nil,
             "cleared": flag.clearedAt.map { "\(flag.clearedBy ?? "") · \(Pages.date($0)) · \(redactIdentifiers(flag.clearReason ?? ""))" } ?? ""]
        }
        data["canClear"] = session.account.role.may(.clearFlag)
        data["csrf"] = session.csrfToken
        return Pages.page("beneficiary", title: "beneficiary", data, request: request, session: session)
    }

    func clearFlag(_ request: Request, _ context: BasicRequestContext, _ session: Session) async throws -> Response {
        let form = try await Pages.form(request)
        try checkForm(session, form["csrf"])
        guard let text = context.parameters.get("id"), let id = Int64(text), id > 0 else {
            throw APIError(status: .notFound, code: "not_found", message: Words.vi("not_found"))
        }
        let reason = form["reason"]?.trimmingSpaces ?? ""
        guard !reason.isEmpty else { throw APIError(status: .unprocessableContent, code: "reason_needed", message: Words.vi("reason_needed")) }
        let desk = api.desk(session)
        let flag: FraudFlag
        do {
            flag = try await api.serviceCall { try desk.clearFlag(id, reason: reason) }
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(status: .unprocessableContent, code: "refused", message: redactIdentifiers(String(describing: error)))
        }
        return Pages.redirect("/beneficiaries/\(flag.beneficiaryID)")
    }

    // MARK: Audit, activity, accounts

    /// The auditor's page: the ledger's check (run when asked: `?verify=1`, it reads the whole journal) and the export.
    func audit(_ request: Request, _ session: Session) async throws -> Response {
        let t = words(request)
        var data: [String: Any] = ["csrf": session.csrfToken, "period": ledger.clock.now().vietnamPeriod.description,
                                   "canExport": session.account.role.may(.exportAudit) && api.options.auditKey != nil,
                                   "noKey": api.options.auditKey == nil]
        if request.uri.queryParameters["verify"] != nil {
            let desk = api.desk(session)
            let result = try await api.serviceCall { try desk.verifyLedger() }
            data["verified"] = ["ok": result.isIntact, "entries": Pages.count(Int64(result.entries)), "links": Pages.count(Int64(result.registerLinks)),
                                "head": result.headHash,
                                "verdict": result.isIntact ? t["verify_ok"]! : t["verify_broken"]!,
                                "problems": result.problems.prefix(50).map { redactIdentifiers($0.description) }]
        }
        return Pages.page("audit", title: "audit", data, request: request, session: session)
    }

    func auditExport(_ request: Request, _ session: Session) async throws -> Response {
        let form = try await Pages.form(request)
        try checkForm(session, form["csrf"])
        let text = form["period"]?.trimmingSpaces ?? ""
        var scope = AuditScope.all
        if !text.isEmpty {
            guard let period = try? Period(parsing: text) else { throw APIError(status: .unprocessableContent, code: "bad_period", message: Words.vi("period")) }
            scope = .period(period)
        }
        let (bytes, name) = try await api.auditZip(scope, as: session)
        return Response(status: .ok, headers: [.contentType: "application/zip", .contentDisposition: "attachment; filename=\"\(name).zip\""],
                        body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    func activity(_ request: Request, _ session: Session) async throws -> Response {
        let desk = api.desk(session)
        let entries = try await api.serviceCall { try desk.activity(limit: 500) }
        let t = words(request)
        let data: [String: Any] = ["rows": entries.map { ["at": Pages.date($0.at), "account": $0.account, "what": t["a_" + $0.what] ?? $0.what,
                                                          "detail": redactIdentifiers($0.detail)] }]
        return Pages.page("activity", title: "activity", data, request: request, session: session)
    }

    func accounts(_ request: Request, _ session: Session, shown: [String: Any], status: HTTPResponse.Status = .ok) async throws -> Response {
        let desk = api.desk(session)
        let list = try await api.serviceCall { try desk.accounts() }
        let t = words(request)
        var data = shown
        data["csrf"] = session.csrfToken
        data["roles"] = Role.allCases.map { ["code": $0.rawValue, "name": t["r_" + $0.rawValue] ?? $0.rawValue] }
        data["rows"] = list.map { account -> [String: Any] in
            ["name": account.name.value, "role": t["r_" + account.role.rawValue] ?? account.role.rawValue,
             "communes": account.communes.isEmpty ? t["all_communes"]! : account.communes.map(\.value).joined(separator: ", "),
             "disabled": account.disabled, "created": "\(account.createdBy) · \(Pages.date(account.createdAt))",
             "self": account.name.isSamePerson(as: session.account.name)]
        }
        return Pages.page("accounts", title: "accounts", data, request: request, session: session, status: status)
    }

    /// A new account; the one-time-code URI of an approver or admin is shown once, on this answer only.
    func addAccount(_ request: Request, _ session: Session) async throws -> Response {
        let form = try await Pages.form(request)
        try checkForm(session, form["csrf"])
        let t = words(request)
        guard let name = try? UserName(parsing: form["name"] ?? ""), let role = Role(rawValue: form["role"] ?? "") else {
            return try await accounts(request, session, shown: ["message": t["account_fields"]!], status: .unprocessableContent)
        }
        var communes: [Code] = []
        for text in (form["communes"] ?? "").split(whereSeparator: { $0 == " " || $0 == "," }) {
            guard let code = try? Code(parsing: String(text), field: "commune", uppercase: false) else {
                return try await accounts(request, session, shown: ["message": Words.vi("communes")], status: .unprocessableContent)
            }
            communes.append(code)
        }
        let password = form["password"] ?? "", desk = api.desk(session), chosen = communes
        do {
            let (account, uri) = try await blocking { try desk.addAccount(name, role: role, communes: chosen, password: password) }
            return try await accounts(request, session, shown: ["added": account.name.value, "otpURI": uri ?? ""])
        } catch let error as AccessError {
            return try await accounts(request, session, shown: ["message": t["ae_" + error.code] ?? redactIdentifiers(error.description)], status: .unprocessableContent)
        }
    }

    func disableAccount(_ request: Request, _ context: BasicRequestContext, _ session: Session) async throws -> Response {
        let form = try await Pages.form(request)
        try checkForm(session, form["csrf"])
        guard let name = try? UserName(parsing: context.parameters.get("name") ?? "") else {
            throw APIError(status: .notFound, code: "not_found", message: Words.vi("not_found"))
        }
        let desk = api.desk(session), t = words(request)
        do {
            try await blocking { try desk.disableAccount(name) }
        } catch let error as AccessError {
            return try await accounts(request, session, shown: ["message": t["ae_" + error.code] ?? redactIdentifiers(error.description)], status: .unprocessableContent)
        }
        return Pages.redirect("/accounts")
    }
}
