import AllowanceLedger
import AllowanceViews
import AllowanceOffice
import ArgumentParser

extension Allowance.Carrier {
    struct Alias: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Carrier names as people write them in a register: `Viettel Money`, `ViettelPay` for VIETTEL.",
            discussion: "Compared without case and with runs of spaces as one. The seeded carriers' usual names are there from the start.",
            subcommands: [AliasList.self, AliasAdd.self], defaultSubcommand: AliasList.self)
    }

    struct AliasAdd: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Let a register name a carrier by another name.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The name as a register writes it, e.g. \"Viettel Money\".") var alias: String
        @Argument(help: "The carrier's code (`allowance carrier list`).") var carrier: String
        @OptionGroup var user: UserOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let code = try parsed { () throws(FieldError) in try Code(parsing: carrier, field: "carrier", uppercase: true) }
            try store.open().registry.addCarrierAlias(alias, carrier: code, by: try user.user())
            let key = CarrierAlias.key(alias)
            if output.json {
                JSON.object([("alias", .string(key)), ("carrier", .string(code.value))]).print()
            } else {
                print("A register's \"\(alias)\" now names carrier \(code).")
            }
        }
    }

    struct AliasList: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the carriers' aliases.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let aliases = try store.open().registry.carrierAliases()
            if output.json {
                JSON.array(aliases.map { .object([("alias", .string($0.alias)), ("carrier", .string($0.carrier))]) }).print()
                return
            }
            var table = Table(["alias", "carrier"])
            for alias in aliases { table.add([alias.alias, alias.carrier]) }
            print(table.render())
        }
    }
}
