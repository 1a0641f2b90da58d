import AllowanceLedger
import AllowanceOffice
import AllowanceServer
import ArgumentParser
import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Hummingbird

extension Allowance {
    struct Serve: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the office's web application (JSON API under /api/v1) on the ledger; stops cleanly on SIGTERM.")

        @OptionGroup var store: StoreOptions
        @Option(help: "Address to listen on.") var host = "127.0.0.1"
        @Option(help: "Port to listen on.") var port = 8080
        @Option(name: .customLong("max-upload-mb"), help: "The largest upload accepted, in MB.") var maxUploadMB = 200
        @Option(name: .customLong("audit-key"), help: ArgumentHelp("The audit key the exports are signed with (`audit keygen`).", valueName: "FILE"))
        var auditKey: String?
        @Flag(name: .customLong("secure-cookies"), help: "Mark the session cookie Secure (the server is behind TLS).") var secureCookies = false

        /// Serves until SIGTERM or SIGINT. The CLI's main is synchronous; the server runs on Swift's task pool and stops
        /// gracefully (requests in flight finish) while this thread waits for it.
        static func serve(_ ledger: AllowanceOffice.Ledger, _ options: ServerOptions) throws {
            print("Serving \(ledger.location) on http://\(options.host):\(options.port)/ (Ctrl-C or SIGTERM stops it).")
            // What was printed before reaches a pipe now, not when the server stops.
            fflush(nil)
            let done = DispatchSemaphore(value: 0)
            let outcome = Outcome()
            let application = OfficeServer.application(ledger: ledger, options: options)
            Task {
                do { try await application.runService(gracefulShutdownSignals: [.sigterm, .sigint]) } catch { outcome.error = error }
                done.signal()
            }
            done.wait()
            if let error = outcome.error { throw CommandError("the server stopped: \(error)") }
        }

        func run() throws {
            let ledger = try store.open()
            var options = ServerOptions()
            options.host = host
            options.port = port
            options.maxUploadBytes = maxUploadMB << 20
            options.secureCookies = secureCookies
            options.auditKey = try auditKey.map(AuditKeys.secret)
            try Self.serve(ledger, options)
        }
    }

    /// The server task's error, read after it signalled.
    final class Outcome: @unchecked Sendable {
        var error: (any Error)?
    }
}
