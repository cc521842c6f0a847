import ArgumentParser
import ClusterModel
import NodeAgent
import Scheduler
import Foundation
import Journal
import Queries
import Replay

/// `kj replay …`: re-run what a journal recorded.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Re-run what a journal recorded: check every decision again, or run the incident again with changes.",
        subcommands: [VerifyReplay.self, RunReplay.self, ExtractScenario.self]
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
        if r.data != p.data { out.append(contentsOf: Self.dataDifferences(r.data, p.data, kind: r.object.kind)) }
        return out
    }

    static func summary(_ e: EventDraft) -> String { "\(e.type) by \(e.actor) about \(e.object)" }

    /// The data fields that differ, with both values (secret values as their sizes).
    static func dataDifferences(_ recorded: [UInt8], _ produced: [UInt8], kind: String) -> [String] {
        guard let a = try? JSONValue.parse(recorded), let b = try? JSONValue.parse(produced) else {
            return ["  data: recorded \(recorded.count) bytes, re-run \(produced.count) bytes, not both JSON"]
        }
        let changes = FieldDiff.changes(from: Redaction.redact(a, kind: kind), to: Redaction.redact(b, kind: kind), exact: true)
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

/// `kj replay run`: the recording's inputs fed into a fresh control plane, with what-if changes.
struct RunReplay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a recorded incident again from its inputs, in virtual time, into a new journal — as recorded or with changes — and compare the two timelines.",
        discussion: """
            The recording's inputs — users' writes, faults, nodes added and removed, control plane \
            starts — are fed at their recorded times into a fresh control plane whose components decide \
            everything again. Without changes, a recording made by kj simulate is written again byte for \
            byte, and one made by kj serve ends with every pod on the same node, in the same phase, with \
            the same restarts (its timings differ by the wall clock's jitter, each difference listed); \
            exit 1 if not. The what-if options change the cluster or the inputs; the report then lists \
            every pod placed elsewhere, evicted, restarted or ready at another time. Compare the states \
            with kj diff --journal RECORDING --against OUT.
            """)

    @OptionGroup var location: JournalLocation
    @Option(help: ArgumentHelp("Write the re-run's journal here (a new or empty directory).", valueName: "dir")) var out: String
    @Option(help: ArgumentHelp("Start from the recorded state at this point (revision or time) instead of from the beginning.", valueName: "rev|time"))
    var from: String?
    @Option(help: ArgumentHelp("Re-run the recording up to this point (revision or time).", valueName: "rev|time")) var to: String?
    @Option(name: .customLong("scheduler-config"), help: ArgumentHelp("The scheduler's profiles from a KubeSchedulerConfiguration file.", valueName: "file"))
    var schedulerConfig: String?
    @Option(name: .customLong("add-node"), help: ArgumentHelp("A node more: NAME,cpu=4,memory=8Gi,pods=110,label=k=v,taint=k=v:Effect (repeatable).", valueName: "spec"))
    var addNode: [String] = []
    @Option(name: .customLong("remove-node"), help: ArgumentHelp("A recorded node left out (repeatable).", valueName: "name")) var removeNode: [String] = []
    @Option(name: .customLong("node"), help: ArgumentHelp("A recorded node with another capacity: NAME,cpu=…,memory=…,pods=… (repeatable).", valueName: "spec"))
    var resize: [String] = []
    @Option(help: ArgumentHelp("Leave out the recorded input at this revision, as if it had not happened (repeatable).", valueName: "rev")) var drop: [UInt64] = []
    @Option(name: .shortAndLong, help: "Output format: table or json.") var output: OutputFormat = .table

    func run() async throws {
        let whatIf = try makeWhatIf()
        if URL(fileURLWithPath: out).standardizedFileURL.path == URL(fileURLWithPath: location.path).standardizedFileURL.path {
            throw CLIError("--out is where the re-run writes a new journal; it cannot be the recording (\(location.path))")
        }
        let recording = try location.openReadOnly()
        defer { recording.close() }
        let (first, last) = try recording.read { view in
            (try from.map { try point($0, "--from").revision(in: view) }, try to.map { try point($0, "--to").revision(in: view) })
        }
        if let existing = try? Journal.open(at: out, options: .reader) {
            let head = try existing.head().revision
            existing.close()
            guard head == 0 else { throw CLIError("\(out) already holds a journal; re-run into a new directory") }
        }
        let created = !FileManager.default.fileExists(atPath: out)
        let journal = try Journal.open(at: out, options: JournalOptions(durability: .noSync))
        defer { journal.close() }
        let started = ContinuousClock.now
        let rerun: Rerun
        do {
            rerun = try await Rerun(recording: recording, output: journal, whatIf: whatIf, from: first, to: last)
        } catch let e as ReplayError {
            // Refused before anything was written: leave no journal behind.
            journal.close()
            if created { try? FileManager.default.removeItem(atPath: out) }
            throw CLIError(e.description)
        }
        _ = try await rerun.run()
        try journal.sync()
        let end = try last ?? recording.head().revision
        let comparison = try TimelineComparison.compare(recorded: recording, through: end, rerun: journal)
        let seconds = (ContinuousClock.now - started).seconds
        if output == .json {
            print(try jsonText(RerunReport(comparison: comparison, skipped: rerun.skipped, whatIf: !whatIf.isEmpty, journal: out, seconds: seconds)))
        } else {
            print(Self.render(comparison, skipped: rerun.skipped, whatIf: !whatIf.isEmpty, out: out, seconds: seconds))
        }
        if whatIf.isEmpty, !comparison.sameOutcomes { throw ExitCode.failure }
    }

    func point(_ text: String, _ option: String) throws -> PointInTime {
        guard let p = PointInTime(text) else { throw CLIError("\(option): not a revision or an RFC 3339 time: \(text)") }
        return p
    }

    func makeWhatIf() throws -> WhatIf {
        var w = WhatIf()
        if let schedulerConfig {
            guard let data = FileManager.default.contents(atPath: schedulerConfig) else { throw CLIError("cannot read \(schedulerConfig)") }
            do {
                w.schedulerProfiles = try SchedulerConfiguration.profiles(try Manifest.documents(String(decoding: data, as: UTF8.self)).first ?? .object([:]))
                    .map(SchedulerProfile.init)
            } catch {
                throw CLIError("\(schedulerConfig): \(error)")
            }
        }
        w.addedNodes = try addNode.map { try Self.node($0, option: "--add-node") }
        w.removedNodes = Set(removeNode)
        for spec in resize {
            let n = try Self.node(spec, option: "--node", defaults: false)
            w.resized[n.name] = n.capacity
        }
        w.dropped = Set(drop)
        return w
    }

    /// `NAME,cpu=4,memory=8Gi,pods=110,label=k=v,taint=k=v:Effect`.
    static func node(_ spec: String, option: String, defaults: Bool = true) throws -> SimulatedNode {
        let parts = spec.split(separator: ",").map(String.init)
        guard let name = parts.first, !name.isEmpty, !name.contains("=") else { throw CLIError("\(option) wants NAME,key=value…, got \(spec)") }
        var capacity: [String: Quantity] = [:]
        if defaults { capacity = ["cpu": try Quantity(parsing: "4"), "memory": try Quantity(parsing: "8Gi"), "pods": try Quantity(parsing: "110")] }
        var labels: [String: String] = [:], taints: [Taint] = []
        for part in parts.dropFirst() {
            let kv = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { throw CLIError("\(option): \(part) is not key=value") }
            switch kv[0] {
            case "cpu", "memory", "pods":
                do { capacity[kv[0]] = try Quantity(parsing: kv[1]) } catch { throw CLIError("\(option): \(kv[0])=\(kv[1]): \(error)") }
            case "label":
                let (key, value) = try parseLabel(kv[1], option: "\(option) …,label=")
                labels[key] = value
            case "taint":
                let taint = try parseTaint(kv[1], option: "\(option) …,taint=")
                guard ["NoSchedule", "PreferNoSchedule", "NoExecute"].contains(taint.effect) else {
                    throw CLIError("\(option): taint wants taint=key[=value]:Effect with Effect NoSchedule, PreferNoSchedule or NoExecute, got \(part)")
                }
                taints.append(taint)
            default:
                throw CLIError("\(option): unknown field \(kv[0]) (cpu, memory, pods, label, taint)")
            }
        }
        return SimulatedNode(name: name, capacity: capacity, labels: labels, taints: taints, index: 0)
    }

    static func render(_ c: TimelineComparison, skipped: [SkippedInput], whatIf: Bool, out: String, seconds: Double) -> String {
        var lines = ["Re-ran \(c.recordedEvents) recorded event(s) into \(out) in \(String(format: "%.2f", seconds)) s: \(c.rerunEvents) event(s) written, \(c.pods) pod(s) compared."]
        if c.identical {
            lines.append(Style.green("The re-run wrote the recording again, byte for byte."))
        } else if let d = c.firstDivergence {
            lines.append("First different event at revision \(d.revision):")
            lines.append("  recorded: \(d.recorded ?? "(the recording ends)")")
            lines.append("  re-run:   \(d.rerun ?? "(the re-run ends)")")
            if let x = c.firstDecisionDivergence {
                lines.append("First different decision, after \(x.agreedBefore) of \(c.decisions) agreed (revisions and times aside):")
                lines.append("  recorded: " + (x.recorded.map { "\($0) (revision \(x.recordedRevision!))" } ?? "(no more decisions)"))
                lines.append("  re-run:   " + (x.rerun.map { "\($0) (revision \(x.rerunRevision!))" } ?? "(no more decisions)"))
            } else {
                lines.append("Every one of the \(c.decisions) decisions was made again, in the same order (revisions and times aside).")
            }
        }
        for s in skipped { lines.append(Style.yellow("Input at revision \(s.revision) not applied (\(s.input)): \(s.reason)")) }
        if c.differences.isEmpty {
            lines.append((whatIf ? "" : Style.green("")) + "Same outcomes: every pod on the same node, in the same phase, with the same restarts.")
        } else {
            lines.append("")
            lines.append(Style.bold("Pods whose outcome differs (\(c.differences.count)):"))
            for d in c.differences {
                let names = [d.recorded?.name, d.rerun?.name].compactMap { $0 }
                lines.append("  \(d.identity) (\(Array(Set(names)).sorted().joined(separator: " / "))): \(d.what.joined(separator: "; "))")
            }
        }
        if !c.timing.isEmpty {
            let beyond = c.timing.filter { abs($0.deltaSeconds) > TimelineComparison.jitterTolerance }
            lines.append("")
            lines.append(Style.bold("Timing differences (\(c.timing.count); \(beyond.count) beyond the \(Int(TimelineComparison.jitterTolerance)) s jitter tolerance):"))
            let rows = c.timing.map { t in
                [t.identity, t.point, String(format: "%.3f", t.recordedSeconds), String(format: "%.3f", t.rerunSeconds),
                 String(format: "%+.3f", t.deltaSeconds) + (abs(t.deltaSeconds) > TimelineComparison.jitterTolerance ? " !" : "")]
            }
            lines.append(TextTable.render(header: ["POD", "POINT", "RECORDED S", "RE-RUN S", "DELTA"], rows: rows).trimmingCharacters(in: .newlines))
        }
        return lines.joined(separator: "\n")
    }
}

/// `kj replay run -o json`.
struct RerunReport: Encodable {
    var comparison: TimelineComparison
    var skipped: [SkippedInput]
    var whatIf: Bool
    var journal: String
    var seconds: Double
}

/// `kj replay extract`: a recording as a scenario file, so an incident becomes a regression test.
struct ExtractScenario: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extract",
        abstract: "Write a recording's cluster and inputs as a replay/ scenario, with expectations that held at its end.",
        discussion: "kj simulate then runs the incident again and checks it ends as recorded. What a scenario cannot say (a control plane restart, a user's status write) is listed on standard error and in the scenario's description.")

    @OptionGroup var location: JournalLocation
    @Option(name: .shortAndLong, help: ArgumentHelp("Write the scenario here ('-' for standard output).", valueName: "file")) var output: String = "-"
    @Option(help: "The scenario's name (default: the journal directory's name).") var name: String?
    @Option(help: ArgumentHelp("Extract up to this revision.", valueName: "rev")) var to: UInt64?

    func run() throws {
        let journal = try location.openReadOnly()
        defer { journal.close() }
        let scenarioName = name ?? URL(fileURLWithPath: location.path).lastPathComponent
        let extraction: ScenarioExtraction
        do {
            extraction = try ScenarioExtraction.extract(from: journal, name: scenarioName, to: to)
        } catch let e as ReplayError {
            throw CLIError(e.description)
        }
        for note in extraction.notes { printError("note: \(note)") }
        if output == "-" {
            print(extraction.yaml, terminator: "")
        } else {
            do { try extraction.yaml.write(toFile: output, atomically: true, encoding: .utf8) } catch { throw CLIError("cannot write \(output): \(error.localizedDescription)") }
        }
    }
}
