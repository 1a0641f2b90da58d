import AllowanceLedger
import AllowanceViews
import AllowanceOffice
import ArgumentParser

extension Allowance.Audit {
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a signed audit export: CSV files of the journal, batches, items and reconciliation, and a signed manifest.",
            discussion: """
            Without --period or --batch the whole ledger is exported. Personal data is masked by default: national IDs
            become keyed pseudonyms (the same person has the same pseudonym in every export under one key), phone numbers
            keep their last 3 digits, names are left out. --pii full keeps them, and the manifest says so.
            DIR must be new or empty. The same ledger and scope always give byte-identical data files.
            """)

        @OptionGroup var store: StoreOptions

        @Option(name: .long, help: ArgumentHelp("The folder to write (new or empty).", valueName: "DIR"))
        var out: String

        @Option(name: .long, help: ArgumentHelp("The audit key (`allowance audit keygen`).", valueName: "KEYFILE"))
        var key: String

        @Option(name: .long, help: ArgumentHelp("Export one month's batches.", valueName: "YYYY-MM"), transform: periodArgument)
        var period: Period?

        @Option(name: .long, parsing: .upToNextOption, help: ArgumentHelp("Export these batches.", valueName: "B"))
        var batch: [Int64] = []

        @Option(name: .long, help: ArgumentHelp("masked or full.", valueName: "MODE"))
        var pii: PersonalData = .masked

        @Option(name: .customLong("sign-ed25519"), help: ArgumentHelp("Also sign with this Ed25519 private key.", valueName: "PRIVATE_KEY"))
        var signEd25519: String?

        @Option(name: .long, help: ArgumentHelp("The office's name for the manifest (default: `allowance init --office`).", valueName: "NAME"))
        var office: String?

        @OptionGroup var user: UserOptions
        @Flag(name: .long, help: "Print one JSON object instead of text.") var json = false

        func validate() throws {
            if period != nil && !batch.isEmpty { throw ValidationError("give --period or --batch, not both") }
            if batch.contains(where: { $0 <= 0 }) { throw ValidationError("--batch takes batch numbers (`allowance batch list`)") }
        }

        func run() throws {
            let key = try AuditKeys.secret(key)
            let signingKey = try signEd25519.map(AuditKeys.ed25519Private)
            let scope: AuditScope = if let period { .period(period) } else if !batch.isEmpty { .batches(batch.map(BatchID.init)) } else { .all }
            let personalData = pii
            let ledger = try store.open()
            let result: AuditExportResult
            do {
                result = try ledger.audit.export(to: out, scope: scope, personalData: personalData, key: key, ed25519: signingKey,
                                                office: office, by: try user.user())
            } catch let error as AuditExportError {
                throw CommandError(error.description)
            }
            if json {
                JSON.object([
                    ("directory", .string(result.directory)), ("export_id", .int(result.exportID)), ("scope", .string(scope.description)),
                    ("pii", .string(personalData.rawValue)), ("manifest_sha256", .string(result.manifestSHA256)),
                    ("previous_manifest_sha256", .optional(result.previousManifestSHA256)), ("key_id", .string(result.keyID)),
                    ("ed25519_key_id", .optional(result.ed25519KeyID)), ("journal_head_entry_id", .int(result.journalHeadEntryID)),
                    ("files", .array(result.files.map { file in
                        .object([("name", .string(file.name)), ("rows", .int(file.rows)), ("bytes", .int(file.bytes)), ("sha256", .string(file.sha256))])
                    })),
                ]).print()
            } else {
                print("Audit export \(result.exportID) (\(scope), personal data \(personalData.rawValue)) written to \(result.directory):")
                var table = Table(["file", "rows", "bytes"], rightAligned: [1, 2])
                for file in result.files { table.add([file.name, String(file.rows), String(file.bytes)]) }
                print(table.render())
                print("Manifest SHA-256 \(result.manifestSHA256), signed with key \(result.keyID)"
                      + (result.ed25519KeyID.map { " and Ed25519 key \($0)" } ?? "") + ".")
                print(result.previousManifestSHA256.map { "Follows the export whose manifest SHA-256 is \($0)." } ?? "The first export of this ledger.")
                print("Check it with: allowance audit verify \(result.directory) --key KEYFILE")
            }
            if result.files.first(where: { $0.name == "batches.csv" })?.rows == 0 {
                Terminal.warning("the scope (\(scope)) holds no batch: the export has the journal's entry headers and nothing else; is --db the right ledger?")
            }
            if try ledger.audit.officeName() == nil && office == nil {
                Terminal.warning("the manifest names no office; set it once with `allowance init --office NAME`")
            }
            if personalData == .full {
                Terminal.warning("this export holds national IDs, phone numbers and names in full; keep it as you would the register")
            }
        }
    }
}

extension PersonalData: ExpressibleByArgument {}
