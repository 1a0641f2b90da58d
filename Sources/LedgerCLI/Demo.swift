import AllowanceLedger
import AllowanceOffice
import AllowanceServer
import ArgumentParser
import Reconcile
#if canImport(Glibc)
import Glibc
#endif

extension Allowance {
    struct Demo: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run one month end to end on a generated office: 18 communes, about 4,000 beneficiaries.",
            discussion: "Everything lands in --dir (default ./allowance-demo), which is started afresh; a folder holding a ledger the demo did not make is refused.")

        @Option(help: "Folder for the demo's ledger and files.") var dir: String = "allowance-demo"
        @Option(help: "Beneficiaries to generate.") var count: Int = 4_000
        @Option(help: "Seed for the generated register.") var seed: UInt64 = 2026
        @Flag(help: "Then serve the office's web application on the demo's ledger, with an account for each role.") var serve = false
        @Option(help: "With --serve: the port to listen on.") var port = 8080

        func run() throws {
            guard count >= 20, count <= 1_000_000 else { throw CommandError("--count must be between 20 and 1,000,000") }
            try prepare(dir)
            let db = "\(dir)/allowance.sqlite"
            let ledger = try openLedger(path: db)
            try ledger.audit.setOfficeName("UBND xã Tân Phú (demo)", by: try UserName(parsing: "head.minh"))
            let now = ledger.clock.now().date
            let period = Period(year: now.year, month: now.month)!
            let officer = try UserName(parsing: "officer.lan")
            let head = try UserName(parsing: "head.minh")
            let auditor = try UserName(parsing: "auditor.hoa")
            func step(_ text: String) { print("\n== \(text)") }

            step("1. Register: the commune list, then \(count) beneficiaries in 18 communes")
            // Invented names, and the list says so: no real commune is passed off.
            let communes = "\(dir)/communes.csv"
            let communeWriter = try CSVWriter(path: communes, neutralisesFormulas: false)
            try communeWriter.row(CommuneList.columns)
            for (index, code) in RegisterGenerator.defaultCommunes.enumerated() {
                try communeWriter.row([code, Self.inventedCommuneNames[index % Self.inventedCommuneNames.count], "99", "Tỉnh Thử Nghiệm (tên giả)",
                                       "2025-07-01", index == 0 ? Self.mergedCommune : "", "invented for the demo; not a real commune"])
            }
            try communeWriter.commit()
            let loaded = try ledger.registry.importCommunes(path: communes, by: officer)
            print("Loaded \(communes): \(loaded.created) communes (invented names); old code \(Self.mergedCommune) is read as \(RegisterGenerator.defaultCommunes[0]).")
            let register = "\(dir)/register.csv"
            var generator = RegisterGenerator(count: count, seed: seed)
            generator.sharedNumbersPerTenThousand = 50
            try generator.write(to: register)
            let imported = try ledger.registry.importRegister(path: register, options: RegisterImportOptions(by: officer))
            print("Imported \(register): \(imported.created) new beneficiaries; \(imported.flagsRaised) flag(s) raised for shared phone numbers.")
            let again = try ledger.registry.importRegister(path: register, options: RegisterImportOptions(by: officer))
            print("Importing the same file again: already imported = \(again.alreadyImported); nothing changed.")

            step("2. An update from a commune: changes recorded in history, a bad line rejected, the rest kept")
            let update = "\(dir)/register-update.csv"
            let sample = try ledger.registry.beneficiaries(BeneficiaryFilter(status: .active, method: .cash, limit: 2))
            let writer = try CSVWriter(path: update, neutralisesFormulas: false)
            try writer.row(RawRegisterFields.basicColumns)
            for b in sample {
                let d = b.details
                try writer.row([d.nationalID.digits, d.fullName, d.dateOfBirth.description, d.gender.rawValue, d.commune.value,
                                d.category.value, "mobile_money", "VIETTEL", "0986" + String(b.id.rawValue % 1_000_000 + 100_000).suffix(6)])
            }
            try writer.row(["079146000123", "Trần Thị Bé", "1946-03-08", "F", RegisterGenerator.defaultCommunes[0], "ELDERLY_80", "mobile_money", "VNPT", "0243 987 6543"])
            // Turned 80 last month, registered at 1.5: from this month 2.0 (ELDERLY_POOR_80), the month after the birthday.
            let eightieth = period.previous
            let bornYear = eightieth.year - 80
            try writer.row(["0010\(String(bornYear).suffix(2))000789", "Lê Văn Thọ", "\(bornYear)-\(eightieth.month < 10 ? "0" : "")\(eightieth.month)-15", "M",
                            RegisterGenerator.defaultCommunes[1], "ELDERLY_POOR", "mobile_money", "VIETTEL", "0912 000 789"])
            // Written by a commune that still uses its code from before the merger.
            try writer.row(["001146000456", "Đỗ Thị Hoa", "1946-05-20", "F", Self.mergedCommune, "ELDERLY_80", "mobile_money", "VIETTEL", "0912 000 456"])
            try writer.commit()
            var options = RegisterImportOptions(by: officer)
            options.skipInvalid = true
            let updated = try ledger.registry.importRegister(path: update, options: options, onProblem: { print("  rejected \($0)") })
            print("Imported \(update): \(updated.updated) updated (now on mobile money), \(updated.created) new, \(updated.rejected) rejected -> \(updated.rejectsPath ?? "")")
            for (old, lines) in updated.communesReplaced.sorted(by: { $0.key < $1.key }) {
                print("  \(lines) line(s) named commune \(old), merged into \(RegisterGenerator.defaultCommunes[0]); imported under the new code.")
            }

            step("3. Fraud safeguards: account changes just before the batch, and shared numbers")
            let mobile = try ledger.registry.beneficiaries(BeneficiaryFilter(status: .active, method: .mobileMoney, limit: 40))
            for (index, b) in mobile.suffix(3).enumerated() {
                _ = try ledger.registry.updateAccount(of: b.id.description, .change(MobileMoneyAccount(carrier: Code(trusted: "VNPT"),
                                             msisdn: try MSISDN(parsing: "0912\(pad6(index + 300_100))"))),
                                             reason: "beneficiary reported a new SIM", by: officer)
            }
            var flags = try ledger.registry.flags()
            print("Open flags: \(flags.filter { $0.kind == .sharedMSISDN }.count) shared number, \(flags.filter { $0.kind == .recentAccountChange }.count) recent account change.")
            if let first = flags.first(where: { $0.kind == .recentAccountChange }) {
                _ = try ledger.registry.clearFlag(first.id, reason: "confirmed with the beneficiary in person at the commune", by: head)
                print("Head of office cleared flag \(first.id) after checking in person.")
            }
            flags = try ledger.registry.flags()

            step("4. Batch for \(period): created by the officer, approved by the head of office")
            let due = try ledger.payouts.dueChanges(period: period)
            print("Before the batch, `beneficiary due --period \(period)`: \(due.changes.filter { $0.kind == .category }.count) category change(s) by age, "
                + "\(due.changes.filter { $0.kind == .qualified }.count) new qualification(s) for the social pension.")
            let created = try ledger.payouts.createBatch(BatchCreateOptions(period: period, by: officer))
            print("Batch \(created.batch.id): \(created.items) items, \(created.total.shown) (\(created.mobileMoneyItems) mobile money, \(created.cashItems) cash); \(created.batch.heldOut) held out by flags.")
            for change in created.changes where change.kind == .category {
                print("  Birthday: beneficiary \(change.beneficiary), born \(change.dateOfBirth), moved from \(change.from) to \(change.to) at \(change.age) "
                    + "(recorded in the history; `allowance beneficiary history \(change.beneficiary)`).")
            }
            if created.twoBenefits > 0 {
                print("  One benefit a person: \(created.twoBenefits) qualify for both a social allowance and the social pension; each is paid the higher once "
                    + "(\(created.paidByAge.values.reduce(0, +)) the pension).")
            }
            do {
                _ = try ledger.payouts.approveBatch(created.batch.id, by: officer)
            } catch {
                print("The officer tries to approve their own batch: refused (\(error)).")
            }
            let approved = try ledger.payouts.approveBatch(created.batch.id, by: head)
            print("Approved by \(head); entitlements posted as entry \(approved.entry).")

            step("5. Budget received, instruction file for the carriers, cash paid at the communes")
            let budget = Money(dong: (created.total.dong / 1_000_000 + 1) * 1_000_000)
            _ = try ledger.journal.fund(amount: budget, reference: "QĐ-\(period.compact)/UBND", by: head)
            print("Budget of \(budget.shown) recorded.")
            let instructions = "\(dir)/instructions-\(period).csv"
            let exported = try ledger.payouts.exportBatch(created.batch.id, to: instructions, by: officer)
            print("Wrote \(exported.lines) payment instructions (\(exported.total.shown)) to \(instructions); sent per carrier: "
                + exported.transfersPosted.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.shown)" }.joined(separator: ", "))
            let again2 = try ledger.payouts.exportBatch(created.batch.id, to: instructions, by: officer)
            print("Exporting again rewrote the same file and posted \(again2.transfersPosted.count) transfer(s).")
            let advance = try ledger.payouts.advanceCash(created.batch.id, by: officer)
            print("Cash handed to \(advance.perCommune.count) commune cash desks: \(Money(dong: advance.perCommune.values.reduce(0) { $0 + $1.dong }).shown).")
            let cash = try ledger.payouts.settleCash(created.batch.id, .all, by: officer)
            print("Cash paid at the communes: \(cash.settled) items, \(cash.amount.shown).")

            step("6. Auditor: reconcile the carriers' result file, then retry what failed")
            let results = "\(dir)/results-\(period).csv"
            var resultGenerator = ResultGenerator(seed: seed)
            resultGenerator.order = .batch
            _ = try ledger.writeResults(resultGenerator, batch: created.batch.id, to: results)
            var reconcileOptions = ReconcileOptions(by: auditor)
            reconcileOptions.displayName = results
            let reconciled = try ledger.reconciliation.reconcileResultFile(results, batch: created.batch.id, options: reconcileOptions)
            print("Reconciled \(results): \(reconciled.lines) lines; "
                + ReconcileOutcome.allCases.filter { reconciled.totals.count($0) > 0 }.map { "\($0.rawValue) \(reconciled.totals.count($0))" }.joined(separator: ", "))
            print("Settled \(reconciled.settled.shown); \(reconciled.exceptions) exception(s) to work; the carriers still hold "
                + "\(Money(dong: reconciled.clearingOpen.values.reduce(0) { $0 + $1.dong }).shown) for the pending and missing items.")
            let report = "\(dir)/reconciliation-\(period).csv"
            try ReconcileReport.write(to: report, reconciliation: ledger.reconciliation, batch: created.batch.id, fileID: reconciled.fileID, reveal: false)
            let again3 = try ledger.reconciliation.reconcileResultFile(results, batch: created.batch.id, options: reconcileOptions)
            print("Reconciling the same file again: already imported = \(again3.alreadyImported); nothing changed.")
            var retryFiles = "none (nothing failed or went missing)"
            do {
                let retry = try ledger.payouts.retryBatch(created.batch.id, by: officer)
                _ = try ledger.payouts.approveBatch(retry.batch.id, by: head)
                if retry.missing > 0 {
                    // The missing items' first transfer is still with the carrier: the retry needs fresh funds.
                    _ = try ledger.journal.fund(amount: retry.total, reference: "QĐ-\(period.compact)/BS", by: head)
                }
                let retryInstructions = "\(dir)/instructions-\(period)-retry.csv"
                _ = try ledger.payouts.exportBatch(retry.batch.id, to: retryInstructions, by: officer)
                print("Retry batch \(retry.batch.id): \(retry.failed) failed and \(retry.missing) missing item(s), \(retry.total.shown), approved by \(head) "
                    + "(no new expense: the payable moved over) and sent to the carriers.")
                var retryGenerator = resultGenerator
                retryGenerator.mix = ResultMix(weights: [(.paid, 1)])
                let retryResults = "\(dir)/results-\(period)-retry.csv"
                _ = try ledger.writeResults(retryGenerator, batch: retry.batch.id, to: retryResults)
                var retryOptions = reconcileOptions
                retryOptions.displayName = retryResults
                let retried = try ledger.reconciliation.reconcileResultFile(retryResults, batch: retry.batch.id, options: retryOptions)
                let settled = retried.clearingOpen.values.allSatisfy { $0 == .zero }
                print("Retry reconciled: \(retried.totals.count(ReconcileOutcome.paid)) paid; its carrier clearing is \(settled ? "settled" : "still open").")
                retryFiles = "\(retryInstructions), \(retryResults)"
            } catch BatchError.nothingToRetry {
                print("Nothing to retry: every item sent was paid or is still being worked.")
            }

            step("6b. A one-off payment: the Tết gift, 400,000 đ to each beneficiary, once")
            let gift = try OneOffPayment(name: "Quà Tết \(period.year + 1)", amount: Money(dong: 400_000))
            var giftOptions = BatchCreateOptions(period: period, by: officer)
            giftOptions.oneOff = gift
            let giftBatch = try ledger.payouts.createBatch(giftOptions)
            _ = try ledger.payouts.approveBatch(giftBatch.batch.id, by: head)
            _ = try ledger.journal.fund(amount: giftBatch.total, reference: "QĐ-\(period.compact)/TET", by: head)
            let giftInstructions = "\(dir)/instructions-tet-\(period).csv"
            let giftExported = try ledger.payouts.exportBatch(giftBatch.batch.id, to: giftInstructions, by: officer)
            print("Batch \(giftBatch.batch.id) \"\(gift.name)\": \(giftBatch.items) items, \(giftBatch.total.shown), approved by \(head); "
                + "\(giftExported.lines) instructions to \(giftInstructions), narrative \"\(giftBatch.batch.narrative)\".")
            do {
                _ = try ledger.payouts.createBatch(giftOptions)
            } catch {
                print("Making it again: refused (\(error)).")
            }

            step("7. Auditor: verify the ledger and read the balances")
            let verification = try ledger.journal.verify()
            print("Ledger \(verification.isIntact ? "intact" : "BROKEN"): \(verification.entries) entries, \(verification.postings) postings; chain head \(verification.headHash.prefix(16))…")
            var perAccount: [(LedgerAccount, Int64)] = []
            for balance in try ledger.journal.balances() {
                if let last = perAccount.last, last.0 == balance.account {
                    perAccount[perAccount.count - 1].1 += balance.balance.dong
                } else {
                    perAccount.append((balance.account, balance.balance.dong))
                }
            }
            for (account, dong) in perAccount {
                print("  \(account.rawValue) \(account.name): \(Money(dong: dong).shown)")
            }
            print("The carrier clearing (1100) holds what the carriers have not reported on yet; the payable (2000) what is still owed.")

            step("8. Auditor: a signed audit export, checked offline")
            let keyPath = "\(dir)/audit.key"
            let key = try AuditKey.generate()
            try KeyFile.write(key.fileContents, path: keyPath, mode: 0o600)
            let exportDir = "\(dir)/audit-export"
            let audit = try ledger.audit.export(to: exportDir, scope: .period(period), personalData: .masked, key: key, by: auditor)
            print("Export \(audit.exportID) of \(period) written to \(exportDir): \(audit.files.map { "\($0.name) (\($0.rows))" }.joined(separator: ", ")); "
                + "national IDs pseudonymised, numbers masked, manifest signed with key \(audit.keyID).")
            let checked = try AuditVerifier.verify(directory: exportDir, key: key, publicKey: nil)
            print("Verified offline: \(checked.passed ? "every check holds" : "\(checked.findings.count) check(s) FAILED") "
                + "(signature, \(checked.checked.count - 1) files' hashes, rows and totals, the journal chain, the batch seals).")

            step("9. Official: the share of recipients paid non-cash")
            let noncash = try ledger.reports.nonCash(from: period, to: period, grouping: .commune, target: Share(basisPoints: 7_000))
            let lagging = noncash.rows.filter { noncash.isBelowTarget($0.figures) }
            print("\(Money(dong: noncash.total.noncashRecipients).grouped) of \(Money(dong: noncash.total.recipients).grouped) recipients paid non-cash "
                + "(\(noncash.total.noncashShare?.vietnamese ?? "—")); \(lagging.count) of \(noncash.rows.count) communes below the \(noncash.target.vietnamese) target, "
                + "lowest \(noncash.rows.first.map { "\($0.label) at \($0.figures.noncashShare?.vietnamese ?? "—")" } ?? "none").")
            let html = "\(dir)/noncash-\(period).html"
            try writeTextFile(noncash.html(office: try ledger.audit.officeName()), to: html)
            print("Report written to \(html) (one self-contained page: open it in a browser or print it on A4).")

            step("Files")
            print("  ledger        \(db)")
            print("  register      \(register)")
            print("  update        \(update) (rejects: \(updated.rejectsPath ?? "none"))")
            print("  instructions  \(instructions)")
            print("  results       \(results) (reconciliation report: \(report))")
            print("  retry         \(retryFiles)")
            print("  one-off       \(giftInstructions)")
            print("  report        \(html)")
            print("  audit export  \(exportDir) (key \(keyPath); check it with: allowance audit verify \(exportDir) --key \(keyPath))")
            print("\nThe non-cash report for officials: \(html)")
            print("Try: allowance reconcile status \(created.batch.id) --db \(db)   |   allowance batch show \(created.batch.id) --db \(db)   |   allowance ledger verify --db \(db)")
            if serve { try serveDemo(ledger, key: key) }
        }

        /// One account per role with a password made for this run, written to `demo-accounts.txt` (0600) and shown once;
        /// the approver and the admin also get their one-time-code URI for an authenticator app. Then the server.
        private func serveDemo(_ ledger: AllowanceOffice.Ledger, key: AuditKey) throws {
            step10()
            let password = "demo-" + Hex.encode(try SecureRandom.bytes(6))
            let setup = try UserName(parsing: "demo.setup")
            var lines = ["# allowance demo --serve: the demo's accounts (invented office; every account has the same password).",
                         "password: \(password)"]
            for (name, role) in [("officer.lan", Role.officer), ("head.minh", .approver), ("auditor.hoa", .auditor), ("official.tu", .official),
                                 ("admin.an", .admin)] {
                let (_, uri) = try ledger.accounts.add(try UserName(parsing: name), role: role, communes: [], password: password, by: setup)
                lines.append("\(name) (\(role.rawValue))" + (uri.map { ": one-time code from an authenticator app with \($0)" } ?? ""))
            }
            let file = "\(dir)/demo-accounts.txt"
            try parsed { () throws(FileError) in try writeTextFile(lines.joined(separator: "\n") + "\n", to: file) }
            chmod(file, 0o600)
            for line in lines.dropFirst(2) { print("  " + line) }
            print("  The accounts' password is in \(file) (readable by you alone).")
            var options = ServerOptions()
            options.port = port
            options.auditKey = key
            print("Open http://127.0.0.1:\(port)/ and log in as official.tu for the dashboard, or as auditor.hoa for the reconciliation.")
            try Serve.serve(ledger, options)
        }

        private func step10() { print("\n== 10. The office's web application (Vietnamese; English by the link at the top)") }

        private func pad6(_ value: Int) -> String { String(String(value).suffix(6)) }

        /// Marks a folder the demo made its ledger in: only such a folder's ledger is the demo's to replace.
        static let marker = ".allowance-demo"
        /// The demo's commune names: made up (the list's `source` says so), Vietnamese in form only.
        static let inventedCommuneNames = [
            "Xã Minh Phú", "Xã An Hòa", "Phường Tân Lạc", "Xã Hòa Bình", "Xã Đông Sơn", "Phường Thành Công", "Xã Phú Xuân",
            "Xã Yên Thế", "Xã Bình Minh", "Phường Quang Trung", "Xã Tiên Phong", "Xã Hưng Đạo", "Xã Nam Sơn", "Phường Hòa Lạc",
            "Xã Kim Liên", "Xã Vĩnh Hưng", "Xã Trung Hòa", "Phường Bắc Sơn",
        ].map { $0 + " (tên giả)" }
        /// An invented commune merged into the first one on 2025-07-01.
        static let mergedCommune = "26731"

        /// Starts the demo folder afresh: only the demo's own files are removed, and a ledger only where the demo made it.
        private func prepare(_ dir: String) throws {
            mkdir(dir, 0o700)
            var info = stat()
            guard stat(dir, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else { throw CommandError("cannot create folder \(dir)") }
            let ledgerFiles = ["allowance.sqlite", "allowance.sqlite-wal", "allowance.sqlite-shm"]
            if access("\(dir)/\(Self.marker)", F_OK) != 0 {
                if ledgerFiles.contains(where: { access("\(dir)/\($0)", F_OK) == 0 }) {
                    throw CommandError("\(dir) holds a ledger (allowance.sqlite) the demo did not make; it is left alone: give the demo a folder of its own (--dir)")
                }
                try parsed { () throws(FileError) in try writeTextFile("This folder holds `allowance demo`'s ledger and files; the demo replaces them.\n",
                                                                       to: "\(dir)/\(Self.marker)") }
            }
            for name in ["allowance.sqlite", "allowance.sqlite-wal", "allowance.sqlite-shm", "register.csv", "register-update.csv",
                         "register-update.csv.rejected.csv", "audit.key", "demo-accounts.txt"] {
                unlink("\(dir)/\(name)")
            }
            // The earlier audit export: only the files an export holds, then the folder if that emptied it.
            for name in AuditFormat.fileNames + [AuditFormat.manifestName, AuditFormat.hmacName, AuditFormat.ed25519Name] {
                unlink("\(dir)/audit-export/\(name)")
            }
            rmdir("\(dir)/audit-export")
        }
    }
}
