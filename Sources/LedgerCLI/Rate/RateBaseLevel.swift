import AllowanceLedger
import AllowanceViews
import AllowanceOffice
import ArgumentParser

extension Allowance.Rate {
    struct BaseLevel: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "base-level", abstract: "Add a base level from a date.")
        @OptionGroup var store: StoreOptions
        @Option(help: "Amount in whole đồng per month.") var amount: String
        @Option(help: "First day it applies (YYYY-MM-DD).", transform: dateArgument) var from: CalendarDate
        @OptionGroup var user: UserOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let money = try parsed { () throws(MoneyError) in try Money(parsing: amount) }
            try parsed { () throws(RateError) in try Registry.checkBaseLevel(money) }
            try store.open().registry.setBaseLevel(money, from: from, by: try user.user())
            if output.json {
                JSON.object([("amount", .int(money.dong)), ("effective_from", .string(from.description))]).print()
            } else {
                print("Base level \(money.shown)/month from \(from).")
            }
        }
    }
}
