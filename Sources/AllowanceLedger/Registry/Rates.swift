/// The benefit programmes, their categories, the base levels (national and provincial) and each category's amount, every
/// amount with the day it takes effect. Data, never constants: a change in law is rows added with `rate …`.
public struct RateTable: Sendable {
    /// A benefit programme: the monthly social allowance (Decree 20/2021), the social pension (Law on Social Insurance
    /// 2024), … A person is paid one monthly benefit, the highest they qualify for, whatever the programmes.
    public struct Programme: Sendable, Equatable {
        public let code: Code
        public let name: String
        /// The law it rests on, as the office cites it.
        public let basis: String

        package init(code: Code, name: String, basis: String) {
            self.code = code
            self.name = name
            self.basis = basis
        }
    }

    public struct BaseLevel: Sendable, Equatable {
        public let effectiveFrom: CalendarDate
        public let amount: Money
        /// The province whose People's Council set it; nil for the national level.
        public let province: String?
        public let basis: String

        package init(effectiveFrom: CalendarDate, amount: Money, province: String? = nil, basis: String = "") {
            self.effectiveFrom = effectiveFrom
            self.amount = amount
            self.province = province
            self.basis = basis
        }
    }

    /// A category's amount from a day: a coefficient of the base level, or a fixed amount (the social pension's).
    public struct CategoryRate: Sendable, Equatable {
        public let category: Code
        public let description: String
        public let effectiveFrom: CalendarDate
        public let coefficient: Coefficient?
        public let amount: Money?

        package init(category: Code, description: String, effectiveFrom: CalendarDate, coefficient: Coefficient?, amount: Money? = nil) {
            precondition((coefficient == nil) != (amount == nil), "a rate is a coefficient or a fixed amount")
            self.category = category
            self.description = description
            self.effectiveFrom = effectiveFrom
            self.coefficient = coefficient
            self.amount = amount
        }
    }

    /// What a category is beside its amount: its programme and the rules of age that move people in and out of it.
    public struct Category: Sendable, Equatable {
        public let code: Code
        public let description: String
        public let programme: Code
        /// People of this age or more qualify without being registered in it (the social pension's 75).
        public let qualifiesFromAge: Int?
        /// The same for people of a poor or near-poor household (the social pension's 70).
        public let qualifiesFromAgePoorHousehold: Int?
        /// The category a person moves to on reaching `becomesAtAge` (`ELDERLY_POOR` becomes `ELDERLY_POOR_80` at 80).
        public let becomes: Code?
        public let becomesAtAge: Int?

        package init(code: Code, description: String, programme: Code, qualifiesFromAge: Int? = nil,
                     qualifiesFromAgePoorHousehold: Int? = nil, becomes: Code? = nil, becomesAtAge: Int? = nil) {
            self.code = code
            self.description = description
            self.programme = programme
            self.qualifiesFromAge = qualifiesFromAge
            self.qualifiesFromAgePoorHousehold = qualifiesFromAgePoorHousehold
            self.becomes = becomes
            self.becomesAtAge = becomesAtAge
        }

        /// True when people qualify for it by age, registered in it or not.
        public var qualifiesByAge: Bool { qualifiesFromAge != nil || qualifiesFromAgePoorHousehold != nil }
    }

    /// The base level in effect and why it, not another, applies.
    public struct AppliedBaseLevel: Sendable, Equatable {
        public let level: BaseLevel
        /// The national level in effect, when a provincial one was set: shown beside it.
        public let national: BaseLevel?
        public let reason: Reason

        public enum Reason: String, Sendable {
            /// No provincial level in effect for the province (or no province asked).
            case national
            /// The province's level, above the national one.
            case provincial
            /// The province set a level that the national one has since passed: the higher applies.
            case nationalAboveProvincial = "national_above_provincial"
        }
    }

    /// Sorted by province (national first), then date.
    public let baseLevels: [BaseLevel]
    /// Sorted by category, then date.
    public let categoryRates: [CategoryRate]
    public let categoryRules: [Code: Category]
    /// Each category's description, by code (from `categoryRules`).
    public let categories: [Code: String]
    public let programmes: [Programme]

    package init(baseLevels: [BaseLevel], categoryRates: [CategoryRate], categoryRules: [Code: Category], programmes: [Programme]) {
        self.baseLevels = baseLevels
        self.categoryRates = categoryRates
        self.categoryRules = categoryRules
        self.categories = categoryRules.mapValues(\.description)
        self.programmes = programmes
    }

    /// The national level in effect on the day.
    public func baseLevel(on day: CalendarDate) -> BaseLevel? {
        baseLevels.last { $0.province == nil && $0.effectiveFrom <= day }
    }

    /// The level that applies in a province on the day: its own when it set one above the national level, else the
    /// national one.
    public func appliedBaseLevel(on day: CalendarDate, province: String?) -> AppliedBaseLevel? {
        let national = baseLevel(on: day)
        guard let province, let provincial = baseLevels.last(where: { $0.province == province && $0.effectiveFrom <= day }) else {
            return national.map { AppliedBaseLevel(level: $0, national: nil, reason: .national) }
        }
        if let national, national.amount.dong >= provincial.amount.dong {
            return AppliedBaseLevel(level: national, national: national, reason: .nationalAboveProvincial)
        }
        return AppliedBaseLevel(level: provincial, national: national, reason: .provincial)
    }

    /// The provinces that set a level of their own in effect on the day.
    public func provincesWithOwnLevel(on day: CalendarDate) -> [String] {
        Set(baseLevels.compactMap(\.province)).sorted().filter { appliedBaseLevel(on: day, province: $0)?.reason == .provincial }
    }

    public func coefficient(of category: Code, on day: CalendarDate) -> CategoryRate? {
        categoryRates.last { $0.category == category && $0.effectiveFrom <= day }
    }

    /// Why a new category cannot join the table, if it cannot: an unknown programme, a `becomes` that is not a
    /// category (nor among `alsoKnown`, categories added with it) or is itself, or rules of age that move people both
    /// in and on. Loops through several categories are the caller's to find (`rate import`).
    public func refusals(adding category: Category, alsoKnown: Set<Code> = []) -> [RateError] {
        var refusals: [RateError] = []
        if !programmes.contains(where: { $0.code == category.programme }) { refusals.append(.unknownProgramme(category.programme)) }
        if let becomes = category.becomes {
            if becomes == category.code {
                refusals.append(.badAgeRule("category \(becomes) cannot become itself"))
            } else if categories[becomes] == nil && !alsoKnown.contains(becomes) {
                refusals.append(.unknownCategory(becomes))
            }
            if category.qualifiesByAge {
                refusals.append(.badAgeRule("a category people qualify for by age does not move on by age; give one of the two"))
            }
        }
        return refusals
    }

    /// The categories people qualify for by age, sorted by code.
    public var ageQualifiedCategories: [Category] {
        categoryRules.values.filter(\.qualifiesByAge).sorted { $0.code < $1.code }
    }

    /// The category's monthly amount in the period, in the province (nil: the national level): its fixed amount, or
    /// the base level × its coefficient rounded half up to whole đồng, each as in effect on the period's first day.
    public func monthlyAmount(category: Code, period: Period, province: String? = nil) throws(RateError) -> Money {
        let day = period.firstDay
        let rate = coefficient(of: category, on: day)
        if let amount = rate?.amount { return amount }
        guard let base = appliedBaseLevel(on: day, province: province) else { throw .noBaseLevel(period) }
        guard categories[category] != nil else { throw .unknownCategory(category) }
        guard let rate else { throw .noCoefficient(category, period) }
        do {
            return try base.level.amount.multiplied(by: rate.coefficient!)
        } catch {
            throw .overflow(category)
        }
    }
}

public enum RateError: Error, Sendable, Equatable, CustomStringConvertible {
    case noBaseLevel(Period)
    case unknownCategory(Code)
    case noCoefficient(Code, Period)
    case overflow(Code)
    case alreadySet(String)
    case categoryExists(Code)
    case notPositive
    case unknownProgramme(Code)
    case coefficientOrAmount
    case badAgeRule(String)

    public var description: String {
        switch self {
        case .noBaseLevel(let period): "no base level is in effect in \(period); add one with `allowance rate base-level --amount N --from YYYY-MM-DD`"
        case .unknownCategory(let code): "category \(code) is not known; `allowance rate list` shows the categories, `allowance rate category add` adds one"
        case .noCoefficient(let code, let period): "category \(code) has no coefficient or amount in effect in \(period); add one with `allowance rate category set`"
        case .overflow(let code): "the amount for category \(code) overflows"
        case .alreadySet(let what): "\(what) is already set for that day; rates are history, add one with a later effective date"
        case .categoryExists(let code): "category \(code) exists already; use `allowance rate category set` to give it a new coefficient"
        case .notPositive: "--amount must be positive"
        case .unknownProgramme(let code): "programme \(code) is not known; `allowance rate list` shows the programmes"
        case .coefficientOrAmount: "give either --coefficient (times the base level) or --amount (a fixed monthly amount), not both"
        case .badAgeRule(let why): "\(why)"
        }
    }
}
