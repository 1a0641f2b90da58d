import AllowanceLedger
import AllowanceOffice
import ArgumentParser

extension Allowance.Beneficiary {
    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register one beneficiary.")

        @OptionGroup var store: StoreOptions
        @Option(help: "12-digit citizen ID (CCCD).") var nationalID: String
        @Option(help: "Full name as on the ID.") var name: String
        @Option(help: "Date of birth, YYYY-MM-DD.") var dob: String
        @Option(help: "M or F.") var gender: String
        @Option(help: "Commune code.") var commune: String
        @Option(help: "Category code (see `allowance rate list`).") var category: String
        @Option(help: "mobile_money or cash.") var method: String
        @Option(help: "Carrier code, for mobile_money.") var carrier: String?
        @Option(help: "Mobile number, for mobile_money.") var msisdn: String?
        @Option(name: .customLong("household-status"), help: "poor or near_poor: the household's poverty status, if any.") var householdStatus: String?
        @OptionGroup var user: UserOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            var raw = RawRegisterFields()
            raw.nationalID = nationalID
            raw.fullName = name
            raw.dateOfBirth = dob
            raw.gender = gender
            raw.commune = commune
            raw.category = category
            raw.paymentMethod = method
            raw.householdStatus = householdStatus
            raw.carrier = carrier ?? ""
            raw.msisdn = msisdn ?? ""
            let ledger = try store.open()
            let added = try ledger.registry.addBeneficiary(raw, by: try user.user())
            try output.recordReveal(ledger, "beneficiary add: beneficiary \(added.id)", by: try user.user())
            if output.json {
                BeneficiaryView.json(added, reveal: output.reveal).print()
            } else {
                print("Registered beneficiary \(added.id): \(added.details.fullName).")
            }
        }
    }
}
