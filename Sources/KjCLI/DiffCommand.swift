import APIServer
import ArgumentParser
import ClusterModel
import Foundation
import Journal
import Queries

/// `kj diff REV1 REV2`: what changed in the cluster between two points.
struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "What changed between two points: objects added, removed and modified, with field-level changes.",
        discussion: """
            Each point is a revision, an RFC 3339 time, or a duration before the journal's last event \
            (-5m). A leading - would read as an option here, so write durations without it \
            (kj diff 10m 5m) or after -- (kj diff -- -10m -5m).
            """)

    @OptionGroup var location: JournalLocation
    @OptionGroup var remote: RemoteOptions
    @Argument(help: ArgumentHelp("The earlier point.", valueName: "rev|time|-duration")) var from: PointInTime
    @Argument(help: ArgumentHelp("The later point (default: the head).", valueName: "rev|time|-duration")) var to: PointInTime?
    @Option(help: "Only objects of this kind.") var kind: String?
    @Option(name: .shortAndLong, help: "Only objects in this namespace.") var namespace: String?
    @Option(name: .shortAndLong, help: "Output format: table, json or yaml.") var output: ReportFormat = .table

    func run() throws {
        let resource = try kind.map { k -> ResourceKind in
            guard let r = ResourceKind(resource: k) else { throw CLIError("unknown kind \"\(k)\"") }
            return r
        }
        let diff: StateDiff
        if let client = try remote.client() {
            diff = try client.fetch(StateDiff.self, JournalClient.path(
                "/kj/v1/diff", [("from", from.text), ("to", to?.text), ("kind", resource?.plural), ("namespace", namespace)]))
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
