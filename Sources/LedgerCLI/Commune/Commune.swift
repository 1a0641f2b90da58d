import AllowanceLedger
import AllowanceViews
import AllowanceOffice
import ArgumentParser

extension Allowance {
    struct Commune: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The official list of communes and wards, with the old codes merged into them (since 2025-07-01).",
            subcommands: [List.self, Import.self], defaultSubcommand: List.self)
    }
}

extension Allowance.Commune {
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load the official commune list: CSV or xlsx.",
            discussion: """
            Header: code,name,province_code,province_name,valid_from (required), replaces (the merged communes' old codes, \
            separated by spaces or ;), source (where the names come from). New communes are added, changed ones updated; \
            a register naming an old code is then read as the commune that replaced it, and a code in no list is refused. \
            Every bad line is reported as FILE:LINE: reason and nothing is loaded. Loading the same list again changes nothing.
            """)

        @OptionGroup var store: StoreOptions
        @Argument(help: "The list: CSV (UTF-8) or xlsx.") var file: String
        @OptionGroup var user: UserOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let result = try store.open().registry.importCommunes(path: file, by: try user.user()) { problem in
                Terminal.note(problem.description(in: Terminal.wording))
            }
            if output.json {
                JSON.object([
                    ("file", .string(result.file)), ("lines", .int(result.lines)), ("created", .int(result.created)),
                    ("updated", .int(result.updated)), ("unchanged", .int(result.unchanged)), ("replacements", .int(result.replacements)),
                ]).print()
            } else {
                print("Loaded \(result.file): \(result.lines) communes, \(result.created) new, \(result.updated) updated, "
                      + "\(result.unchanged) unchanged; \(result.replacements) old codes read as the communes that replaced them.")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the communes loaded, with the old codes each replaced.")
        @OptionGroup var store: StoreOptions
        @Option(help: ArgumentHelp("Only this province's communes.", valueName: "CODE")) var province: String?
        @OptionGroup var output: OutputOptions

        func run() throws {
            let communes = try store.open().registry.communes().filter { province == nil || $0.provinceCode.value == province }
            if output.json {
                JSON.array(communes.map { commune in
                    .object([
                        ("code", .string(commune.code.value)), ("name", .string(commune.name)),
                        ("province_code", .string(commune.provinceCode.value)), ("province_name", .string(commune.provinceName)),
                        ("valid_from", .string(commune.validFrom.description)), ("replaces", .array(commune.replaces.map { .string($0) })),
                        ("source", .string(commune.source)),
                    ])
                }).print()
                return
            }
            if communes.isEmpty {
                print("No commune list is loaded; registers may name any commune code. Load one with `allowance commune import FILE`.")
                return
            }
            var table = Table(["code", "name", "province", "valid from", "replaces"])
            for commune in communes {
                table.add([commune.code.value, commune.name, "\(commune.provinceCode) \(commune.provinceName)", commune.validFrom.description,
                           commune.replaces.joined(separator: " ")])
            }
            print(table.render())
        }
    }
}
