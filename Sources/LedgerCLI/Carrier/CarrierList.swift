import AllowanceLedger
import AllowanceViews
import AllowanceOffice
import ArgumentParser

extension Allowance.Carrier {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List carriers.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let carriers = try store.open().registry.carriers()
            if output.json {
                JSON.array(carriers.map { .object([("code", .string($0.code.value)), ("name", .string($0.name))]) }).print()
                return
            }
            var table = Table(["code", "name"])
            for carrier in carriers { table.add([carrier.code.value, carrier.name]) }
            print(table.render())
        }
    }
}
