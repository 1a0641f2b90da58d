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
        let commands = [["beneficiary", "import", first, "--skip-invalid"], ["beneficiary", "import", second, "--skip-invalid"],
                        ["fund", "--amount", "1000000", "--reference", "QD-A"], ["fund", "--amount", "2000000", "--reference", "QD-B"]]
        for (command, outcome) in zip(commands, try concurrently(sandbox, commands)) {
            #expect(!outcome.stderr.contains("locked"), "\(outcome.stderr)")
            #expect(outcome.status == 0, "\(command): \(outcome.stderr)")
        }
        // Both imports recorded, both budgets posted, the chain intact.
        let count = Int(try sandbox.sqlite("SELECT COUNT(*) FROM register_import;").stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(count == 2)
        let treasury = try sandbox.sqlite("SELECT SUM(amount) FROM posting WHERE account = '1000';").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(treasury == "3000000")
        sandbox.expectSuccess(try sandbox.run(["ledger", "verify"]))
    }

    /// Runs every command at once as its own process; returns each one's exit code and stderr, in order.
    func concurrently(_ sandbox: CLISandbox, _ commands: [[String]]) throws -> [(status: Int32, stderr: String)] {
        let binary = try AllowanceBinary.path()
        var running: [(Process, String)] = []
        for arguments in commands {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = arguments
            process.environment = sandbox.environment
            process.currentDirectoryURL = URL(fileURLWithPath: sandbox.directory.path)
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            let errors = sandbox.directory.file("concurrent-\(UUID().uuidString).err")
            _ = FileManager.default.createFile(atPath: errors, contents: nil)
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errors))
            running.append((process, errors))
        }
        for (process, _) in running { try process.run() }
        return running.map { process, errors in
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: FileManager.default.contents(atPath: errors) ?? Data(), as: UTF8.self))
        }
    }

    /// A month for two communes: created, approved, exported and reconciled, each step by two processes at once
    /// (or one after the other when `serial`), with a funding and report readers alongside. Returns the ledger's
    /// state described without batch ids, which depend on who got the write lock first.
    func runMonth(serial: Bool) throws -> [String] {
        let sandbox = CLISandbox(now: "2026-11-25T08:00:00Z")
        let register = sandbox.directory.file("register.csv")
        sandbox.expectSuccess(try sandbox.run(["generate", "register", "--count", "6000", "--seed", "21", "--out", register]))
        sandbox.expectSuccess(try sandbox.run(["beneficiary", "import", register]))
        let communes = try sandbox.sqlite("SELECT commune_code FROM beneficiary GROUP BY commune_code ORDER BY COUNT(*) DESC, commune_code LIMIT 2;")
            .stdout.split(separator: "\n").map(String.init)
        try #require(communes.count == 2)
        func step(_ commands: [[String]]) throws {
            let outcomes = serial ? try commands.flatMap { try concurrently(sandbox, [$0]) } : try concurrently(sandbox, commands)
            for (command, outcome) in zip(commands, outcomes) {
                #expect(!outcome.stderr.contains("locked"), "\(command): \(outcome.stderr)")
                // Only `reconcile` may exit 2 (the generated files hold exceptions on purpose); a `ledger verify`
                // exiting 2 found a break.
                let exceptionsAllowed = command.first == "reconcile"
                #expect(outcome.status == 0 || (exceptionsAllowed && outcome.status == 2), "\(command) exited \(outcome.status): \(outcome.stderr)")
            }
        }
        func batch(of commune: String) throws -> String {
            try sandbox.sqlite("SELECT id FROM batch WHERE scope LIKE '%\(commune)%';").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        try step(communes.map { ["batch", "create", "--period", "2026-11", "--commune", $0, "--by", "maker"] }
                 + [["fund", "--amount", "100000000000", "--reference", "QD-2026-11", "--by", "head"]])
        let batches = try communes.map(batch(of:))
        try step(batches.map { ["batch", "approve", $0, "--by", "checker"] } + [["report", "noncash", "--period", "2026-11", "--format", "json"]])
        try step(batches.map { ["batch", "export", $0, "--out", "instructions-\($0).csv", "--by", "officer"] })
        for batch in batches {
            sandbox.expectSuccess(try sandbox.run(["generate", "results", "--batch", batch, "--seed", "21", "--out", sandbox.directory.file("results-\(batch).csv")]))
        }
        try step(batches.map { ["reconcile", $0, "results-\($0).csv", "--by", "auditor"] } + [["ledger", "verify"]])
        sandbox.expectSuccess(try sandbox.run(["ledger", "verify"]))
        var state: [String] = []
        for (commune, batch) in zip(communes, batches) {
            state.append(commune + ": " + (try sandbox.sqlite("""
                SELECT b.status || ' ' || b.item_count || ' ' || b.item_total || ' ' ||
                       (SELECT group_concat(s, ',') FROM (SELECT COALESCE(st.state, 'open') || '=' || COUNT(*) AS s FROM batch_item i
                                                          LEFT JOIN item_state st ON st.item_id = i.id WHERE i.batch_id = b.id
                                                          GROUP BY COALESCE(st.state, 'open') ORDER BY 1)) || ' ' ||
                       (SELECT group_concat(o, ',') FROM (SELECT r.outcome || '=' || COUNT(*) AS o FROM result_line r JOIN result_file f ON f.id = r.file_id
                                                          WHERE f.batch_id = b.id GROUP BY r.outcome ORDER BY r.outcome)) || ' ' ||
                       (SELECT COUNT(*) || '/' || SUM(p.amount > 0) || '/' || SUM(ABS(p.amount)) FROM posting p JOIN journal_entry e ON e.id = p.entry_id WHERE e.batch_id = b.id)
                FROM batch b WHERE b.id = \(batch);
                """).stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        state.append(try sandbox.sqlite("""
            SELECT (SELECT COUNT(*) FROM journal_entry) || ' entries, ' || (SELECT COUNT(*) FROM posting) || ' postings, ' ||
                   (SELECT group_concat(a, ',') FROM (SELECT account || ':' || sub_account || '=' || SUM(amount) AS a FROM posting GROUP BY account, sub_account ORDER BY account, sub_account));
            """).stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        return state
    }

    /// Two officers create, approve, export and reconcile their communes' batches at the same moments: nothing is
    /// lost, nobody sees "database is locked", and the ledger ends as if they had taken turns.
    @Test func aMonthRunConcurrentlyEndsAsASerialRun() throws {
        let concurrent = try runMonth(serial: false)
        let serial = try runMonth(serial: true)
        #expect(concurrent == serial)
        #expect(concurrent.count == 3)
        #expect(concurrent.prefix(2).allSatisfy { $0.contains("paid=") && $0.contains("failed=") }, "\(concurrent)")
    }

    /// Two officers create the same month's batch at the same moment: one batch is made, the other officer is told
    /// it exists (naming it), nobody sees "database is locked", and approving twice at once approves once.
    @Test func twoOfficersRacingForTheSameMonthMakeOneBatch() throws {
        let sandbox = CLISandbox(now: "2026-11-25T08:00:00Z")
        let register = sandbox.directory.file("register.csv")
        sandbox.expectSuccess(try sandbox.run(["generate", "register", "--count", "5000", "--seed", "22", "--out", register]))
        sandbox.expectSuccess(try sandbox.run(["beneficiary", "import", register]))
        let creates = try concurrently(sandbox, [["batch", "create", "--period", "2026-11", "--by", "maker"],
                                                 ["batch", "create", "--period", "2026-11", "--by", "maker.two"]])
        #expect(creates.filter { $0.status == 0 }.count == 1, "\(creates)")
        let refused = try #require(creates.first { $0.status != 0 })
        #expect(refused.stderr.contains("already in batch 1 for 2026-11"), "\(refused.stderr)")
        #expect(creates.allSatisfy { !$0.stderr.contains("locked") })
        #expect(try sandbox.sqlite("SELECT COUNT(*), COUNT(DISTINCT beneficiary_id) = COUNT(*) FROM batch_item;").stdout
                    .trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix("|1"))
        let approvals = try concurrently(sandbox, [["batch", "approve", "1", "--by", "checker"], ["batch", "approve", "1", "--by", "checker.two"]])
        #expect(approvals.filter { $0.status == 0 }.count == 1, "\(approvals)")
        #expect(approvals.allSatisfy { !$0.stderr.contains("locked") })
        #expect(try sandbox.sqlite("SELECT COUNT(*) FROM journal_entry WHERE kind = 'entitlement';").stdout
                    .trimmingCharacters(in: .whitespacesAndNewlines) == "1")
        sandbox.expectSuccess(try sandbox.run(["ledger", "verify"]))
    }
}
