import Foundation
import Testing

/// The README's table of bad input, row by row: what the user sees, with the CLI run as a process. The good work in
/// a file is kept where the command can keep it, and the bad is named by file and line.
@Suite struct BadInputTests {
    static let registerHeader = "national_id,full_name,date_of_birth,gender,commune_code,category,payment_method,carrier,msisdn\n"
    static let goodLine = Sample.lan
    /// 10 MB in one line.
    static let longField = String(repeating: "A", count: 10_000_000)

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let bytes: [UInt8]
        let status: Int32
        let message: String
        var testDescription: String { name }
    }

    static func text(_ string: String) -> [UInt8] { Array(string.utf8) }

    // MARK: - beneficiary import

    static let registerCases: [Case] = [
        Case(name: "not UTF-8", bytes: text(registerHeader + "001150000001,Nguy") + [0xFF] + text("n Lan,1950-03-04,F,26734,ELDERLY_POOR,cash,,\n"),
             status: 1, message: "in.csv:2: not valid UTF-8; save the file as CSV UTF-8"),
        Case(name: "a binary file", bytes: [0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x01, 0x00, 0x00, 0x00, 0x2C, 0x0A, 0x01],
             status: 1, message: "in.csv:1: header: contains a NUL byte; this looks like a binary file, not CSV"),
        Case(name: "a 10 MB line", bytes: text(registerHeader + "001150000009,\(longField),1950-01-01,F,26734,ELDERLY_POOR,cash,,\n"),
             status: 1, message: "in.csv:2: line is longer than 65536 bytes; is this the right file?"),
        Case(name: "an empty file", bytes: [], status: 1, message: "in.csv:1: the file is empty; a register starts with the header"),
        Case(name: "a formula as the name", bytes: text(registerHeader + "001150000009,=HYPERLINK(\"http://x\"),1950-01-01,F,26734,ELDERLY_POOR,cash,,\n"),
             status: 1, message: "in.csv:2: full_name starts with = as a spreadsheet formula does; a name starts with a letter"),
        Case(name: "a formula as the national ID", bytes: text(registerHeader + "=1+1,Lan,1950-01-01,F,26734,ELDERLY_POOR,cash,,\n"),
             status: 1, message: "in.csv:2: national_id must be digits only"),
        Case(name: "a field too many", bytes: text(registerHeader + "001150000009,Lan,1950-01-01,F,26734,ELDERLY_POOR,cash,,,x\n"),
             status: 1, message: "in.csv:2: line has 10 fields; the header has 9"),
    ]

    /// Each bad register is refused whole, naming the file and line; with --skip-invalid the good line after the
    /// bad one goes in and the bad one is written to the rejects file.
    @Test(arguments: registerCases)
    func aBadRegisterIsRefusedNamingTheLine(_ bad: Case) throws {
        let sandbox = CLISandbox()
        let path = sandbox.directory.write("in.csv", bytes: bad.bytes)
        let output = try sandbox.run(["beneficiary", "import", "in.csv"])
        #expect(output.status == bad.status, "\(output.stderr)")
        #expect(output.stderr.contains(bad.message), "\(output.stderr)")
        #expect(output.stderr.count < 2_000, "the message repeats the bad input")
        #expect(try sandbox.sqlite("SELECT COUNT(*) FROM beneficiary;").stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        // A bad line among good ones: the good ones are kept when asked.
        guard bad.bytes.starts(with: Self.registerHeader.utf8) else { return }
        var mixed = bad.bytes
        if mixed.last != 0x0A { mixed.append(0x0A) }
        mixed += Self.text(Self.goodLine + "\n")
        _ = sandbox.directory.write("in.csv", bytes: mixed)
        let kept = try sandbox.run(["beneficiary", "import", path, "--skip-invalid"])
        #expect(kept.status == 0, "\(kept.stderr)")
        #expect(kept.stdout.contains("1 new") && kept.stdout.contains("1 rejected"), "\(kept.stdout)")
        let rejects = try String(contentsOfFile: path + ".rejected.csv", encoding: .utf8)
        #expect(rejects.hasPrefix("line,reason,"))
        // Whatever the rejects file repeats of a formula, a spreadsheet shows it as text.
        #expect(!rejects.contains(",=") && !rejects.contains("\n="), "\(rejects.prefix(300))")
    }

    @Test func aRegisterWithOnlyItsHeaderImportsNothingAndSaysSo() throws {
        let sandbox = CLISandbox()
        _ = sandbox.directory.write("in.csv", Self.registerHeader)
        let output = try sandbox.run(["beneficiary", "import", "in.csv"])
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout.contains("Imported in.csv: 0 lines, 0 new"), "\(output.stdout)")
    }

    // MARK: - reconcile

    /// An exported batch of the samples; returns the first instruction line's reference, number and amount.
    func exportedBatch(_ sandbox: CLISandbox) throws -> (reference: String, msisdn: String, amount: String) {
        try sandbox.batchOfSamples(approved: true)
        sandbox.expectSuccess(try sandbox.run(["fund", "--amount", "100000000", "--reference", "QD-11"]))
        sandbox.expectSuccess(try sandbox.run(["batch", "export", "1", "--out", "instructions.csv"]))
        let line = try #require(sandbox.directory.read("instructions.csv").split(separator: "\n").dropFirst().first)
        let fields = line.split(separator: ",").map(String.init)
        return (fields[0], fields[1], fields[3])
    }

    static let resultHeader = "reference,msisdn,amount,status,carrier_txn_id\n"

    /// Every kind of bad result file, as the auditor sees it: a line that cannot be read is an `invalid_line`
    /// exception (exit 2) and the rest of the file still reconciles; a file that cannot be read at all changes
    /// nothing (exit 1).
    @Test func badResultFilesAsTheAuditorSeesThem() throws {
        let sandbox = CLISandbox(now: "2026-11-25T08:00:00Z")
        let item = try exportedBatch(sandbox)
        let good = "\(item.reference),\(item.msisdn),\(item.amount),SUCCESS,T1"
        let rows: [(name: String, bytes: [UInt8], status: Int32, message: String, paid: Int)] = [
            ("not UTF-8", Self.text(Self.resultHeader + "\(item.reference),\(item.msisdn),\(item.amount),Th") + [0xE0] + Self.text("nh c\n"),
             2, "r.csv:2: invalid_line: not valid UTF-8; save the file as CSV UTF-8", 0),
            ("a binary file", [0x7F, 0x45, 0x4C, 0x46, 0x00, 0x0A, 0x01, 0x02], 1, "r.csv:1: header: contains a NUL byte; this looks like a binary file, not CSV", 0),
            ("a 10 MB line, then a good one", Self.text(Self.resultHeader + "\(item.reference),\(item.msisdn),\(item.amount),SUCCESS,\(Self.longField)\n\(good)\n"),
             2, "r.csv:2: invalid_line: line is longer than 65536 bytes; is this the right file?", 1),
            ("an empty file", [], 1, "r.csv:1: the file is empty; a result file starts with a header naming at least reference, msisdn, amount, status", 0),
            ("a negative amount", Self.text(Self.resultHeader + "\(item.reference),\(item.msisdn),-\(item.amount),SUCCESS,T1\n"),
             2, "r.csv:2: invalid_line: amount -\(item.amount) is not a payment; amounts are whole đồng above 0", 0),
            ("a huge amount", Self.text(Self.resultHeader + "\(item.reference),\(item.msisdn),99999999999999999999999,SUCCESS,T1\n"),
             2, "r.csv:2: invalid_line: amount is too large", 0),
            ("a fractional amount", Self.text(Self.resultHeader + "\(item.reference),\(item.msisdn),\(item.amount).5,SUCCESS,T1\n"),
             2, "r.csv:2: invalid_line: amount", 0),
        ]
        for row in rows {
            _ = sandbox.directory.write("r.csv", bytes: row.bytes)
            let output = try sandbox.run(["reconcile", "1", "r.csv", "--by", "auditor", "--json"])
            #expect(output.status == row.status, "\(row.name): \(output.stderr)")
            #expect(output.stderr.contains(row.message), "\(row.name): \(output.stderr)")
            #expect(output.stderr.count < 4_000, "\(row.name): the message repeats the bad input")
            if row.status == 1 {
                #expect(output.stdout.isEmpty, "\(row.name)")
            } else {
                let outcomes = try #require(try jsonObject(output.stdout)["outcomes"] as? [String: Any], "\(row.name)")
                #expect(outcomes["paid"] as? Int == row.paid, "\(row.name): \(outcomes)")
                #expect(outcomes["invalid_line"] as? Int == 1, "\(row.name): \(outcomes)")
            }
        }
        // Only the files that could be read are recorded, each once.
        #expect(try sandbox.sqlite("SELECT COUNT(*) FROM result_file;").stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "5")
        sandbox.expectSuccess(try sandbox.run(["ledger", "verify"]))
    }

    @Test func aResultFileWithOnlyItsHeaderLeavesEveryItemMissing() throws {
        let sandbox = CLISandbox(now: "2026-11-25T08:00:00Z")
        _ = try exportedBatch(sandbox)
        _ = sandbox.directory.write("r.csv", Self.resultHeader)
        let output = try sandbox.run(["reconcile", "1", "r.csv", "--by", "auditor", "--json"])
        #expect(output.status == 0, "\(output.stderr)")
        let json = try jsonObject(output.stdout)
        #expect(json["lines"] as? Int == 0)
        let outcomes = try #require(json["outcomes"] as? [String: Any])
        #expect((outcomes["missing"] as? Int ?? 0) > 0 && outcomes["paid"] as? Int == 0)
    }

    /// A formula in what the carrier wrote reaches the reconciliation report as text a spreadsheet will not run.
    @Test func aFormulaInAResultFileIsNeutralisedInTheReport() throws {
        let sandbox = CLISandbox(now: "2026-11-25T08:00:00Z")
        let item = try exportedBatch(sandbox)
        _ = sandbox.directory.write("r.csv", Self.resultHeader + "\(item.reference),\(item.msisdn),\(item.amount),SUCCESS,=HYPERLINK(\"http://x\")\n")
        let output = try sandbox.run(["reconcile", "1", "r.csv", "--by", "auditor", "--report", "report.csv"])
        #expect(output.status == 0, "\(output.stderr)")
        let report = sandbox.directory.read("report.csv")
        #expect(report.contains("\"'=HYPERLINK(\"\"http://x\"\")\""), "\(report)")
        #expect(!report.contains(",=") && !report.contains("\n="))
    }
}
