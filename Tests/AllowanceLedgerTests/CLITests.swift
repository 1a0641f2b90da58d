import Foundation
import Testing

/// One finished run of a process: its exit code and everything it wrote.
struct ProcessOutput {
    let status: Int32
    let stdout: String
    let stderr: String

    var stderrLines: [String] { stderr.split(separator: "\n").map(String.init) }
}

/// The `allowance` binary built next to this test bundle.
enum AllowanceBinary {
    static func path() throws -> String {
        // `swift test` runs the test bundle from the build folder, where the executable product sits too.
        let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        return URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("allowance").path
    }
}

/// A temporary folder with its own ledger in which the CLI runs as a real process.
final class CLISandbox {
    let directory = TemporaryDirectory()
    /// What every run sees: ALLOWANCE_DB inside the folder, a fixed clock and a default user.
    var environment: [String: String]
    private var runs = 0

    init(now: String = "2026-11-20T08:00:00Z") {
        var base = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("ALLOWANCE_") }
        base["USER"] = nil
        base["ALLOWANCE_DB"] = directory.file("ledger.sqlite")
        base["ALLOWANCE_NOW"] = now
        base["ALLOWANCE_USER"] = "officer.test"
        environment = base
        try! FileManager.default.createDirectory(atPath: directory.file(".runs"), withIntermediateDirectories: true)
    }

    var database: String { directory.file("ledger.sqlite") }

    /// Runs `allowance ARGUMENTS` in the folder.
    @discardableResult
    func run(_ arguments: [String], environment extra: [String: String] = [:], input: String? = nil) throws -> ProcessOutput {
        let binary = try AllowanceBinary.path()
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build the package first: \(binary) is missing")
        return try execute(binary, arguments, environment: environment.merging(extra) { _, new in new }, input: input)
    }

    /// Runs any program in the folder; stdout and stderr go to files so neither pipe can fill up and block it.
    func execute(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                 timeoutSeconds: Double = 120, input: String? = nil) throws -> ProcessOutput {
        runs += 1
        let outPath = directory.file(".runs/\(runs).out")
        let errPath = directory.file(".runs/\(runs).err")
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment ?? self.environment
        process.currentDirectoryURL = URL(fileURLWithPath: directory.path)
        if let input {
            let inPath = directory.file(".runs/\(runs).in")
            _ = FileManager.default.createFile(atPath: inPath, contents: Data(input.utf8))
            process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: inPath))
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        try process.run()
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        if process.isRunning {
            process.terminate()
            Issue.record("\(executable) \(arguments.joined(separator: " ")) ran longer than \(timeoutSeconds) s")
        }
        process.waitUntilExit()
        if process.terminationReason == .uncaughtSignal {
            Issue.record("\(executable) \(arguments.joined(separator: " ")) died of signal \(process.terminationStatus)")
        }
        func read(_ path: String) -> String { String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self) }
        return ProcessOutput(status: process.terminationStatus, stdout: read(outPath), stderr: read(errPath))
    }

    /// Runs `sqlite3 DB SQL` on the sandbox's ledger.
    func sqlite(_ sql: String) throws -> ProcessOutput {
        try execute("/usr/bin/sqlite3", [database, sql])
    }

    /// Writes a register with `Fixture.header` and the given lines; returns its path.
    @discardableResult
    func register(_ lines: [String], name: String = "register.csv") -> String {
        directory.write(name, Fixture.header + lines.joined(separator: "\n") + "\n")
    }

    /// Imports `Sample.all`, creates batch 1 for 2026-11 by `maker` and, when asked, approves it by `checker`.
    func batchOfSamples(approved: Bool) throws {
        let file = register(Sample.all)
        try expectSuccess(run(["beneficiary", "import", file]))
        try expectSuccess(run(["batch", "create", "--period", "2026-11", "--by", "maker"]))
        if approved { try expectSuccess(run(["batch", "approve", "1", "--by", "checker"])) }
    }

    func expectSuccess(_ output: ProcessOutput, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(output.status == 0, "stderr: \(output.stderr)", sourceLocation: sourceLocation)
    }
}

/// The top-level JSON object a command printed.
func jsonObject(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
    let value = try JSONSerialization.jsonObject(with: Data(text.utf8))
    return try #require(value as? [String: Any], "not a JSON object: \(text)", sourceLocation: sourceLocation)
}

func jsonArray(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [Any] {
    let value = try JSONSerialization.jsonObject(with: Data(text.utf8))
    return try #require(value as? [Any], "not a JSON array: \(text)", sourceLocation: sourceLocation)
}

func int64(_ value: Any?) -> Int64? { (value as? NSNumber)?.int64Value }

/// Sum of the debits posted to one account over all its sub-accounts, from `ledger balances --json`.
func debits(of account: String, in balancesJSON: String) throws -> Int64 {
    let accounts = try #require(try jsonObject(balancesJSON)["accounts"] as? [[String: Any]])
    return accounts.filter { $0["account"] as? String == account }.reduce(0) { $0 + (int64($1["debits"]) ?? 0) }
}

/// `84912345678` for `0912 345 678`, `+84 912 345 678` or `84912345678`.
func canonicalMSISDN(_ raw: String) -> String {
    let digits = raw.filter(\.isASCII).filter(\.isNumber)
    if digits.hasPrefix("0"), digits.count == 10 { return "84" + digits.dropFirst() }
    return digits
}

func matches(of pattern: Regex<Substring>, in text: String) -> [String] {
    text.matches(of: pattern).map { String($0.output) }
}

@Suite("allowance CLI, run as a process")
struct CLITests {
    // MARK: - demo

    @Test func demoRunsAMonthAndWritesTheInstructionFile() throws {
        let sandbox = CLISandbox()
        let dir = sandbox.directory.file("demo")
        let output = try sandbox.run(["demo", "--dir", dir, "--count", "300"])
        #expect(output.status == 0, "stderr: \(output.stderr)")
        #expect(output.stdout.contains("Ledger intact"))
        #expect(!output.stdout.contains("BROKEN"))

        let names = try FileManager.default.contentsOfDirectory(atPath: dir)
        let instructions = names.filter { $0.wholeMatch(of: #/instructions-\d{4}-\d{2}\.csv/#) != nil }
        #expect(instructions.count == 1, "files: \(names)")
        let name = try #require(instructions.first)
        let text = try String(contentsOfFile: dir + "/" + name, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.first == "reference,msisdn,account_name,amount,narrative")
        #expect(lines.filter { !$0.isEmpty }.count > 1, "the instruction file has no payment lines")
        // The month goes on through the carriers' result file and a retry of what failed.
        #expect(output.stdout.contains("Reconciled \(dir)/results-"))
        #expect(output.stdout.contains("Reconciling the same file again: already imported = true"))
        #expect(output.stdout.contains("Retry reconciled:"))
        #expect(output.stdout.contains("its carrier clearing is settled"))
        #expect(names.contains { $0.hasPrefix("reconciliation-") })
        // The commune list (invented names, and it says so) and a line naming a merged commune's old code.
        #expect(output.stdout.contains("1 line(s) named commune 26731, merged into 26734; imported under the new code."))
        #expect(try String(contentsOfFile: dir + "/communes.csv", encoding: .utf8).contains("invented for the demo; not a real commune"))
        #expect(output.stdout.contains("(tên giả) at "), "the report names the lowest commune")
        let listed = try sandbox.run(["commune", "list", "--json", "--db", dir + "/allowance.sqlite"])
        sandbox.expectSuccess(listed)
        let communes = try jsonArray(listed.stdout)
        #expect(communes.count == 18)
        #expect((communes.first as? [String: Any])?["replaces"] as? [String] == ["26731"])
    }

    @Test func demoOutputNeverShowsAWholeNumberOrNationalID() throws {
        let sandbox = CLISandbox()
        let dir = sandbox.directory.file("demo")
        let output = try sandbox.run(["demo", "--dir", dir, "--count", "300"])
        try #require(output.status == 0, "stderr: \(output.stderr)")

        var nationalIDs: Set<String> = []
        var msisdns: Set<String> = []
        for file in ["register.csv", "register-update.csv"] {
            let text = try String(contentsOfFile: dir + "/" + file, encoding: .utf8)
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                guard let id = fields.first, let number = fields.last else { continue }
                nationalIDs.insert(id)
                if !number.isEmpty { msisdns.insert(canonicalMSISDN(number)) }
            }
        }
        // The scan below must be able to find what it looks for.
        try #require(nationalIDs.count >= 300)
        try #require(msisdns.count > 50)
        let registerText = try String(contentsOfFile: dir + "/register.csv", encoding: .utf8)
        try #require(!matches(of: #/\b\d{12}\b/#, in: registerText).isEmpty)

        // Everything the demo wrote for people is scanned: its output, the reconciliation report, the HTML report and
        // every file of the audit export. Left out are only the files whose job is to carry the numbers: the register
        // it imports, the instruction files for the carriers, the carriers' result files, the ledger and the key.
        let carriesNumbers = #/^(register.*\.csv|instructions-.*\.csv|results-.*\.csv|allowance\.sqlite.*|audit\.key)$/#
        var scanned: [(name: String, text: String)] = [("stdout", output.stdout), ("stderr", output.stderr)]
        for name in try FileManager.default.subpathsOfDirectory(atPath: dir).sorted() {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir + "/" + name, isDirectory: &isFolder), !isFolder.boolValue,
                  name.wholeMatch(of: carriesNumbers) == nil else { continue }
            scanned.append((name, String(decoding: try #require(FileManager.default.contents(atPath: dir + "/" + name)), as: UTF8.self)))
        }
        // The instruction file carries the numbers whole: the scan finds them where they are.
        let instructionFile = try #require(try FileManager.default.contentsOfDirectory(atPath: dir).first { $0.hasPrefix("instructions-") })
        let instructionText = try String(contentsOfFile: dir + "/" + instructionFile, encoding: .utf8)
        try #require(msisdns.contains { instructionText.contains($0.suffix(9)) })
        let names = scanned.map(\.name)
        try #require(names.contains { $0.hasPrefix("reconciliation-") } && names.contains { $0.hasPrefix("noncash-") }
                     && names.contains("audit-export/manifest.json") && names.contains("audit-export/batch_items.csv"), "\(names)")
        for (name, text) in scanned {
            let found = nationalIDs.filter { text.contains($0) }
            #expect(found.isEmpty, "whole national IDs in \(name): \(found.prefix(3))")
            // A number's last nine digits, in any spelling without separators.
            let numbers = msisdns.filter { text.contains($0.suffix(9)) }
            #expect(numbers.isEmpty, "whole numbers in \(name): \(numbers.prefix(3))")
            #expect(matches(of: #/\b84[35789]\d{8}\b/#, in: text).isEmpty, "\(name)")
            let national = matches(of: #/\b0[35789]\d{8}\b/#, in: text)
            #expect(national.filter { msisdns.contains(canonicalMSISDN($0)) }.isEmpty, "whole numbers in \(name): \(national)")
        }
    }

    // MARK: - beneficiary import

    /// Lines 3 to 6 are bad, lines 2 and 7 good.
    static let mixedRegister = [
        Sample.lan,
        "00115000005,Bad Length,1950-03-04,F,26734,ELDERLY_POOR,cash,,",
        "038060000004,Phạm Văn Bình,1960-12-31,M,26737,DISABLED_SEVERE,mobile_money,MOBIFONE,0243 987 6543",
        "001310000003,Lê Thị Mai,2010-01-15,F,26737,WIDOW_X,mobile_money,VNPT,+84 987 654 321",
        "001150000006,Bad Date,1950-02-30,F,26734,ELDERLY_POOR,cash,,",
        Sample.hung,
    ]

    /// (line, what its reason must mention).
    static let mixedRegisterProblems = [(3, "national_id has 11 digits"), (4, "landline"), (5, "category \"WIDOW_X\" is not known"),
                                        (6, "date_of_birth \"1950-02-30\"")]

    @Test func importWithBadLinesReportsEachAndImportsNothing() throws {
        let sandbox = CLISandbox()
        let file = sandbox.register(Self.mixedRegister)
        let output = try sandbox.run(["beneficiary", "import", file])
        #expect(output.status == 1)
        for (line, reason) in Self.mixedRegisterProblems {
            let reported = output.stderrLines.filter { $0.hasPrefix("\(file):\(line): ") }
            #expect(reported.count == 1, "no `\(file):\(line): …` line in stderr: \(output.stderr)")
            #expect(reported.first?.contains(reason) == true, "line \(line): \(reported)")
        }
        let located = output.stderrLines.filter { $0.hasPrefix("\(file):") }
        #expect(located.count == Self.mixedRegisterProblems.count, "only the bad lines are reported: \(located)")
        #expect(output.stderrLines.contains { $0.hasPrefix("error: ") })
        #expect(!output.stderr.contains(":2: ") && !output.stderr.contains(":7: "))

        let list = try sandbox.run(["beneficiary", "list", "--json"])
        #expect(list.status == 0)
        #expect(list.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]")
    }

    static let badLines: [(line: String, reason: String)] = [
        ("0011500000012,Too Long,1950-03-04,F,26734,ELDERLY_POOR,cash,,", "national_id has 13 digits"),
        ("001150000007,Landline,1950-03-04,F,26734,ELDERLY_POOR,mobile_money,VNPT,024 3987 6543", "landline"),
        ("001150000007,Unknown Category,1950-03-04,F,26734,WIDOW_X,cash,,", "is not known"),
        ("001150000007,Bad Date,1950-13-04,F,26734,ELDERLY_POOR,cash,,", "date_of_birth"),
        ("001150000007,Wrong Century,1950-03-04,M,26734,ELDERLY_POOR,cash,,", "4th digit"),
        ("001150000007,Unknown Carrier,1950-03-04,F,26734,ELDERLY_POOR,mobile_money,ACME,0912000007", "ACME"),
        ("001150000007,Too Few Fields,1950-03-04,F,26734", "fields"),
    ]

    @Test(arguments: badLines)
    func importRejectsABadLineWithItsLineNumber(_ bad: (line: String, reason: String)) throws {
        let sandbox = CLISandbox()
        let file = sandbox.register([Sample.hung, Sample.lan, bad.line])
        let output = try sandbox.run(["beneficiary", "import", file])
        #expect(output.status == 1)
        let reported = output.stderrLines.filter { $0.hasPrefix("\(file):4: ") }
        #expect(reported.count == 1, "stderr: \(output.stderr)")
        #expect(reported.first?.contains(bad.reason) == true, "stderr: \(output.stderr)")
        #expect(output.stderrLines.last?.hasPrefix("error: ") == true)
        #expect(try sandbox.run(["beneficiary", "list", "--json"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]")
    }

    @Test func importSkipInvalidImportsTheGoodLinesAndWritesMaskedRejects() throws {
        let sandbox = CLISandbox()
        let file = sandbox.register(Self.mixedRegister)
        let output = try sandbox.run(["beneficiary", "import", file, "--skip-invalid"])
        #expect(output.status == 0, "stderr: \(output.stderr)")
        #expect(output.stdout.contains("2 new"))
        #expect(output.stdout.contains("4 rejected"))

        let list = try jsonArray(try sandbox.run(["beneficiary", "list", "--json"]).stdout)
        let names = list.compactMap { ($0 as? [String: Any])?["full_name"] as? String }
        #expect(Set(names) == ["Nguyễn Thị Lan", "Trần Văn Hùng"])

        let rejectsPath = file + ".rejected.csv"
        let rejects = try String(contentsOfFile: rejectsPath, encoding: .utf8)
        let lines = rejects.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("line,reason,") == true)
        #expect(lines.first == "line,reason," + Fixture.header.trimmingCharacters(in: .newlines))
        #expect(lines.dropFirst().map { line in String(line.prefix { $0 != "," }) } == ["3", "4", "5", "6"])
        for whole in ["00115000005", "038060000004", "001310000003", "001150000006", "0243 987 6543", "+84 987 654 321"] {
            #expect(!rejects.contains(whole), "\(whole) is whole in the rejects file")
        }
        for masked in ["********005", "*********004", "*********003", "*********006"] {
            #expect(rejects.contains(masked), "\(masked) missing from the rejects file")
        }
    }

    @Test func importSkipInvalidWritesRejectsWhereAskedAndWholeOnlyWithReveal() throws {
        let sandbox = CLISandbox()
        let file = sandbox.register(Self.mixedRegister)
        let rejectsPath = sandbox.directory.file("bad-lines.csv")
        let output = try sandbox.run(["beneficiary", "import", file, "--skip-invalid", "--rejects", rejectsPath, "--reveal"])
        #expect(output.status == 0, "stderr: \(output.stderr)")
        #expect(!FileManager.default.fileExists(atPath: file + ".rejected.csv"))
        let rejects = try String(contentsOfFile: rejectsPath, encoding: .utf8)
        #expect(rejects.contains("038060000004"))
        #expect(rejects.contains("001310000003"))
    }

    @Test func importingTheSameFileTwiceChangesNothing() throws {
        let sandbox = CLISandbox()
        let file = sandbox.register(Sample.all)
        let first = try sandbox.run(["beneficiary", "import", file, "--json"])
        #expect(first.status == 0, "stderr: \(first.stderr)")
        let firstJSON = try jsonObject(first.stdout)
        #expect(firstJSON["already_imported"] as? Bool == false)
        #expect(int64(firstJSON["created"]) == 4)

        let second = try sandbox.run(["beneficiary", "import", file])
        #expect(second.status == 0, "stderr: \(second.stderr)")
        #expect(second.stdout.contains("already imported"))

        let third = try sandbox.run(["beneficiary", "import", file, "--json"])
        #expect(third.status == 0)
        #expect(third.stdout.contains("\"already_imported\":true"))
        let thirdJSON = try jsonObject(third.stdout)
        #expect(thirdJSON["already_imported"] as? Bool == true)
        #expect(int64(thirdJSON["created"]) == 0)
        #expect(try jsonArray(try sandbox.run(["beneficiary", "list", "--json"]).stdout).count == 4)
    }

    // MARK: - usage

    static let usageErrors: [[String]] = [
        ["batch", "create"],
        ["batch", "create", "--period", "2026-13"],
        ["batch", "settle-cash", "1"],
        ["batch", "settle-cash", "1", "--all", "--reference", "AL-1"],
        ["batch", "approve", "0"],
        ["batch", "show", "one"],
        ["fund", "--amount", "1000"],
        ["beneficiary", "import"],
        ["ledger", "balances", "--as-of", "2026-02-30"],
        ["no-such-command"],
    ]

    @Test(arguments: usageErrors)
    func usageErrorsExit64(_ arguments: [String]) throws {
        let sandbox = CLISandbox()
        let output = try sandbox.run(arguments)
        #expect(output.status == 64, "stdout: \(output.stdout) stderr: \(output.stderr)")
        #expect(!output.stderr.isEmpty)
        #expect(output.stdout.isEmpty)
    }

    // MARK: - batches

    @Test func batchCreatePrintsItsTotalsAsJSON() throws {
        let sandbox = CLISandbox()
        try sandbox.expectSuccess(sandbox.run(["beneficiary", "import", sandbox.register(Sample.all)]))
        let output = try sandbox.run(["batch", "create", "--period", "2026-11", "--by", "maker", "--json"])
        #expect(output.status == 0, "stderr: \(output.stderr)")
        let json = try jsonObject(output.stdout)
        #expect(int64(json["batch"]) == 1)
        #expect(int64(json["items"]) == 4)
        // ELDERLY_POOR 1.5, ELDERLY_80 1.0, ORPHAN 1.5 and DISABLED_SEVERE 1.5 times 500,000 đồng.
        let expected: Int64 = 750_000 + 500_000 + 750_000 + 750_000
        #expect(int64(json["total"]) == expected)
        #expect(int64(json["mobile_money_items"]) == 3)
        #expect(int64(json["cash_items"]) == 1)
        #expect(json["status"] as? String == "created")
    }

    /// A register line and the month's amount: 500,000 đồng base level × the category's coefficient.
    static let amounts: [(line: String, amount: Int64)] = [(Sample.lan, 750_000), (Sample.hung, 500_000), (Sample.mai, 750_000),
                                                            (Sample.binh, 750_000)]

    @Test(arguments: amounts)
    func batchAmountIsBaseLevelTimesCoefficient(_ sample: (line: String, amount: Int64)) throws {
        let sandbox = CLISandbox()
        try sandbox.expectSuccess(sandbox.run(["beneficiary", "import", sandbox.register([sample.line])]))
        let output = try sandbox.run(["batch", "create", "--period", "2026-11", "--by", "maker", "--json"])
        #expect(output.status == 0, "stderr: \(output.stderr)")
        let json = try jsonObject(output.stdout)
        #expect(int64(json["items"]) == 1)
        #expect(int64(json["total"]) == sample.amount)
    }

    @Test func secondBatchForThePeriodIsRefusedNamingTheFirst() throws {
        let sandbox = CLISandbox()
        try sandbox.batchOfSamples(approved: false)
        let output = try sandbox.run(["batch", "create", "--period", "2026-11", "--by", "maker"])
        #expect(output.status == 1)
        #expect(output.stderr.hasPrefix("error: "))
        #expect(output.stderr.contains("already in batch 1"))
        let list = try jsonArray(try sandbox.run(["batch", "list", "--json"]).stdout)
        #expect(list.count == 1)
    }

    @Test(arguments: [["--by", "maker"], ["--by", "MAKER"], []])
    func theMakerCannotApprove(_ who: [String]) throws {
        let sandbox = CLISandbox()
        try sandbox.batchOfSamples(approved: false)
        // With no --by, ALLOWANCE_USER names who approves.
        let output = try sandbox.run(["batch", "approve", "1"] + who, environment: ["ALLOWANCE_USER": "maker"])
        #expect(output.status == 1)
        #expect(output.stderr.hasPrefix("error: "))
        #expect(output.stderr.contains("maker-checker"))
        let show = try jsonObject(try sandbox.run(["batch", "show", "1", "--json"]).stdout)
        #expect(show["status"] as? String == "created")
    }

    @Test func aCheckerApprovesAndTheEntitlementsArePosted() throws {
        let sandbox = CLISandbox()
        try sandbox.batchOfSamples(approved: false)
        let output = try sandbox.run(["batch", "approve", "1", "--by", "checker", "--json"])
        #expect(output.status == 0, "stderr: \(output.stderr)")
        let json = try jsonObject(output.stdout)
        #expect(json["status"] as? String == "approved")
        #expect(json["approved_by"] as? String == "checker")
        #expect(int64(json["total"]) == 2_750_000)
        let again = try sandbox.run(["batch", "approve", "1", "--by", "checker"])
        #expect(again.status == 1)
        #expect(again.stderr.hasPrefix("error: "))
    }

    @Test func exportingTwiceWritesTheSameBytesAndPostsOnce() throws {
        let sandbox = CLISandbox()
        try sandbox.batchOfSamples(approved: true)
        let file = sandbox.directory.file("instructions.csv")

        let first = try sandbox.run(["batch", "export", "1", "--out", file])
        #expect(first.status == 0, "stderr: \(first.stderr)")
        let firstBytes = try #require(FileManager.default.contents(atPath: file))
        let afterFirst = try sandbox.run(["ledger", "balances", "--json"])
        #expect(try debits(of: "1100", in: afterFirst.stdout) == 2_250_000)

        let second = try sandbox.run(["batch", "export", "1", "--out", file, "--json"])
        #expect(second.status == 0, "stderr: \(second.stderr)")
        let secondBytes = try #require(FileManager.default.contents(atPath: file))
        #expect(firstBytes == secondBytes)
        let json = try jsonObject(second.stdout)
        #expect((json["transfers_posted"] as? [String: Any])?.isEmpty == true)

        let afterSecond = try sandbox.run(["ledger", "balances", "--json"])
        #expect(try debits(of: "1100", in: afterSecond.stdout) == 2_250_000)

        let text = String(decoding: secondBytes, as: UTF8.self)
        #expect(text.hasPrefix("reference,msisdn,account_name,amount,narrative\n"))
        #expect(text.split(separator: "\n").count == 4)
    }

    @Test func exportBeforeApprovalFails() throws {
        let sandbox = CLISandbox()
        try sandbox.batchOfSamples(approved: false)
        let file = sandbox.directory.file("instructions.csv")
        let output = try sandbox.run(["batch", "export", "1", "--out", file])
        #expect(output.status == 1)
        #expect(output.stderr.hasPrefix("error: "))
        #expect(output.stderr.contains("approved"))
        #expect(!FileManager.default.fileExists(atPath: file))
        #expect(try debits(of: "1100", in: try sandbox.run(["ledger", "balances", "--json"]).stdout) == 0)
    }

    // MARK: - ledger verify

    @Test func verifyNamesTheEntryAlteredBehindTheLedgersBack() throws {
        let sandbox = CLISandbox()
        try sandbox.batchOfSamples(approved: true)
        let intact = try sandbox.run(["ledger", "verify"])
        #expect(intact.status == 0, "stdout: \(intact.stdout) stderr: \(intact.stderr)")
        #expect(intact.stdout.contains("Ledger intact"))

        let tamper = try sandbox.sqlite("DROP TRIGGER posting_no_update; UPDATE posting SET amount = amount + 1 WHERE entry_id = 1 AND leg = 2;")
        try #require(tamper.status == 0, "sqlite3: \(tamper.stderr)")

        let broken = try sandbox.run(["ledger", "verify"])
        #expect(broken.status == 2)
        #expect(broken.stdout.contains("BROKEN"))
        #expect(broken.stdout.contains("First broken entry: 1"))
        #expect(broken.stdout.contains("entry 1:"))

        let json = try sandbox.run(["ledger", "verify", "--json"])
        #expect(json.status == 2)
        let object = try jsonObject(json.stdout)
        #expect(object["intact"] as? Bool == false)
        #expect(int64(object["first_broken_entry"]) == 1)
    }

    @Test func theJournalRefusesAnUpdateWhileItsTriggerStands() throws {
        let sandbox = CLISandbox()
        try sandbox.batchOfSamples(approved: true)
        let update = try sandbox.sqlite("UPDATE posting SET amount = amount + 1 WHERE entry_id = 1 AND leg = 2;")
        #expect(update.status != 0)
        #expect(update.stderr.contains("append-only"))
        let delete = try sandbox.sqlite("DELETE FROM journal_entry WHERE id = 1;")
        #expect(delete.status != 0)
        let verify = try sandbox.run(["ledger", "verify"])
        #expect(verify.status == 0, "stdout: \(verify.stdout)")
    }

    // MARK: - masking

    static let beneficiaryViews: [[String]] = [
        ["beneficiary", "list"],
        ["beneficiary", "list", "--json"],
        ["beneficiary", "show", "1"],
        ["beneficiary", "show", "1", "--json"],
        ["beneficiary", "show", "001150000001"],
    ]

    @Test(arguments: beneficiaryViews)
    func beneficiaryViewsMaskUnlessRevealed(_ arguments: [String]) throws {
        let sandbox = CLISandbox()
        try sandbox.expectSuccess(sandbox.run(["beneficiary", "import", sandbox.register(Sample.all)]))
        let masked = try sandbox.run(arguments)
        #expect(masked.status == 0, "stderr: \(masked.stderr)")
        for whole in ["001150000001", "84912345678", "0912345678"] {
            #expect(!masked.stdout.contains(whole), "\(whole) shown whole: \(masked.stdout)")
        }
        #expect(masked.stdout.contains("*********001"))
        #expect(masked.stdout.contains("********678"))

        let revealed = try sandbox.run(arguments + ["--reveal"])
        #expect(revealed.status == 0, "stderr: \(revealed.stderr)")
        #expect(revealed.stdout.contains("001150000001"))
        #expect(revealed.stdout.contains("84912345678"))
    }

    @Test func flagsAndHistoryMaskTheNumbers() throws {
        let sandbox = CLISandbox()
        try sandbox.expectSuccess(sandbox.run(["beneficiary", "import", sandbox.register(Sample.all)]))
        // Beneficiary 1 takes Mai's number: a shared number and a recent account change.
        let change = try sandbox.run(["beneficiary", "account", "change", "1", "--carrier", "VNPT", "--msisdn", "0987654321",
                                      "--reason", "new SIM"])
        #expect(change.status == 0, "stderr: \(change.stderr)")
        for arguments in [["beneficiary", "flags"], ["beneficiary", "flags", "--json"], ["beneficiary", "history", "1"]] {
            let output = try sandbox.run(arguments)
            #expect(output.status == 0)
            #expect(output.stdout.contains("********321"), "\(arguments): \(output.stdout)")
            for whole in ["84987654321", "0987654321", "84912345678"] {
                #expect(!(output.stdout + change.stdout).contains(whole), "\(arguments) shows \(whole) whole")
            }
        }
    }

    // MARK: - errors

    static let errors: [(arguments: [String], message: String)] = [
        (["beneficiary", "show", "999"], "no beneficiary"),
        (["beneficiary", "history", "999"], "no beneficiary"),
        (["batch", "show", "7"], "no batch 7"),
        (["batch", "approve", "7", "--by", "checker"], "no batch 7"),
        (["beneficiary", "import", "missing.csv"], "missing.csv"),
        (["fund", "--amount", "0", "--reference", "QD-0", "--by", "x"], "positive"),
        (["fund", "--amount", "1,5", "--reference", "QD-0", "--by", "x"], "whole number"),
        (["demo", "--count", "10"], "--count"),
        (["carrier", "add", "BAD!", "--name", "Bad"], "carrier"),
    ]

    @Test(arguments: errors)
    func errorsGoToStderrAndExit1(_ error: (arguments: [String], message: String)) throws {
        let sandbox = CLISandbox()
        let output = try sandbox.run(error.arguments)
        #expect(output.status == 1)
        #expect(output.stderr.hasPrefix("error: "), "stderr: \(output.stderr)")
        #expect(output.stderr.contains(error.message), "stderr: \(output.stderr)")
        #expect(output.stdout.isEmpty, "stdout: \(output.stdout)")
    }

    @Test func anUnknownNationalIDIsMaskedInTheError() throws {
        let sandbox = CLISandbox()
        let output = try sandbox.run(["beneficiary", "show", "001150000099"])
        #expect(output.status == 1)
        #expect(output.stderr.hasPrefix("error: "))
        #expect(output.stderr.contains("*********099"))
        #expect(!output.stderr.contains("001150000099"))
    }

    @Test func aBadClockInTheEnvironmentIsAnError() throws {
        let sandbox = CLISandbox()
        let output = try sandbox.run(["ledger", "verify"], environment: ["ALLOWANCE_NOW": "yesterday"])
        #expect(output.status == 1)
        #expect(output.stderr.hasPrefix("error: ALLOWANCE_NOW"))
    }

    // MARK: - fund

    @Test func fundingTwiceWithTheSameReferenceRecordsOnce() throws {
        let sandbox = CLISandbox()
        let first = try sandbox.run(["fund", "--amount", "1.000.000", "--reference", "QD-1", "--by", "x"])
        #expect(first.status == 0, "stderr: \(first.stderr)")
        #expect(first.stdout.contains("Recorded budget QD-1"))
        let second = try sandbox.run(["fund", "--amount", "1.000.000", "--reference", "QD-1", "--by", "x"])
        #expect(second.status == 0, "stderr: \(second.stderr)")
        #expect(second.stdout.contains("already recorded"))
        let json = try jsonObject(try sandbox.run(["fund", "--amount", "1000000", "--reference", "QD-1", "--by", "x", "--json"]).stdout)
        #expect(json["already_recorded"] as? Bool == true)
        #expect(int64(json["amount"]) == 1_000_000)

        let balances = try sandbox.run(["ledger", "balances", "--json"])
        #expect(try debits(of: "1000", in: balances.stdout) == 1_000_000)
    }

    @Test func fundingADifferentAmountUnderAUsedReferenceFails() throws {
        let sandbox = CLISandbox()
        try sandbox.expectSuccess(sandbox.run(["fund", "--amount", "1.000.000", "--reference", "QD-1", "--by", "x"]))
        let output = try sandbox.run(["fund", "--amount", "2.000.000", "--reference", "QD-1", "--by", "x"])
        #expect(output.status == 1)
        #expect(output.stderr.hasPrefix("error: "))
        #expect(output.stderr.contains("QD-1"))
        #expect(output.stdout.isEmpty)
        #expect(try debits(of: "1000", in: try sandbox.run(["ledger", "balances", "--json"]).stdout) == 1_000_000)
    }
}

/// Issue 20: accounts of the web application, made from the CLI with the password on standard input.
@Suite(.timeLimit(.minutes(2)))
struct UserCommandTests {
    @Test func accountsAreMadeWithAPasswordFromStandardInputAndACodeForApprovers() throws {
        let sandbox = CLISandbox()
        let officer = try sandbox.run(["user", "add", "officer.lan", "--role", "officer", "--commune", "26734", "--password-stdin", "--json"],
                                      input: "correct horse battery\n")
        sandbox.expectSuccess(officer)
        let made = try jsonObject(officer.stdout)
        #expect(made["user"] as? String == "officer.lan")
        #expect(made["role"] as? String == "officer")
        #expect(made["communes"] as? [String] == ["26734"])
        #expect(made["otp_uri"] is NSNull)
        let approver = try sandbox.run(["user", "add", "head.minh", "--role", "approver", "--password-stdin", "--json"], input: "correct horse battery")
        sandbox.expectSuccess(approver)
        let uri = try #require(try jsonObject(approver.stdout)["otp_uri"] as? String)
        #expect(uri.hasPrefix("otpauth://totp/AllowanceLedger:head.minh?secret="))
        // The password is kept only as a bcrypt hash of cost 12, and never printed.
        let stored = try sandbox.sqlite("SELECT password_hash FROM account WHERE name = 'head.minh'").stdout
        #expect(stored.hasPrefix("$2b$12$") || stored.hasPrefix("$2a$12$") || stored.hasPrefix("$2y$12$"), "\(stored)")
        let everything = try sandbox.sqlite("SELECT * FROM account").stdout
        #expect(!approver.stdout.contains("correct horse") && !everything.contains("correct horse"))
        // Refusals: a taken name, a short password, no password, an unknown role.
        #expect(try sandbox.run(["user", "add", "HEAD.MINH", "--role", "auditor", "--password-stdin"], input: "another long one").status == 1)
        #expect(try sandbox.run(["user", "add", "short.one", "--role", "auditor", "--password-stdin"], input: "short").status == 1)
        #expect(try sandbox.run(["user", "add", "no.password", "--role", "auditor", "--password-stdin"]).status == 1)
        #expect(try sandbox.run(["user", "add", "x", "--role", "boss", "--password-stdin"], input: "correct horse battery").status == 64)
        sandbox.expectSuccess(try sandbox.run(["user", "disable", "officer.lan"]))
        let listed = try jsonArray(try sandbox.run(["user", "list", "--json"]).stdout).compactMap { $0 as? [String: Any] }
        #expect(listed.count == 2)
        #expect(listed.first { $0["user"] as? String == "officer.lan" }?["disabled"] as? Bool == true)
    }
}

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Issue 20: `allowance serve` as a real process: it answers over HTTP on loopback and stops cleanly on SIGTERM.
@Suite(.timeLimit(.minutes(2)))
struct ServeProcessTests {
    func request(_ url: String, method: String = "GET", body: String? = nil) -> (status: Int, body: String, headers: [AnyHashable: Any])? {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: (Int, String, [AnyHashable: Any])?
        // No cookie jar: each request is as anonymous as the test says.
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpShouldSetCookies = false
        URLSession(configuration: configuration).dataTask(with: request) { data, response, _ in
            if let response = response as? HTTPURLResponse {
                result = (response.statusCode, String(decoding: data ?? Data(), as: UTF8.self), response.allHeaderFields)
            }
            done.signal()
        }.resume()
        done.wait()
        return result
    }

    @Test func theServerAnswersAndStopsOnSIGTERM() throws {
        let sandbox = CLISandbox()
        sandbox.expectSuccess(try sandbox.run(["user", "add", "officer.lan", "--role", "officer", "--password-stdin"], input: "correct horse battery"))
        let port = Int.random(in: 20_000...60_000)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try AllowanceBinary.path())
        process.arguments = ["serve", "--port", String(port)]
        process.environment = sandbox.environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        var answer: (status: Int, body: String, headers: [AnyHashable: Any])?
        for _ in 0..<100 {
            answer = request("http://127.0.0.1:\(port)/api/v1/session", method: "POST", body: #"{"user":"officer.lan","password":"correct horse battery"}"#)
            if answer != nil { break }
            usleep(100_000)
        }
        let login = try #require(answer)
        #expect(login.status == 200, "\(login.body)")
        #expect(login.body.contains("\"csrf_token\""))
        #expect(!login.body.contains("correct horse"))
        let anonymous = try #require(request("http://127.0.0.1:\(port)/api/v1/batches/1"))
        #expect(anonymous.status == 401)
        #expect(anonymous.body.contains("\"not_logged_in\""))
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 0)
    }
}
