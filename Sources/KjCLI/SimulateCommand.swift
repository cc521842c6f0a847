import ArgumentParser
import Foundation
import Journal
import Simulation

/// `kj simulate`: a scenario in virtual time, into a new journal, with its expectations checked.
struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a scenario (replay/*.yaml) in virtual time into a new journal and check its expectations.",
        discussion: "The same scenario and seed write the same journal, byte for byte. Exits 1 if an expectation fails. The format is in replay/README.md.")

    @Argument(help: "The scenario file.") var file: String
    @Option(name: .long, help: ArgumentHelp("Write the journal here (a new or empty directory; default: a new temporary one).", valueName: "dir"))
    var journal: String?
    @Option(help: "Override the scenario's seed.") var seed: UInt64?
    @Flag(help: "Print only failures and the summary.") var quiet = false

    func run() async throws {
        guard let data = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read \(file)") }
        let scenario = try Scenario(yaml: String(decoding: data, as: UTF8.self))
        let path = journal ?? NSTemporaryDirectory() + "kj-simulate-\(scenario.name)-\(getpid())"
        let j = try Journal.open(at: path, options: JournalOptions(durability: .noSync))
        defer { j.close() }
        let started = ContinuousClock.now
        let simulator = try await Simulator(scenario: scenario, journal: j, seed: seed)
        let checks = try await simulator.run()
        try j.sync()
        let wall = (ContinuousClock.now - started).seconds
        let head = try j.head()
        print("\(scenario.name): \(head.revision) events over \(Self.virtual(scenario.duration)) of virtual time in \(String(format: "%.2f", wall)) s")
        var failed = 0
        for c in checks {
            if c.passed {
                if !quiet { print("  ✓ at \(Self.virtual(c.at)): \(c.expectation.summary)") }
            } else {
                failed += 1
                print("  ✗ at \(Self.virtual(c.at)): \(c.expectation.summary) — \(c.failure!)")
            }
        }
        print("\(checks.count - failed)/\(checks.count) expectations hold. Journal: \(path)")
        if failed > 0 { throw ExitCode.failure }
    }

    /// `1m30s`, `45s`, `2h`.
    static func virtual(_ micros: Int64) -> String {
        let s = micros / 1_000_000
        if s % 3600 == 0, s >= 3600 { return "\(s / 3600)h" }
        if s >= 60 { return s % 60 == 0 ? "\(s / 60)m" : "\(s / 60)m\(s % 60)s" }
        return micros % 1_000_000 == 0 ? "\(s)s" : String(format: "%.1fs", Double(micros) / 1e6)
    }
}
