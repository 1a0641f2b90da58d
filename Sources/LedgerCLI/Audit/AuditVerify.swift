import AllowanceLedger
import AllowanceViews
import ArgumentParser

extension Allowance.Audit {
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check an audit export offline: signatures, every file's hash, size, rows and totals, the journal chain.",
            discussion: "Exit 0 when every check holds; 2 naming every failed check; 1 when it cannot run (no manifest, unreadable key).")

        @Argument(help: ArgumentHelp("The export folder.", valueName: "DIR"))
        var directory: String

        @Option(name: .long, help: ArgumentHelp("The audit key the export was signed with.", valueName: "KEYFILE"))
        var key: String?

        @Option(name: .customLong("public-key"), help: ArgumentHelp("The Ed25519 public key (`audit keygen --ed25519` writes OUT.pub).", valueName: "FILE"))
        var publicKey: String?

        @Option(help: ArgumentHelp("An earlier export of the same ledger: this one's chain must extend the one it ended at.", valueName: "OLD_DIR"))
        var previous: String?

        @Flag(name: .long, help: "Print one JSON object instead of text.") var json = false

        func run() throws {
            let secret = try key.map(AuditKeys.secret)
            let pub = try publicKey.map(AuditKeys.ed25519Public)
            let result: AuditVerification
            do {
                if let previous {
                    result = try AuditVerifier.verify(directory: directory, key: secret, publicKey: pub, previous: previous)
                } else {
                    result = try AuditVerifier.verify(directory: directory, key: secret, publicKey: pub)
                }
            } catch {
                throw CommandError(error.description)
            }
            if json {
                JSON.object([
                    ("directory", .string(directory)), ("passed", .bool(result.passed)),
                    ("export_id", result.manifest.map { .int($0.exportID) } ?? .null),
                    ("pii", result.manifest.map { .string($0.personalData.rawValue) } ?? .null),
                    ("checked", .array(result.checked.map(JSON.string))), ("not_checked", .array(result.notChecked.map(JSON.string))),
                    ("failures", .array(result.findings.map { finding in
                        .object([("file", .string(finding.file)), ("line", finding.line.map { .int($0) } ?? .null), ("message", .string(finding.message))])
                    })),
                ]).print()
            } else if result.passed {
                print("Export \(directory) verified: every check holds.")
                for line in result.checked { print("  ok  \(line)") }
                if let manifest = result.manifest {
                    print("Journal head: entry \(manifest.journal.headEntryID), \(manifest.journal.headHash)")
                }
            } else {
                print("Export \(directory) FAILED \(result.findings.count) check(s):")
                for finding in result.findings { print("  \(finding)") }
            }
            for line in result.notChecked { Terminal.warning("not checked: \(line)") }
            if !result.passed { throw ExitCode(2) }
        }
    }
}
