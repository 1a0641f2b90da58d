import AllowanceLedger
import AllowanceViews
import AllowanceOffice
import ArgumentParser

extension Allowance.Beneficiary {
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one beneficiary, by number or national ID.")

        @OptionGroup var store: StoreOptions
        @Argument(help: "Beneficiary number or 12-digit national ID.") var beneficiary: String
        @OptionGroup var output: OutputOptions

        func run() throws {
            let ledger = try store.open()
            try output.recordReveal(ledger, "beneficiary show \(redactIdentifiers(beneficiary))")
            let found = try ledger.registry.beneficiary(beneficiary)
            let flags = try ledger.registry.flags().filter { $0.beneficiaryID == found.id }
            if output.json {
                guard case .object(var pairs) = BeneficiaryView.json(found, reveal: output.reveal) else { return }
                pairs.append(("open_flags", .array(flags.map { .object([("id", .int($0.id)), ("kind", .string($0.kind.rawValue))]) })))
                JSON.object(pairs).print()
                return
            }
            print(BeneficiaryView.text(found, reveal: output.reveal))
            for flag in flags { print("  FLAG \(flag.id)        \(flag.kind.rawValue): \(flag.detail)") }
        }
    }
}
