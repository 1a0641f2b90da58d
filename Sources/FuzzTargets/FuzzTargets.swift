import AllowanceLedger
import AllowanceOffice
import Foundation
import Reconcile

/// The fuzz targets of issue 7: each takes any bytes and must end in a result or a reported error, never a crash,
/// a hang or unbounded memory. `allowance-fuzz` drives them under libFuzzer (README, "Reliability") or with its own
/// seeded mutator; the seeds come from `samples/`.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// The carrier result-file reader, under the built-in profile and under the Viettel sample's profile.
    case resultFile = "result-file"
    /// `beneficiary import` into an empty ledger (a fresh copy for every input, so that a finding replays alone),
    /// bad lines kept aside (`--skip-invalid`).
    case register
    /// `audit verify` of a real export in which one file is replaced: the first byte picks the file, the rest is
    /// its new content.
    case auditVerify = "audit-verify"
    /// The xlsx reader (issue 21): an even first byte makes the rest a whole file, an odd one the sheet's XML inside
    /// an otherwise sound workbook, so that mutations reach the XML reader past the archive's checksums.
    case workbook = "xlsx"
}

/// Everything a target needs, made once per process in a scratch folder (under /dev/shm when there is one).
public final class FuzzHarness {
    public let target: FuzzTarget
    /// The scratch folder; removed when the harness goes, and by `allowance-fuzz` at exit under libFuzzer.
    public let folder: String
    let samples: String
    private var profiles: [CarrierProfile] = []
    /// An empty, migrated ledger that every `register` input starts from.
    private var pristineLedger: [UInt8] = []
    private var exportFolder = ""
    private var exportFiles: [String] = []
    private var original: [String: [UInt8]] = [:]
    private var key: AuditKey?
    private var runs = 0

    /// `samples` is the repository's samples/ folder.
    public init(target: FuzzTarget, samples: String) throws {
        self.target = target
        self.samples = samples
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        folder = base + "/allowance-fuzz-\(target.rawValue)-\(getpid())"
        try? FileManager.default.removeItem(atPath: folder)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        switch target {
        case .resultFile:
            profiles = [.generic, try CarrierProfile(contentsOf: samples + "/profiles/viettel.profile")]
        case .register:
            _ = try Ledger.open(folder + "/pristine.sqlite", clock: .fixed(try Timestamp(parsing: "2026-11-25T08:00:00Z")))
            pristineLedger = try contents(of: folder + "/pristine.sqlite")
        case .auditVerify:
            try makeExport()
        case .workbook:
            break
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: folder) }

    /// A month of the sample register, paid from the generic sample result file, exported and signed.
    private func makeExport() throws {
        let store = try Ledger.open(folder + "/ledger.sqlite", clock: .fixed(try Timestamp(parsing: "2026-11-25T08:00:00Z")))
        // Every process makes the same export, so that a seed's bytes fit any process's export.
        try store.setPseudonymSecret(Array(repeating: 0xA5, count: Pseudonymizer.secretBytes))
        let officer = try UserName(parsing: "officer")
        _ = try store.registry.importRegister(path: samples + "/register.csv", options: RegisterImportOptions(by: officer))
        let batch = try store.payouts.createBatch(BatchCreateOptions(period: try Period(parsing: "2026-11"), by: officer)).batch.id
        _ = try store.payouts.approveBatch(batch, by: try UserName(parsing: "head"))
        _ = try store.journal.fund(amount: Money(dong: 100_000_000), reference: "QD-11", by: officer)
        _ = try store.payouts.exportBatch(batch, to: folder + "/instructions.csv", by: officer)
        var options = ReconcileOptions(by: try UserName(parsing: "auditor"))
        options.profile = .generic
        _ = try store.reconciliation.reconcileResultFile(samples + "/results-generic.csv", batch: batch, options: options)
        let key = AuditKey(bytes: Array(repeating: 0x5A, count: 32))
        self.key = key
        exportFolder = folder + "/export"
        _ = try store.audit.export(to: exportFolder, scope: .all, personalData: .masked, key: key, by: try UserName(parsing: "auditor"))
        exportFiles = [AuditFormat.manifestName, AuditFormat.hmacName] + AuditFormat.fileNames
        for name in exportFiles { original[name] = try contents(of: exportFolder + "/" + name) }
    }

    /// Inputs to start from: the sample files, or for `audit-verify` each file of the export behind its index.
    public func seeds() throws -> [[UInt8]] {
        switch target {
        case .resultFile:
            return try ["results-generic.csv", "results-viettel.csv", "results-vnpt.csv"].map { try contents(of: samples + "/" + $0) }
        case .register:
            return try ["register.csv", "register-with-errors.csv"].map { try contents(of: samples + "/" + $0) }
        case .auditVerify:
            return exportFiles.enumerated().map { [UInt8($0.offset)] + original[$0.element]! }
        case .workbook:
            var seeds: [[UInt8]] = []
            for name in ["register.xlsx", "results-generic.xlsx"] {
                let path = samples + "/" + name
                seeds.append([0] + (try contents(of: path)))
                let workbook = try Workbook(path: path)
                for sheet in workbook.sheets {
                    let stream = try PartStream(path: path, part: sheet.part, location: workbook.entries.locations[sheet.part]!)
                    var xml: [UInt8] = []
                    while let chunk = try stream.nextChunk() { xml += chunk }
                    seeds.append([1] + xml)
                }
            }
            return seeds
        }
    }

    /// A workbook of one sheet holding `xml`, as sound as `XLSXWriter`'s.
    private static func workbook(sheet xml: [UInt8], to path: String) throws {
        let parts: [(String, String)] = [
            ("[Content_Types].xml", "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"/>"),
            ("xl/workbook.xml", "<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" "
                + "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"><sheets><sheet name=\"S\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"),
            ("xl/_rels/workbook.xml.rels", "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
                + "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet1.xml\"/></Relationships>"),
        ]
        try ZipWriter.write(parts.map { ($0.0, Array($0.1.utf8)) } + [("xl/worksheets/sheet1.xml", xml)], to: path)
    }

    /// Runs one input through the target. Errors are the expected answer to bad bytes; only a crash is a finding.
    /// Returns a short description of what came out, for the replay mode.
    @discardableResult
    public func run(_ data: [UInt8]) -> String {
        runs += 1
        switch target {
        case .resultFile:
            let path = folder + "/input.csv"
            guard (try? writeFile(data, to: path)) != nil else { return "cannot write the input" }
            var outcome: [String] = []
            for profile in profiles {
                do {
                    var reader = try ResultFileReader(path: path, name: "input.csv", profile: profile)
                    _ = try reader.readHeader()
                    var lines = 0, problems = 0
                    while let line = try reader.next() {
                        lines += 1
                        if !line.problems.isEmpty { problems += 1 }
                    }
                    outcome.append("\(profile.name): \(lines) lines, \(problems) unreadable")
                } catch {
                    outcome.append("\(profile.name): \(error)")
                }
            }
            return outcome.joined(separator: "; ")
        case .register:
            let path = folder + "/register.csv"
            let ledger = folder + "/ledger.sqlite"
            for stale in [ledger, ledger + "-wal", ledger + "-shm"] { unlink(stale) }
            guard (try? writeFile(data, to: path)) != nil, (try? writeFile(pristineLedger, to: ledger)) != nil else { return "cannot write the input" }
            var options = RegisterImportOptions(by: try! UserName(parsing: "officer"))
            options.skipInvalid = true
            options.rejectsPath = folder + "/rejects.csv"
            do {
                let store = try Ledger.open(ledger, clock: .fixed(try Timestamp(parsing: "2026-11-25T08:00:00Z")))
                let result = try store.registry.importRegister(path: path, options: options)
                return "\(result.created) new, \(result.updated) updated, \(result.rejected) rejected"
            } catch {
                return "\(error)"
            }
        case .workbook:
            guard let first = data.first else { return "empty input" }
            let path = folder + "/input.xlsx"
            unlink(path)
            if first & 1 == 0 {
                guard (try? writeFile(Array(data.dropFirst()), to: path)) != nil else { return "cannot write the input" }
            } else {
                guard (try? Self.workbook(sheet: Array(data.dropFirst()), to: path)) != nil else { return "cannot write the input" }
            }
            do {
                // A register's or a result file's header, as the two readers look for them.
                let table = try TableFile.open(path: path) { $0.contains("national_id") || $0.contains("reference") }
                var rows = 0, unreadable = 0, fields = 0
                while try table.reader.next() {
                    rows += 1
                    fields += table.reader.fieldCount
                    if table.reader.recordError != nil { unreadable += 1 }
                }
                return "\(rows + (table.header == nil ? 0 : 1)) rows, \(unreadable) unreadable"
            } catch {
                return "\(error)"
            }
        case .auditVerify:
            guard let first = data.first else { return "empty input" }
            let name = exportFiles[Int(first) % exportFiles.count]
            let path = exportFolder + "/" + name
            defer { try? writeFile(original[name]!, to: path) }
            guard (try? writeFile(Array(data.dropFirst()), to: path)) != nil else { return "cannot write the input" }
            do {
                let verification = try AuditVerifier.verify(directory: exportFolder, key: key, publicKey: nil)
                return verification.passed ? "intact" : "\(verification.findings.count) findings"
            } catch {
                return "\(error)"
            }
        }
    }
}

/// A file's bytes.
func contents(of path: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else { throw FileError(path: path, errno: errno) }
    return Array(data)
}

/// A small seeded mutator for the short pass the test command runs without libFuzzer: byte flips, insertions,
/// deletions, repeats and the bytes CSV and JSON readers care about.
public struct FuzzMutator {
    private var random: SeededRandom

    public init(seed: UInt64) { random = SeededRandom(seed: seed) }

    mutating func next() -> UInt64 { random.next() }
    mutating func below(_ bound: Int) -> Int { bound <= 0 ? 0 : random.below(bound) }

    static let interesting: [[UInt8]] = [
        [0x22], [0x2C], [0x3B], [0x0A], [0x0D, 0x0A], [0x0D], [0x00], [0xFF], [0xEF, 0xBB, 0xBF], [0xC3], [0xE1, 0xBB],
        Array("\"\"".utf8), Array("=HYPERLINK(\"x\")".utf8), Array("-1".utf8), Array("99999999999999999999".utf8),
        Array("1.000.000".utf8), Array("Thành công".utf8), Array("{".utf8), Array("}".utf8), Array("[]".utf8), Array("\\u0000".utf8),
    ]

    /// One to four edits of `input`; the result stays under `limit` bytes (the first byte of an audit-verify input is
    /// kept, since it names the file).
    public mutating func mutate(_ input: [UInt8], keepFirst: Bool = false, limit: Int = 1 << 20) -> [UInt8] {
        var bytes = input
        let start = keepFirst && !bytes.isEmpty ? 1 : 0
        for _ in 0...below(4) {
            let position = start + below(bytes.count - start + 1)
            switch below(7) {
            case 0 where position < bytes.count: bytes[position] ^= UInt8(1 << below(8))
            case 1 where position < bytes.count: bytes[position] = UInt8(truncatingIfNeeded: next())
            case 2: bytes.insert(contentsOf: Self.interesting[below(Self.interesting.count)], at: position)
            case 3 where position < bytes.count:
                bytes.removeSubrange(position..<min(bytes.count, position + 1 + below(64)))
            case 4 where position < bytes.count:
                let end = min(bytes.count, position + 1 + below(256))
                bytes.insert(contentsOf: bytes[position..<end], at: position)
            case 5: bytes.removeSubrange(min(position, bytes.count)..<bytes.count)
            default: bytes.insert(UInt8(truncatingIfNeeded: next()), at: position)
            }
        }
        return bytes.count > limit ? Array(bytes.prefix(limit)) : bytes
    }
}
