import AllowanceLedger
import AllowanceViews
import AllowanceOffice
import ArgumentParser

extension Allowance.Beneficiary {
    struct ClearFlag: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "clear-flag", abstract: "Clear a flag with a reason; the beneficiary goes into the next batch.")

        @OptionGroup var store: StoreOptions
        @Argument(help: "Flag number (see `beneficiary flags`).") var flag: Int64
        @Option(help: "Why it is safe to pay; kept in the history.") var reason: String
        @OptionGroup var user: UserOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let cleared = try store.open().registry.clearFlag(flag, reason: reason, by: try user.user())
            if output.json {
                JSON.object([("id", .int(cleared.id)), ("beneficiary", .int(cleared.beneficiaryID.rawValue)), ("kind", .string(cleared.kind.rawValue)),
                             ("cleared_at", .optional(cleared.clearedAt)), ("cleared_by", .optional(cleared.clearedBy))]).print()
            } else {
                print("Flag \(cleared.id) (\(cleared.kind.rawValue)) on beneficiary \(cleared.beneficiaryID) cleared.")
            }
        }
    }
}
