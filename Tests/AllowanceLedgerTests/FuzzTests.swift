import Foundation
import Testing

/// The short fuzz pass the test command runs (issue 7): every fuzz target of `allowance-fuzz` on a few hundred
/// seeded mutations of the samples, as a separate process so that a crash is a failed test naming its input, and
/// every earlier finding in Tests/FuzzRegressions replayed. The long runs under libFuzzer are `scripts/fuzz.sh`.
@Suite struct FuzzTests {
    static let targets = ["result-file", "register", "audit-verify", "xlsx"]
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    func binary() throws -> String {
        URL(fileURLWithPath: try AllowanceBinary.path()).deletingLastPathComponent().appendingPathComponent("allowance-fuzz").path
    }

    @Test(arguments: targets)
    func aShortSeededFuzzPassFindsNoCrash(target: String) throws {
        let sandbox = CLISandbox()
        let current = sandbox.directory.file("current-input")
        let output = try sandbox.execute(try binary(), [target, "--runs", "500", "--seed", "20261130", "--samples", Self.root + "/samples",
                                                         "--current", current], timeoutSeconds: 300)
        let input = FileManager.default.contents(atPath: current).map { Array($0.prefix(200)) } ?? []
        #expect(output.status == 0, "the last input, kept in \(current), began \(input): \(output.stderr.suffix(1500))")
        #expect(output.stdout.contains("500 runs, no crash"), "\(output.stdout)")
    }

    @Test(arguments: targets)
    func theSeedsAndEveryEarlierFindingRunCleanly(target: String) throws {
        let sandbox = CLISandbox()
        let seeds = sandbox.directory.file("seeds")
        sandbox.expectSuccess(try sandbox.execute(try binary(), [target, "--write-seeds", seeds, "--samples", Self.root + "/samples"]))
        var files = try FileManager.default.contentsOfDirectory(atPath: seeds).sorted().map { seeds + "/" + $0 }
        #expect(files.count >= 2)
        let findings = Self.root + "/Tests/FuzzRegressions/" + target
        files += try FileManager.default.contentsOfDirectory(atPath: findings).filter { !$0.hasPrefix(".") }.sorted().map { findings + "/" + $0 }
        let output = try sandbox.execute(try binary(), [target, "--samples", Self.root + "/samples", "--replay"] + files)
        #expect(output.status == 0, "\(output.stderr.suffix(1500))")
        #expect(output.stdout.split(separator: "\n").count == files.count, "\(output.stdout)")
        // The seeds themselves do what they should: an untouched export verifies, a sample result file reads with
        // no unreadable line under its own profile, a sample register imports.
        switch target {
        case "audit-verify": #expect(output.stdout.contains("seed-0: intact"), "\(output.stdout)")
        case "result-file": #expect(output.stdout.contains("seed-0: generic: ") && output.stdout.contains(" lines, 0 unreadable"), "\(output.stdout)")
        case "xlsx": #expect(output.stdout.contains("seed-0: 31 rows, 0 unreadable"), "\(output.stdout)")
        default: #expect(output.stdout.contains("seed-0: ") && !output.stdout.contains("seed-0: 0 new"), "\(output.stdout)")
        }
    }
}
