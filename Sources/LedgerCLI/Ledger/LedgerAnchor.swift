import AllowanceLedger
import AllowanceViews
import ArgumentParser

extension Allowance.Ledger {
    struct Anchor: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a small signed receipt of the journal's head, to hand to the province or an auditor.",
            discussion: "`ledger verify --anchor RECEIPT --key KEYFILE` later checks the ledger still holds that head.")

        @OptionGroup var store: StoreOptions
        @Option(name: .long, help: ArgumentHelp("The audit key to sign with.", valueName: "KEYFILE")) var key: String
        @Option(help: ArgumentHelp("The receipt to write (never over an existing file).", valueName: "FILE")) var out: String
        @Option(name: .customLong("sign-ed25519"), help: ArgumentHelp("Also sign with this Ed25519 private key (`audit keygen --ed25519`): whoever holds only its public half can check the receipt but not make one.", valueName: "PRIVATE_KEY"))
        var signEd25519: String?
        @OptionGroup var user: UserOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let secret = try AuditKeys.secret(key)
            let signing = try signEd25519.map(AuditKeys.ed25519Private)
            try refuseLedgerPath(out, ledger: store.path, what: "the receipt")
            if fileSize(path: out) != nil { throw CommandError("--out \(out) exists; a receipt is never written over another") }
            let ledger = try store.open()
            let (receipt, bytes) = try ledger.journal.receipt(key: secret, ed25519: signing, office: try ledger.audit.officeName() ?? "",
                                                              by: try user.user())
            try parsed { () throws(FileError) in try writeFile(bytes, to: out) }
            if output.json {
                JSON.object([("file", .string(out)), ("head_entry_id", .int(receipt.journal.headEntryID)),
                             ("head_hash", .string(receipt.journal.headHash)), ("entries", .int(receipt.journal.entries)),
                             ("register_link", receipt.register.map { .int($0.link) } ?? .null),
                             ("register_hash", .optional(receipt.register?.hash)),
                             ("key_id", .string(receipt.keyID)), ("ed25519", .bool(signing != nil))]).print()
            } else {
                print("Wrote \(out): head entry \(receipt.journal.headEntryID) (\(receipt.journal.headHash)), signed with key \(receipt.keyID).")
            }
        }
    }
}
