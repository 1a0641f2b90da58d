import Foundation
import Testing

/// The load script (`scripts/load.py`) in its short form: 16 clients on one session against `allowance serve` as a real
/// process, asking the dashboard and a batch page. Every answer must be 200; the figures it prints are the README's
/// (taken on a 1,000,000-beneficiary ledger, release build), never asserted here.
@Suite(.serialized)
struct LoadTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/load.py").path

    @Test(.timeLimit(.minutes(3)))
    func sixteenClientsGetEveryAnswer() throws {
        let office = try ServedOffice()
        defer { office.stop() }
        try office.cli(["beneficiary", "import", ServedOffice.samples + "/register.csv"])
        try office.cli(["batch", "create", "--period", "2026-11", "--by", "officer.lan"])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.script, "--url", office.site, "--user", "auditor.ha", "--password-stdin",
                             "--clients", "16", "--requests", "10", "--path", "/", "--path", "/batches/1"]
        let output = Pipe(), errors = Pipe(), input = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = input
        try process.run()
        input.fileHandleForWriting.write(Data(ServedOffice.password.utf8))
        try input.fileHandleForWriting.close()
        let printed = output.fileHandleForReading.readDataToEndOfFile()
        let complaint = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(complaint) \(String(decoding: printed, as: UTF8.self))")
        let result = try #require(try JSONSerialization.jsonObject(with: printed) as? [String: Any])
        let overall = try #require(result["overall"] as? [String: Any])
        #expect(overall["requests"] as? Int == 160)
        #expect(overall["not_200"] as? Int == 0)
        #expect(overall["p99_ms"] is Double)
        let pages = try #require(result["pages"] as? [String: [String: Any]])
        #expect(Set(pages.keys) == ["/", "/batches/1"])
    }
}

/// `allowance demo --serve`, as the README's newcomer runs it: the month, then the server with an account per role.
@Suite(.serialized)
struct DemoServeTests {
    @Test(.timeLimit(.minutes(3)))
    func theDemoServesItsLedgerToEachRole() throws {
        let folder = NSTemporaryDirectory() + "allowance-demo-serve-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let port = Int.random(in: 20_000...60_000)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ServedOffice.binary)
        process.arguments = ["demo", "--dir", folder, "--count", "300", "--serve", "--port", String(port)]
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("ALLOWANCE_") }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        var up = false
        for _ in 0..<600 {
            if (try? RawHTTP.exchange(port: port, method: "GET", path: "/login", body: Data())) != nil { up = true; break }
            usleep(100_000)
        }
        try #require(up, "the demo's server did not answer on \(port)")
        let accounts = try String(contentsOfFile: folder + "/demo-accounts.txt", encoding: .utf8)
        let password = try #require(accounts.split(separator: "\n").first { $0.hasPrefix("password: ") }).dropFirst("password: ".count)
        #expect(accounts.contains("head.minh (approver): one-time code from an authenticator app with otpauth://totp/"))
        var attributes = stat()
        #expect(stat(folder + "/demo-accounts.txt", &attributes) == 0 && attributes.st_mode & 0o077 == 0, "the accounts file is the user's alone")
        let body = Data(#"{"user":"official.tu","password":"\#(password)"}"#.utf8)
        let login = try JSONSerialization.jsonObject(with: try RawHTTP.exchange(port: port, method: "POST", path: "/api/v1/session", body: body)) as? [String: Any]
        #expect(login?["role"] as? String == "official")
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(printed.contains("== 10. The office's web application"))
        #expect(printed.contains("Serving \(folder)/allowance.sqlite on http://127.0.0.1:\(port)/"))
        #expect(!printed.contains(String(password)), "the password is in the 0600 file, not on the screen")
    }
}
