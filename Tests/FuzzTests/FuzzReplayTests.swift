import Foundation
import FuzzTargets
import Testing
import TestSupport

/// The short, deterministic run of every fuzz target: its committed corpus, the inputs of every
/// crash fuzzing found (`regressions/`), then seeded mutations of them drawing on libFuzzer's
/// dictionary (`Fuzz/kj.dict`). Each target runs in a
/// `kj-fuzz-replay` process, so a trap fails that target's test and names the input, instead of
/// ending the whole test run.
@Suite struct FuzzReplayTests {
    static let directory = packageRoot + "/Tests/FuzzTests"
    /// Mutated inputs per target: a few seconds per target in a debug build.
    static let mutations = 3000
    static let seed: UInt64 = 20_261_130

    @Test(.timeLimit(.minutes(10)), arguments: FuzzTarget.all.map(\.name))
    func targetReturnsOnEveryInput(_ name: String) throws {
        let corpus = Self.directory + "/corpus/" + name
        let regressions = Self.directory + "/regressions/" + name
        #expect(try !FileManager.default.contentsOfDirectory(atPath: corpus).isEmpty, "corpus/\(name) is empty")
        var paths = [corpus]
        if FileManager.default.fileExists(atPath: regressions) { paths.append(regressions) }
        let scratch = TemporaryDirectory("kj-fuzz")
        let current = scratch.sub("current")
        let arguments = [name, "--mutations", String(Self.mutations), "--seed", String(Self.seed), "--dict", packageRoot + "/Fuzz/kj.dict", "--current", current]
        let result = try runReplay(arguments + paths, within: 150)
        guard result.status != 0 else {
            #expect(result.stdout.contains("returned"))
            return
        }
        // The input that was running: its label, a NUL, its bytes.
        let record = FileManager.default.contents(atPath: current) ?? Data()
        let label = String(decoding: record.prefix { $0 != 0 }, as: UTF8.self)
        let input = record.drop { $0 != 0 }.dropFirst()
        let kept = NSTemporaryDirectory() + "kj-fuzz-\(name)-crash"
        try input.write(to: URL(fileURLWithPath: kept))
        Issue.record("""
            fuzz target \(name) \(result.status == -1 ? "timed out" : "died (status \(result.status))") on \(label); \
            the input is in \(kept) (base64 \(input.prefix(512).base64EncodedString()))
            \(result.stderr.split(separator: "\n").prefix(12).joined(separator: "\n"))
            """)
    }

    @Test func everyCorpusDirectoryNamesATarget() throws {
        let names = Set(FuzzTarget.all.map(\.name))
        for tree in ["corpus", "regressions", "pending"] {
            let path = Self.directory + "/" + tree
            let dirs = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            for d in dirs where !d.hasSuffix(".md") {
                #expect(names.contains(d), "\(tree)/\(d) is not a fuzz target")
            }
        }
    }

    /// Runs `kj-fuzz-replay`; status -1 if it ran longer than `seconds` (it is killed).
    func runReplay(_ arguments: [String], within seconds: Double) throws -> ProcessResult {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: replayExecutable)
        p.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["SWIFT_BACKTRACE"] = "enable=yes,interactive=no,color=no"
        p.environment = env
        let out = ChildProcesses.pipe(), err = ChildProcesses.pipe()
        p.standardOutput = out
        p.standardError = err
        let exited = DispatchSemaphore(value: 0)
        p.terminationHandler = { _ in exited.signal() }
        try ChildProcesses.start(p)
        // Both pipes drain in the background, so neither a full pipe nor a hung child blocks here.
        let stdout = LockedBytes(), stderr = LockedBytes()
        let drained = DispatchGroup()
        for (pipe, sink) in [(out, stdout), (err, stderr)] {
            drained.enter()
            DispatchQueue.global().async {
                sink.set(pipe.fileHandleForReading.readAllRetryingInterrupts())
                drained.leave()
            }
        }
        let timedOut = exited.wait(timeout: .now() + seconds) == .timedOut
        if timedOut {
            p.terminate()
            exited.wait()
        }
        drained.wait()
        return ProcessResult(
            status: timedOut ? -1 : p.terminationStatus, stdout: String(decoding: stdout.get(), as: UTF8.self),
            stderr: String(decoding: stderr.get(), as: UTF8.self))
    }

    /// `kj-fuzz-replay`, built beside the test bundle.
    var replayExecutable: String {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for dir in [beside, beside.deletingLastPathComponent()] {
            let candidate = dir.appendingPathComponent("kj-fuzz-replay").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return packageRoot + "/.build/debug/kj-fuzz-replay"
    }
}

private final class LockedBytes: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func set(_ d: Data) { lock.withLock { data = d } }
    func get() -> Data { lock.withLock { data } }
}
