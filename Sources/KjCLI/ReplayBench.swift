import ArgumentParser
import Foundation
import Journal
import Replay

/// `kj bench replay`: kj replay verify, kj replay run and kj debug on the queries benchmark's
/// simulated journal.
struct ReplayBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "kj replay verify, kj replay run and kj debug's moves on a simulated journal of 1,000,000 events.",
        discussion: """
            The journal is the queries benchmark's (kj bench queries): deployment churn in virtual time \
            with every component. --journal reuses one (simulated into the directory when it is missing \
            or empty). verify_*: every component event of the journal re-made in lockstep and compared \
            (verify_decisions_per_s counts the decisions among them, verify_events_per_s all of them); \
            replay_run_seconds: the whole recording re-run from its inputs into a new journal, and whether \
            that journal is the recording byte for byte; debug_step_*, debug_back_*: one event forward or \
            backward from a random position, printing the event and the fields it changed; debug_goto_*: \
            a jump to a random revision. The p50, p99 and maximum wall times are reported.
            """)

    @Flag(help: "Print one JSON object instead of a table.") var json = false
    @Option(help: "Events in the simulated journal (about).") var events = 1_000_000
    @Option(help: "Debugger moves of each kind measured.") var samples = 1_000
    @Option(help: "Seed of the simulation and of the random positions.") var seed: UInt64 = 1
    @Option(help: ArgumentHelp("Use (or simulate into, and keep) the journal in this directory.", valueName: "dir")) var journal: String?
    @Option(help: ArgumentHelp("Where to create temporary journals.", valueName: "dir")) var dir: String?
    @Flag(help: "Skip kj replay run (the longest part).") var skipRun = false

    func run() async throws {
        var r: [String: Double] = [:]
        let root = (dir ?? NSTemporaryDirectory()) + "/kj-bench-replay-\(getpid())"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = journal ?? root + "/recording"
        if let seconds = try await QueriesBench.simulateChurn(into: path, events: events, pods: nil, seed: seed) { r["generate_seconds"] = seconds }
        let recording = try Journal.open(at: path, options: .reader)
        defer { recording.close() }
        let head = try recording.head().revision
        r["events"] = Double(head)

        printError("kj replay verify over \(head) events")
        do {
            let scratch = try Journal.open(at: root + "/verify", options: JournalOptions(initialMapSize: 1 << 30, durability: .noSync))
            defer { scratch.close() }
            let start = ContinuousClock.now
            let v = try await ReplayVerifier(recording: recording, scratch: scratch).run()
            let seconds = (ContinuousClock.now - start).seconds
            let decisions = v.components.values.reduce(0) { $0 + $1.decisions }
            r["verify_seconds"] = seconds
            r["verify_decisions"] = Double(decisions)
            r["verify_decisions_per_s"] = Double(decisions) / seconds
            r["verify_events_per_s"] = Double(v.componentEvents + v.inputs) / seconds
            r["verify_disagreements"] = Double(v.disagreements.count)
        }
        try? FileManager.default.removeItem(atPath: root + "/verify")

        if !skipRun {
            printError("kj replay run over \(head) events")
            let out = try Journal.open(at: root + "/rerun", options: JournalOptions(initialMapSize: 1 << 30, durability: .noSync))
            defer { out.close() }
            let start = ContinuousClock.now
            _ = try await Rerun(recording: recording, output: out).run()
            r["replay_run_seconds"] = (ContinuousClock.now - start).seconds
            let written = try out.head()
            r["replay_run_identical"] = written == (try recording.head()) ? 1 : 0
        }

        printError("kj debug: \(samples) steps, backs and gotos")
        let debugger = Debugger(path: path, journal: recording) { _ in }
        var rng = SplitMix(seed: seed)
        var step: [Double] = [], back: [Double] = [], goto: [Double] = []
        for _ in 0..<max(1, samples) {
            let target = 2 + rng.next() % (head - 2)
            goto.append(try await Self.time { await debugger.execute("goto \(target)") })
            step.append(try await Self.time { await debugger.execute("step") })
            back.append(try await Self.time { await debugger.execute("back") })
        }
        for (name, values) in [("step", step), ("back", back), ("goto", goto)] {
            let sorted = values.sorted()
            r["debug_\(name)_p50_ms"] = QueriesBench.percentile(sorted, 50)
            r["debug_\(name)_p99_ms"] = QueriesBench.percentile(sorted, 99)
            r["debug_\(name)_max_ms"] = sorted.last
        }
        if json {
            print(try jsonText(r.mapValues { ($0 * 1000).rounded() / 1000 }))
        } else {
            print(r.keys.sorted().map { "\($0.padding(toLength: 28, withPad: " ", startingAt: 0)) \(String(format: "%.3f", r[$0]!))" }.joined(separator: "\n"))
        }
    }

    /// Milliseconds `body` took.
    static func time(_ body: () async -> Bool) async throws -> Double {
        let start = ContinuousClock.now
        guard await body() else { throw CLIError("the debugger ended") }
        return (ContinuousClock.now - start).seconds * 1000
    }
}
