import AllowanceLedger
import AllowanceViews
import AllowanceOffice
import ArgumentParser

extension Allowance.Beneficiary {
    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every change to a beneficiary: when, who, what, why.")

        @OptionGroup var store: StoreOptions
        @Argument(help: "Beneficiary number or 12-digit national ID.") var beneficiary: String
        @OptionGroup var output: OutputOptions

        func run() throws {
            let ledger = try store.open()
            try output.recordReveal(ledger, "beneficiary history \(redactIdentifiers(beneficiary))")
            let (found, events) = try ledger.registry.history(of: beneficiary)
            func shown(_ value: String?, _ event: BeneficiaryEvent) -> String? {
                BeneficiaryEvent.shown(value, field: event.field, reveal: output.reveal)
            }
            if output.json {
                JSON.object([("beneficiary", .int(found.id.rawValue)), ("events", .array(events.map { event in
                    .object([("at", .string(event.at)), ("by", .string(event.by)), ("kind", .string(event.kind.rawValue)),
                             ("field", .optional(event.field)), ("old", .optional(shown(event.oldValue, event))),
                             ("new", .optional(shown(event.newValue, event))), ("reason", .optional(event.reason))])
                }))]).print()
                return
            }
            print("History of beneficiary \(found.id) (\(found.details.fullName)):")
            var table = Table(["at", "by", "what", "field", "from", "to", "reason"])
            for event in events {
                table.add([event.at, event.by, event.kind.rawValue, event.field ?? "", shown(event.oldValue, event) ?? "",
                           shown(event.newValue, event) ?? "", event.reason ?? ""])
            }
            print(table.render())
        }
    }
}
