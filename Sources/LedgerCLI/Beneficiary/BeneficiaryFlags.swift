import AllowanceLedger
import AllowanceViews
import AllowanceOffice
import ArgumentParser

extension Allowance.Beneficiary {
    struct Flags: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fraud safeguards: shared phone numbers and recent account changes.",
            discussion: "A flagged beneficiary is held out of new batches until an officer clears the flag with a reason.")

        @OptionGroup var store: StoreOptions
        @Flag(help: "Include cleared flags.") var all = false
        @OptionGroup var output: OutputOptions

        func run() throws {
            let ledger = try store.open()
            try output.recordReveal(ledger, "beneficiary flags")
            let flags = try ledger.registry.flags(includeCleared: all)
            if output.json {
                JSON.array(flags.map { flag in
                    .object([("id", .int(flag.id)), ("beneficiary", .int(flag.beneficiaryID.rawValue)), ("kind", .string(flag.kind.rawValue)),
                             ("evidence", .string(flag.shownEvidence(reveal: output.reveal))), ("detail", .string(flag.detail)),
                             ("raised_at", .string(flag.raisedAt)), ("cleared_at", .optional(flag.clearedAt)),
                             ("cleared_by", .optional(flag.clearedBy)), ("clear_reason", .optional(flag.clearReason))])
                }).print()
                return
            }
            if flags.isEmpty {
                print(all ? "No flags." : "No open flags.")
                return
            }
            var table = Table(["flag", "beneficiary", "kind", "evidence", "detail", "raised", "cleared"], rightAligned: [0, 1])
            for flag in flags {
                table.add([String(flag.id), flag.beneficiaryID.description, flag.kind.rawValue, flag.shownEvidence(reveal: output.reveal),
                           flag.detail, flag.raisedAt, flag.clearedAt.map { "\($0) by \(flag.clearedBy ?? ""): \(flag.clearReason ?? "")" } ?? ""])
            }
            print(table.render())
            let open = flags.filter { !$0.isCleared }
            print("\(open.count) open flag\(open.count == 1 ? "" : "s") on \(Set(open.map(\.beneficiaryID)).count) beneficiar\(Set(open.map(\.beneficiaryID)).count == 1 ? "y" : "ies"); clear one with `allowance beneficiary clear-flag FLAG --reason \"…\"`.")
        }
    }
}
