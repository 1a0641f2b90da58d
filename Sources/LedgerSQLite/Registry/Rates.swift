import AllowanceLedger
import GRDB

extension Store {
    static func loadRates(_ db: Database) throws -> RateTable {
        let bases = try Row.fetchAll(db, sql: "SELECT effective_from, amount FROM base_level ORDER BY effective_from").map { row in
            RateTable.BaseLevel(effectiveFrom: try CalendarDate(parsing: row[0]), amount: Money(dong: row[1]))
        }
        var categories: [Code: String] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT code, description FROM category") {
            categories[Code(trusted: row[0])] = row[1]
        }
        let rates = try Row.fetchAll(db, sql: """
            SELECT r.category, c.description, r.effective_from, r.coefficient_milli
            FROM category_rate r JOIN category c ON c.code = r.category ORDER BY r.category, r.effective_from
            """).map { row in
            RateTable.CategoryRate(category: Code(trusted: row[0]), description: row[1],
                                   effectiveFrom: try CalendarDate(parsing: row[2]), coefficient: Coefficient(milli: row[3]))
        }
        return RateTable(baseLevels: bases, categoryRates: rates, categories: categories)
    }
}
