import AllowanceLedger
import AllowanceOffice
import AllowanceViews
import ArgumentParser

extension Allowance {
    struct StoreCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "store", abstract: "Move a ledger between backends.", subcommands: [Copy.self])
    }
}

extension Allowance.StoreCommand {
    struct Copy: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy an office's ledger file to an empty PostgreSQL database, whole, in one transaction.",
            discussion: """
                Every table goes in by COPY; the copy ends with the journal's checks on the server, whose chain must end at \
                the file's head hash (and the register chain at the file's). Refuses a database that already holds a ledger. \
                Exit 0 when copied and verified, 1 otherwise (nothing is copied).
                """)

        @Option(help: ArgumentHelp("The ledger file to copy.", valueName: "FILE.sqlite")) var from: String
        @Option(help: ArgumentHelp("The empty database: postgresql://USER@HOST/DATABASE, or …?host=/socket/folder.", valueName: "URI"))
        var to: String
        @Flag(name: .long, help: "Print one JSON object instead of text.") var json = false

        func run() throws {
            let result: StoreCopy.Result
            do {
                result = try StoreCopy.copy(from: from, to: to) { table in Terminal.progress("copying \(table)") }
                Terminal.endProgress()
            } catch let failure as StoreCopy.Failure {
                Terminal.endProgress()
                throw CommandError(failure.description)
            }
            let server = result.server
            if json {
                JSON.object([
                    ("to", .string(server.description)),
                    ("tables", .object(result.tables.map { ($0.name, JSON.int($0.rows)) })),
                    ("entries", .int(result.entries)), ("postings", .int(result.postings)),
                    ("journal_head", .string(result.journalHead)), ("register_head", .optional(result.registerHead)),
                    ("verified", .bool(true)),
                ]).print()
                return
            }
            let rows = result.tables.reduce(0) { $0 + $1.rows }
            print("Copied \(from) to \(server): \(result.tables.count) tables, \(rows) rows, in one transaction.")
            for table in result.tables where table.rows > 0 { print("  \(table.name): \(table.rows)") }
            print("Verified on the server: \(result.entries) entries, \(result.postings) postings, chain head \(result.journalHead) (the file's).")
            if let register = result.registerHead { print("Register chain head \(register) (the file's).") }
        }
    }
}
