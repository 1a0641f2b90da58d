import AllowanceLedger
import AllowanceOffice
import ArgumentParser
import Logging
#if canImport(Glibc)
import Glibc
#endif

@main
struct Allowance: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allowance",
        abstract: "Pay social allowances non-cash, through a double-entry ledger nobody can quietly rewrite.",
        discussion: """
        Exit codes: 0 ok, 1 error, 2 findings (verify found a break), 64 usage.
        The ledger is one SQLite file: --db PATH, or ALLOWANCE_DB, or ./allowance.sqlite.
        """,
        version: "0.1.0",
        subcommands: [Init.self, Demo.self, Beneficiary.self, Batch.self, ReconcileCommand.self, Audit.self, Report.self, Ledger.self, Fund.self, Rate.self, Carrier.self, Commune.self, Generate.self, User.self, Serve.self, StoreCommand.self]
    )

    static func main() {
        // Every file the CLI makes (the ledger, its WAL, instruction files, reports, rejects, exports) is its owner's
        // alone, whatever the shell's umask: they hold names, phone numbers and national IDs.
        umask(0o077)
        // The library's profiling lines (`ALLOWANCE_TRACE_SQL=1`, README: Profiling) go to stderr as they are, one a line.
        let tracing = getenv("ALLOWANCE_TRACE_SQL").map { String(cString: $0) == "1" } ?? false
        LoggingSystem.bootstrap { _ in StderrLines(logLevel: tracing ? .debug : .notice) }
        // With profiling on, the process's own peak memory closes its output (VmHWM: this program's alone, where a
        // parent's getrusage may count what the process was before it became `allowance`).
        if tracing { atexit { Terminal.notePeakMemory() } }
        do {
            var command = try parseAsRoot(Self.movingGlobalOptions(Array(CommandLine.arguments.dropFirst())))
            // The ledger closes (and checkpoints its WAL) before the process exits, on every path.
            defer { Operator.forget() }
            try command.run()
        } catch let exit as ExitCode {
            Foundation_exit(exit.rawValue)
        } catch let error as CommandError {
            Terminal.error(describe(error))
            Foundation_exit(1)
        } catch {
            // --help and --version print as ArgumentParser does; usage errors keep its message and code 64 but
            // begin `error:` like every other error.
            let code = exitCode(for: error)
            if code == .success { Self.exit(withError: error) }
            if isArgumentParserError(error) {
                var message = fullMessage(for: error)
                if message.hasPrefix("Error: ") { message = "error: " + message.dropFirst("Error: ".count) }
                Terminal.writeError(message.hasSuffix("\n") ? message : message + "\n")
                Foundation_exit(code.rawValue)
            }
            Terminal.error(describe(error))
            Foundation_exit(1)
        }
    }

    /// `allowance --db FILE batch show 1` works like `allowance batch show 1 --db FILE`: `--db` given before the
    /// subcommand is moved after it, where every subcommand declares it.
    static func movingGlobalOptions(_ arguments: [String]) -> [String] {
        var leading: [String] = []
        var rest = arguments[...]
        while let first = rest.first, first.hasPrefix("--db") {
            if first == "--db", rest.count >= 2 {
                leading += rest.prefix(2)
                rest = rest.dropFirst(2)
            } else if first.hasPrefix("--db=") {
                leading.append(first)
                rest = rest.dropFirst()
            } else {
                break
            }
        }
        return Array(rest) + leading
    }

    static func isArgumentParserError(_ error: Error) -> Bool {
        let code = exitCode(for: error)
        let name = String(reflecting: type(of: error))
        return name.hasPrefix("ArgumentParser.") || code == .validationFailure || code == .success
    }
}

func Foundation_exit(_ code: Int32) -> Never {
    fflush(nil)
    exit(code)
}
