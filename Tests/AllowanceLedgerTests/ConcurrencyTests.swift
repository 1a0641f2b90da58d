import Foundation
import Testing

/// Two officers' processes writing one ledger at once: both land, neither sees "database is locked".
@Suite struct ConcurrencyTests {
    @Test func twoImportsAndAFundingAtOnceAllLand() throws {
        let sandbox = CLISandbox()
        sandbox.expectSuccess(try sandbox.run(["init"]))
        let first = sandbox.directory.file("a.csv")
        let second = sandbox.directory.file("b.csv")
        sandbox.expectSuccess(try sandbox.run(["generate", "register", "--count", "20000", "--seed", "11", "--out", first]))
        sandbox.expectSuccess(try sandbox.run(["generate", "register", "--count", "20000", "--seed", "12", "--out", second]))
        let binary = try AllowanceBinary.path()
        var processes: [(Process, String)] = []
        for arguments in [["beneficiary", "import", first, "--skip-invalid"], ["beneficiary", "import", second, "--skip-invalid"],
                          ["fund", "--amount", "1000000", "--reference", "QD-A"], ["fund", "--amount", "2000000", "--reference", "QD-B"]] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = arguments
            process.environment = sandbox.environment
            process.currentDirectoryURL = URL(fileURLWithPath: sandbox.directory.path)
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            let errors = sandbox.directory.file("err-\(processes.count).txt")
            _ = FileManager.default.createFile(atPath: errors, contents: nil)
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errors))
            try process.run()
            processes.append((process, errors))
        }
        for (process, errors) in processes {
            process.waitUntilExit()
            let text = String(decoding: FileManager.default.contents(atPath: errors) ?? Data(), as: UTF8.self)
            #expect(!text.contains("locked"), "\(text)")
            #expect(process.terminationStatus == 0, "\(process.arguments ?? []): \(text)")
        }
        // Both imports recorded, both budgets posted, the chain intact.
        let count = Int(try sandbox.sqlite("SELECT COUNT(*) FROM register_import;").stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(count == 2)
        let treasury = try sandbox.sqlite("SELECT SUM(amount) FROM posting WHERE account = '1000';").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(treasury == "3000000")
        sandbox.expectSuccess(try sandbox.run(["ledger", "verify"]))
    }
}
