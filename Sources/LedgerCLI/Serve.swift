import AllowanceLedger
import AllowanceOffice
import AllowanceServer
import ArgumentParser
import Dispatch
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

        func run() throws {
            let ledger = try store.open()
            var options = ServerOptions()
            options.host = host
            options.port = port
            options.maxUploadBytes = maxUploadMB << 20
            options.secureCookies = secureCookies
            options.auditKey = try auditKey.map(AuditKeys.secret)
            print("Serving \(ledger.location) on http://\(host):\(port)/ (Ctrl-C or SIGTERM stops it).")
            // The CLI's main is synchronous; the server runs on Swift's task pool until SIGTERM or SIGINT ends it
            // gracefully (requests in flight finish), and this thread waits for it.
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
    }

    /// The server task's error, read after it signalled.
    final class Outcome: @unchecked Sendable {
        var error: (any Error)?
    }
}
