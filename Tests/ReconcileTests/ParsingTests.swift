import AllowanceLedger
import LedgerSQLite
import Foundation
import PropertyBased
import Testing
@testable import Reconcile

@Suite struct StatusWordTests {
    @Test(arguments: [
        ("SUCCESS", CarrierStatus.paid), ("succeeded", .paid), ("Ok", .paid), ("paid", .paid), ("Completed", .paid),
        ("Thành công", .paid), ("THÀNH CÔNG", .paid), ("thanh cong", .paid), ("  Thành   công ", .paid),
        ("FAILED", .failed), ("fail", .failed), ("Error", .failed), ("REJECTED", .failed), ("Thất bại", .failed), ("THAT BAI", .failed),
        ("PENDING", .pending), ("processing", .pending), ("Đang xử lý", .pending), ("dang xu ly", .pending),
        ("REVERSED", .reversed), ("Refunded", .reversed), ("Hoàn tiền", .reversed), ("hoan tien", .reversed),
    ])
    func builtInWordsIgnoreCaseAndDiacritics(word: String, status: CarrierStatus) {
        #expect(CarrierProfile.generic.status(of: word) == status)
    }

    @Test(arguments: ["", "MAYBE", "Thành", "00", "success!"])
    func unknownWordsAreNotGuessed(word: String) {
        #expect(CarrierProfile.generic.status(of: word) == nil)
    }

    @Test func foldingDropsDiacriticsCaseAndExtraSpaces() {
        #expect(foldForMatching("Số tiền (VNĐ)") == "so tien (vnd)")
        #expect(foldForMatching("carrier_txn_id") == "carrier txn id")
        #expect(foldForMatching("  Mã   GD ") == "ma gd")
    }
}

@Suite struct ItemReferenceTests {
    @Test func readsTheReferenceBatchCreateWrites() throws {
        let reference = try #require(ItemReference("AL-202611-000001-0000042"))
        #expect(reference.periodCompact == 202611 && reference.batch == BatchID(1) && reference.seq == 42)
        #expect(ItemReference(" al-202611-000001-0000042 ")?.seq == 42)
        #expect(ItemReference("AL-202611-1234567-12345678")?.batch == BatchID(1_234_567))
    }

    @Test(arguments: ["", "AL-", "AL-2026-000001-0000001", "AL-202611-000001", "AL-202611-000001-", "AL-202611-0000x1-0000001",
                      "BL-202611-000001-0000001", "AL-202611-000001-0000001-1", "AL-202611--0000001",
                      "AL-99999999999999999999999-1-1", "AL-202611-99999999999999999999-1"])
    func refusesAnythingElse(text: String) {
        #expect(ItemReference(text) == nil)
    }
}

@Suite struct DateFormatTests {
    @Test(arguments: [
        ("2026-11-30", "2026-11-30"), ("2026-11-30T10:15:00", "2026-11-30T10:15:00"), ("2026-11-30 10:15", "2026-11-30T10:15:00"),
        ("2026-11-30T10:15:00Z", "2026-11-30T10:15:00Z"), ("2026-11-30T10:15:00.123+07:00", "2026-11-30T10:15:00+07:00"),
        ("2026-11-30T10:15:00+0700", "2026-11-30T10:15:00+07:00"),
    ])
    func iso8601(text: String, stored: String) {
        #expect(DateFormat.iso8601.normalize(text) == stored)
    }

    @Test(arguments: ["30/11/2026", "2026-11-31", "2026-13-01", "2026-11-30T25:00:00", "2026-11-30T10:15:00+07", "2026-11-30X", "tomorrow"])
    func iso8601Refuses(text: String) {
        #expect(DateFormat.iso8601.normalize(text) == nil)
    }

    @Test func patterns() throws {
        let dayFirst = try DateFormat(parsing: "dd/MM/yyyy HH:mm:ss")
        #expect(dayFirst.normalize("30/11/2026 09:05:07") == "2026-11-30T09:05:07")
        #expect(dayFirst.normalize("30/11/2026") == nil)
        #expect(dayFirst.normalize("31/11/2026 09:05:07") == nil)
        #expect(try DateFormat(parsing: "yyyyMMdd").normalize("20261130") == "2026-11-30")
        #expect(throws: FieldError.self) { try DateFormat(parsing: "HH:mm") }
    }
}

@Suite struct ProfileFileTests {
    @Test func theSampleProfilesLoad() throws {
        let viettel = try CarrierProfile(contentsOf: Golden.sample("profiles/viettel.profile"))
        #expect(viettel.name == "viettel" && viettel.delimiter == UInt8(ascii: ";"))
        #expect(viettel.status(of: "00") == .paid && viettel.status(of: "05") == .failed && viettel.status(of: "Thành công") == .paid)
        let vnpt = try CarrierProfile(contentsOf: Golden.sample("profiles/vnpt.profile"))
        #expect(vnpt.columnNames(for: .reference) == ["transaction ref", "reference"])
        let generic = try CarrierProfile(contentsOf: Golden.sample("profiles/generic.profile"))
        #expect(generic.name == "generic" && generic.dateFormat == .iso8601)
        #expect(try CarrierProfile.load("vnpt", searching: [Golden.sample("profiles")]).name == "vnpt")
        #expect(try CarrierProfile.load("generic", searching: []) == .generic)
    }

    @Test(arguments: [
        ("name = x\ncolour = red\n", 2, "unknown key colour; keys are name, description, delimiter, date_format, column.<field>, status.<status>"),
        ("name = x\ndelimiter = :\n", 2, "delimiter \":\" is not one of , ; tab |"),
        ("name = x\ncolumn.phone = SĐT\n", 2, "column.phone names no field; fields are reference, msisdn, amount, status, carrier_txn_id, completed_at, reason_code, reason_text"),
        ("name = x\nstatus.done = OK\n", 2, "status.done names no status; statuses are paid, failed, pending, reversed"),
        ("name = x\nstatus.paid = 00\nstatus.failed = 01 | 00\n", 3, "status word \"00\" is already paid"),
        ("name = x\nname = y\n", 2, "name is already set on line 1"),
        ("name = x\nthis line has no equals\n", 2, "expected `key = value`"),
        ("name = x\ndate_format = HH:mm\n", 2, "date_format \"HH:mm\" needs yyyy, MM and dd (and may have HH, mm, ss), or iso8601"),
        ("# no name\ndelimiter = ;\n", 0, "has no `name = …` line"),
        ("name = x\ncolumn.amount = Tiền\ncolumn.reference = tien\n", 0, "column \"tien\" is mapped to both reference and amount"),
    ])
    func badProfilesNameTheLineAndTheFix(text: String, line: Int, reason: String) {
        #expect(throws: ProfileError(file: "bad.profile", line: line, reason: reason)) { try CarrierProfile(parsing: text, file: "bad.profile") }
    }

    @Test func anUnknownProfileNameSaysWhereItLooked() {
        #expect(throws: ProfileError.self) { try CarrierProfile.load("nowhere", searching: ["/tmp/none"]) }
    }
}

@Suite struct SampleFileTests {
    /// The README's walk-through: the sample register, November's batch, and the three carriers' sample result files.
    @Test func theSampleResultFilesReconcileWithTheirProfiles() throws {
        let folder = Folder()
        let store = try Store(path: folder.file("ledger.sqlite"), clock: .fixed(try Timestamp(parsing: "2026-11-25T08:00:00Z")))
        _ = try store.registry.importRegister(path: Golden.sample("register.csv"), options: RegisterImportOptions(by: user("officer")))
        let batch = try store.payouts.createBatch(BatchCreateOptions(period: try Period(parsing: "2026-11"), by: user("maker"))).batch.id
        _ = try store.payouts.approveBatch(batch, by: user("checker"))
        _ = try store.payouts.exportBatch(batch, to: folder.file("instructions.csv"), by: user("officer"))
        func reconcile(_ file: String, _ profile: String) throws -> ReconciliationResult {
            var options = ReconcileOptions(by: user("auditor"))
            options.profile = try CarrierProfile.load(profile, searching: [Golden.sample("profiles")])
            options.displayName = file
            return try store.reconciliation.reconcileResultFile(Golden.sample(file), batch: batch, options: options)
        }
        let viettel = try reconcile("results-viettel.csv", "viettel")
        #expect(viettel.lines == 11 && viettel.count(.paid) == 9 && viettel.count(.failed) == 1 && viettel.count(.pending) == 1)
        #expect(viettel.exceptions == 0)
        let vnpt = try reconcile("results-vnpt.csv", "vnpt")
        #expect(vnpt.lines == 2 && vnpt.count(.paid) == 1 && vnpt.count(.failed) == 1 && vnpt.exceptions == 0)
        let generic = try reconcile("results-generic.csv", "generic")
        #expect(generic.lines == 5 && generic.count(.paid) == 4 && generic.count(.duplicate) == 1 && generic.exceptions == 0)
        #expect(generic.count(.missing) == 0)
        let path = folder.file("report.csv")
        try ReconcileReport.write(to: path, reconciliation: store.reconciliation, batch: batch, fileID: nil, reveal: false)
        Golden.expect(try String(contentsOfFile: path, encoding: .utf8), matches: "samples.expected.csv")
        #expect(try store.journal.verify().isIntact)
        let status = try store.reconciliation.status(batch: batch)
        #expect(status.items.count(.pending) == 1 && status.items.count(.failed) == 2 && !status.isSettled)
    }
}

@Suite struct ReconcilePropertyTests {
    /// Reconciling a batch against its own instruction file, every item reported in any spelling and order, each
    /// paid, failed, pending or left out at random, gives exactly those outcomes; the carriers then hold exactly
    /// what is still open, and the ledger verifies.
    @Test func anInstructionFileReportedBackReconcilesToTheModel() async {
        await propertyCheck(count: 12, input: Gen.int(in: 0...Int.max)) { seed in
            let paid = try! PaidBatch()
            var random = SeededRandom(seed: UInt64(seed))
            let instructions = try! String(contentsOfFile: paid.instructions, encoding: .utf8).split(separator: "\n").dropFirst()
            var lines: [String] = []
            var expected: [ReconcileOutcome: Int] = [:]
            var open: Int64 = 0
            for line in instructions {
                let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                let national = String(cells[1].dropFirst(2))
                let msisdn = ["0" + national, "84" + national, "+84" + national, "(+84) " + national][random.below(4)]
                let amount = Int64(cells[3])!
                let amountText = random.below(2) == 0 ? cells[3] : "\"\(Money(dong: amount).grouped.replacingOccurrences(of: ".", with: ","))\""
                let outcome = [ReconcileOutcome.paid, .failed, .pending, .missing][random.below(4)]
                expected[outcome, default: 0] += 1
                switch outcome {
                case .paid: lines.append("\(cells[0]),\(msisdn),\(amountText),\(["SUCCESS", "Thành công", "ok"][random.below(3)])")
                case .failed: lines.append("\(cells[0]),\(msisdn),\(amountText),\(["FAILED", "Thất bại"][random.below(2)])")
                case .pending:
                    lines.append("\(cells[0]),\(msisdn),\(amountText),PENDING")
                    open += amount
                default: open += amount
                }
            }
            lines.shuffle(using: &random)
            let result = try! paid.reconcile("reference,msisdn,amount,status\n" + lines.joined(separator: "\r\n") + "\r\n")
            for outcome in ReconcileOutcome.allCases {
                #expect(result.count(outcome) == expected[outcome] ?? 0, "seed \(seed): \(outcome)")
            }
            #expect(result.exceptions == 0, "seed \(seed)")
            #expect(result.clearingOpen.values.reduce(0) { $0 + $1.dong } == open, "seed \(seed)")
            #expect(try! paid.verify().isIntact, "seed \(seed)")
        }
    }
}

@Suite struct ProfileSearchTests {
    /// ALLOWANCE_PROFILES' folders first, then profiles/ beside the ledger; each folder once; never the working folder
    /// (issue 19), unless the ledger is there.
    @Test func aProfileNamedWithoutAPathIsLookedForInOrder() {
        #expect(CarrierProfile.searchDirectories(listed: "/etc/p:/opt/q::/etc/p/", ledger: "/data/office/ledger.sqlite")
                == ["/etc/p", "/opt/q", "/data/office/profiles"])
        #expect(CarrierProfile.searchDirectories(listed: nil, ledger: "ledger.sqlite") == ["profiles"])
    }
}
