import AllowanceLedger
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
        @OptionGroup var user: UserOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            if let days = changeWindowDays { try parsed { () throws(RegistryError) in try Registry.checkChangeWindow(days) } }
            let ledger = try store.open()
            if let days = changeWindowDays { try ledger.registry.setChangeWindowDays(days, by: try user.user()) }
            if let office {
                do { try ledger.audit.setOfficeName(office, by: try user.user()) } catch let error as FieldError { throw CommandError(error.description) }
            }
            let window = try ledger.registry.changeWindowDays()
            let officeName = try ledger.audit.officeName()
            if output.json {
                JSON.object([("db", .string(ledger.location)), ("change_window_days", .int(window)), ("office", .optional(officeName))]).print()
            } else {
                print("Ledger ready at \(ledger.location) (account-change window \(window) days\(officeName.map { ", office \($0)" } ?? "")).")
            }
        }
    }
}
