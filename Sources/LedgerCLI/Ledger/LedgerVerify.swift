import AllowanceLedger
import AllowanceViews
import AllowanceOffice
import ArgumentParser

extension Allowance.Ledger {
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-check every entry's balance, the journal's and the register's hash chains; name what is broken.",
            discussion: """
                Exit 0 when intact, 2 when anything is broken. With --anchor, a signed audit export taken earlier (verified \
                with --key or --public-key) must still be the chain's history: its head entry, with its hash.
                """)

        @OptionGroup var store: StoreOptions
        @Option(help: ArgumentHelp("An earlier signed audit export (a folder) or anchor receipt (`ledger anchor`) whose head this ledger must still hold.", valueName: "DIR|RECEIPT"))
        var anchor: String?
        @Option(name: .long, help: ArgumentHelp("The audit key the anchor was signed with.", valueName: "KEYFILE"))
        var key: String?
        @Option(name: .customLong("public-key"), help: ArgumentHelp("The anchor's Ed25519 public key.", valueName: "FILE"))
        var publicKey: String?
        @OptionGroup var output: OutputOptions

        func run() throws {
            var anchorHead: ChainAnchor?
            if let anchor {
                let secret = try key.map(AuditKeys.secret)
                let pub = try publicKey.map(AuditKeys.ed25519Public)
                do { anchorHead = try ChainAnchor.load(anchor, key: secret, publicKey: pub) } catch { throw CommandError(error.description) }
            }
            let ledger = try store.open()
            let result = try ledger.journal.verify { count in Terminal.progress("verifying: \(count) entries") }
            Terminal.endProgress()
            let anchored = try anchorHead.map { try ledger.journal.holds(anchor: $0.head) }
            let registerAnchored = try anchorHead?.register.map { try ledger.journal.holds(register: $0) }
            if output.json {
                var fields: [(String, JSON)] = []
                if let anchorHead, let anchored {
                    fields.append(("anchor", .object([("export_id", anchorHead.exportID.map { .int($0) } ?? .null), ("entry", .int(anchored.entry)),
                                                      ("hash", .string(anchored.expected)), ("found", .optional(anchored.found)),
                                                      ("holds", .bool(anchored.holds && registerAnchored?.holds != false)),
                                                      ("register", registerAnchored.map { check in
                                                          .object([("link", .int(check.entry)), ("hash", .string(check.expected)),
                                                                   ("found", .optional(check.found)), ("holds", .bool(check.holds))]) } ?? .null)])))
                }
                JSON.object(LedgerView.verification(result, verdict: "intact") + fields).print()
            } else if result.isIntact {
                print("Ledger intact: \(result.entries) entries, \(result.postings) postings, every entry balanced, chain unbroken.")
                print("Chain head: \(result.headHash)")
                print("Register intact: \(result.registerLinks) link(s) seal every beneficiary and every change; head \(result.registerHeadHash)")
            } else {
                print("Ledger BROKEN: \(result.problemCount) problem(s) in \(result.entries) entries.")
                if let first = result.firstBrokenEntry { print("First broken entry: \(first)") }
                for problem in result.problems { print("  \(problem)") }
            }
            if let anchorHead, let anchored, !output.json {
                if anchored.holds {
                    print("Anchor holds: \(anchorHead.label)'s head, entry \(anchored.entry), is still \(anchored.expected).")
                } else {
                    print("Anchor BROKEN: \(anchorHead.label) ended at entry \(anchored.entry) with \(anchored.expected); the ledger holds \(anchored.found ?? "no such entry"). The chain was rewritten since.")
                }
            }
            if result.entries == 0 {
                Terminal.warning("the ledger at \(store.path) holds no journal entries; is --db (or ALLOWANCE_DB) the right file?")
            }
            if let anchorHead, let registerAnchored, !output.json {
                if registerAnchored.holds {
                    print("Register anchor holds: link \(registerAnchored.entry) is still \(registerAnchored.expected).")
                } else {
                    print("Register anchor BROKEN: \(anchorHead.label) recorded register link \(registerAnchored.entry) as \(registerAnchored.expected); the ledger holds \(registerAnchored.found ?? "no such link"). The register's chain was rewritten since.")
                }
            }
            if !result.isIntact || anchored?.holds == false || registerAnchored?.holds == false { throw ExitCode(2) }
        }
    }
}
