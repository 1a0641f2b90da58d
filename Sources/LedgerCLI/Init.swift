import AllowanceLedger
import AllowanceViews
import AllowanceOffice
import ArgumentParser

extension Allowance {
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create the ledger file (other commands create it too when missing).")

        @OptionGroup var store: StoreOptions
        @Option(help: "Days before a batch's creation in which an account change flags the beneficiary (default 7).")
        var changeWindowDays: Int?
        @Option(help: "The office's name, as audit exports carry it (e.g. \"UBND xã Tân Phú\").")
        var office: String?
        @Option(help: ArgumentHelp("""
            Who a command acts as: `declared` (whoever --by names; the default) or `os` (only the operating-system account \
            running it; --by naming anyone else is refused). Recorded with who set it.
            """, valueName: "declared|os"))
        var actor: String?
        @OptionGroup var user: UserOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            if let days = changeWindowDays { try parsed { () throws(RegistryError) in try Registry.checkChangeWindow(days) } }
            let mode = try actor.map { text in
                guard let mode = ActorMode(rawValue: text) else { throw CommandError("--actor must be declared or os, not \"\(text)\"") }
                return mode
            }
            let ledger = try store.open()
            if let mode { try ledger.audit.setActorMode(mode, by: try user.user()) }
            if let days = changeWindowDays { try ledger.registry.setChangeWindowDays(days, by: try user.user()) }
            if let office {
                do { try ledger.audit.setOfficeName(office, by: try user.user()) } catch let error as FieldError { throw CommandError(error.description) }
            }
            let window = try ledger.registry.changeWindowDays()
            let officeName = try ledger.audit.officeName()
            if output.json {
                JSON.object([("db", .string(ledger.location)), ("change_window_days", .int(window)), ("office", .optional(officeName)),
                             ("actor", .string(try ledger.audit.actorMode().rawValue))]).print()
            } else {
                print("Ledger ready at \(ledger.location) (account-change window \(window) days\(officeName.map { ", office \($0)" } ?? "")\(try ledger.audit.actorMode() == .os ? ", actor from the OS account" : "")).")
            }
        }
    }
}
