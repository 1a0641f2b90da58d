import AllowanceLedger
import AllowanceViews
import AllowanceOffice
import ArgumentParser

extension Allowance.Ledger {
    struct Balances: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Balances per account and sub-account, from the journal.")

        @OptionGroup var store: StoreOptions
        @Option(help: "Up to the end of this day (YYYY-MM-DD).", transform: dateArgument) var asOf: CalendarDate?
        @Option(help: "Only postings for this beneficiary (number or national ID).") var beneficiary: String?
        @OptionGroup var output: OutputOptions

        func run() throws {
            let ledger = try store.open()
            let who = try beneficiary.map { try ledger.registry.beneficiary($0) }
            let balances = try ledger.journal.balances(asOf: asOf, beneficiary: who?.id)
            if output.json {
                Self.json(balances, asOf: asOf, beneficiary: who).print()
            } else {
                print(Self.text(balances, asOf: asOf, beneficiary: who))
            }
        }

        static func json(_ balances: [AccountBalance], asOf: CalendarDate?, beneficiary who: Beneficiary?) -> JSON {
            JSON.object([
                ("as_of", .optional(asOf?.description)), ("beneficiary", who.map { .int($0.id.rawValue) } ?? .null),
                ("accounts", .array(balances.map { b in
                    .object([("account", .string(b.account.rawValue)), ("name", .string(b.account.name)), ("sub_account", .string(b.subAccount)),
                             ("debits", .int(b.debits.dong)), ("credits", .int(b.credits.dong)), ("balance", .int(b.balance.dong))])
                })),
            ])
        }

        static func text(_ balances: [AccountBalance], asOf: CalendarDate?, beneficiary who: Beneficiary?) -> String {
            var title = "Balances"
            if let asOf { title += " as of \(asOf)" }
            if let who { title += " for beneficiary \(who.id) (\(who.details.fullName))" }
            var out = [title + ":"]
            var table = Table(["account", "name", "sub", "debits", "credits", "balance"], rightAligned: [3, 4, 5])
            for b in balances {
                table.add([b.account.rawValue, b.account.name, b.subAccount, b.debits.shown, b.credits.shown, b.balance.shown])
            }
            out.append(table.render())
            let debits = balances.reduce(Int64(0)) { $0 &+ $1.debits.dong }
            let credits = balances.reduce(Int64(0)) { $0 &+ $1.credits.dong }
            if who == nil { out.append("Total debits \(Money(dong: debits).shown) = total credits \(Money(dong: credits).shown)") }
            return out.joined(separator: "\n")
        }
    }
}
