import AllowanceLedger
import AllowanceViews
import ArgumentParser

extension Allowance {
    struct Beneficiary: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register beneficiaries and their mobile-money accounts.",
            subcommands: [Import.self, Add.self, Show.self, List.self, History.self, Suspend.self, Reinstate.self, Deceased.self,
                          Account.self, Flags.self, ClearFlag.self, Due.self])
    }
}

/// How the CLI shows a beneficiary, masked unless `--reveal`.
enum BeneficiaryView {
    static func json(_ beneficiary: AllowanceLedger.Beneficiary, reveal: Bool) -> JSON {
        let details = beneficiary.details
        return .object([
            ("id", .int(beneficiary.id.rawValue)),
            ("national_id", .string(details.nationalID.shown(reveal: reveal))),
            ("full_name", .string(details.fullName)),
            ("date_of_birth", .string(details.dateOfBirth.description)),
            ("gender", .string(details.gender.rawValue)),
            ("commune_code", .string(details.commune.value)),
            ("category", .string(details.category.value)),
            ("household_status", .optional(details.householdStatus?.rawValue)),
            ("payment_method", .string(details.paymentMethod.rawValue)),
            ("carrier", .optional(details.account?.carrier.value)),
            ("msisdn", .optional(details.account?.msisdn.shown(reveal: reveal))),
            ("status", .string(beneficiary.status.rawValue)),
            ("registered_at", .string(beneficiary.registeredAt)),
            ("registered_by", .string(beneficiary.registeredBy)),
        ])
    }

    static func text(_ beneficiary: AllowanceLedger.Beneficiary, reveal: Bool) -> String {
        let details = beneficiary.details
        var lines = [
            "Beneficiary \(beneficiary.id): \(details.fullName)",
            "  national ID    \(details.nationalID.shown(reveal: reveal))",
            "  born           \(details.dateOfBirth) (\(details.gender.rawValue))",
            "  commune        \(details.commune)",
            "  category       \(details.category)",
            "  household      \(details.householdStatus.map { $0 == .poor ? "poor" : "near-poor" } ?? "-")",
            "  status         \(beneficiary.status.rawValue)",
            "  paid by        \(details.paymentMethod.rawValue)",
        ]
        if let account = details.account {
            lines.append("  account        \(account.carrier) \(account.msisdn.shown(reveal: reveal))")
        }
        lines.append("  registered     \(beneficiary.registeredAt) by \(beneficiary.registeredBy)")
        return lines.joined(separator: "\n")
    }
}
