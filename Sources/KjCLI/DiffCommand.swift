import APIServer
import ArgumentParser
import ClusterClient
import ClusterModel
import Foundation
import Journal
import Queries

/// `kj diff REV1 REV2`: what changed in the cluster between two points; `kj diff --against B`:
/// how two journals' clusters differ at one time.
struct Diff: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "What changed between two points: objects added, removed and modified, with field-level changes.",
        discussion: """
            Each point is a revision, an RFC 3339 time, or a duration before the journal's last event \
            (-5m). A leading - would read as an option here, so write durations without it \
            (kj diff 10m 5m) or after -- (kj diff -- -10m -5m). With --against, the cluster of the \
            journal is compared with that of another journal (a recording and its kj replay run) at \
            one time: --at, else each journal's last event.
            """)

    @OptionGroup var location: JournalLocation
    @OptionGroup var remote: RemoteOptions
    @Argument(help: ArgumentHelp("The earlier point.", valueName: "rev|time|-duration")) var from: PointInTime?
    @Argument(help: ArgumentHelp("The later point (default: the head).", valueName: "rev|time|-duration")) var to: PointInTime?
    @Option(help: ArgumentHelp("Compare with this other journal's cluster instead (at --at).", valueName: "dir")) var against: String?
    @Option(help: ArgumentHelp("With --against: the time (or duration before each journal's last event) to compare at.", valueName: "time|-duration"))
    var at: PointInTime?
    @Option(help: "Only objects of this kind.") var kind: String?
    @Option(name: .shortAndLong, help: "Only objects in this namespace.") var namespace: String?
    @Option(name: .shortAndLong, help: "Output format: table, json or yaml.") var output: ReportFormat = .table

    func run() async throws {
        let resource = try kind.map { k -> ResourceKind in
            guard let r = ResourceKind(resource: k) else { throw CLIError("unknown kind \"\(k)\"") }
            return r
        }
        if let against { return try compare(against: against, resource) }
        guard let from else { throw CLIError("kj diff needs a point to compare from (or --against another journal)") }
        let diff: StateDiff
        if let fetched = try await remote.fetch(StateDiff.self, JournalClient.path(
            "/kj/v1/diff", [("from", from.text), ("to", to?.text), ("kind", resource?.plural), ("namespace", namespace)])) {
            diff = fetched
        } else {
            let journal = try location.openReadOnly()
            defer { journal.close() }
            diff = try journal.read { view -> StateDiff in
                let a = try from.revision(in: view)
                let b = try to?.revision(in: view) ?? view.head().revision
                guard a <= b else { throw CLIError("the first point (revision \(a)) is after the second (revision \(b))") }
                return try StateDiff.between(a, b, kind: resource, namespace: namespace, in: view)
            }
        }
        if output != .table { return try printData(diff, as: output) }
        print(Self.render(diff), terminator: "")
    }

    /// `--against`: this journal's cluster and another's at one time.
    func compare(against other: String, _ resource: ResourceKind?) throws {
        guard from == nil, to == nil else { throw CLIError("with --against, give the time with --at, not as points") }
        if case .revision = at?.value { throw CLIError("--at with --against is a time or a duration: a revision means different moments in two journals") }
        let journal = try location.openReadOnly()
        defer { journal.close() }
        let second = try Journal.open(at: other, options: .reader)
        defer { second.close() }
        let diff = try journal.read { view in
            try second.read { otherView in
                try StateDiff.across(view, at: try at?.revision(in: view) ?? view.head().revision,
                                     otherView, at: try at?.revision(in: otherView) ?? otherView.head().revision, kind: resource, namespace: namespace)
            }
        }
        if output != .table { return try printData(diff, as: output) }
        var out = Style.bold("\(location.path) (revision \(diff.from)) against \(other) (revision \(diff.to))")
            + ": \(diff.added.count) only in the second, \(diff.removed.count) only in the first, \(diff.modified.count) different\n"
        for c in diff.removed { out += Style.red("- \(c.object)") + Style.dim("  (only in the first; last written by \(c.lastActor ?? "?"))") + "\n" }
        for c in diff.added { out += Style.green("+ \(c.object)") + Style.dim("  (only in the second; last written by \(c.lastActor ?? "?"))") + "\n" }
        for c in diff.modified {
            out += Style.yellow("~ \(c.object)") + Style.dim("  (revision \(c.fromRevision ?? 0) / \(c.toRevision ?? 0), last by \(c.lastActor ?? "?") in the second)") + "\n"
            for f in c.changes { out += "    \(f.description)\n" }
        }
        print(out, terminator: "")
    }

    /// The table form: one line per object added, removed or modified, with its field changes.
    static func render(_ diff: StateDiff) -> String {
        var out = Style.bold("Changes from revision \(diff.from) to \(diff.to)") + ": \(diff.added.count) added, \(diff.removed.count) removed, \(diff.modified.count) modified\n"
        for c in diff.added { out += Style.green("+ \(c.object)") + Style.dim("  (revision \(c.toRevision ?? 0), by \(c.lastActor ?? "?"))") + "\n" }
        for c in diff.removed { out += Style.red("- \(c.object)") + Style.dim("  (removed by \(c.lastActor ?? "?"))") + "\n" }
        for c in diff.modified {
            out += Style.yellow("~ \(c.object)") + Style.dim("  (revision \(c.fromRevision ?? 0) → \(c.toRevision ?? 0), last by \(c.lastActor ?? "?"))") + "\n"
            for f in c.changes { out += "    \(f.description)\n" }
        }
        return out
    }
}
