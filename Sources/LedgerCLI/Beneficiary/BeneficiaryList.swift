import AllowanceLedger
import AllowanceViews
import AllowanceOffice
import ArgumentParser

extension BeneficiaryStatus: ExpressibleByArgument {}
extension PaymentMethod: ExpressibleByArgument {}

extension Allowance.Beneficiary {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List beneficiaries, filtered by commune, status and method.")

        @OptionGroup var store: StoreOptions
        @Option(help: "Only this commune.") var commune: String?
        @Option(help: "active, suspended or deceased.") var status: BeneficiaryStatus?
        @Option(help: "mobile_money or cash.") var method: PaymentMethod?
        @Option(help: "At most this many.") var limit: Int?
        @OptionGroup var output: OutputOptions

        func run() throws {
            var filter = BeneficiaryFilter(status: status, method: method, limit: limit)
            if let commune { filter.commune = try parsed { () throws(FieldError) in try Code(parsing: commune, field: "commune", uppercase: false) } }
            let ledger = try store.open()
            try output.recordReveal(ledger, "beneficiary list")
            let found = try ledger.registry.beneficiaries(filter)
            if output.json {
                JSON.array(found.map { BeneficiaryView.json($0, reveal: output.reveal) }).print()
                return
            }
            var table = Table(["id", "national ID", "name", "born", "commune", "category", "method", "account", "status"], rightAligned: [0])
            for b in found {
                let d = b.details
                table.add([b.id.description, d.nationalID.shown(reveal: output.reveal), d.fullName, d.dateOfBirth.description, d.commune.value,
                           d.category.value, d.paymentMethod.rawValue,
                           d.account.map { "\($0.carrier) \($0.msisdn.shown(reveal: output.reveal))" } ?? "", b.status.rawValue])
            }
            print(table.render())
            print("\(found.count) beneficiar\(found.count == 1 ? "y" : "ies")")
        }
    }
}
