import AllowanceLedger
import AllowanceViews
import AllowanceOffice
import ArgumentParser

extension Allowance.Rate {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the programmes, base levels and categories, and the monthly amount per category for a period.",
            discussion: "With --province, the base level that applies there and why: the province's own (set by its People's Council) when above the national one, else the national one.")
        @OptionGroup var store: StoreOptions
        @Option(help: "The month to compute amounts for (default: the current month).", transform: periodArgument) var period: Period?
        @Option(help: "A province's code: amounts at the base level that applies there.") var province: String?
        @OptionGroup var output: OutputOptions

        func run() throws {
            let ledger = try store.open()
            let rates = try ledger.registry.rates()
            let rule = try ledger.registry.ageMonthRule()
            let today = ledger.clock.now().date
            let period = period ?? Period(year: today.year, month: today.month)!
            let province = province?.trimmingSpaces
            let applied = rates.appliedBaseLevel(on: period.firstDay, province: province)
            let categories = rates.categories.keys.sorted()
            func amount(_ code: Code) -> Money? { try? rates.monthlyAmount(category: code, period: period, province: province) }
            if output.json {
                JSON.object([
                    ("period", .string(period.description)),
                    ("province", .optional(province)),
                    ("age_rule", .string(rule.rawValue)),
                    ("programmes", .array(rates.programmes.map { .object([("code", .string($0.code.value)), ("name", .string($0.name)), ("basis", .string($0.basis))]) })),
                    ("base_levels", .array(rates.baseLevels.map { level in
                        .object([("effective_from", .string(level.effectiveFrom.description)), ("amount", .int(level.amount.dong)),
                                 ("province", .optional(level.province)), ("basis", .string(level.basis))])
                    })),
                    ("base_level_applied", applied.map { applied in
                        .object([("amount", .int(applied.level.amount.dong)), ("effective_from", .string(applied.level.effectiveFrom.description)),
                                 ("province", .optional(applied.level.province)), ("reason", .string(applied.reason.rawValue))])
                    } ?? .null),
                    ("categories", .array(categories.map { code in
                        let rate = rates.coefficient(of: code, on: period.firstDay)
                        let rules = rates.categoryRules[code]
                        return .object([("code", .string(code.value)), ("description", .string(rates.categories[code] ?? "")),
                                        ("programme", .optional(rules?.programme.value)),
                                        ("coefficient", rate?.coefficient.map { .string($0.description) } ?? .null),
                                        ("fixed_amount", rate?.amount.map { .int($0.dong) } ?? .null),
                                        ("effective_from", rate.map { .string($0.effectiveFrom.description) } ?? .null),
                                        ("monthly_amount", amount(code).map { .int($0.dong) } ?? .null),
                                        ("qualifies_from_age", rules?.qualifiesFromAge.map { .int(Int64($0)) } ?? .null),
                                        ("qualifies_from_age_poor_household", rules?.qualifiesFromAgePoorHousehold.map { .int(Int64($0)) } ?? .null),
                                        ("becomes", .optional(rules?.becomes?.value)),
                                        ("becomes_at_age", rules?.becomesAtAge.map { .int(Int64($0)) } ?? .null)])
                    })),
                ]).print()
                return
            }
            print("Programmes (a person is paid one monthly benefit, the highest they qualify for):")
            for programme in rates.programmes { print("  \(programme.code): \(programme.name); \(programme.basis)") }
            print("\nBase level:")
            for level in rates.baseLevels {
                let whose = level.province.map { "province \($0)" } ?? "national"
                print("  \(whose) from \(level.effectiveFrom): \(level.amount.shown)/month" + (level.basis.isEmpty ? "" : "; \(level.basis)"))
            }
            if let applied {
                let whose = applied.level.province.map { "province \($0)'s own level" } ?? "the national level"
                let why = switch applied.reason {
                case .national: province.map { "province \($0) has set no level of its own in effect" } ?? "no province asked (--province)"
                case .provincial: "above the national \(applied.national?.amount.shown ?? "-")"
                case .nationalAboveProvincial: "the national level has passed the province's own"
                }
                print("In \(period)\(province.map { " in province \($0)" } ?? ""): \(whose), \(applied.level.amount.shown) from \(applied.level.effectiveFrom) (\(why)).")
            }
            print("\nBirthdays change benefits from \(rule == .nextMonth ? "the month after the birthday" : "the month of the birthday") (`allowance rate age-rule`).")
            print("\nCategories in \(period)\(province.map { " in province \($0)" } ?? ""):")
            var table = Table(["category", "programme", "coefficient", "since", "monthly amount", "by age", "description"], rightAligned: [2, 4])
            for code in categories {
                let rate = rates.coefficient(of: code, on: period.firstDay)
                let rules = rates.categoryRules[code]
                var byAge: [String] = []
                if let age = rules?.qualifiesFromAge { byAge.append("from \(age)") }
                if let age = rules?.qualifiesFromAgePoorHousehold { byAge.append("from \(age) if poor/near-poor") }
                if let to = rules?.becomes, let age = rules?.becomesAtAge { byAge.append("\(to) at \(age)") }
                table.add([code.value, rules?.programme.value ?? "", rate?.coefficient?.description ?? (rate?.amount.map { _ in "fixed" } ?? "-"),
                           rate?.effectiveFrom.description ?? "-", amount(code)?.shown ?? "-", byAge.joined(separator: "; "), rates.categories[code] ?? ""])
            }
            print(table.render())
        }
    }

    struct AgeRule: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "age-rule",
            abstract: "From which month a birthday changes a benefit: next (the month after it, the default) or same.",
            discussion: "Decree 147/2025/ND-CP (Article 5) adjusts a level from the month after the change of conditions; see the README.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "next or same.") var rule: String
        @OptionGroup var user: UserOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            guard let parsedRule = AgeMonthRule(rawValue: rule.trimmingSpaces.lowercased()) else {
                throw ValidationError("the age rule is next (the month after the birthday) or same (the month of it), not \"\(rule)\"")
            }
            try store.open().registry.setAgeMonthRule(parsedRule, by: try user.user())
            if output.json {
                JSON.object([("age_rule", .string(parsedRule.rawValue))]).print()
            } else {
                print("Birthdays now change benefits from \(parsedRule == .nextMonth ? "the month after the birthday" : "the month of the birthday").")
            }
        }
    }
}
