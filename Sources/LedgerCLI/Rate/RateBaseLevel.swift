import AllowanceLedger
import AllowanceViews
import AllowanceOffice
import ArgumentParser

extension Allowance.Rate {
    struct BaseLevel: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "base-level", abstract: "Add a base level from a date: the national one, or a province's with --province.",
            discussion: "A province's People's Council may set a level above the national one (Decree 20/2021/ND-CP, Article 4); the national one applies where none is set, or where it is higher.")
        @OptionGroup var store: StoreOptions
        @Option(help: "Amount in whole đồng per month.") var amount: String
        @Option(help: "First day it applies (YYYY-MM-DD).", transform: dateArgument) var from: CalendarDate
        @Option(help: "The province's code, for a level its People's Council set.") var province: String?
        @Option(help: "The decision it rests on, e.g. \"Nghị quyết 63/2025/NQ-HĐND\".") var basis = ""
        @OptionGroup var user: UserOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let money = try parsed { () throws(MoneyError) in try Money(parsing: amount) }
            try parsed { () throws(RateError) in try Registry.checkBaseLevel(money) }
            let provinceCode = try province.map { text in
                try parsed { () throws(FieldError) in try Code(parsing: text, field: "province", uppercase: false, lengthMax: 16) }.value
            }
            try store.open().registry.setBaseLevel(money, from: from, province: provinceCode, basis: basis, by: try user.user())
            if output.json {
                JSON.object([("amount", .int(money.dong)), ("effective_from", .string(from.description)), ("province", .optional(provinceCode)),
                             ("basis", .string(basis.trimmingSpaces))]).print()
            } else {
                print("Base level \(money.shown)/month from \(from)\(provinceCode.map { " in province \($0)" } ?? "").")
            }
        }
    }
}
