import Foundation
import Testing

/// `allowance audit keygen | export | verify`, run as processes, and the export checked with OpenSSL's own tools.
@Suite struct CLIAuditTests {
    /// A reconciled batch of the sample beneficiaries and an audit key, `audit.key`.
    func auditedSandbox() throws -> CLISandbox {
        let sandbox = CLISandbox()
        try sandbox.batchOfSamples(approved: true)
        sandbox.expectSuccess(try sandbox.run(["fund", "--amount", "10000000", "--reference", "QD-1"]))
        sandbox.expectSuccess(try sandbox.run(["batch", "export", "1", "--out", "instructions.csv"]))
        let file = sandbox.directory.write("result.csv", """
            reference,msisdn,amount,status
            AL-202611-000001-0000001,0912345678,750000,SUCCESS
            AL-202611-000001-0000003,0987654321,750000,FAILED

            """)
        sandbox.expectSuccess(try sandbox.run(["reconcile", "1", file]))
        sandbox.expectSuccess(try sandbox.run(["audit", "keygen", "--out", "audit.key"]))
        return sandbox
    }

    func mode(_ path: String) throws -> Int { try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as! Int }

    @Test func keygenWritesPrivateKeysAndNeverOverwritesOne() throws {
        let sandbox = CLISandbox()
        let run = try sandbox.run(["audit", "keygen", "--out", "k", "--json"])
        sandbox.expectSuccess(run)
        let json = try jsonObject(run.stdout)
        let contents = sandbox.directory.read("k")
        #expect(contents.count == 65 && contents.hasSuffix("\n"))
        #expect(try mode(sandbox.directory.file("k")) == 0o600)
        // The key id names the key without being part of it.
        let id = try #require(json["key_id"] as? String)
        #expect(id.count == 16 && !contents.contains(id))
        let again = try sandbox.run(["audit", "keygen", "--out", "k"])
        #expect(again.status == 1 && again.stderr.contains("already exists"))
        #expect(sandbox.directory.read("k") == contents)
        let pair = try sandbox.run(["audit", "keygen", "--ed25519", "--out", "ed"])
        sandbox.expectSuccess(pair)
        #expect(try mode(sandbox.directory.file("ed")) == 0o600 && mode(sandbox.directory.file("ed.pub")) == 0o644)
        #expect(sandbox.directory.read("ed").hasPrefix("-----BEGIN PRIVATE KEY-----"))
        #expect(sandbox.directory.read("ed.pub").hasPrefix("-----BEGIN PUBLIC KEY-----"))
    }

    @Test func exportVerifiesAndTamperingExitsTwoNamingTheFile() throws {
        let sandbox = try auditedSandbox()
        let export = try sandbox.run(["audit", "export", "--out", "export", "--key", "audit.key", "--json"])
        sandbox.expectSuccess(export)
        let exported = try jsonObject(export.stdout)
        #expect(exported["pii"] as? String == "masked" && int64(exported["export_id"]) == 1)
        #expect((exported["files"] as? [Any])?.count == 8)
        let verify = try sandbox.run(["audit", "verify", "export", "--key", "audit.key", "--json"])
        sandbox.expectSuccess(verify)
        #expect(try jsonObject(verify.stdout)["passed"] as? Bool == true)
        // One byte more at the end of the items file.
        let items = sandbox.directory.file("export/batch_items.csv")
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: items))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("\n".utf8))
        try handle.close()
        let tampered = try sandbox.run(["audit", "verify", "export", "--key", "audit.key"])
        #expect(tampered.status == 2)
        #expect(tampered.stdout.contains("batch_items.csv: has "), "\(tampered.stdout)")
        #expect(tampered.stdout.contains("batch_items.csv: SHA-256 is "))
        // A wrong key: exit 2, both key ids named.
        sandbox.expectSuccess(try sandbox.run(["audit", "keygen", "--out", "other.key"]))
        let second = try sandbox.run(["audit", "export", "--out", "second", "--key", "audit.key", "--period", "2026-11"])
        sandbox.expectSuccess(second)
        #expect(second.stdout.contains("Follows the export whose manifest SHA-256 is"))
        let wrong = try sandbox.run(["audit", "verify", "second", "--key", "other.key"])
        #expect(wrong.status == 2 && wrong.stdout.contains("manifest.sig: does not match under key"))
        // No manifest: it cannot run.
        let empty = sandbox.directory.file("empty")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let none = try sandbox.run(["audit", "verify", "empty", "--key", "audit.key"])
        #expect(none.status == 1 && none.stderr == "error: empty has no manifest.json: is this an audit export folder?\n")
    }

    @Test func aKeyFileOthersCanReadIsRefusedByEveryCommand() throws {
        let sandbox = try auditedSandbox()
        sandbox.expectSuccess(try sandbox.run(["audit", "export", "--out", "export", "--key", "audit.key"]))
        chmod(sandbox.directory.file("audit.key"), 0o644)
        for arguments in [["audit", "export", "--out", "again", "--key", "audit.key"], ["audit", "verify", "export", "--key", "audit.key"]] {
            let run = try sandbox.run(arguments)
            #expect(run.status == 1)
            #expect(run.stderr == "error: key file audit.key has mode 644: group or others can read it; run `chmod 600 audit.key` and keep it that way\n")
        }
        #expect(!FileManager.default.fileExists(atPath: sandbox.directory.file("again")))
    }

    @Test func usageErrorsExit64AndABusyFolderIsRefused() throws {
        let sandbox = try auditedSandbox()
        #expect(try sandbox.run(["audit", "export", "--out", "x", "--key", "audit.key", "--period", "2026-11", "--batch", "1"]).status == 64)
        #expect(try sandbox.run(["audit", "export", "--out", "x", "--key", "audit.key", "--pii", "some"]).status == 64)
        #expect(try sandbox.run(["audit", "export", "--out", "x", "--key", "audit.key", "--period", "2026-13"]).status == 64)
        let none = try sandbox.run(["audit", "verify", "x"])
        #expect(none.status == 1 && none.stderr.contains("--key KEYFILE"))
        try FileManager.default.createDirectory(atPath: sandbox.directory.file("busy"), withIntermediateDirectories: true)
        _ = sandbox.directory.write("busy/notes.txt", "x")
        let busy = try sandbox.run(["audit", "export", "--out", "busy", "--key", "audit.key"])
        #expect(busy.status == 1 && busy.stderr == "error: busy already holds files; export into a new or empty folder\n")
        let unknown = try sandbox.run(["audit", "export", "--out", "x", "--key", "audit.key", "--batch", "7"])
        #expect(unknown.status == 1 && unknown.stderr.contains("batch 7 does not exist"))
    }

    /// An auditor without this tool checks the signatures with OpenSSL alone, as the README shows.
    @Test func openSSLVerifiesBothSignatures() throws {
        let sandbox = try auditedSandbox()
        sandbox.expectSuccess(try sandbox.run(["audit", "keygen", "--ed25519", "--out", "ed"]))
        sandbox.expectSuccess(try sandbox.run(["audit", "export", "--out", "export", "--key", "audit.key", "--sign-ed25519", "ed"]))
        sandbox.expectSuccess(try sandbox.run(["audit", "verify", "export", "--public-key", "ed.pub"]))
        let script = """
            set -e
            (printf 'allowance-audit-export/v1\\n'; cat export/manifest.json) > message
            openssl dgst -sha256 -mac HMAC -macopt hexkey:$(cat audit.key) -r message | cut -d' ' -f1
            cat export/manifest.sig
            tr -d '\n' < export/manifest.ed25519.sig | tr a-f A-F | basenc --base16 -d > sig.bin
            openssl pkeyutl -verify -pubin -inkey ed.pub -rawin -in message -sigfile sig.bin
            """
        let run = try sandbox.execute("/bin/bash", ["-c", script])
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 3 && lines[0] == lines[1], "\(run.stdout)")
        #expect(lines.last == "Signature Verified Successfully")
    }
}
