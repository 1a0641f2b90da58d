import Foundation
import Testing

/// A process killed in the middle of a command leaves the ledger as before the command or as after it.
@Suite struct KillTests {
    /// Starts `allowance ARGUMENTS`, kills it with SIGKILL after `delay` seconds; true when it finished first.
    func killed(_ sandbox: CLISandbox, _ arguments: [String], after delay: Double) throws -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try AllowanceBinary.path())
        process.arguments = arguments
        process.environment = sandbox.environment
        process.currentDirectoryURL = URL(fileURLWithPath: sandbox.directory.path)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        usleep(useconds_t(delay * 1_000_000))
        let finished = !process.isRunning
        if !finished { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return finished
    }

    func expectIntact(_ sandbox: CLISandbox, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let integrity = try sandbox.sqlite("PRAGMA integrity_check;")
        #expect(integrity.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "ok", sourceLocation: sourceLocation)
        let verify = try sandbox.run(["ledger", "verify"])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)", sourceLocation: sourceLocation)
    }

    func count(_ sandbox: CLISandbox, _ sql: String) throws -> Int {
        Int(try sandbox.sqlite(sql).stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    @Test(arguments: [0.15, 0.4, 0.9, 1.6])
    func aKilledImportImportsAllOrNothing(delay: Double) throws {
        let sandbox = CLISandbox()
        let register = sandbox.directory.file("register.csv")
        sandbox.expectSuccess(try sandbox.run(["generate", "register", "--count", "60000", "--seed", "3", "--out", register]))
        sandbox.expectSuccess(try sandbox.run(["init"]))
        let finished = try killed(sandbox, ["beneficiary", "import", register], after: delay)
        try expectIntact(sandbox)
        let imported = try count(sandbox, "SELECT COUNT(*) FROM beneficiary;")
        let imports = try count(sandbox, "SELECT COUNT(*) FROM register_import;")
        // Nothing, or everything with its import recorded; finishing before the kill means everything.
        #expect((imported == 0 && imports == 0 && !finished) || (imported == 60_000 && imports == 1))
        #expect(try count(sandbox, "SELECT COUNT(*) FROM pragma_index_list('beneficiary');") == 3)
        // Running it again completes.
        let rerun = try sandbox.run(["beneficiary", "import", register, "--json"])
        sandbox.expectSuccess(rerun)
        #expect(try count(sandbox, "SELECT COUNT(*) FROM beneficiary;") == 60_000)
    }

    @Test(arguments: [0.1, 0.3, 0.7])
    func aKilledBatchCreateOrApproveLeavesWholeBatchesOnly(delay: Double) throws {
        let sandbox = CLISandbox()
        let register = sandbox.directory.file("register.csv")
        sandbox.expectSuccess(try sandbox.run(["generate", "register", "--count", "30000", "--seed", "4", "--out", register]))
        sandbox.expectSuccess(try sandbox.run(["beneficiary", "import", register]))
        _ = try killed(sandbox, ["batch", "create", "--period", "2026-11", "--by", "maker"], after: delay)
        try expectIntact(sandbox)
        let batches = try count(sandbox, "SELECT COUNT(*) FROM batch;")
        let items = try count(sandbox, "SELECT COUNT(*) FROM batch_item;")
        let held = try count(sandbox, "SELECT COUNT(*) FROM flag WHERE cleared_at IS NULL;")
        #expect((batches == 0 && items == 0) || (batches == 1 && items + held == 30_000))
        if batches == 0 { sandbox.expectSuccess(try sandbox.run(["batch", "create", "--period", "2026-11", "--by", "maker"])) }
        _ = try killed(sandbox, ["batch", "approve", "1", "--by", "checker"], after: delay)
        try expectIntact(sandbox)
        let entries = try count(sandbox, "SELECT COUNT(*) FROM journal_entry;")
        let status = try sandbox.sqlite("SELECT status FROM batch WHERE id = 1;").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect((entries == 0 && status == "created") || (entries == 1 && status == "approved"))
        if entries == 0 { sandbox.expectSuccess(try sandbox.run(["batch", "approve", "1", "--by", "checker"])) }
        let itemsNow = try count(sandbox, "SELECT COUNT(*) FROM batch_item;")
        #expect(try count(sandbox, "SELECT COUNT(*) FROM posting;") == itemsNow + 1)
        try expectIntact(sandbox)
    }
}

extension KillTests {
    /// A reconcile killed mid-file leaves no file recorded and no posting; running it again completes.
    @Test(arguments: [0.05, 0.2, 0.5, 1.0])
    func aKilledReconcileRecordsAllOrNothing(delay: Double) throws {
        let sandbox = CLISandbox(now: "2026-11-25T08:00:00Z")
        let register = sandbox.directory.file("register.csv")
        let results = sandbox.directory.file("results.csv")
        sandbox.expectSuccess(try sandbox.run(["generate", "register", "--count", "40000", "--seed", "5", "--out", register]))
        sandbox.expectSuccess(try sandbox.run(["beneficiary", "import", register]))
        sandbox.expectSuccess(try sandbox.run(["batch", "create", "--period", "2026-11", "--by", "maker"]))
        sandbox.expectSuccess(try sandbox.run(["batch", "approve", "1", "--by", "checker"]))
        sandbox.expectSuccess(try sandbox.run(["batch", "export", "1", "--out", "instructions.csv"]))
        sandbox.expectSuccess(try sandbox.run(["generate", "results", "--batch", "1", "--seed", "5", "--out", results]))
        let entriesBefore = try count(sandbox, "SELECT COUNT(*) FROM journal_entry;")
        let finished = try killed(sandbox, ["reconcile", "1", results, "--by", "auditor"], after: delay)
        try expectIntact(sandbox)
        let files = try count(sandbox, "SELECT COUNT(*) FROM result_file;")
        let lines = try count(sandbox, "SELECT COUNT(*) FROM result_line;")
        let entries = try count(sandbox, "SELECT COUNT(*) FROM journal_entry;")
        let settled = try count(sandbox, "SELECT COUNT(*) FROM item_state;")
        #expect((files == 0 && lines == 0 && entries == entriesBefore && settled == 0 && !finished) || (files == 1 && lines > 0 && entries > entriesBefore))
        let rerun = try sandbox.run(["reconcile", "1", results, "--by", "auditor", "--json"])
        #expect(rerun.status == 0 || rerun.status == 2, "\(rerun.stderr)")
        #expect(try count(sandbox, "SELECT COUNT(*) FROM result_file;") == 1)
        try expectIntact(sandbox)
    }

    /// The crash-injection driver (scripts/crash.sh) in its short form: seeded kill points in import, create,
    /// approve, export and reconcile, each checked for integrity, balance, all-or-nothing and a completing rerun.
    /// The full run (250 kill points) is in the README.
    @Test func theCrashDriverShortFormFindsNoDamage() throws {
        let sandbox = CLISandbox()
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let output = try sandbox.execute("/bin/bash", [root.appendingPathComponent("scripts/crash.sh").path, "--kills", "15", "--seed", "1130",
                                                        "--count", "3000", "--bin", try AllowanceBinary.path()], timeoutSeconds: 600)
        #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
        #expect(output.stdout.contains("crash.sh: 15 kill points"), "\(output.stdout)")
        #expect(output.stdout.contains("failures: 0"), "\(output.stdout)")
    }
}
