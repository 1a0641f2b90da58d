import Foundation
import Testing
@testable import AllowanceLedger
@testable import LedgerSQLite
@testable import Reconcile

/// The error values carry a code and fields; each language words them from its own table.
@Suite struct WordingTests {
    /// The `{name}`s a template uses, in order.
    static func placeholders(_ template: String) -> [String] {
        template.matches(of: #/\{([a-z_]+)\}/#).map { String($0.1) }
    }

    @Test func bothLanguagesWordTheSameCodesWithTheSameValues() {
        let english = Wording.english.templates, vietnamese = Wording.vietnamese.templates
        #expect(english.count >= 60)
        #expect(Set(english.keys) == Set(vietnamese.keys))
        for (code, template) in english {
            #expect(Set(Self.placeholders(template)) == Set(Self.placeholders(vietnamese[code] ?? "")), "\(code)")
        }
    }

    /// One problem of every kind the register import and reconcile raise, with every value its words use.
    static let problems: [any ProblemConvertible] = {
        let csv: [CSVRecordError] = [.tooLong(bytesMax: 65536), .unclosedQuote(openedOnLine: 4), .textAfterClosingQuote, .notUTF8, .nulByte]
        let nationalIDs: [NationalIDError] = [.empty, .notDigits, .wrongLength(11), .unknownProvince("099"),
                                              .centuryGenderMismatch(found: 1, expected: 0, year: 1950, gender: .female),
                                              .centuryGenderMismatch(found: 0, expected: 1, year: 1950, gender: .male), .birthYearMismatch(found: 5, year: 1950)]
        let msisdns: [MSISDNError] = [.empty, .invalidCharacters, .notVietnamese, .landline, .wrongLength(9), .unknownPrefix("01")]
        let register: [RegisterImportError] = [.emptyFile("r.csv"), .unreadableHeader("r.csv", CSVRecordError.notUTF8.problem),
                                               .missingColumns("r.csv", ["gender", "msisdn"]), .duplicateColumn("r.csv", "gender"), .fileChanged("r.csv"),
                                               .invalidLines("r.csv", count: 1), .invalidLines("r.csv", count: 3)]
        let reconcile: [ReconcileError] = [.notExported(BatchID(4), .approved), .effectNotAllowed(line: 9, effect: .settle, state: .paid), .overflow,
                                           .tooManyCarriers(BatchID(4), 255)]
        return csv + nationalIDs + msisdns + register + reconcile
    }()

    @Test func everyProblemHasWordsInBothLanguagesWithEveryValueFilled() throws {
        for error in Self.problems {
            let problem = error.problem
            for wording in [Wording.english, Wording.vietnamese] {
                let template = try #require(wording.templates[problem.code], "\(wording.language) lacks \(problem.code)")
                for name in Self.placeholders(template) {
                    #expect(problem.fields[name] != nil || problem.parts[name] != nil, "\(problem.code) has no value for {\(name)}")
                }
                let words = wording.words(for: problem)
                #expect(!words.contains("{") && !words.contains("\u{1F}"), "\(words)")
            }
            #expect(Wording.english.words(for: problem) == error.description)
        }
    }

    /// The English words are the ones the CLI printed before errors had codes, byte for byte.
    @Test(arguments: [
        (NationalIDError.centuryGenderMismatch(found: 1, expected: 0, year: 1950, gender: .female).problem,
         "national_id's 4th digit is 1 but a woman born in 1950 has 0; check date_of_birth, gender and the ID"),
        (NationalIDError.birthYearMismatch(found: 5, year: 1950).problem, "national_id's 5th–6th digits are 05 but date_of_birth is in 1950; check date_of_birth and the ID"),
        (RegisterImportError.invalidLines("r.csv", count: 1).problem,
         "r.csv: 1 bad line; nothing was imported. Fix them, or pass --skip-invalid to import the good lines and write the bad ones to a file"),
        (RegisterImportError.invalidLines("r.csv", count: 2).problem,
         "r.csv: 2 bad lines; nothing was imported. Fix them, or pass --skip-invalid to import the good lines and write the bad ones to a file"),
        (RegisterImportError.unreadableHeader("r.csv", CSVRecordError.notUTF8.problem).problem,
         "r.csv:1: header: not valid UTF-8; save the file as CSV UTF-8; a register is a CSV text file (UTF-8) starting with the header "
            + "national_id,full_name,date_of_birth,gender,commune_code,category,payment_method,carrier,msisdn,household_status"),
        (CSVRecordError.unclosedQuote(openedOnLine: 4).problem, "quoted field opened on line 4 is never closed; add the closing \""),
        (Problem("field.code", ["field": "carrier", "value": "A B", "length_max": "40"]), "carrier \"A B\" must be at most 40 letters, digits, _ or -"),
        (Problem(text: "anything {at} all"), "anything {at} all"),
    ] as [(Problem, String)])
    func englishIsWhatTheCLIAlwaysPrinted(problem: Problem, words: String) {
        #expect(Wording.english.words(for: problem) == words)
    }

    @Test func aProblemInsideAnotherAndAListAreWordedInTheReadersLanguage() {
        let header = RegisterImportError.unreadableHeader("r.csv", CSVRecordError.notUTF8.problem).problem
        #expect(Wording.vietnamese.words(for: header).contains("không phải UTF-8 hợp lệ"))
        let list = Problem("result_file.duplicate_column", ["file": "f.csv", "columns": Problem.and(["\"a\"", "\"b\"", "\"c\""]), "field": "amount"])
        #expect(Wording.english.words(for: list) == "f.csv:1: columns \"a\" and \"b\" and \"c\" both carry amount; keep one")
        #expect(Wording.vietnamese.words(for: list) == "f.csv:1: các cột \"a\" và \"b\" và \"c\" cùng chứa amount; chỉ giữ một cột")
        // A code a table lacks falls back to English, then to the code itself.
        #expect(Wording.vietnamese.words(for: Problem("no.such_code")) == "no.such_code")
    }

    @Test(arguments: [
        "\"a\" = \"b\"", "\"a\" \"b\";", "\"a\" = \"b;", "\"a\" = \"b\";\n\"a\" = \"c\";", "a = \"b\";",
    ])
    func aMalformedTableIsRefused(text: String) {
        #expect(throws: StringsTable.Malformed.self) { try StringsTable.parse(Array(text.utf8)) }
    }

    @Test func aTableReadsCommentsAndEscapes() throws {
        let table = try StringsTable.parse(Array("/* c */\n// d\n\"k\" = \"say \\\"hi\\\"\\\\ now\\n\"; \"x\"=\"y\";".utf8))
        #expect(table == ["k": "say \"hi\"\\ now\n", "x": "y"])
    }
}

@Suite("allowance CLI in Vietnamese, run as a process")
struct CLIWordingTests {
    @Test func registerImportErrorsAreWordedInVietnamese() throws {
        let sandbox = CLISandbox()
        let file = sandbox.register(CLITests.mixedRegister)
        let output = try sandbox.run(["beneficiary", "import", file], environment: ["ALLOWANCE_LANG": "vi"])
        #expect(output.status == 1)
        let expected = [(3, "national_id (số CCCD) có 11 chữ số"), (4, "msisdn là số máy bàn (02x)"),
                        (5, "category (nhóm đối tượng) \"WIDOW_X\" không có trong danh mục"), (6, "date_of_birth \"1950-02-30\" không phải ngày có thật")]
        for (line, words) in expected {
            let reported = output.stderrLines.filter { $0.hasPrefix("\(file):\(line): ") }
            #expect(reported.count == 1 && reported[0].contains(words), "line \(line): \(output.stderr)")
        }
        #expect(output.stderrLines.last == "lỗi: \(file): 4 dòng sai; chưa nhập gì. Hãy sửa các dòng đó, hoặc dùng --skip-invalid để nhập các dòng đúng và ghi các dòng sai ra tệp riêng")
        #expect(!output.stderr.contains("0243 987 6543") && !output.stderr.contains("00115000005"))

        // The same run in English prints what it always did; so does an unknown language.
        for language in ["en", "xx"] {
            let english = try sandbox.run(["beneficiary", "import", file], environment: ["ALLOWANCE_LANG": language])
            #expect(english.stderrLines.last == "error: \(file): 4 bad lines; nothing was imported. Fix them, or pass --skip-invalid to import the good lines and write the bad ones to a file")
        }
    }

    @Test func reconcileErrorsAreWordedInVietnamese() throws {
        let sandbox = CLISandbox()
        try sandbox.expectSuccess(sandbox.run(["beneficiary", "import", sandbox.register([Sample.lan, Sample.hung])]))
        try sandbox.expectSuccess(sandbox.run(["batch", "create", "--period", "2026-11", "--by", "maker"]))
        let file = sandbox.directory.write("results.csv", "reference,msisdn,amount,status\nAL-202611-000001-0000001,0912345678,750000,SUCCESS\n")
        let notExported = try sandbox.run(["reconcile", "1", file], environment: ["ALLOWANCE_LANG": "vi"])
        #expect(notExported.status == 1)
        #expect(notExported.stderr.hasPrefix("lỗi: đợt chi 1 đang ở trạng thái created; chỉ đối soát được đợt chi đã gửi tệp lệnh chi cho nhà mạng"), "\(notExported.stderr)")
        try sandbox.expectSuccess(sandbox.run(["batch", "approve", "1", "--by", "checker"]))
        try sandbox.expectSuccess(sandbox.run(["fund", "--amount", "10000000", "--reference", "QD-1", "--by", "checker"]))
        try sandbox.expectSuccess(sandbox.run(["batch", "export", "1", "--out", sandbox.directory.file("instructions.csv"), "--by", "maker"]))
        let other = sandbox.directory.write("other.csv", "Mã;msisdn;amount;status\nAL-202611-000001-0000001;0912345678;750.000;00\n")
        let noColumns = try sandbox.run(["reconcile", "1", other], environment: ["ALLOWANCE_LANG": "vi"])
        #expect(noColumns.status == 1)
        #expect(noColumns.stderr.contains("dòng tiêu đề không có cột cho"), "\(noColumns.stderr)")
    }
}

/// Rules that lived in the CLI, now in the library the CLI and a server both call.
@Suite struct LibraryRuleTests {
    @Test func aCashReferenceFileGivesItsReferencesOrEveryLineThatHoldsNone() throws {
        let directory = TemporaryDirectory()
        let good = directory.write("good.csv", "commune,reference\n26734,AL-202611-000001-0000002\n\n26734,AL-202611-000001-0000005\n")
        #expect(try CashReference.read(from: good) == [CashReference("AL-202611-000001-0000002", origin: "\(good):2"),
                                                       CashReference("AL-202611-000001-0000005", origin: "\(good):4")])
        let list = directory.write("list.txt", "AL-202611-000001-0000002\n")
        #expect(try CashReference.read(from: list).map(\.reference) == ["AL-202611-000001-0000002"])
        let bad = directory.write("bad.csv", "reference,note\n,x\nAL-202611-000001-0000002,y\n\"open\n")
        #expect(throws: CashReferenceFileError.badLines([LineProblem(file: bad, line: 2, problems: [Problem("cash.no_reference")]),
                                                         LineProblem(file: bad, line: 4, problems: [CSVRecordError.unclosedQuote(openedOnLine: 4).problem])])) {
            try CashReference.read(from: bad)
        }
        let empty = directory.write("empty.csv", "reference\n")
        #expect(throws: CashReferenceFileError.noReferences(empty)) { try CashReference.read(from: empty) }
        #expect(CashReferenceFileError.noReferences(empty).description == "\(empty): holds no references")
    }

    @Test func aReportRangeRunsForwardAndCoversAtMostTenYears() throws {
        let (first, last) = (try Period(parsing: "2016-12"), try Period(parsing: "2026-11"))
        try NonCashReport.checkRange(from: first, to: last)
        #expect(throws: NonCashRangeError.tooLong(monthsMax: 120)) { try NonCashReport.checkRange(from: try Period(parsing: "2016-11"), to: last) }
        #expect(throws: NonCashRangeError.backwards(from: last, to: first)) { try NonCashReport.checkRange(from: last, to: first) }
        // The library refuses it too, instead of trapping, whoever calls.
        let fixture = try Fixture()
        #expect(throws: NonCashRangeError.backwards(from: last, to: first)) {
            try fixture.store.reports.nonCash(from: last, to: first, grouping: .commune, target: Share(basisPoints: 7000))
        }
        #expect(NonCashRangeError.tooLong(monthsMax: 120).description == "a range is at most 120 months")
    }
}

@Suite("allowance CLI profiling, run as a process")
struct CLIProfilingTests {
    /// `ALLOWANCE_TRACE_SQL=1` prints what the library logs at debug level; without it, nothing of it.
    @Test func profilingLinesGoToStderrOnlyWhenAskedFor() throws {
        let sandbox = CLISandbox()
        try sandbox.expectSuccess(sandbox.run(["beneficiary", "import", sandbox.register([Sample.lan, Sample.hung])]))
        try sandbox.expectSuccess(sandbox.run(["batch", "create", "--period", "2026-11", "--by", "maker"]))
        try sandbox.expectSuccess(sandbox.run(["batch", "approve", "1", "--by", "checker"]))
        try sandbox.expectSuccess(sandbox.run(["fund", "--amount", "10000000", "--reference", "QD-1", "--by", "checker"]))
        try sandbox.expectSuccess(sandbox.run(["batch", "export", "1", "--out", sandbox.directory.file("instructions.csv"), "--by", "maker"]))
        let file = sandbox.directory.write("results.csv", "reference,msisdn,amount,status\nAL-202611-000001-0000001,0912345678,750000,SUCCESS\n")
        let traced = try sandbox.run(["reconcile", "1", file], environment: ["ALLOWANCE_TRACE_SQL": "1"])
        #expect(traced.status == 0, "\(traced.stderr)")
        let cache = traced.stderrLines.filter { $0.hasPrefix("reconcile lines stored: page cache: ") || $0.hasPrefix("reconcile finished: page cache: ") }
        #expect(cache.count == 2, "\(traced.stderr)")
        #expect(cache.allSatisfy { $0.contains(" hits, ") && $0.hasSuffix(" MB in use") })
        let again = sandbox.directory.write("results-2.csv", "reference,msisdn,amount,status\nAL-202611-000001-0000001,0912345678,750000,SUCCESS\n\n")
        let quiet = try sandbox.run(["reconcile", "1", again])
        #expect(quiet.status == 0 && quiet.stderr.isEmpty, "\(quiet.stderr)")
        #expect(quiet.stdout.contains("duplicate"), "\(quiet.stdout)")
    }
}
