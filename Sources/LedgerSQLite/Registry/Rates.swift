import AllowanceLedger
import GRDB

extension Store {
    static func loadRates(_ db: Database) throws -> RateTable {
        let bases = try Row.fetchAll(db, sql: "SELECT effective_from, amount, province, basis FROM base_level ORDER BY province, effective_from").map { row in
            let province: String = row[2]
            return RateTable.BaseLevel(effectiveFrom: try CalendarDate(parsing: row[0]), amount: Money(dong: row[1]),
                                       province: province.isEmpty ? nil : province, basis: row[3])
        }
        var rules: [Code: RateTable.Category] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT code, description, programme, qualifies_from_age, qualifies_from_age_poor, becomes, becomes_at_age FROM category
            """) {
            let code = Code(trusted: row[0])
            rules[code] = RateTable.Category(code: code, description: row[1], programme: Code(trusted: row[2]), qualifiesFromAge: row[3],
                                             qualifiesFromAgePoorHousehold: row[4], becomes: (row[5] as String?).map(Code.init(trusted:)),
                                             becomesAtAge: row[6])
        }
        let rates = try Row.fetchAll(db, sql: """
            SELECT r.category, c.description, r.effective_from, r.coefficient_milli, r.amount
            FROM category_rate r JOIN category c ON c.code = r.category ORDER BY r.category, r.effective_from
            """).map { row in
            RateTable.CategoryRate(category: Code(trusted: row[0]), description: row[1], effectiveFrom: try CalendarDate(parsing: row[2]),
                                   coefficient: (row[3] as Int64?).map { Coefficient(milli: $0) }, amount: (row[4] as Int64?).map { Money(dong: $0) })
        }
        let programmes = try Row.fetchAll(db, sql: "SELECT code, name, basis FROM programme ORDER BY code").map {
            RateTable.Programme(code: Code(trusted: $0[0]), name: $0[1], basis: $0[2])
        }
        return RateTable(baseLevels: bases, categoryRates: rates, categoryRules: rules, programmes: programmes)
    }
}
