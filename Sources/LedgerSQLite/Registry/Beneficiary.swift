import AllowanceLedger
import GRDB

extension RegisterValidator {
    static func load(_ db: Database, today: CalendarDate) throws -> RegisterValidator {
        RegisterValidator(categories: Set(try String.fetchAll(db, sql: "SELECT code FROM category")),
                          carriers: Set(try String.fetchAll(db, sql: "SELECT code FROM carrier")),
                          today: today)
    }
}
