/// From which month a birthday counts: the month after it (the default) or the month of it. A setting
/// (`allowance rate age-rule`), since offices read Decree 20/2021's timing differently; see the README.
public enum AgeMonthRule: String, Sendable, CaseIterable {
    case nextMonth = "next"
    case sameMonth = "same"

    package static let settingKey = "benefit_age_month"
}

/// The household's poverty status as the register names it (`household_status`): it brings the social pension
/// forward to 70.
public enum HouseholdStatus: String, Sendable, CaseIterable {
    case poor
    case nearPoor = "near_poor"

    /// `poor`, `near_poor` (or `near-poor`, `near poor`), or as Vietnamese registers write them: `hộ nghèo`, `nghèo`,
    /// `hộ cận nghèo`, `cận nghèo` (with or without the marks). Empty is nil.
    public init?(parsing raw: String) throws(FieldError) {
        let text = raw.trimmingSpaces.lowercased()
        if text.isEmpty { return nil }
        let folded = Self.foldVietnamese(text).replacingOccurrences(of: "-", with: " ").replacingOccurrences(of: "_", with: " ")
        let words = folded.split(separator: " ").filter { $0 != "ho" }.joined(separator: " ")
        switch words {
        case "poor", "ngheo": self = .poor
        case "near poor", "can ngheo": self = .nearPoor
        default: throw FieldError(Problem("register.household_status_invalid", ["value": redactIdentifiers(raw.trimmingSpaces)]))
        }
    }

    private static func foldVietnamese(_ text: String) -> String {
        String(text.decomposedStringWithCanonicalMapping.unicodeScalars.filter { $0.properties.generalCategory != .nonspacingMark }
            .map { $0 == "đ" ? "d" : Character($0) })
    }
}

/// The rules of one period, ready for a batch: the age limits as birth months, the categories by age and the prices
/// per pricing zone (the nation, and each province that set its own base level).
public struct BenefitPlan: Sendable {
    public let period: Period
    public let rule: AgeMonthRule

    /// A registered category that moves on by age: people registered in `from` born before `bornBefore` (a
    /// `YYYY-MM` bound, exclusive: ISO birth dates compare below it as text) are in `to` from this period.
    public struct Step: Sendable, Equatable {
        public let from: Code
        public let to: Code
        public let age: Int
        public let bornBefore: String
    }

    /// A category people qualify for by age alone (the social pension), priced in this period.
    public struct AgeCategory: Sendable, Equatable {
        public let code: Code
        public let age: Int?
        public let agePoorHousehold: Int?
        public let bornBefore: String?
        public let bornBeforePoorHousehold: String?
        /// The same bounds one period earlier, and whether it was priced then: who is new to it this period.
        public let bornBeforeLastPeriod: String?
        public let bornBeforePoorHouseholdLastPeriod: String?
        public let pricedLastPeriod: Bool
    }

    public let steps: [Step]
    public let ageCategories: [AgeCategory]
    /// Prices by zone: "" is national, else a province code whose own base level applies.
    public let prices: [String: [Code: Money]]
    /// Categories without a price in the period, and why: an error only if someone in scope is registered in one.
    public let unpriced: [Code: RateError]
    /// The provinces with their own base level in effect: their communes are priced in their zone.
    public var provinces: [String] { prices.keys.filter { !$0.isEmpty }.sorted() }

    public init(rates: RateTable, period: Period, rule: AgeMonthRule) {
        self.period = period
        self.rule = rule
        var prices: [String: [Code: Money]] = [:]
        var unpriced: [Code: RateError] = [:]
        let zones = [""] + rates.provincesWithOwnLevel(on: period.firstDay)
        for zone in zones {
            for category in rates.categories.keys.sorted() {
                switch Result(catching: { () throws(RateError) in
                    try rates.monthlyAmount(category: category, period: period, province: zone.isEmpty ? nil : zone)
                }) {
                case .success(let amount): prices[zone, default: [:]][category] = amount
                case .failure(let error): if zone.isEmpty { unpriced[category] = error }
                }
            }
        }
        self.prices = prices
        self.unpriced = unpriced
        steps = rates.categoryRules.values.sorted { $0.code < $1.code }.compactMap { category in
            guard let to = category.becomes, let age = category.becomesAtAge else { return nil }
            return Step(from: category.code, to: to, age: age, bornBefore: Self.bornBefore(age: age, period: period, rule: rule))
        }
        let previous = period.previous
        ageCategories = rates.ageQualifiedCategories.compactMap { category in
            guard prices[""]?[category.code] != nil else { return nil }
            let bound = { (age: Int?, period: Period) in age.map { Self.bornBefore(age: $0, period: period, rule: rule) } }
            return AgeCategory(code: category.code, age: category.qualifiesFromAge, agePoorHousehold: category.qualifiesFromAgePoorHousehold,
                               bornBefore: bound(category.qualifiesFromAge, period),
                               bornBeforePoorHousehold: bound(category.qualifiesFromAgePoorHousehold, period),
                               bornBeforeLastPeriod: bound(category.qualifiesFromAge, previous),
                               bornBeforePoorHouseholdLastPeriod: bound(category.qualifiesFromAgePoorHousehold, previous),
                               pricedLastPeriod: (try? rates.monthlyAmount(category: category.code, period: previous)) != nil)
        }
    }

    /// The exclusive bound on the birth month of people who have reached `age` for `period`: with the month-after
    /// rule, born before the period's month `age` years earlier; with the same-month rule, in it too.
    public static func bornBefore(age: Int, period: Period, rule: AgeMonthRule) -> String {
        var year = period.year - age
        var month = rule == .nextMonth ? period.month : period.month + 1
        if month > 12 { (year, month) = (year + 1, 1) }
        return (year < 1000 ? String(repeating: "0", count: 4 - String(max(year, 0)).count) : "") + "\(max(year, 0))-" + (month < 10 ? "0" : "") + "\(month)"
    }

    /// Whether someone born on `birth` has reached `age` for the period, by the rule: what the SQL bound says.
    public static func hasReached(age: Int, born birth: CalendarDate, period: Period, rule: AgeMonthRule) -> Bool {
        birth.description < bornBefore(age: age, period: period, rule: rule)
    }

    /// What the period changes for one person registered in `category`: the category step their age brings, and each
    /// benefit by age they qualify for this period but did not the period before. The rule the SQL bounds select by.
    public func changes(beneficiary: BeneficiaryID, name: String, commune: String, born: CalendarDate, category: Code,
                        household: HouseholdStatus?) -> [BenefitChange] {
        let birth = born.description
        var changes: [BenefitChange] = []
        for step in steps where step.from == category && birth < step.bornBefore {
            changes.append(BenefitChange(beneficiary: beneficiary, name: name, commune: commune, dateOfBirth: born, kind: .category,
                                         from: category, to: step.to, age: step.age))
        }
        for benefit in ageCategories where benefit.code != category {
            func qualifies(_ general: String?, _ poor: String?) -> Bool {
                (general.map { birth < $0 } ?? false) || (household != nil && (poor.map { birth < $0 } ?? false))
            }
            guard qualifies(benefit.bornBefore, benefit.bornBeforePoorHousehold) else { continue }
            if benefit.pricedLastPeriod && qualifies(benefit.bornBeforeLastPeriod, benefit.bornBeforePoorHouseholdLastPeriod) { continue }
            // The age that made them qualify: the general one when reached, else the poor household's.
            let age = benefit.bornBefore.map { birth < $0 } == true ? benefit.age ?? 0 : benefit.agePoorHousehold ?? 0
            changes.append(BenefitChange(beneficiary: beneficiary, name: name, commune: commune, dateOfBirth: born, kind: .qualified,
                                         from: category, to: benefit.code, age: age))
        }
        return changes
    }

    public func price(_ category: Code, zone: String) -> Money? {
        prices[zone]?[category] ?? prices[""]?[category]
    }
}

/// A change of benefit that the month brings, by age: a category step or a new qualification.
public struct BenefitChange: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// The registered category moved on (`ELDERLY_POOR` → `ELDERLY_POOR_80` at 80).
        case category
        /// Newly qualified for a benefit by age (the social pension at 75, or at 70 in a poor or near-poor household).
        case qualified
    }

    public let beneficiary: BeneficiaryID
    public let name: String
    public let commune: String
    public let dateOfBirth: CalendarDate
    public let kind: Kind
    public let from: Code
    public let to: Code
    public let age: Int

    package init(beneficiary: BeneficiaryID, name: String, commune: String, dateOfBirth: CalendarDate, kind: Kind, from: Code, to: Code,
                 age: Int) {
        self.beneficiary = beneficiary
        self.name = name
        self.commune = commune
        self.dateOfBirth = dateOfBirth
        self.kind = kind
        self.from = from
        self.to = to
        self.age = age
    }

    /// Why, as the history's reason says it.
    public func reason(rule: AgeMonthRule, period: Period) -> String {
        let birthday = CalendarDate(year: dateOfBirth.year + age, month: dateOfBirth.month,
                                    day: min(dateOfBirth.day, CalendarDate.daysIn(month: dateOfBirth.month, year: dateOfBirth.year + age)))!
        let when = rule == .nextMonth ? "from the month after the birthday" : "from the month of the birthday"
        switch kind {
        case .category: return "reached \(age) on \(birthday): \(to) \(when), \(period)"
        case .qualified: return "qualifies for \(to) at \(age) (birthday \(birthday)); paid the highest benefit \(when), \(period)"
        }
    }
}
