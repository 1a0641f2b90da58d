/// The base level and category coefficients, each with the day it takes effect. Data, never constants.
public struct RateTable: Sendable {
    public struct BaseLevel: Sendable, Equatable {
        public let effectiveFrom: CalendarDate
        public let amount: Money

        package init(effectiveFrom: CalendarDate, amount: Money) {
            self.effectiveFrom = effectiveFrom
            self.amount = amount
        }
    }

    public struct CategoryRate: Sendable, Equatable {
        public let category: Code
        public let description: String
        public let effectiveFrom: CalendarDate
        public let coefficient: Coefficient

        package init(category: Code, description: String, effectiveFrom: CalendarDate, coefficient: Coefficient) {
            self.category = category
            self.description = description
            self.effectiveFrom = effectiveFrom
            self.coefficient = coefficient
        }
    }

    public let baseLevels: [BaseLevel]
    /// Sorted by category, then date.
    public let categoryRates: [CategoryRate]
    public let categories: [Code: String]

    package init(baseLevels: [BaseLevel], categoryRates: [CategoryRate], categories: [Code: String]) {
        self.baseLevels = baseLevels
        self.categoryRates = categoryRates
        self.categories = categories
    }

    public func baseLevel(on day: CalendarDate) -> BaseLevel? {
        baseLevels.last { $0.effectiveFrom <= day }
    }

    public func coefficient(of category: Code, on day: CalendarDate) -> CategoryRate? {
        categoryRates.last { $0.category == category && $0.effectiveFrom <= day }
    }

    /// Base level × coefficient in effect on the period's first day, rounded half up to whole đồng.
    public func monthlyAmount(category: Code, period: Period) throws(RateError) -> Money {
        let day = period.firstDay
        guard let base = baseLevel(on: day) else { throw .noBaseLevel(period) }
        guard categories[category] != nil else { throw .unknownCategory(category) }
        guard let rate = coefficient(of: category, on: day) else { throw .noCoefficient(category, period) }
        do {
            return try base.amount.multiplied(by: rate.coefficient)
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

    public var description: String {
        switch self {
        case .noBaseLevel(let period): "no base level is in effect in \(period); add one with `allowance rate base-level --amount N --from YYYY-MM-DD`"
        case .unknownCategory(let code): "category \(code) is not known; `allowance rate list` shows the categories, `allowance rate category add` adds one"
        case .noCoefficient(let code, let period): "category \(code) has no coefficient in effect in \(period); add one with `allowance rate category set`"
        case .overflow(let code): "the amount for category \(code) overflows"
        case .alreadySet(let what): "\(what) is already set for that day; rates are history, add one with a later effective date"
        case .categoryExists(let code): "category \(code) exists already; use `allowance rate category set` to give it a new coefficient"
        case .notPositive: "--amount must be positive"
        }
    }
}
