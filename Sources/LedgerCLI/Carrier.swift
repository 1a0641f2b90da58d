import AllowanceLedger
import ArgumentParser

extension Allowance {
    struct Carrier: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The mobile-money carriers the office pays through.",
            subcommands: [List.self, Add.self], defaultSubcommand: List.self)

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List carriers.")
            @OptionGroup var store: StoreOptions
            @OptionGroup var output: OutputOptions

            func run() throws {
                let carriers = try store.open().carriers()
                if output.json {
                    JSON.array(carriers.map { .object([("code", .string($0.code.value)), ("name", .string($0.name))]) }).print()
                    return
                }
                var table = Table(["code", "name"])
                for carrier in carriers { table.add([carrier.code.value, carrier.name]) }
                print(table.render())
            }
        }

        struct Add: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Add a carrier.")
            @OptionGroup var store: StoreOptions
            @Argument(help: "Carrier code, e.g. MOMO.") var code: String
            @Option(help: "Display name.") var name: String
            @OptionGroup var output: OutputOptions

            func run() throws {
                let parsedCode = try parsed { () throws(FieldError) in try Code(parsing: code, field: "carrier", uppercase: true) }
                try store.open().addCarrier(parsedCode, name: name)
                if output.json {
                    JSON.object([("code", .string(parsedCode.value)), ("name", .string(name))]).print()
                } else {
                    print("Added carrier \(parsedCode) (\(name)).")
                }
            }
        }
    }
}
