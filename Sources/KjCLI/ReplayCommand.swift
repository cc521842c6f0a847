import ArgumentParser
import ClusterModel
import Foundation
import Journal
import Queries
import Replay

/// `kj replay …`: re-run what a journal recorded.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Re-run what a journal recorded: check every decision again.",
        subcommands: [VerifyReplay.self]
    )
}

/// `kj replay verify`: every recorded component event re-made in lockstep with the recording.
struct VerifyReplay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Re-run every recorded decision of every component and compare it with the recording; exit 1 on any difference.",
        discussion: """
            The recording's inputs (users' writes, faults, control plane starts) are fed into a fresh \
            control plane at the revisions where they were recorded. Each event a component recorded — \
            the scheduler, each controller, node lifecycle, the garbage collector, the kubelets — is made \
            again by that component, on the state at the decision's observed revision, at its recorded \
            time, with the run's recorded settings and scheduler profiles, and compared field by field \
            with what was recorded. Works on journals written by kj simulate and kj serve, across \
            restarts and faults, and on a journal a server is still writing (up to its head when opened).
            """)

    @OptionGroup var location: JournalLocation
    @Option(help: ArgumentHelp("Count only decisions from this revision on (those before it are re-run, not counted).", valueName: "rev"))
    var from: UInt64 = 1
    @Option(help: ArgumentHelp("Stop after this revision (default: the head).", valueName: "rev")) var to: UInt64?
    @Option(name: .shortAndLong, help: "Output format: table or json.") var output: OutputFormat = .table

    func run() async throws {
        let recording = try location.openReadOnly()
        defer { recording.close() }
        let scratchPath = NSTemporaryDirectory() + "kj-replay-verify-\(getpid())"
        try? FileManager.default.removeItem(atPath: scratchPath)
        let scratch = try Journal.open(at: scratchPath, options: JournalOptions(durability: .noSync))
        defer {
            scratch.close()
            try? FileManager.default.removeItem(atPath: scratchPath)
        }
        let started = ContinuousClock.now
        let result: Verification
        do {
            result = try await ReplayVerifier(recording: recording, scratch: scratch, from: from, to: to).run()
        } catch let e as ReplayError {
            throw CLIError(e.description)
        }
        let seconds = (ContinuousClock.now - started).seconds
        if output == .json {
            print(try jsonText(VerificationReport(result, seconds: seconds)))
        } else {
            print(Self.render(result, journal: location.path, seconds: seconds))
        }
        if !result.agreed { throw ExitCode.failure }
    }

    static func render(_ v: Verification, journal: String, seconds: Double) -> String {
        var lines = [
            "Replayed revisions \(v.range.lowerBound)–\(v.range.upperBound) of \(journal) in \(String(format: "%.2f", seconds)) s: "
                + "\(v.runs) control plane run(s), \(v.inputs) input(s) fed in as recorded, \(v.componentEvents) component event(s) made again.",
            "",
        ]
        let rows = v.components.keys.sorted().map { name -> [String] in
            let t = v.components[name]!
            return [name, "\(t.decisions)", "\(t.writes)", "\(t.agreed)", "\(t.disagreements)"]
        }
        lines.append(TextTable.render(header: ["COMPONENT", "DECISIONS", "WRITES", "AGREE", "DISAGREE"], rows: rows).trimmingCharacters(in: .newlines))
        let total = v.componentEvents
        if v.agreed {
            lines.append("\n" + Style.green("All \(total) component events agree with the recording (100%)."))
            return lines.joined(separator: "\n")
        }
        let agreed = total - v.disagreements.count
        let percent = total == 0 ? 0 : Double(agreed) * 100 / Double(total)
        lines.append("\n" + Style.red("\(v.disagreements.count) of \(total) component events disagree (\(String(format: "%.2f", percent))% agree):"))
        for d in v.disagreements {
            lines.append("")
            lines.append("✗ revision \(d.revision), \(d.component) (\(d.recorded.actor)):")
            lines.append(contentsOf: Self.sides(d).map { "    " + $0 })
        }
        return lines.joined(separator: "\n")
    }

    /// Both sides of a disagreement: the recorded event, and what the re-run did instead.
    static func sides(_ d: Verification.Disagreement) -> [String] {
        let r = d.recorded.draft
        guard let p = d.produced else {
            return ["recorded: \(Self.summary(r))", "re-run:   " + (d.error.map { "nothing written (\($0))" } ?? "nothing written")]
        }
        var out = ["recorded: \(Self.summary(r))", "re-run:   \(Self.summary(p))"]
        let fields: [(String, (EventDraft) -> String)] = [
            ("time", { $0.time.rfc3339 }), ("cause", { $0.cause.map(String.init) ?? "-" }),
            ("observed", { $0.observed.map(String.init) ?? "-" }), ("trigger", { $0.trigger.map(String.init) ?? "-" }),
        ]
        for (name, value) in fields where value(r) != value(p) { out.append("  \(name): recorded \(value(r)), re-run \(value(p))") }
        if r.data != p.data { out.append(contentsOf: Self.dataDifferences(r.data, p.data)) }
        return out
    }

    static func summary(_ e: EventDraft) -> String { "\(e.type) by \(e.actor) about \(e.object)" }

    /// The data fields that differ, with both values.
    static func dataDifferences(_ recorded: [UInt8], _ produced: [UInt8]) -> [String] {
        guard let a = try? JSONValue.parse(recorded), let b = try? JSONValue.parse(produced) else {
            return ["  data: recorded \(String(decoding: recorded.prefix(160), as: UTF8.self)), re-run \(String(decoding: produced.prefix(160), as: UTF8.self))"]
        }
        let changes = FieldDiff.changes(from: a, to: b, exact: true)
        return changes.prefix(12).map { "  data.\($0.path): recorded \($0.old ?? "(absent)"), re-run \($0.new ?? "(absent)")" }
            + (changes.count > 12 ? ["  … and \(changes.count - 12) more field(s)"] : [])
    }
}

/// `kj replay verify -o json`.
struct VerificationReport: Encodable {
    struct Component: Encodable {
        var name: String
        var decisions: Int
        var writes: Int
        var agree: Int
        var disagree: Int
    }

    struct Disagreement: Encodable {
        var revision: UInt64
        var component: String
        var recorded: String
        var produced: String?
        var error: String?
        var differences: [String]
    }

    var from: UInt64
    var to: UInt64
    var runs: Int
    var inputs: Int
    var componentEvents: Int
    var agreed: Bool
    var seconds: Double
    var components: [Component]
    var disagreements: [Disagreement]

    init(_ v: Verification, seconds: Double) {
        from = v.range.lowerBound
        to = v.range.upperBound
        runs = v.runs
        inputs = v.inputs
        componentEvents = v.componentEvents
        agreed = v.agreed
        self.seconds = seconds
        components = v.components.keys.sorted().map { n in
            let t = v.components[n]!
            return Component(name: n, decisions: t.decisions, writes: t.writes, agree: t.agreed, disagree: t.disagreements)
        }
        disagreements = v.disagreements.map { d in
            Disagreement(revision: d.revision, component: d.component, recorded: VerifyReplay.summary(d.recorded.draft),
                         produced: d.produced.map(VerifyReplay.summary), error: d.error, differences: Array(VerifyReplay.sides(d).dropFirst(2)))
        }
    }
}
