import AllowanceLedger
import Foundation
import FuzzTargets
#if FUZZING
import CFuzzDriver
#endif

/// `allowance-fuzz`: the fuzz targets of issue 7 (README, "Reliability").
///
///     allowance-fuzz TARGET --runs N [--seed S] [--samples DIR] [--current FILE]   seeded mutation pass, no libFuzzer
///     allowance-fuzz TARGET --replay FILE...                                       each file once, with what it came to
///     allowance-fuzz TARGET --write-seeds DIR [--samples DIR]                      the seed corpus, one file per seed
///     allowance-fuzz TARGET [--samples DIR] [libFuzzer options and corpus folders] (built by scripts/fuzz.sh)
///
/// TARGET is result-file, register or audit-verify. With `--current FILE` every input is written there before it
/// runs, so a crash leaves behind the input that caused it.
@main
struct FuzzCommand {
    static func main() {
        var arguments = Array(CommandLine.arguments.dropFirst())
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
            fail("usage: allowance-fuzz \(FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")) (--runs N [--seed S] | --replay FILE… | --write-seeds DIR) [--samples DIR]")
        }
        arguments.removeFirst()
        let samples = take("--samples", from: &arguments) ?? "samples"
        let harness: FuzzHarness
        do { harness = try FuzzHarness(target: target, samples: samples) } catch { fail("cannot set up \(name): \(error)") }

        if let folder = take("--write-seeds", from: &arguments) {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                for (index, seed) in try harness.seeds().enumerated() { try writeFile(seed, to: "\(folder)/seed-\(index)") }
            } catch { fail("cannot write the seeds: \(error)") }
            return
        }
        if let index = arguments.firstIndex(of: "--replay") {
            for path in arguments[(index + 1)...] {
                guard let data = FileManager.default.contents(atPath: path) else { fail("cannot read \(path)") }
                print("\(path): \(harness.run(Array(data)))")
            }
            return
        }
        if let runs = take("--runs", from: &arguments).flatMap(Int.init) {
            let seed = take("--seed", from: &arguments).flatMap(UInt64.init) ?? UInt64(Date().timeIntervalSince1970)
            let current = take("--current", from: &arguments)
            print("allowance-fuzz \(name): \(runs) runs, seed \(seed) (replay: --runs \(runs) --seed \(seed))")
            let seeds: [[UInt8]]
            do { seeds = try harness.seeds() } catch { fail("cannot read the seeds: \(error)") }
            var mutator = FuzzMutator(seed: seed)
            var outcomes: [String: Int] = [:]
            for run in 0..<runs {
                // Every fourth input builds on a mutated one, so edits pile up past the first few bytes.
                var input = seeds[run % seeds.count]
                for _ in 0...(run % 4) { input = mutator.mutate(input, keepFirst: target == .auditVerify) }
                if let current { try? writeFile(input, to: current) }
                let outcome = harness.run(input)
                outcomes[String(outcome.prefix(40)), default: 0] += 1
            }
            print("allowance-fuzz \(name): \(runs) runs, no crash; \(outcomes.count) distinct outcomes")
            return
        }
        #if FUZZING
        fuzzingHarness = harness
        // libFuzzer ends the process with exit(): the scratch folder goes then.
        fuzzingFolder = strdup(harness.folder)
        atexit {
            if let folder = fuzzingFolder { try? FileManager.default.removeItem(atPath: String(cString: folder)) }
        }
        var argv: [UnsafeMutablePointer<CChar>?] = ([CommandLine.arguments[0]] + arguments).map { strdup($0) } + [nil]
        var argc = CInt(argv.count - 1)
        argv.withUnsafeMutableBufferPointer { buffer in
            var pointer = buffer.baseAddress
            exit(LLVMFuzzerRunDriver(&argc, &pointer) { data, size in
                fuzzingHarness!.run(Array(UnsafeBufferPointer(start: data, count: size)))
                return 0
            })
        }
        #else
        fail("this build has no libFuzzer; scripts/fuzz.sh builds one, or pass --runs N for the built-in mutator")
        #endif
    }

    /// Removes `option VALUE` from the arguments and returns the value.
    static func take(_ option: String, from arguments: inout [String]) -> String? {
        guard let index = arguments.firstIndex(of: option), index + 1 < arguments.count else { return nil }
        let value = arguments[index + 1]
        arguments.removeSubrange(index...(index + 1))
        return value
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        exit(64)
    }
}

#if FUZZING
nonisolated(unsafe) var fuzzingHarness: FuzzHarness?
nonisolated(unsafe) var fuzzingFolder: UnsafeMutablePointer<CChar>?
#endif
