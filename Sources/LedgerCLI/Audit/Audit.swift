import AllowanceLedger
import ArgumentParser

extension Allowance {
    /// `allowance audit keygen | export | verify`.
    struct Audit: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a signed audit export of the ledger, and verify one offline.",
            discussion: """
            allowance audit keygen --out KEYFILE [--ed25519]
            allowance audit export --out DIR --key KEYFILE [--period 2026-11 | --batch B …] [--pii masked|full] [--sign-ed25519 PRIVATE_KEY]
            allowance audit verify DIR --key KEYFILE | --public-key FILE
            Key files must be readable by their owner only (chmod 600).
            """,
            subcommands: [Keygen.self, Export.self, Verify.self])
    }
}

/// Loads the keys named on the command line, turning their errors into the user's message.
enum AuditKeys {
    static func secret(_ path: String) throws -> AuditKey {
        do { return try AuditKey.load(path: path) } catch { throw CommandError(error.description) }
    }

    static func ed25519Private(_ path: String) throws -> Ed25519PrivateKey {
        let contents: [UInt8]
        do { contents = try KeyFile.readSecret(path: path) } catch { throw CommandError(error.description) }
        do { return try Ed25519PrivateKey(pem: contents) } catch { throw CommandError("\(path): \(error.description)") }
    }

    static func ed25519Public(_ path: String) throws -> Ed25519PublicKey {
        let contents: [UInt8]
        do { contents = try KeyFile.readPublic(path: path) } catch { throw CommandError(error.description) }
        do {
            return try Ed25519PublicKey(pem: contents)
        } catch {
            throw CommandError("\(path) is not an Ed25519 public key (`audit keygen --ed25519 --out K` writes one to K.pub): \(error.description)")
        }
    }
}
