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

    public func rates() throws -> RateTable {
        try read { try Self.loadRates($0) }
    }

    public func setBaseLevel(_ amount: Money, from day: CalendarDate, by user: UserName) throws {
        precondition(amount.dong > 0, "a base level is positive")
        try write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM base_level WHERE effective_from = ?", arguments: [day.description]) == true {
                throw RateError.alreadySet("the base level from \(day)")
            }
            try db.execute(sql: "INSERT INTO base_level(effective_from, amount, created_at, created_by) VALUES (?, ?, ?, ?)",
                           arguments: [day.description, amount.dong, clock.now().description, user.value])
        }
    }

    public func addCategory(_ code: Code, description: String, coefficient: Coefficient, from day: CalendarDate, by user: UserName) throws {
        try write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM category WHERE code = ?", arguments: [code.value]) == true {
                throw RateError.categoryExists(code)
            }
            try db.execute(sql: "INSERT INTO category(code, description) VALUES (?, ?)", arguments: [code.value, description])
            try db.execute(sql: "INSERT INTO category_rate(category, effective_from, coefficient_milli, created_at, created_by) VALUES (?, ?, ?, ?, ?)",
                           arguments: [code.value, day.description, coefficient.milli, clock.now().description, user.value])
        }
    }

    public func setCoefficient(_ coefficient: Coefficient, of code: Code, from day: CalendarDate, by user: UserName) throws {
        try write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM category WHERE code = ?", arguments: [code.value]) == true else {
                throw RateError.unknownCategory(code)
            }
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM category_rate WHERE category = ? AND effective_from = ?", arguments: [code.value, day.description]) == true {
                throw RateError.alreadySet("a coefficient for \(code) from \(day)")
            }
            try db.execute(sql: "INSERT INTO category_rate(category, effective_from, coefficient_milli, created_at, created_by) VALUES (?, ?, ?, ?, ?)",
                           arguments: [code.value, day.description, coefficient.milli, clock.now().description, user.value])
        }
    }

    public func carriers() throws -> [(code: Code, name: String)] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT code, name FROM carrier ORDER BY code").map { (Code(trusted: $0[0]), $0[1]) }
        }
    }

    public func addCarrier(_ code: Code, name: String) throws {
        try write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM carrier WHERE code = ?", arguments: [code.value]) == true {
                throw FieldError("carrier \(code) exists already")
            }
            try db.execute(sql: "INSERT INTO carrier(code, name) VALUES (?, ?)", arguments: [code.value, name])
        }
    }
}
