import AllowanceLedger
import AllowanceViews
import ArgumentParser

extension Allowance.Audit {
    struct Keygen: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new audit key: 32 random bytes, readable by you only.",
            discussion: """
            The file holds 64 hex digits (mode 0600); its key id, printed, names it without revealing it.
            With --ed25519, OUT holds an Ed25519 private key (PKCS#8 PEM, mode 0600) and OUT.pub its public key, which
            auditors can be given: it verifies exports but cannot sign them. An existing file is never overwritten.
            """)

        @Option(name: .long, help: ArgumentHelp("Where to write the key.", valueName: "KEYFILE"))
        var out: String

        @Flag(name: .long, help: "Write an Ed25519 key pair (OUT and OUT.pub) instead of an HMAC key.")
        var ed25519 = false

        @Flag(name: .long, help: "Print one JSON object instead of text.") var json = false

        func run() throws {
            if ed25519 {
                let key = try parsed { () throws(CryptoError) in try Ed25519PrivateKey.generate() }
                let publicPath = out + ".pub"
                if fileSize(path: publicPath) != nil { throw CommandError(KeyFileError.exists(path: publicPath).description) }
                try parsed { () throws(KeyFileError) in try KeyFile.write(key.pem, path: out, mode: 0o600) }
                try parsed { () throws(KeyFileError) in try KeyFile.write(key.publicKey.pem, path: publicPath, mode: 0o644) }
                if json {
                    JSON.object([("private_key", .string(out)), ("public_key", .string(publicPath)), ("key_id", .string(key.publicKey.id)),
                                 ("algorithm", .string("ed25519"))]).print()
                } else {
                    print("Ed25519 private key written to \(out) (mode 0600), public key to \(publicPath).")
                    print("Key id: \(key.publicKey.id)")
                }
            } else {
                let key = try parsed { () throws(CryptoError) in try AuditKey.generate() }
                try parsed { () throws(KeyFileError) in try KeyFile.write(key.fileContents, path: out, mode: 0o600) }
                if json {
                    JSON.object([("key", .string(out)), ("key_id", .string(key.id)), ("algorithm", .string("hmac-sha256"))]).print()
                } else {
                    print("Audit key written to \(out) (mode 0600). Key id: \(key.id)")
                    print("Keep it secret: whoever holds it can verify exports, and could also sign one.")
                }
            }
        }
    }
}
