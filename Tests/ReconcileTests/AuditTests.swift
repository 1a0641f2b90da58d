import Foundation
import PropertyBased
import Testing
@testable import AllowanceLedger
@testable import LedgerSQLite
@testable import Reconcile

/// A reconciled month exported for the auditor, and the export checked the way an auditor's copy would be.
struct AuditedMonth {
    let paid: PaidBatch
    let key = AuditKey(bytes: Array(0..<32))
    let signingKey = try! Ed25519PrivateKey(seed: Array(repeating: 7, count: 32))

    init() throws {
        paid = try PaidBatch()
        try paid.reconcile("""
            reference,msisdn,amount,status,carrier_txn_id,completed_at,reason_code,reason_text
            \(PaidBatch.reference(1)),0912345678,750000,SUCCESS,T1,2026-11-30T10:00:00Z,,
            \(PaidBatch.reference(3)),0987654321,750000,FAILED,T3,2026-11-30T10:01:00Z,E101,"Thuê bao 0987654321 không tồn tại"
            \(PaidBatch.reference(4)),0701234567,700000,SUCCESS,T4,,,
            \(PaidBatch.reference(5)),0912000006,750000,SUCCESS,0912000005,,,
            \(PaidBatch.reference(7)),0912000007,750000,PENDING,0988.777.666,,,
            \(PaidBatch.reference(6)),0912000006,750000,FAILED,TX-84320758950,2026-11-30 0320277805,CCCD:049193383771,"gọi 0912345678 0987654321 hoặc 0320277805-001090012345"
            AL-202611-000001-9999999,0912345678,750000,SUCCESS,T9,,,
            =HYPERLINK("http://x"),0912345678,abc,SUCCESS,,,,

            """)
    }

    /// Exports into a new folder of the test's temporary folder and returns its path.
    func export(_ name: String, scope: AuditScope = .all, pii: PersonalData = .masked, sign: Bool = false) throws -> String {
        let directory = paid.folder.file(name)
        _ = try paid.store.audit.export(to: directory, scope: scope, personalData: pii, key: key, ed25519: sign ? signingKey : nil,
                                       office: "UBND xã Tân Phú", by: user("auditor"))
        return directory
    }

    func verify(_ directory: String, key: AuditKey? = nil, publicKey: Ed25519PublicKey? = nil) throws -> AuditVerification {
        try AuditVerifier.verify(directory: directory, key: publicKey == nil ? (key ?? self.key) : key, publicKey: publicKey)
    }

    /// Re-signs a manifest edited by someone who holds the key, with each file's hash and size brought up to date.
    func resign(_ directory: String, edit: (inout [String: Any]) -> Void = { _ in }) throws {
        let path = directory + "/manifest.json"
        var manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        var files = manifest["files"] as! [[String: Any]]
        for index in files.indices {
            let file = directory + "/" + (files[index]["name"] as! String)
            if let size = fileSize(path: file) {
                files[index]["bytes"] = size
                files[index]["sha256"] = try fileSHA256(path: file).hex
            }
        }
        manifest["files"] = files
        edit(&manifest)
        let data = try JSONSerialization.data(withJSONObject: manifest)
        let canonical = try JSONValue.parse(Array(data)).canonicalBytes()
        try Data(canonical).write(to: URL(fileURLWithPath: path))
        let signature = HMACSHA256.authenticate(Array(AuditFormat.signatureDomain.utf8) + canonical, key: key.bytes).hex + "\n"
        try Data(signature.utf8).write(to: URL(fileURLWithPath: directory + "/manifest.sig"))
    }
}

func readBytes(_ path: String) -> [UInt8] { Array(FileManager.default.contents(atPath: path) ?? Data()) }
func writeBytes(_ path: String, _ bytes: [UInt8]) { try! Data(bytes).write(to: URL(fileURLWithPath: path)) }
func exportFiles(_ directory: String) -> [String] { try! FileManager.default.contentsOfDirectory(atPath: directory).sorted() }

@Suite struct AuditExportTests {
    @Test func anExportVerifiesAndItsManifestDescribesIt() throws {
        let month = try AuditedMonth()
        let directory = try month.export("export")
        #expect(exportFiles(directory) == (AuditFormat.fileNames + ["manifest.json", "manifest.sig"]).sorted())
        let verification = try month.verify(directory)
        #expect(verification.passed, "\(verification.findings)")
        let manifest = try #require(verification.manifest)
        #expect(manifest.personalData == .masked)
        #expect(manifest.office == "UBND xã Tân Phú")
        #expect(manifest.keyID == month.key.id)
        #expect(manifest.previousManifestSHA256 == nil)
        let ledger = try month.paid.verify()
        #expect(manifest.journal.entries == Int64(ledger.entries))
        #expect(manifest.journal.headHash == ledger.headHash)
        // Rows and control totals as the ledger has them.
        func file(_ name: String) -> AuditFileEntry { manifest.files.first { $0.name == name }! }
        #expect(file("batch_items.csv").rows == 12)
        #expect(file("batch_items.csv").totals.map(\.value) == [12 * 750_000 - 250_000])
        #expect(file("reconciliation.csv").rows == 8)
        #expect(file("journal_entries.csv").rows == Int64(ledger.entries))
        #expect(file("postings.csv").rows == Int64(ledger.postings))
        let postingTotals = Dictionary(uniqueKeysWithValues: file("postings.csv").totals.map { ($0.name, $0.value) })
        #expect(postingTotals["debits"] == postingTotals["credits"])
        // The manifest on disk is its own canonical form: what is signed is what is there.
        let bytes = readBytes(directory + "/manifest.json")
        #expect(try JSONValue.parse(bytes).canonicalBytes() == bytes)
        // The signature is HMAC-SHA256 over the domain prefix and those bytes.
        let signature = String(decoding: readBytes(directory + "/manifest.sig"), as: UTF8.self)
        #expect(signature == HMACSHA256.authenticate(Array("allowance-audit-export/v1\n".utf8) + bytes, key: month.key.bytes).hex + "\n")
    }

    @Test func theSameLedgerAndScopeGiveByteIdenticalFilesAndExportsFormAChain() throws {
        let month = try AuditedMonth()
        let first = try month.export("first")
        let second = try month.export("second")
        for name in AuditFormat.fileNames {
            #expect(readBytes(first + "/" + name) == readBytes(second + "/" + name), "\(name)")
        }
        let firstManifest = try #require(try month.verify(first).manifest)
        let secondManifest = try #require(try month.verify(second).manifest)
        #expect(firstManifest.exportID == 1 && secondManifest.exportID == 2)
        #expect(secondManifest.previousManifestSHA256 == SHA256Hasher.hash(readBytes(first + "/manifest.json")).hex)
    }

    @Test func aMaskedExportHoldsNoPhoneNumberOrNationalIDAndAFullOneDoes() throws {
        let month = try AuditedMonth()
        let masked = try month.export("masked")
        let full = try month.export("full", pii: .full)
        // Every number in every spelling the register and the result file use, and every national ID.
        var secrets: [String] = []
        for line in PaidBatch.lines {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            secrets.append(fields[0])
            if let number = try? MSISDN(parsing: fields[8]) {
                secrets += [number.canonical, "0" + number.canonical.dropFirst(2), "+" + number.canonical]
            }
            secrets.append(fields[1])  // names are left out too
        }
        // What the carrier wrote into codes, times and reasons: numbers inside codes, two numbers side by side.
        secrets += ["84320758950", "0320277805", "049193383771", "0987654321", "001090012345", "0988.777.666", "0988777666"]
        func contents(_ directory: String) -> String {
            exportFiles(directory).map { String(decoding: readBytes(directory + "/" + $0), as: UTF8.self) }.joined(separator: "\n")
        }
        let maskedText = contents(masked)
        for secret in secrets { #expect(!maskedText.contains(secret), "\(secret) appears in the masked export") }
        let fullText = contents(full)
        #expect(fullText.contains("001150000001") && fullText.contains("84912345678") && fullText.contains("Nguyễn Thị Lan"))
        #expect(try month.verify(full).manifest?.personalData == .full)
        // One person has one pseudonym in every file and every export of the ledger, under its own secret; the audit
        // key, which every verifier holds, does not make it.
        let secret = try month.paid.store.read { try Store.pseudonymSecret($0) }
        let pseudonym = Pseudonymizer(secret: secret).pseudonym(nationalID: "001150000001")
        #expect(!maskedText.contains(Pseudonymizer(secret: HMACSHA256.authenticate(Array("allowance-audit-export/v1 pseudonym".utf8),
                                                                                        key: month.key.bytes).bytes).pseudonym(nationalID: "001150000001")))
        #expect(maskedText.components(separatedBy: pseudonym).count > 1)
        #expect(String(decoding: readBytes(try month.export("again") + "/batch_items.csv"), as: UTF8.self).contains(pseudonym))
    }

    @Test func formulaCellsAreNeutralisedAndTheChainStillVerifies() throws {
        let month = try AuditedMonth()
        _ = try month.paid.store.journal.fund(amount: Money(dong: 5), reference: "=1+1", by: user("officer"), memo: "'=SUM(A1) and @x")
        let directory = try month.export("export")
        let journal = String(decoding: readBytes(directory + "/journal_entries.csv"), as: UTF8.self)
        #expect(journal.contains("\"''=SUM(A1) and @x\""))
        let reconciliation = String(decoding: readBytes(directory + "/reconciliation.csv"), as: UTF8.self)
        #expect(reconciliation.contains("\"'=HYPERLINK(\"\"http://x\"\")\""))
        let verification = try month.verify(directory)
        #expect(verification.passed, "\(verification.findings)")
    }

    @Test func scopesSelectTheirBatchesAndBadScopesAreRefused() throws {
        let month = try AuditedMonth()
        let november = try month.export("november", scope: .period(try Period(parsing: "2026-11")))
        let december = try month.export("december", scope: .period(try Period(parsing: "2026-12")))
        let batch = try month.export("batch", scope: .batches([month.paid.batch]))
        for directory in [november, december, batch] {
            let verification = try month.verify(directory)
            #expect(verification.passed, "\(directory): \(verification.findings)")
        }
        let items = { (directory: String) in try #require(try month.verify(directory).manifest).files.first { $0.name == "batch_items.csv" }!.rows }
        #expect(try items(november) == 12 && items(batch) == 12 && items(december) == 0)
        // December still carries every entry's header, so the chain up to the head is checked; no postings.
        let decemberManifest = try #require(try month.verify(december).manifest)
        #expect(decemberManifest.files.first { $0.name == "postings.csv" }!.rows == 0)
        #expect(decemberManifest.files.first { $0.name == "journal_entries.csv" }!.rows == decemberManifest.journal.entries)
        #expect(throws: AuditExportError.batchNotFound(BatchID(99))) { try month.export("none", scope: .batches([BatchID(99)])) }
        #expect(throws: AuditExportError.directoryNotEmpty(november)) { try month.export("november") }
        // A refused export leaves nothing behind: no folder, no record.
        #expect(!FileManager.default.fileExists(atPath: month.paid.folder.file("none")))
        #expect(try month.verify(try month.export("after")).manifest?.exportID == 4)
    }
}

@Suite struct AuditVerifyTests {
    @Test func flippingAnyByteOfASmallExportFailsVerification() throws {
        let month = try AuditedMonth()
        // December holds no batch: every entry's header and the headers of the other files, about 4 KB.
        let directory = try month.export("export", scope: .period(try Period(parsing: "2026-12")), sign: true)
        var flips = 0
        for name in exportFiles(directory) {
            let path = directory + "/" + name
            let original = readBytes(path)
            for position in original.indices {
                var bytes = original
                // A different flip at each position: bit 5 (case), bit 0, and everything between.
                bytes[position] ^= [0x20, 0x01, 0x80, UInt8(truncatingIfNeeded: position % 255 + 1)][position % 4]
                writeBytes(path, bytes)
                let verification = try month.verify(directory, key: month.key, publicKey: month.signingKey.publicKey)
                #expect(!verification.passed, "flipping byte \(position) of \(name) went unnoticed")
                flips += 1
            }
            writeBytes(path, original)
        }
        #expect(flips > 3_000)
        #expect(try month.verify(directory).passed)
    }

    @Test func flippingRandomBytesOfALargeExportFailsVerification() async throws {
        let month = try GeneratedMonth(count: 1500)
        let (folder, store) = (month.folder, month.store)
        let key = AuditKey(bytes: Array(repeating: 9, count: 32))
        let directory = folder.file("export")
        _ = try store.audit.export(to: directory, scope: .all, personalData: .masked, key: key, by: user("auditor"))
        #expect(try AuditVerifier.verify(directory: directory, key: key, publicKey: nil).passed)
        let files = exportFiles(directory)
        let sizes = files.map { readBytes(directory + "/" + $0).count }
        #expect(sizes.reduce(0, +) > 200_000)
        await propertyCheck(count: 60, input: Gen.int(in: 0...(files.count - 1)), Gen.int(in: 0...Int.max), Gen.int(in: 1...255)) { file, offset, flip in
            let path = directory + "/" + files[file]
            let original = readBytes(path)
            var bytes = original
            bytes[offset % original.count] ^= UInt8(flip)
            writeBytes(path, bytes)
            defer { writeBytes(path, original) }
            let verification = try AuditVerifier.verify(directory: directory, key: key, publicKey: nil)
            #expect(!verification.passed, "byte \(offset % original.count) of \(files[file]) flipped with \(flip) went unnoticed")
        }
    }

    @Test func missingExtraAndRenamedFilesFail() throws {
        let month = try AuditedMonth()
        let directory = try month.export("export")
        try FileManager.default.moveItem(atPath: directory + "/postings.csv", toPath: directory + "/postings-old.csv")
        let renamed = try month.verify(directory)
        #expect(renamed.findings.contains { $0.file == "postings.csv" && $0.message == "is missing" })
        #expect(renamed.findings.contains { $0.file == "postings-old.csv" && $0.message.contains("not listed in the manifest") })
        try FileManager.default.moveItem(atPath: directory + "/postings-old.csv", toPath: directory + "/postings.csv")
        #expect(try month.verify(directory).passed)
        _ = FileManager.default.createFile(atPath: directory + "/notes.txt", contents: Data("x".utf8))
        #expect(try month.verify(directory).findings.map(\.file) == ["notes.txt"])
        try FileManager.default.removeItem(atPath: directory + "/notes.txt")
        try FileManager.default.removeItem(atPath: directory + "/manifest.sig")
        #expect(try month.verify(directory).findings.map(\.description) == ["manifest.sig: is missing"])
        try FileManager.default.removeItem(atPath: directory + "/manifest.json")
        #expect(throws: AuditVerifyError.noManifest(directory: directory)) { try month.verify(directory) }
    }

    @Test func reorderedRowsAndFilesFailEvenWhenTheManifestIsResigned() throws {
        let month = try AuditedMonth()
        let directory = try month.export("export")
        // Two postings swapped: the file's hash, and the chain of the entry they belong to.
        var lines = String(decoding: readBytes(directory + "/postings.csv"), as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        lines.swapAt(2, 3)
        writeBytes(directory + "/postings.csv", Array(lines.joined(separator: "\n").utf8))
        let swapped = try month.verify(directory)
        #expect(swapped.findings.contains { $0.file == "postings.csv" && $0.message.contains("SHA-256") })
        // Someone holding the key re-signs over the new hashes: the chain still names the entry and the line.
        try month.resign(directory)
        let resigned = try month.verify(directory)
        #expect(!resigned.passed)
        #expect(resigned.findings.contains { $0.file == "postings.csv" && $0.line == 3 && $0.message.contains("leg 3 where leg 2 should be") })
        #expect(resigned.findings.contains { $0.file == "journal_entries.csv" && $0.line == 2 && $0.message.contains("hash does not match") })
        // Files listed in another order, signed: refused too.
        let other = try month.export("other")
        try month.resign(other) { manifest in manifest["files"] = Array((manifest["files"] as! [Any]).reversed()) }
        #expect(try month.verify(other).findings.contains { $0.file == "manifest.json" && $0.message.contains("in that order") })
    }

    @Test func anAlteredAmountIsNamedByTheChainTheTotalsAndTheSeal() throws {
        let month = try AuditedMonth()
        let directory = try month.export("export", pii: .full)
        // Item 2's amount in the items file, and one posting's amount in the postings file, then re-signed.
        func edit(_ name: String, line: Int, _ change: (String) -> String) {
            var lines = String(decoding: readBytes(directory + "/" + name), as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            lines[line - 1] = change(lines[line - 1])
            writeBytes(directory + "/" + name, Array(lines.joined(separator: "\n").utf8))
        }
        edit("batch_items.csv", line: 3) { $0.replacingOccurrences(of: ",500000,", with: ",5000000,") }
        edit("postings.csv", line: 4) { $0.replacingOccurrences(of: ",-500000", with: ",-5000000") }
        try month.resign(directory)
        let findings = try month.verify(directory).findings.map(\.description)
        #expect(findings.contains { $0.hasPrefix("journal_entries.csv:2: entry 1's hash does not match") }, "\(findings)")
        #expect(findings.contains { $0.hasPrefix("postings.csv: entry 1's postings do not balance") }, "\(findings)")
        #expect(findings.contains { $0.hasPrefix("postings.csv: control total credits adds up to") }, "\(findings)")
        #expect(findings.contains { $0.hasPrefix("batch_items.csv: control total amount adds up to") }, "\(findings)")
        #expect(findings.contains { $0.hasPrefix("batches.csv:2: batch 1 was approved with 12 items totalling") }, "\(findings)")
    }

    @Test func aRedirectedPayeeBreaksTheSealInAFullExport() throws {
        let month = try AuditedMonth()
        let directory = try month.export("export", pii: .full)
        var text = String(decoding: readBytes(directory + "/batch_items.csv"), as: UTF8.self)
        text = text.replacingOccurrences(of: "84912345678", with: "84912345699")
        writeBytes(directory + "/batch_items.csv", Array(text.utf8))
        try month.resign(directory)
        let findings = try month.verify(directory).findings.map(\.description)
        #expect(findings == ["batches.csv:2: batch 1's items do not match the digest sealed at approval: a payee, number or amount was changed"])
    }

    @Test func aWrongKeyOrPublicKeyFailsAndNamesBothKeys() throws {
        let month = try AuditedMonth()
        let directory = try month.export("export", sign: true)
        let other = AuditKey(bytes: Array(repeating: 1, count: 32))
        let wrong = try month.verify(directory, key: other)
        #expect(wrong.findings.map(\.description) == ["manifest.sig: does not match under key \(other.id); the manifest says it was signed with key \(month.key.id)"])
        let otherPublic = try Ed25519PrivateKey(seed: Array(repeating: 8, count: 32)).publicKey
        let wrongPublic = try month.verify(directory, publicKey: otherPublic)
        #expect(wrongPublic.findings.count == 1 && wrongPublic.findings[0].file == "manifest.ed25519.sig")
        let right = try month.verify(directory, publicKey: month.signingKey.publicKey)
        #expect(right.passed && right.notChecked == ["HMAC-SHA256 signature (no --key)"])
        // Without the Ed25519 signature file, a public key has nothing to check.
        let unsigned = try month.export("unsigned")
        #expect(try month.verify(unsigned, publicKey: month.signingKey.publicKey).findings.map(\.file) == ["manifest.ed25519.sig"])
        #expect(throws: AuditVerifyError.noKey) { try AuditVerifier.verify(directory: directory, key: nil, publicKey: nil) }
    }

    @Test func aSignatureInUppercaseHexOrWithoutItsLineFeedIsRefused() throws {
        let month = try AuditedMonth()
        let directory = try month.export("export")
        let signature = readBytes(directory + "/manifest.sig")
        writeBytes(directory + "/manifest.sig", Array(String(decoding: signature, as: UTF8.self).uppercased().utf8))
        #expect(try month.verify(directory).findings.map(\.description) == ["manifest.sig: is not 64 lowercase hex digits and a line feed"])
        writeBytes(directory + "/manifest.sig", Array(signature.dropLast()))
        #expect(!(try month.verify(directory).passed))
    }
}


@Suite struct AuditForgeryTests {
    func lines(_ path: String) -> [String] {
        String(decoding: readBytes(path), as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    func write(_ path: String, _ lines: [String]) { writeBytes(path, Array(lines.joined(separator: "\n").utf8)) }

    @Test func removingEveryItemOfABatchIsNamedEvenWhenResigned() throws {
        let month = try AuditedMonth()
        let directory = try month.export("export")
        write(directory + "/batch_items.csv", [lines(directory + "/batch_items.csv")[0], ""])
        try month.resign(directory) { manifest in
            var files = manifest["files"] as! [[String: Any]]
            files[3]["rows"] = 0
            files[3]["totals"] = ["amount": 0]
            manifest["files"] = files
        }
        let findings = try month.verify(directory).findings.map(\.description)
        #expect(findings.contains { $0.hasPrefix("batches.csv:2: batch 1 was approved with 12 items; batch_items.csv has none of them") }, "\(findings)")
    }

    @Test func droppingAnEntrysPostingsIsNamedByTheScope() throws {
        let month = try AuditedMonth()
        let directory = try month.export("export")
        // Entry 1 (the entitlement) marked as not included, its postings removed, the manifest re-signed.
        var journal = lines(directory + "/journal_entries.csv")
        journal[1] = String(journal[1].dropLast()) + "0"
        write(directory + "/journal_entries.csv", journal)
        let postings = lines(directory + "/postings.csv").filter { !$0.hasPrefix("1,") }
        write(directory + "/postings.csv", postings)
        try month.resign(directory) { manifest in
            var files = manifest["files"] as! [[String: Any]]
            files[1]["rows"] = postings.count - 2
            manifest["files"] = files
        }
        let findings = try month.verify(directory).findings.map(\.description)
        #expect(findings.contains { $0.hasPrefix("journal_entries.csv:2: entry 1 is not marked as having its postings here, but the export's scope says it should") },
                "\(findings)")
    }

    @Test func swappedAmountsInAMaskedExportAreNamedByTheEntitlement() throws {
        let month = try AuditedMonth()
        let directory = try month.export("export")
        // Items 1 (750,000) and 2 (500,000) swap amounts: the total, the count and the file's totals stay the same.
        var items = lines(directory + "/batch_items.csv")
        items[1] = items[1].replacingOccurrences(of: ",750000,", with: ",500000,")
        items[2] = items[2].replacingOccurrences(of: ",500000,", with: ",750000,")
        write(directory + "/batch_items.csv", items)
        try month.resign(directory)
        let findings = try month.verify(directory).findings.map(\.description)
        #expect(findings == ["batch_items.csv:2: batch 1's items are not the ones entitlement entry 1 credits: an item's id, beneficiary or amount was changed"])
    }

    @Test func aResealedDigestInAFullExportIsNamedByTheEntitlementMemo() throws {
        let month = try AuditedMonth()
        let directory = try month.export("export", pii: .full)
        var items = lines(directory + "/batch_items.csv")
        items[1] = items[1].replacingOccurrences(of: "84912345678", with: "84912345699")
        write(directory + "/batch_items.csv", items)
        // Whoever edits recomputes the seal too.
        var sealer = ItemSealer()
        for line in items.dropFirst() where !line.isEmpty {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            try sealer.add(reference: cells[3], beneficiary: Int64(cells[4])!, method: cells[9], carrier: cells[10].isEmpty ? nil : cells[10],
                           msisdn: cells[11].isEmpty ? nil : cells[11], name: cells[12], amount: Int64(cells[13])!)
        }
        let digest = sealer.finish().digest
        var batches = lines(directory + "/batches.csv")
        let old = batches[1].split(separator: ",", omittingEmptySubsequences: false)[13]
        batches[1] = batches[1].replacingOccurrences(of: String(old), with: digest)
        write(directory + "/batches.csv", batches)
        try month.resign(directory)
        let findings = try month.verify(directory).findings.map(\.description)
        #expect(findings == ["batches.csv:2: batch 1's item_digest is not the one entitlement entry 1 recorded at approval"])
    }

    @Test func aReSavedManifestAWrongHeaderAndALinkInPlaceOfAFileAreNamed() throws {
        let month = try AuditedMonth()
        let directory = try month.export("export")
        let manifest = readBytes(directory + "/manifest.json")
        // Pretty-printed: the same JSON, other bytes.
        let pretty = try JSONSerialization.data(withJSONObject: try JSONSerialization.jsonObject(with: Data(manifest)), options: .prettyPrinted)
        writeBytes(directory + "/manifest.json", Array(pretty))
        #expect(try month.verify(directory).findings.map(\.file) == ["manifest.json"])
        writeBytes(directory + "/manifest.json", manifest)
        // A renamed column: named, and the file is still measured whole.
        var items = lines(directory + "/batch_items.csv")
        items[0] = items[0].replacingOccurrences(of: "msisdn", with: "phone")
        write(directory + "/batch_items.csv", items)
        let header = try month.verify(directory).findings.map(\.description)
        #expect(header.contains { $0.hasPrefix("batch_items.csv:1: header is") })
        #expect(header.contains { $0.hasPrefix("batch_items.csv: SHA-256 is") })
        // The whole file is read: its true size (one byte shorter), and as many rows as before.
        let size = readBytes(directory + "/batch_items.csv").count
        #expect(header.contains("batch_items.csv: has \(size) bytes; the manifest says \(size + 1)"), "\(header)")
        #expect(!header.contains { $0.contains("rows; the manifest says") }, "\(header)")
        // A link to an endless device where a file was.
        try FileManager.default.removeItem(atPath: directory + "/batch_items.csv")
        try FileManager.default.createSymbolicLink(atPath: directory + "/batch_items.csv", withDestinationPath: "/dev/zero")
        #expect(try month.verify(directory).findings.map(\.description).contains("batch_items.csv: is not a regular file (a link, a folder or a device took its place)"))
    }

    @Test func aPhoneNumberOrIDNeverEntersTheJournal() throws {
        let month = try AuditedMonth()
        #expect(throws: FieldError.self) {
            try month.paid.store.journal.fund(amount: Money(dong: 5), reference: "QD-1", by: user("officer"), memo: "liên hệ 0912 345 678")
        }
        #expect(throws: FieldError.self) { try month.paid.store.journal.fund(amount: Money(dong: 5), reference: "CCCD 001150000001", by: user("officer")) }
        _ = try month.paid.store.journal.fund(amount: Money(dong: 5), reference: "QĐ-202611/UBND 1234", by: user("officer"), memo: "bổ sung 2026")
    }
}

@Suite struct AuditKeyTests {
    @Test func aKeyFileOthersCanReadIsRefusedWithTheFix() throws {
        let folder = Folder()
        let path = folder.file("audit.key")
        let key = try AuditKey.generate()
        try KeyFile.write(key.fileContents, path: path, mode: 0o600)
        #expect(try AuditKey.load(path: path).bytes == key.bytes)
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o600)
        chmod(path, 0o644)
        #expect(throws: KeyFileError.readableByOthers(path: path, mode: UInt32(S_IFREG) | 0o644)) { try AuditKey.load(path: path) }
        #expect(KeyFileError.readableByOthers(path: path, mode: 0o100644).description.contains("chmod 600 \(path)"))
        chmod(path, 0o640)
        #expect(throws: KeyFileError.self) { try AuditKey.load(path: path) }
        #expect(throws: KeyFileError.exists(path: path)) { try KeyFile.write(key.fileContents, path: path, mode: 0o600) }
    }

    @Test func keysWrittenByOpenSSLAreReadAndGarbageIsNot() throws {
        let folder = Folder()
        let hex = folder.file("hex.key")
        try KeyFile.write(Array((String(repeating: "ab", count: 32) + "\n").utf8), path: hex, mode: 0o600)
        #expect(try AuditKey.load(path: hex).bytes == Array(repeating: 0xab, count: 32))
        let raw = folder.file("raw.key")
        try KeyFile.write(Array(repeating: 0xff, count: 32), path: raw, mode: 0o600)
        #expect(try AuditKey.load(path: raw).bytes == Array(repeating: 0xff, count: 32))
        let short = folder.file("short.key")
        try KeyFile.write(Array("abcd\n".utf8), path: short, mode: 0o600)
        #expect(throws: KeyFileError.self) { try AuditKey.load(path: short) }
        #expect(throws: KeyFileError.self) { try AuditKey.load(path: folder.file("absent.key")) }
        // The key id names the key without revealing it, and two keys have two ids.
        let one = AuditKey(bytes: Array(repeating: 1, count: 32))
        #expect(one.id.count == 16 && one.id != AuditKey(bytes: Array(repeating: 2, count: 32)).id)
        #expect(!Hex.encode(one.bytes).contains(one.id))
    }

    @Test func theKeyedHMACMatchesTheOneShotOne() {
        for keyLength in [0, 1, 20, 64, 65, 131] {
            let key = (0..<keyLength).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            let hmac = KeyedHMACSHA256(key: key)
            for message in [[], Array("Hi There".utf8), [UInt8](repeating: 0xdd, count: 200)] {
                #expect(hmac.authenticate(message) == HMACSHA256.authenticate(message, key: key))
            }
        }
    }
}
