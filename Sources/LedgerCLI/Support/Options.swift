import AllowanceLedger
import AllowanceViews
import AllowanceOffice
import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

/// `--db`: the ledger file, shared by every command.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The ledger's SQLite file (env ALLOWANCE_DB; default ./allowance.sqlite).", valueName: "PATH"))
    var db: String?

    var path: String {
        if let db { return db }
        if let env = getenv("ALLOWANCE_DB"), !String(cString: env).isEmpty { return String(cString: env) }
        return "./allowance.sqlite"
    }

    /// Opens (and creates when missing) the ledger.
    func open() throws -> Ledger { try openLedger(path: path) }
}

/// The system clock, or the time in ALLOWANCE_NOW (for tests and back-dated runs).
func environmentClock() throws -> Clock {
    guard let env = getenv("ALLOWANCE_NOW") else { return .system }
    let text = String(cString: env)
    do {
        return .fixed(try Timestamp(parsing: text))
    } catch {
        throw CommandError("ALLOWANCE_NOW \"\(text)\" must be a time like 2026-11-30T08:00:00Z")
    }
}

func openLedger(path: String) throws -> Ledger {
    let clock = try environmentClock()
    let ledger: Ledger
    do {
        ledger = try Ledger.open(path, clock: clock, clockIsSet: getenv("ALLOWANCE_NOW") != nil)
    } catch {
        throw CommandError("cannot open the ledger \(path): \(describe(error))")
    }
    try Operator.opened(ledger)
    return ledger
}

/// Who runs this process, and who it says acts (`--by`): checked against the ledger's actor mode and recorded in its
/// operator log once both the ledger and the actor are known, in whichever order the command asks for them.
enum Operator {
    nonisolated(unsafe) private static var ledger: Ledger?
    nonisolated(unsafe) private static var strict = false
    nonisolated(unsafe) private static var actor: UserName?
    nonisolated(unsafe) private static var recorded = false

    /// The account the kernel says runs this process; `USER` and `ALLOWANCE_USER` are whatever the shell set.
    static let osAccount: String = {
        if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name { return String(cString: name) }
        return "uid \(geteuid())"
    }()

    static let host: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()

    static var isStrict: Bool { strict }

    /// Lets the ledger close: nothing else may hold it when the process exits.
    static func forget() { ledger = nil }

    static func opened(_ ledger: Ledger) throws {
        self.ledger = ledger
        strict = try ledger.audit.actorMode() == .os
        try settle()
    }

    static func acts(_ user: UserName) throws {
        actor = user
        try settle()
    }

    private static func settle() throws {
        guard let ledger, let actor else { return }
        // Recorded first, so that a refused attempt to act as someone else is in the log too.
        if !recorded {
            recorded = true
            let program = (CommandLine.arguments.first ?? "allowance").split(separator: "/").last.map(String.init) ?? "allowance"
            let command = ([program] + CommandLine.arguments.dropFirst()).joined(separator: " ")
            try ledger.audit.recordOperator(actor: actor, osAccount: osAccount, host: host, command: command)
        }
        if strict, !actor.isSamePerson(as: try UserName(parsing: osAccount)) {
            throw CommandError("""
                this ledger takes the actor from the operating-system account (actor mode os): you are logged in as \(osAccount), \
                so you cannot act as \(actor.value); log in as that person, or leave out --by
                """)
        }
    }
}

/// `--json` and `--reveal`.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print one JSON object instead of text.")
    var json = false

    @Flag(name: .long, help: "Show phone numbers and national IDs whole (they are masked otherwise).")
    var reveal = false
}

extension OutputOptions {
    /// With `--reveal`, records in the ledger's access log who was shown phone numbers and national IDs whole, when,
    /// and what (`disclosure`); without it, nothing. Read-only commands name the user as `--by` would default it.
    func recordReveal(_ ledger: Ledger, _ what: String, by user: UserName? = nil) throws {
        guard reveal else { return }
        try ledger.audit.recordDisclosure(what, by: try user ?? userName(given: nil))
    }
}

/// `--by`: who does this, kept in the ledger and the history.
struct UserOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Who does this (env ALLOWANCE_USER, else the login name).", valueName: "USER"))
    var by: String?

    /// Who acts: checked against the ledger's actor mode, and recorded with the OS account and host, once both are known.
    func user() throws -> UserName {
        let user = try userName(given: by)
        try Operator.acts(user)
        return user
    }
}

/// `given`, else ALLOWANCE_USER, else USER, else the login name: who acts when a command has no `--by`.
func userName(given: String?) throws -> UserName {
    var candidate = given
    // On a strict ledger the environment names no one: the kernel's account does.
    if candidate == nil, Operator.isStrict { candidate = Operator.osAccount }
    if candidate == nil, let env = getenv("ALLOWANCE_USER") { candidate = String(cString: env) }
    if candidate == nil, let env = getenv("USER") { candidate = String(cString: env) }
    if candidate == nil, let entry = getpwuid(getuid()), let name = entry.pointee.pw_name { candidate = String(cString: name) }
    do {
        return try UserName(parsing: candidate ?? "")
    } catch {
        throw CommandError(error.description)
    }
}

/// A message for the user; printed after `error: `, exit code 1. One made from a library error keeps its problem, so
/// that it is worded in the user's language.
struct CommandError: Error, CustomStringConvertible {
    let description: String
    let problem: Problem?
    init(_ description: String) {
        self.description = description
        problem = nil
    }
    init(_ error: any ProblemConvertible) {
        description = error.description
        problem = error.problem
    }
}

/// An error as the user should read it, in their language where it says what went wrong as a `Problem`; SQLite's get
/// a hint.
func describe(_ error: Error) -> String {
    if let error = error as? any ProblemConvertible { return Terminal.wording.words(for: error.problem) }
    if let error = error as? CommandError, let problem = error.problem { return Terminal.wording.words(for: problem) }
    return Ledger.hint(for: error) ?? String(describing: error)
}

func parsed<T, E: Error>(_ body: () throws(E) -> T) throws -> T {
    do {
        return try body()
    } catch let error as any ProblemConvertible {
        throw CommandError(error)
    } catch {
        throw CommandError("\(error)")
    }
}

/// Option transforms that keep the domain's own message ("period "2026-13" must be a month written YYYY-MM").
func periodArgument(_ text: String) throws -> Period {
    do { return try Period(parsing: text) } catch { throw ValidationError(error.description) }
}

func dateArgument(_ text: String) throws -> CalendarDate {
    do { return try CalendarDate(parsing: text) } catch { throw ValidationError(error.description) }
}

/// An output file must never be the ledger itself (or its WAL files): writing over it would destroy it. `option` and
/// `what` word the refusal (`--out`, "the report").
func refuseLedgerPath(_ out: String, ledger: String, option: String = "--out", what: String = "the report") throws {
    func resolved(_ path: String) -> String {
        guard let real = realpath(path, nil) else { return path }
        defer { free(real) }
        return String(cString: real)
    }
    let target = resolved(out)
    for file in [ledger, ledger + "-wal", ledger + "-shm"] where resolved(file) == target {
        throw CommandError("\(option) \(out) is the ledger's own file; write \(what) somewhere else")
    }
}
