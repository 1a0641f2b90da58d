import AllowanceLedger
import AllowanceViews
import AllowanceOffice
import ArgumentParser

extension Allowance.Beneficiary {
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import a register: CSV, or an Excel workbook (xlsx).",
            discussion: """
            Header: national_id,full_name,date_of_birth,gender,commune_code,category,payment_method,carrier,msisdn (any order);             title rows above it are skipped. A workbook is read from the first sheet with that header, or --sheet; bad lines are             reported as FILE:SHEET:ROW.
            Every bad line is reported as FILE:LINE: reason. Nothing is imported if any line is bad, unless --skip-invalid.
            Importing the same file again changes nothing.
            """)

        @OptionGroup var store: StoreOptions
        @Argument(help: "The register: CSV (UTF-8, with or without BOM) or xlsx, taken by its content.") var file: String
        @Option(help: ArgumentHelp("The workbook's sheet to read (default: the first with the register's header).", valueName: "NAME"))
        var sheet: String?
        @Flag(help: "Import the good lines and write the rejected ones, with their reasons, to --rejects.") var skipInvalid = false
        @Option(help: "Where --skip-invalid writes rejected lines (default FILE.rejected.csv).") var rejects: String?
        @OptionGroup var user: UserOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            if let rejects { try refuseLedgerPath(rejects, ledger: store.path, option: "--rejects", what: "the rejected lines") }
            let ledger = try store.open()
            if skipInvalid { try output.recordReveal(ledger, "beneficiary import \(file): rejected lines whole", by: try user.user()) }
            var options = RegisterImportOptions(by: try user.user())
            options.skipInvalid = skipInvalid
            options.rejectsPath = rejects
            options.reveal = output.reveal
            options.sheet = sheet
            let total = fileSize(path: file) ?? 0
            let result: RegisterImportResult
            do {
                result = try ledger.registry.importRegister(path: file, options: options, onProblem: { problem in
                    Terminal.endProgress()
                    Terminal.note(problem.description(in: Terminal.wording))
                }, progress: { bytes in
                    Terminal.progress("importing \(file): \(total > 0 ? bytes * 100 / total : 0) %")
                })
                Terminal.endProgress()
            } catch {
                Terminal.endProgress()
                throw error
            }
            if output.json {
                JSON.object([
                    ("file", .string(result.file)), ("sha256", .string(result.sha256)), ("already_imported", .bool(result.alreadyImported)),
                    ("lines", .int(result.lines)), ("created", .int(result.created)), ("updated", .int(result.updated)),
                    ("unchanged", .int(result.unchanged)), ("rejected", .int(result.rejected)),
                    ("rejects_file", .optional(result.rejectsPath)), ("flags_raised", .int(result.flagsRaised)),
                    ("communes_replaced", .object(result.communesReplaced.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })),
                ]).print()
                return
            }
            if result.alreadyImported {
                print("\(file) was already imported at \(result.previousImportAt ?? "?") by \(result.previousImportBy ?? "?") (\(result.lines) lines); nothing changed.")
                return
            }
            print("Imported \(file): \(result.lines) lines, \(result.created) new, \(result.updated) updated, \(result.unchanged) unchanged, \(result.rejected) rejected.")
            if let path = result.rejectsPath {
                print("Rejected lines and their reasons: \(path)")
            }
            if !result.communesReplaced.isEmpty {
                let names = try ledger.registry.communes()
                let replacedBy = Dictionary(names.flatMap { commune in commune.replaces.map { ($0, commune) } }, uniquingKeysWith: { first, _ in first })
                for (old, lines) in result.communesReplaced.sorted(by: { $0.key < $1.key }) {
                    let commune = replacedBy[old]
                    print("\(lines) line(s) name commune \(old), merged into \(commune.map { "\($0.code) \($0.name)" } ?? "another") "
                          + "\(commune.map { "from \($0.validFrom)" } ?? ""); imported as \(commune?.code.value ?? "it").")
                }
            }
            if result.flagsRaised > 0 {
                print("\(result.flagsRaised) new flag(s) raised; see `allowance beneficiary flags`.")
            }
        }
    }
}
