import AllowanceLedger
import Foundation
@testable import LedgerPostgres
@testable import LedgerSQLite
import Testing

/// The web application's accounts on both backends: the same steps give the same accounts, sessions, refusals and
/// activity log, so that neither drifts.
@Suite(.serialized) struct AccountsOnBothBackendsTests {
    /// Adds, refuses, logs in and out, disables; returns what an observer sees after each step.
    static func scenario(_ accounts: Accounts) throws -> [String] {
        var seen: [String] = []
        let admin = try UserName(parsing: "admin.minh")
        let lan = try UserName(parsing: "Officer.Lan")
        let password = "đúng-mật-khẩu-2026"
        _ = try accounts.add(lan, role: .officer, communes: [Code(trusted: "26734")], password: password, by: admin)
        do {
            _ = try accounts.add(try UserName(parsing: "OFFICER.LAN"), role: .auditor, communes: [], password: password, by: admin)
            seen.append("second account in another case taken")
        } catch let error as AccessError {
            seen.append("refused: \(error.code)")
        }
        do {
            _ = try accounts.logIn(name: "officer.lan", password: "sai-mật-khẩu-2026", oneTimeCode: nil)
            seen.append("wrong password accepted")
        } catch let error as AccessError {
            seen.append("refused: \(error.code)")
        }
        let session = try accounts.logIn(name: "officer.lan", password: password, oneTimeCode: nil)
        let token = try #require(session.token)
        seen.append("session: \(try accounts.session(token: token)?.account.name.value ?? "none")")
        try accounts.setLanguage(of: lan, to: "en")
        seen += try accounts.list().map { "\($0.name.value) \($0.role.rawValue) \($0.communes.map(\.value)) \($0.language) disabled=\($0.disabled)" }
        try accounts.logOut(token: token)
        seen.append("after logout: \(try accounts.session(token: token)?.account.name.value ?? "none")")
        let again = try accounts.logIn(name: "Officer.Lan", password: password, oneTimeCode: nil)
        try accounts.disable(lan, by: admin)
        seen.append("after disable: \(try accounts.session(token: try #require(again.token))?.account.name.value ?? "none")")
        seen += try accounts.list().map { "\($0.name.value) disabled=\($0.disabled)" }
        seen += try accounts.activity(limit: 20).map { "\($0.at) \($0.account) \($0.what) \($0.detail)" }
        return seen
    }

    @Test func theSameStepsGiveTheSameAccountsSessionsAndLog() throws {
        guard let scratch = try ScratchDatabase() else { return }
        let clock = Clock.fixed(try Timestamp(parsing: "2026-11-25T08:00:00Z"))
        let server = try PostgresStore(scratch.location, clock: clock)
        let file = try PostgresJournalTests.SQLiteLedger()
        let onServer = try Self.scenario(server.accounts)
        let onFile = try Self.scenario(Accounts(storage: SQLiteStorage(store: file.store), clock: clock))
        #expect(onServer == onFile)
        #expect(onServer.prefix(3) == ["refused: name_taken", "refused: bad_credentials", "session: Officer.Lan"], "\(onServer)")
        #expect(onServer.contains("Officer.Lan officer [\"26734\"] en disabled=false"))
        #expect(onServer.contains("after logout: none") && onServer.contains("after disable: none"))
        #expect(onServer.contains { $0.hasSuffix("Officer.Lan login_failed failure 1") })
        // Sessions are kept by their token's hash only, and the log is history.
        #expect(try server.connection.query("SELECT COUNT(*) FROM session") == [["0"]])
        #expect(throws: PGError.self) { try server.connection.execute("DELETE FROM activity") }
        // Case folds in ASCII letters only, as SQLite's NOCASE does: "Đức" and "đức" are two accounts on both.
        let admin = try UserName(parsing: "admin.minh")
        for accounts in [server.accounts, Accounts(storage: SQLiteStorage(store: file.store), clock: clock)] {
            _ = try accounts.add(try UserName(parsing: "Đức"), role: .auditor, communes: [], password: "mật-khẩu-dài-2026", by: admin)
            _ = try accounts.add(try UserName(parsing: "đức"), role: .auditor, communes: [], password: "mật-khẩu-dài-2026", by: admin)
            #expect(try accounts.list().map(\.name.value).filter { $0.lowercased() == "đức" }.count == 2)
        }
    }
}
