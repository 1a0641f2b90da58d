import AllowanceLedger
import AllowanceViews
import AllowanceOffice
import ArgumentParser

extension Allowance.Carrier {
    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a carrier.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Carrier code, e.g. MOMO.") var code: String
        @Option(help: "Display name.") var name: String
        @OptionGroup var user: UserOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let parsedCode = try parsed { () throws(FieldError) in try Code(parsing: code, field: "carrier", uppercase: true) }
            try store.open().registry.addCarrier(parsedCode, name: name, by: try user.user())
            if output.json {
                JSON.object([("code", .string(parsedCode.value)), ("name", .string(name))]).print()
            } else {
                print("Added carrier \(parsedCode) (\(name)).")
            }
        }
    }
}
